#!/usr/bin/env bash
# Sweep the Peterborough per-cohort trigger threshold with a plain shell loop: one `sibsim run`
# per value, summary read as CSV on stdout, a few cells picked out with awk.
#
#   SIBSIM=path/to/sibsim bash docs/examples/sweep-threshold.sh        (default: build/sibsim)
#   TRIALS=100000 bash docs/examples/sweep-threshold.sh                 (default: 10000)
#
# Every run uses the scenario's seed, and random numbers follow names, so the rows differ only
# by the threshold (common random numbers), as with `sibsim sweep`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
sibsim="${SIBSIM:-$root/build/sibsim}"
scenario="$root/scenarios/peterborough.yaml"
trials="${TRIALS:-10000}"

# summary.csv columns: metric,mean,sd,se,p5,p25,p50,p75,p95,min,max
# (metric names here contain no commas, so splitting on ',' is safe)
cell() {  # cell CSV METRIC COLUMN-NUMBER
    printf '%s\n' "$1" | awk -F, -v m="$2" -v c="$3" '$1 == m { print $c }'
}

printf '%-9s  %-12s  %-12s  %-14s  %-10s  %s\n' \
    threshold P_trigger_c1 P_trigger_c2 mean_payments irr_p50 P_loss
for threshold in 0.05 0.075 0.10 0.125 0.15; do
    csv="$("$sibsim" run "$scenario" -n "$trials" --format csv \
        --set "payments.cohort-trigger.threshold=$threshold")"
    printf '%-9s  %-12s  %-12s  %-14.0f  %-10.4f  %s\n' "$threshold" \
        "$(cell "$csv" rule.cohort-trigger.cohort-1.met 2)" \
        "$(cell "$csv" rule.cohort-trigger.cohort-2.met 2)" \
        "$(cell "$csv" payments.total 2)" \
        "$(cell "$csv" investors.irr 7)" \
        "$(cell "$csv" investors.any_loss 2)"
done
