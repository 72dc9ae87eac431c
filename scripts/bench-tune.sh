#!/usr/bin/env bash
# Benchmarks of the tuning farm (numbers for the closing note):
#  1. coordinator throughput: results per second with a zero-cost surrogate on
#     8 MPI ranks (1 coordinator + 7 workers), with and without fsync per event;
#  2. worker busy fraction: ASHA with the surrogate at 1 s per resource unit on
#     8 workers (9 MPI ranks).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -x .build/release/cohort ] || swift build -c release
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/zero.yaml" <<'YAML'
name: zero-cost
seed: 1
metric: loss
mode: min
scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: 4000}
trainable: {type: surrogate, seconds_per_unit: 0, checkpoints: false}
space:
  lr: {type: loguniform, low: 1.0e-4, high: 1.0}
  momentum: {type: uniform, low: 0.0, high: 0.99}
YAML

results_per_second() { # $1 = run dir
  python3 - "$1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
res = [e for e in ev if e["event"] in ("result", "failed")]
end = [e for e in ev if e["event"] == "end"][0]
print(f"{len(res)} results in {end['time']:.2f} s: {len(res) / end['time']:.0f} results/s")
PY
}

echo "== coordinator throughput, zero-cost surrogate, 8 ranks"
for sync in fsync no-fsync; do
  flag=""; [ "$sync" = no-fsync ] && flag="--no-fsync"
  scripts/mpirun.sh -np 8 cohort tune --config "$tmp/zero.yaml" --out "$tmp/zero-$sync" --quiet $flag > /dev/null
  printf '%-9s ' "$sync"; results_per_second "$tmp/zero-$sync"
done

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
