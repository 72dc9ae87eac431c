#!/usr/bin/env bash
# XD-operations measured over seeds: runs `cohort xd` with one config for each seed on
# --ranks MPI ranks (each run in its own directory under --out), then prints the test
# metric of every model per seed, the mean and standard deviation over seeds, and the
# mean training seconds per epoch of each model on that many ranks.
#
#   scripts/bench/xd.sh examples/xd-burgers.yaml [--seeds "1 2 3"] [--ranks 2] [--out runs/xd-bench]
#   scripts/bench/xd.sh examples/xd-permuted-fashion.yaml --seeds "1 2 3"
#
# A seed whose run directory already holds a summary is not run again, and one left
# unfinished is resumed, so the script can be stopped and started. Not part of the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { echo "usage: $0 CONFIG [--seeds LIST] [--ranks N] [--out DIR]" >&2; exit 2; }
config="$1"; shift
[ -f "$config" ] || { echo "xd.sh: no config at $config" >&2; exit 2; }
seeds="1 2 3" ranks=2 out="runs/xd-bench/$(basename "$config" .yaml)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 CONFIG [--seeds LIST] [--ranks N] [--out DIR]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh > /dev/null
[ -x .build/release/cohort ] || swift build -c release --product cohort
mkdir -p "$out"
for seed in $seeds; do
  dir="$out/seed-$seed"
  if [ -f "$dir/summary.json" ]; then continue; fi
  if [ -f "$dir/config.yaml" ]; then
    bash scripts/mpirun.sh -np "$ranks" cohort xd --resume --out "$dir" --quiet
  else
    bash scripts/mpirun.sh -np "$ranks" cohort xd --config "$config" --seed "$seed" --out "$dir" --quiet
  fi
done
python3 - "$out" $seeds <<'PY'
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
runs = [(s, json.load(open(f"{out}/seed-{s}/summary.json")), json.load(open(f"{out}/seed-{s}/timing.json"))) for s in seeds]
models = list(runs[0][1]["results"])
metric = runs[0][1]["metric"]
print(f"{runs[0][1]['task']}, {runs[0][1]['epochs']} epochs, {runs[0][1]['ranks']} ranks: test {metric}")
print("seed  " + "  ".join(f"{m:>20}" for m in models))
for s, summary, _ in runs:
    print(f"{s:>4}  " + "  ".join(f"{summary['results'][m]:>20.4f}" for m in models))
def spread(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
print("mean  " + "  ".join("{:>11.4f} ± {:.4f}".format(*spread([r[1]["results"][m] for r in runs])) for m in models))
print("s/epoch " + "  ".join(f"{m} {statistics.mean(r[2]['seconds_per_epoch'][m] for r in runs):.2f}" for m in models))
PY
