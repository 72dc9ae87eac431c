#!/usr/bin/env bash
# The main job on one machine: installs what is missing, builds, and runs an ASHA
# hyperparameter search on 4 MPI ranks (rank 0 coordinates, 3 workers train) over an
# MLP on the embedded UCI digits, then prints the best configuration and its accuracy
# on the test set, which the search never saw.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
swift build -c release --product cohort
out="runs/demo-$(date +%Y%m%d-%H%M%S)"
scripts/mpirun.sh -np 4 cohort tune --config examples/digits-asha.yaml --out "$out"
test_accuracy="$(sed -n 's/^ *"test_metric": *\([0-9.]*\).*/\1/p' "$out/best.json")"
printf 'test accuracy of the best configuration: %.4f (%s)\n' "$test_accuracy" "$out/best.json"
