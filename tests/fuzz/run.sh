#!/usr/bin/env bash
# Builds the libFuzzer targets (ASan + UBSan, clang) and fuzzes each for a third of the time:
#   sibsim_fuzz_load      the scenario loader and `--set` parsing, seeded from scenarios/,
#                         tests/data/invalid/ and tests/fuzz/seeds/
#   sibsim_fuzz_observed  the observed-results loader of `settle`, seeded from tests/data/observed/
#   sibsim_fuzz_participants  the participant-level results (CSV) of `settle`
# Each starts from its corpus kept in the tree (tests/fuzz/corpus/load, observed, participants);
# afterwards the inputs found this run that add coverage are merged into it (-merge=1), so commit
# tests/fuzz/corpus/ and the next run starts from what this one found.
# Usage: tests/fuzz/run.sh [SECONDS]        (default 60 in total; BUILD_DIR default build-fuzz/)
# A crash or leak stops the run with exit status 1 and leaves crash-*/leak-*/timeout-* files in
# BUILD_DIR/artifacts/: turn each into a test (tests/data/invalid/) and fix the loader.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
build_dir="${BUILD_DIR:-build-fuzz}"
cmake -S . -B "$build_dir" -DSIBSIM_FUZZ=ON -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build "$build_dir" -j "$(nproc)" --target sibsim_fuzz_load sibsim_fuzz_observed \
    sibsim_fuzz_participants >&2
mkdir -p "$build_dir/artifacts" tests/fuzz/corpus/load tests/fuzz/corpus/observed \
    tests/fuzz/corpus/participants

# fuzz TARGET NAME SECONDS SEED_DIR...: new inputs go to BUILD_DIR/corpus-NAME (the first
# folder); the others are read-only seeds. -timeout and -rss_limit_mb are generous so that only
# real hangs and memory blow-ups fail the run. Then the new inputs are merged into the tree.
fuzz() {
    local target="$1" name="$2" time="$3"
    shift 3
    mkdir -p "$build_dir/corpus-$name"
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build_dir/$target" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$build_dir/artifacts/" \
        "$build_dir/corpus-$name" "tests/fuzz/corpus/$name" "$@"
    ASAN_OPTIONS=detect_leaks=1 "$build_dir/$target" -merge=1 -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 "tests/fuzz/corpus/$name" "$build_dir/corpus-$name" >&2
}

third=$(( seconds / 3 > 0 ? seconds / 3 : 1 ))
fuzz sibsim_fuzz_load load "$(( seconds - 2 * third > 0 ? seconds - 2 * third : 1 ))" scenarios \
    tests/data/invalid tests/fuzz/seeds
fuzz sibsim_fuzz_observed observed "$third" tests/data/observed
fuzz sibsim_fuzz_participants participants "$third" tests/data/observed
