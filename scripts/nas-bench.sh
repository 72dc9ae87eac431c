#!/usr/bin/env bash
# Supernet throughput and search cost.
#
#   scripts/nas-bench.sh [--ranks "1 2 4"] [--out runs/nas-bench]
#
# 1. Supernet training steps per second of the RSWS (one cell per step) and GAEA
#    (mixture: weight step plus architecture step) examples on 1, 2 and 4 ranks
#    (`cohort nas bench`, the same global batch of 64 split across the ranks).
# 2. The cost of a search as a multiple of training one architecture, the way the
#    RSWS paper states it: the time to train the supernet of examples/ (rank-seconds),
#    against the time to train one cell of the same network on the same data for the
#    same epochs from scratch (on one rank).
# Writes OUT/throughput.tsv and OUT/cost.tsv. About 10 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ranks_list="1 2 4" out=runs/nas-bench
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) ranks_list="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "nas-bench.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
[ -x .build/release/cohort ] || swift build -c release --product cohort
cohort=.build/release/cohort
export OPENBLAS_NUM_THREADS=1
coretype="$($cohort info --recommended-coretype 2>/dev/null || true)"
[ -z "$coretype" ] || export OPENBLAS_CORETYPE="$coretype"
echo "cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== supernet steps per second"
printf 'strategy\tranks\tsteps\tseconds\tsteps_per_second\tsamples_per_second\n' > "$out/throughput.tsv"
for strategy in rsws gaea; do
  steps=$([ "$strategy" = rsws ] && echo 300 || echo 60)
  for np in $ranks_list; do
    line="$(scripts/mpirun.sh -np "$np" cohort nas bench --config "examples/nas-$strategy-fashion.yaml" --steps "$steps" --json)"
    python3 - "$line" >> "$out/throughput.tsv" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"{r['strategy']}\t{r['ranks']}\t{r['steps']}\t{r['seconds']:.2f}\t{r['steps_per_second']:.2f}\t{r['samples_per_second']:.0f}")
PY
    tail -1 "$out/throughput.tsv"
  done
done

echo "== search cost against training one architecture (same network, data and epochs)"
printf 'strategy\tranks\tsupernet_seconds\tsupernet_rank_seconds\tone_architecture_seconds\tmultiple\n' > "$out/cost.tsv"
for strategy in rsws gaea; do
  config="examples/nas-$strategy-fashion.yaml"
  # The supernet alone, on 2 ranks.
  rm -rf "$out/$strategy-search"
  scripts/mpirun.sh -np 2 cohort nas search --config "$config" --out "$out/$strategy-search" --skip-retrain --quiet > /dev/null
  # One architecture (the chosen one) trained like the supernet: the same samples,
  # the same 1:1 split, the same epochs and batch, on one rank.
  samples=$(awk '/^search:/{s=1} s&&/samples:/{print $2; exit}' "$config")
  epochs=$(awk '/^search:/{s=1} s&&/epochs:/{print $2; exit}' "$config")
  awk -v n="$samples" -v e="$epochs" '
    /^retrain:/ { r = 1 }
    r && /^  samples:/ { print "  samples: " n; next }
    r && /^  validation_fraction:/ { print "  validation_fraction: 0.5"; next }
    r && /^  epochs:/ { print "  epochs: " e; next }
    { print }' "$config" > "$out/$strategy-one.yaml"
  arch="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["architecture"]["nasbench201"])' "$out/$strategy-search/chosen.json")"
  one="$($cohort nas retrain --config "$out/$strategy-one.yaml" --arch "$arch" --json)"
  python3 - "$out/$strategy-search/summary.json" "$one" "$strategy" >> "$out/cost.tsv" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
one = json.loads(sys.argv[2])
supernet = s["supernet_seconds"] + s["scoring_seconds"]
rank_seconds = supernet * s["ranks"]
print(f"{sys.argv[3]}\t{s['ranks']}\t{supernet:.1f}\t{rank_seconds:.1f}\t{one['train_seconds']:.1f}\t{rank_seconds / one['train_seconds']:.2f}")
PY
  tail -1 "$out/cost.tsv"
done
echo
column -t -s $'\t' "$out/throughput.tsv"
echo
column -t -s $'\t' "$out/cost.tsv"
