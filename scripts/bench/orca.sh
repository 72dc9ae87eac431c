#!/usr/bin/env bash
# ORCA measured over seeds: runs `cohort orca` with one config for each seed on --ranks
# MPI ranks (each run in its own directory under --out), then prints each variant's test
# metric per seed with the mean and standard deviation, the MMD² of the embedded inputs
# to the text features (before training, after stage 1), and the mean wall seconds of
# each stage on that many ranks.
#
#   scripts/bench/orca.sh examples/orca-wine.yaml [--seeds "1 2 3"] [--ranks 2] [--out runs/orca-bench]
#   scripts/bench/orca.sh examples/orca-burgers.yaml --seeds "1 2 3"
#
# A seed whose run directory already holds a summary is not run again, and one left
# unfinished is resumed, so the script can be stopped and started (and run one seed at a
# time). Not part of the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ $# -ge 1 ] || { echo "usage: $0 CONFIG [--seeds LIST] [--ranks N] [--out DIR] [--report-only]" >&2; exit 2; }
config="$1"; shift
[ -f "$config" ] || { echo "orca.sh: no config at $config" >&2; exit 2; }
seeds="1 2 3" ranks=2 out="runs/orca-bench/$(basename "$config" .yaml)" run=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --report-only) run=0; shift ;;
    *) echo "usage: $0 CONFIG [--seeds LIST] [--ranks N] [--out DIR] [--report-only]" >&2; exit 2 ;;
  esac
done
if [ "$run" -eq 1 ]; then
  bash scripts/setup.sh > /dev/null
  [ -x .build/release/cohort ] || swift build -c release --product cohort
  mkdir -p "$out"
  for seed in $seeds; do
    dir="$out/seed-$seed"
    if [ -f "$dir/summary.json" ]; then continue; fi
    if [ -f "$dir/config.yaml" ]; then
      bash scripts/mpirun.sh -np "$ranks" cohort orca --resume --out "$dir" --quiet > /dev/null
    else
      bash scripts/mpirun.sh -np "$ranks" cohort orca --config "$config" --seed "$seed" --out "$dir" --quiet > /dev/null
    fi
  done
fi
python3 - "$out" $seeds <<'PY'
import json, os, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
runs = [(s, json.load(open(f"{out}/seed-{s}/summary.json")), json.load(open(f"{out}/seed-{s}/timing.json")))
        for s in seeds if os.path.exists(f"{out}/seed-{s}/summary.json")]
if not runs:
    sys.exit(f"no finished run under {out}")
first = runs[0][1]
variants = list(first["results"])
metric = first["metric"]
print(f"{first['task']}: {first['alignment_epochs']} alignment + {first['epochs']} training epochs, "
      f"{first['body_layers']} body layers, {first['ranks']} ranks, seeds {' '.join(s for s, _, _ in runs)}: test {metric}")
print("seed  " + "  ".join(f"{v:>17}" for v in variants))
for s, summary, _ in runs:
    print(f"{s:>4}  " + "  ".join(f"{summary['results'][v]:>17.4f}" for v in variants))
def spread(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
print("mean  " + "  ".join("{:>8.4f} ± {:.4f}".format(*spread([r[1]["results"][v] for r in runs])) for v in variants))
for v in variants:
    before = spread([r[1]["alignment"][v]["initial_mmd"] for r in runs])
    after = spread([r[1]["alignment"][v]["final_mmd"] for r in runs])
    align = statistics.mean(r[2]["seconds"][v]["align"] for r in runs)
    train = statistics.mean(r[2]["seconds"][v]["train"] for r in runs)
    print(f"{v:>8}: MMD² to text {before[0]:.4f} ± {before[1]:.4f} -> {after[0]:.4f} ± {after[1]:.4f}; "
          f"wall s: align {align:.1f}, train {train:.1f}")
PY
