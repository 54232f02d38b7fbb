#!/usr/bin/env bash
# Regenerates the golden outputs that tests/test_golden.cpp compares against.
#
# Usage:
#   scripts/update-golden.sh [SIBSIM]
#
#   SIBSIM  the built sibsim binary (default: $SIBSIM, else build/sibsim); build it first, e.g.
#           cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build --target sibsim
#
# For every scenarios/NAME.yaml it runs
#   sibsim run scenarios/NAME.yaml -n 2000 --seed 1 --quiet -o TMP
# and copies TMP/summary.csv and TMP/cashflows.csv to tests/golden/NAME/. The trial count and
# seed must match those in tests/test_golden.cpp (golden_trials, golden_seed).
#
# Run it only when a change of the numbers is intended (a new scenario, a deliberate change of
# the engine), then review `git diff tests/golden` before committing: every changed figure
# should be explained by that change. Golden directories of scenarios that no longer exist are
# reported, not removed.
set -euo pipefail
cd "$(dirname "$0")/.."

sibsim="${1:-${SIBSIM:-build/sibsim}}"
trials=2000
seed=1

if [[ ! -x "$sibsim" ]]; then
    echo "update-golden: no sibsim binary at '$sibsim' (build it, or pass its path)" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
count=0
for scenario in scenarios/*.yaml; do
    name="$(basename "$scenario" .yaml)"
    "$sibsim" run "$scenario" -n "$trials" --seed "$seed" --quiet -o "$tmp/$name"
    mkdir -p "tests/golden/$name"
    cp "$tmp/$name/summary.csv" "$tmp/$name/cashflows.csv" "tests/golden/$name/"
    echo "tests/golden/$name: summary.csv, cashflows.csv"
    count=$((count + 1))
done

for dir in tests/golden/*/; do
    name="$(basename "$dir")"
    if [[ ! -f "scenarios/$name.yaml" ]]; then
        echo "update-golden: tests/golden/$name has no scenario; remove it if the scenario is gone" >&2
    fi
done
echo "update-golden: $count scenarios, $trials trials, seed $seed"
