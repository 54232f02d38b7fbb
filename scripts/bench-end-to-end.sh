#!/usr/bin/env bash
# End-to-end timings of `sibsim run` with public tools: /usr/bin/time -v (wall time, peak memory)
# and, when installed, hyperfine (repeated runs). Run on an idle machine after scripts/setup.sh:
#     scripts/bench-end-to-end.sh            # all figures of bench/README.md
# Outputs go to a temporary folder that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
sibsim="${SIBSIM:-build/sibsim}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

measure() {  # label, then the sibsim arguments
    local label="$1"; shift
    /usr/bin/time -f "%e %M" -o "$out/time" "$sibsim" "$@" -o "$out/run" --quiet
    read -r wall kb < "$out/time"
    printf '%-48s %8.2f s %8.0f MiB\n' "$label" "$wall" "$((kb / 1024))"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
measure "peterborough 1,000,000 trials, all cores" run scenarios/peterborough.yaml -n 1000000
measure "peterborough 1,000,000 trials, 1 thread" run scenarios/peterborough.yaml -n 1000000 -j 1
measure "peterborough 10,000,000 trials, all cores" run scenarios/peterborough.yaml -n 10000000
measure "peterborough 10,000,000 trials, --quantiles exact" run scenarios/peterborough.yaml -n 10000000 --quantiles exact
measure "peterborough 10,000,000 trials, --quantiles sketch" run scenarios/peterborough.yaml -n 10000000 --quantiles sketch
measure "reoffending 3 cohorts, 1,000,000 trials, 2 threads" run bench/scenarios/reoffending-3-cohorts.yaml -n 1000000 -j 2
measure "rate card 2000 participants, 200,000 trials" run bench/scenarios/rate-card-2000.yaml -n 200000
measure "rate card 2000 participants, 200,000 trials, 1 thread" run bench/scenarios/rate-card-2000.yaml -n 200000 -j 1
measure "dwp-innovation-fund 100,000 trials" run scenarios/dwp-innovation-fund.yaml -n 100000
# Linear growth: trials, participants (cohort size) and periods (horizon with later payments).
measure "peterborough 2,000,000 trials" run scenarios/peterborough.yaml -n 2000000
measure "rate card 4000 participants, 200,000 trials" run bench/scenarios/rate-card-2000.yaml -n 200000 \
    --set cohorts.participants.size=4000
if command -v hyperfine > /dev/null; then
    hyperfine --warmup 1 --runs 5 \
        "$sibsim run scenarios/peterborough.yaml -n 1000000 --quiet -o $out/h"
fi
