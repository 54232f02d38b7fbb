#!/usr/bin/env bash
# Regenerates the outputs shown under the commands of README.md and docs/*.md, in place.
#
# Usage:
#   scripts/update-docs.sh [BUILD_DIR]        (default: $BUILD_DIR, else build/)
#
# It builds sibsim and the test suite in BUILD_DIR (configure it first, e.g.
# cmake -S . -B build -DCMAKE_BUILD_TYPE=Release), then runs the documentation tests
# (tests/test_docs.cpp) with SIBSIM_UPDATE_DOCS=1: every shown command runs as the test runs it,
# and each shown output that no longer matches is replaced by what the command prints now. A
# trimmed output (`...` lines) keeps the lines whose first word (a metric, a CSV row's first
# field) it showed, with `...` wherever lines are left out. The conventions are in
# docs/architecture.md, "Shown commands".
#
# Run it only when outputs are meant to change (a change of the engine's numbers, of a table's
# format), then review `git diff README.md docs`: every changed figure should be explained by
# that change, and the prose around each output (figures quoted in sentences) must be brought in
# line by hand. A second run then changes nothing, and ctest passes.
set -euo pipefail
cd "$(dirname "$0")/.."

build="${1:-${BUILD_DIR:-build}}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
    echo "update-docs: '$build' is not a configured build directory (cmake -S . -B $build)" >&2
    exit 1
fi
cmake --build "$build" -j2 --target sibsim sibsim_tests

SIBSIM_UPDATE_DOCS=1 "$build/tests/sibsim_tests" --test-case='docs page: *' --no-version \
    | grep -E 'shown outputs rewritten|shown commands run|ERROR' | sed 's/^.*MESSAGE: //' || true
# The pages as rewritten must now pass as they are.
if ! check="$("$build/tests/sibsim_tests" --test-case='docs page: *' --no-version 2>&1)"; then
    printf '%s\n' "$check" >&2
    echo "update-docs: the pages still fail after rewriting (see above)" >&2
    exit 1
fi
echo "update-docs: every shown command now prints what its page shows"
git --no-pager diff --stat -- README.md docs || true
