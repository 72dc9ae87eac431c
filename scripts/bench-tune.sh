#!/usr/bin/env bash
# The tuning farm's worker busy fraction: ASHA with the surrogate at 1 s per resource
# unit on 8 workers (9 MPI ranks). The coordinator's throughput (zero-cost ASHA, journal
# fsynced or not, against Optuna) is scripts/bench/journal.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -x .build/release/cohort ] || swift build -c release
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/busy.yaml" <<'YAML'
name: busy
seed: 1
metric: loss
mode: min
scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 9, time_limit: 30}
trainable: {type: surrogate, seconds_per_unit: 1}
space:
  lr: {type: loguniform, low: 1.0e-4, high: 1.0}
  momentum: {type: uniform, low: 0.0, high: 0.99}
YAML
echo "== busy fraction, surrogate at 1 s per unit, 8 workers"
scripts/mpirun.sh -np 9 cohort tune --config "$tmp/busy.yaml" --out "$tmp/busy" --quiet | grep -E "^search|workers busy"
