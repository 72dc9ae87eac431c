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
#  - fedavg: FedAvg rounds (examples/fedavg-fashion-dirichlet.yaml cut to 20 rounds,
#    evaluated every 2) on FED_RANKS ranks (default "1 2 4"); time until the global
#    model's test accuracy reaches 0.80; rounds per second.
#  - dataparallel: data-parallel training (examples/fashion-mlp.yaml, 3 epochs) on
#    TRAIN_RANKS ranks (default "1 2 4"); time until the test accuracy reaches 0.86;
#    samples per second.
# EXPERIMENTS chooses (default "asha fedavg dataparallel"); another experiment is a
# function `<name>_scaling` that writes DIR/<name>.csv with `cohort bench scaling`.
# Real training on 2 cores: more than 2 ranks only share the same cores.
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

# MARK: FedAvg rounds (SPMD: clients spread over the ranks, one allreduce per round)
fedavg_scaling() {
  local runs=() np
  sed -e 's/^rounds: 100/rounds: 20/' -e 's/  every: 10/  every: 2/' -e 's/^name: .*/name: fedavg-scaling/' \
    examples/fedavg-fashion-dirichlet.yaml > "$runs_dir/fedavg.yaml"
  for np in ${FED_RANKS:-1 2 4}; do
    scripts/mpirun.sh -np "$np" cohort fed --config "$runs_dir/fedavg.yaml" --out "$runs_dir/fedavg-np$np" --quiet > "$runs_dir/fedavg-np$np.log"
    echo "  fedavg: $np ranks done"
    runs+=("$runs_dir/fedavg-np$np")
  done
  "$cohort" bench scaling --experiment fedavg --target 0.80 --csv "$out/fedavg.csv" "${runs[@]}"
}

# MARK: Data-parallel training steps (each batch split over the ranks, one allreduce per step)
dataparallel_scaling() {
  local runs=() np
  for np in ${TRAIN_RANKS:-1 2 4}; do
    scripts/mpirun.sh -np "$np" cohort train --config examples/fashion-mlp.yaml --epochs 3 --json --quiet > "$runs_dir/train-np$np.json"
    echo "  dataparallel: $np ranks done"
    runs+=("$runs_dir/train-np$np.json")
  done
  "$cohort" bench scaling --experiment dataparallel --target 0.86 --csv "$out/dataparallel.csv" "${runs[@]}"
}

echo "== scaling experiments: workers $workers; CSVs in $out"
for experiment in ${EXPERIMENTS:-asha fedavg dataparallel}; do
  echo "-- $experiment"
  "${experiment}_scaling"
done
