#!/usr/bin/env bash
# Scaling experiments on real MPI ranks: the same work on more and more workers.
#
#   scripts/scaling.sh [--out DIR] [--workers "1 2 4 8 16"] [--keep]
#
# Each experiment writes DIR/<experiment>.csv (default DIR: results/scaling) with
# the columns experiment, workers, time_to_target_s, results_per_s, busy_fraction,
# speedup, efficiency, simulated_time_to_target_s, and prints the table.
#
# Experiments:
#  - asha: examples/scaling.yaml (ASHA, surrogate at 0.1 s per resource unit,
#    stopped at its target) under scripts/mpirun.sh with 1 coordinator + W workers
#    (oversubscribed: the surrogate sleeps, so 2 cores carry 17 ranks), next to the
#    simulated cluster's prediction for the same W, charged SIM_JOB_OVERHEAD seconds
#    per job (default 0.01: what a job's messages, polling and fsync'ed journal
#    lines cost on a loaded 2-core machine). Judged: 8 workers reach the target at
#    least 5x faster than 1.
#  - FedAvg rounds and data-parallel training steps join as functions
#    `<name>_scaling` writing DIR/<name>.csv with the same columns, once the
#    federated and data-parallel work has landed; run them with EXPERIMENTS="asha fedavg".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out="results/scaling" workers="1 2 4 8 16" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "scaling.sh: unknown option '$1' (--out DIR, --workers \"1 2 4\", --keep)" >&2; exit 2 ;;
  esac
done
[ -x .build/release/cohort ] || swift build -c release
cohort="$root/.build/release/cohort"
mkdir -p "$out"
runs_dir="$out/runs"
rm -rf "$runs_dir"
mkdir -p "$runs_dir"
[ "$keep" -eq 1 ] || trap 'rm -rf "$runs_dir"' EXIT

# MARK: ASHA on the job farm
asha_scaling() {
  local real=() sim=() w started
  for w in $workers; do
    started=$(date +%s.%N)
    scripts/mpirun.sh -np $((w + 1)) cohort tune --config examples/scaling.yaml --out "$runs_dir/asha-w$w" --quiet > "$runs_dir/asha-w$w.log"
    "$cohort" tune --config examples/scaling.yaml --simulate-workers "$w" --job-overhead "${SIM_JOB_OVERHEAD:-0.01}" \
      --out "$runs_dir/asha-sim-w$w" --quiet > /dev/null
    printf '  asha: %2d workers done in %5.1f s (mpirun included)\n' "$w" "$(echo "$(date +%s.%N) - $started" | bc)"
    real+=("$runs_dir/asha-w$w"); sim+=("$runs_dir/asha-sim-w$w")
  done
  "$cohort" bench scaling --experiment asha --csv "$out/asha.csv" "${real[@]}" --simulated "${sim[@]}"
  # The judged number: 8 workers against 1.
  awk -F, 'NR > 1 && $2 == 8 && $6 != "" { printf "asha: 8 workers reach the target %.2fx faster than 1 (judged: >= 5x): %s\n", $6, ($6 >= 5 ? "holds" : "FAILS") }' "$out/asha.csv"
}

echo "== scaling experiments: workers $workers; CSVs in $out"
for experiment in ${EXPERIMENTS:-asha}; do
  echo "-- $experiment"
  "${experiment}_scaling"
done
