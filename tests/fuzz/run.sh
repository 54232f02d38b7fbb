#!/usr/bin/env bash
# Builds the libFuzzer target over the scenario loader (ASan + UBSan, clang) and fuzzes it for a
# bounded time, seeded from scenarios/, tests/data/invalid/ and tests/fuzz/seeds/.
# Usage: tests/fuzz/run.sh [SECONDS]        (default 60; BUILD_DIR default build-fuzz/)
# A crash or leak stops the run with exit status 1 and leaves crash-*/leak-*/timeout-* files in
# BUILD_DIR/artifacts/: turn each into a test (tests/data/invalid/) and fix the loader.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
build_dir="${BUILD_DIR:-build-fuzz}"
cmake -S . -B "$build_dir" -DSIBSIM_FUZZ=ON -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build "$build_dir" -j "$(nproc)" --target sibsim_fuzz_load >&2
mkdir -p "$build_dir/corpus" "$build_dir/artifacts"
# New inputs go to the first folder; the others are read-only seeds. -timeout and -rss_limit_mb
# are generous so that only real hangs and memory blow-ups fail the run.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build_dir/sibsim_fuzz_load" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$build_dir/artifacts/" \
    "$build_dir/corpus" scenarios tests/data/invalid tests/fuzz/seeds
