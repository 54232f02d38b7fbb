#!/usr/bin/env bash
# A run spread over mpirun's processes writes the same files, byte for byte, as one process
# (docs/distributed.md). Run by ctest (label `mpi`) when sibsim is built with MPI:
#   tests/mpi/check.sh CASE MPIRUN SIBSIM SOURCE_DIR
# Each case runs one process at -j 1 (the reference) and -j 2, then `mpirun -np 3` at -j 1 and
# -j 2, and compares every output file with the reference.
set -euo pipefail
case_name=$1 mpirun=$2 sibsim=$3 source_dir=$4
scenarios="$source_dir/scenarios"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=("$mpirun" --allow-run-as-root --oversubscribe -np 3)

# same ARGS...: the command with -o DIR, single and spread, all files equal to the reference. An
# argument @OUT@/NAME names a file NAME in that run's -o folder (sensitivity's --design).
same() {
    local run
    for run in "reference:-j 1" "threads:-j 2" "spread1:mpi -j 1" "spread2:mpi -j 2"; do
        local dir="$work/${run%%:*}" how="${run#*:}" args=("${@//@OUT@/$work/${run%%:*}}")
        if [ "${how%% *}" = mpi ]; then
            "${mpi[@]}" "$sibsim" "${args[@]}" --quiet ${how#mpi } -o "$dir"
        else
            "$sibsim" "${args[@]}" --quiet $how -o "$dir"
        fi
    done
    local files=0
    for file in "$work"/reference/*; do
        files=$((files + 1))
        for other in threads spread1 spread2; do
            if ! cmp "$file" "$work/$other/$(basename "$file")"; then
                echo "FAIL: $other/$(basename "$file") differs from the single-process -j 1 run" >&2
                exit 1
            fi
        done
    done
    [ "$files" -ge 2 ] || { echo "FAIL: only $files files written" >&2; exit 1; }
    for other in threads spread1 spread2; do
        [ "$(ls "$work/$other" | wc -l)" -eq "$files" ] || { echo "FAIL: $other has other files" >&2; exit 1; }
    done
    echo "ok: $files files the same for 1 process (-j 1, -j 2) and 3 processes (-j 1, -j 2)"
}

# Tornado: 3 inputs × 5 percentiles, 2 blocks of trials each (the last one short): 30 blocks.
tornado_inputs=outcomes.job-entry.rate,outcomes.level-1.rate,outcomes.level-2.rate
# Sobol': 512 base rows × (5 + 2) = 3,584 design rows, 4 chunks (the last one short).
sobol_inputs=$tornado_inputs,outcomes.basic-skills.rate,outcomes.improved-attendance.rate

case "$case_name" in
    # Under 65,536 trials: exact quantiles from every value kept (one exchange of blocks).
    run-exact) same run "$scenarios/peterborough.yaml" -n 40000 --seed 7 ;;
    # From 65,536 trials: exact quantiles from the pilot's brackets (the pilot in the first
    # exchange, then two more); the cash-flow sample of 100,000 trials spans exchanges.
    run-bracketed) same run "$scenarios/peterborough.yaml" -n 200000 ;;
    run-sketch) same run "$scenarios/peterborough.yaml" -n 120000 --quantiles sketch ;;
    # trials.csv: every value in trial order, across two exchanges.
    run-per-trial) same run "$scenarios/essex.yaml" -n 110000 --per-trial ;;
    sweep) same sweep "$scenarios/peterborough.yaml" -n 2000 \
        --vary payments.cohort-trigger.threshold=0.05:0.15:0.025 \
        --vary outcomes.reconviction.effect=-0.05,-0.1 ;;
    # Tornado: every (input, percentile) run's blocks of trials dealt out, the means merged on
    # process 0 in block order; the --report page as from one process.
    sensitivity-tornado) same sensitivity "$scenarios/dwp-innovation-fund.yaml" -n 1100 --seed 5 \
        --inputs "$tornado_inputs" --report @OUT@/report.html ;;
    # Sobol': the design's rows dealt out in chunks, gathered in row order on process 0, which
    # computes the indices; sobol.csv, the --design file and the --report page as from one
    # process.
    sensitivity-sobol) same sensitivity "$scenarios/dwp-innovation-fund.yaml" --method sobol \
        -n 512 --seed 5 --inputs "$sobol_inputs" --design @OUT@/design.csv \
        --report @OUT@/report.html ;;
    compare) same compare "$scenarios/peterborough.yaml" "$scenarios/essex.yaml" -n 30000 ;;
    # An invalid scenario: every process checks it, process 0 alone prints the error, exit 2,
    # and no -o folder is left behind.
    invalid)
        status=0
        "${mpi[@]}" "$sibsim" run "$source_dir/tests/data/invalid/absurd-size.yaml" -n 1000 \
            -o "$work/out" 2>"$work/stderr" >"$work/stdout" || status=$?
        expected=$("$sibsim" run "$source_dir/tests/data/invalid/absurd-size.yaml" -n 1000 2>&1 || true)
        [ "$status" -eq 2 ] || { echo "FAIL: exit status $status, expected 2" >&2; exit 1; }
        count=$(grep -cxF "$expected" "$work/stderr" || true)
        [ "$count" -eq 1 ] || { echo "FAIL: the error printed $count times:" >&2; cat "$work/stderr" >&2; exit 1; }
        [ ! -e "$work/out" ] || { echo "FAIL: -o folder left behind" >&2; exit 1; }
        [ ! -s "$work/stdout" ] || { echo "FAIL: output on stdout" >&2; exit 1; }
        echo "ok: exit 2, the error once: $expected"
        ;;
    # SIGTERM to one process (not process 0) once the work has started: every process stops,
    # the interruption is reported once, exit 143, and the -o folder is gone.
    interrupt)
        "${mpi[@]}" "$sibsim" run "$scenarios/peterborough.yaml" -n 1000000000 --quantiles sketch \
            -j 1 --quiet -o "$work/out" 2>"$work/stderr" &
        launcher=$!
        for _ in $(seq 300); do [ -d "$work/out" ] && break; sleep 0.1; done
        sleep 1  # past the processes' agreement to start, into the trials
        ranks=($(pgrep -P "$launcher" -x sibsim || true))
        [ "${#ranks[@]}" -eq 3 ] || { echo "FAIL: ${#ranks[@]} processes found" >&2; kill "$launcher"; exit 1; }
        kill -TERM "${ranks[2]}"
        status=0
        wait "$launcher" || status=$?
        [ "$status" -eq 143 ] || { echo "FAIL: exit status $status, expected 143" >&2; cat "$work/stderr" >&2; exit 1; }
        count=$(grep -cxF "sibsim: interrupted; no output written" "$work/stderr" || true)
        [ "$count" -eq 1 ] || { echo "FAIL: the interruption reported $count times" >&2; cat "$work/stderr" >&2; exit 1; }
        [ ! -e "$work/out" ] || { echo "FAIL: -o folder left behind" >&2; exit 1; }
        echo "ok: exit 143, reported once, nothing written"
        ;;
    *) echo "unknown case $case_name" >&2; exit 2 ;;
esac
