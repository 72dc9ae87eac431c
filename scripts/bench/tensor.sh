#!/usr/bin/env bash
# Runs `cohort bench tensor` and the PyTorch twin (torch_bench.py) on the same workloads,
# thread counts and batch sizes, then prints both side by side with the ratio
# PyTorch time / Cohort time (> 1 means Cohort is faster), from the fastest of the
# repeats (other load on a shared machine only slows runs down) and from the medians.
#
# The two sides alternate for --rounds rounds, so that a slow spell of a shared machine
# falls on both; best = fastest of all repeats, med = median of the rounds' medians.
#
# Usage: scripts/bench/tensor.sh [--threads 1,2] [--repeats 30] [--rounds 3]
# Builds a virtual environment with the current PyTorch from PyPI on first use
# (~/.cache/cohort-bench/torch, or $COHORT_TORCH_VENV; not part of the tests) and the
# release build if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

threads=1,2
repeats=30
rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "usage: $0 [--threads 1,2] [--repeats N] [--rounds N]" >&2; exit 2 ;;
  esac
done

venv="${COHORT_TORCH_VENV:-$HOME/.cache/cohort-bench/torch}"
if ! "$venv/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  echo "building $venv (PyTorch from PyPI)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch numpy
fi
PY="$venv/bin/python"
COHORT=.build/release/cohort
[[ -x "$COHORT" ]] || swift build -c release --product cohort

# A value already set is kept; otherwise only OpenBLAS's slow fallback is corrected.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  fix="$("$COHORT" info --recommended-coretype)"
  [[ -n "$fix" ]] && export OPENBLAS_CORETYPE="$fix"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One process per thread count: OpenBLAS (under both) sizes its pool when it loads, so
# OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set per run rather than changed in-process.
IFS=, read -ra counts <<< "$threads"
for r in $(seq "$rounds"); do
  for t in "${counts[@]}"; do
    OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$COHORT" bench tensor --threads "$t" --repeats "$repeats" --json > "$tmp/cohort-$t-$r.json"
    OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$PY" scripts/bench/torch_bench.py --threads "$t" --repeats "$repeats" --json > "$tmp/torch-$t-$r.json"
  done
done

python3 - "$tmp" <<'PYEOF'
import glob, json, os, statistics, sys
def merged(prefix):
    runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(sys.argv[1], prefix + "-*.json")))]
    by = {}
    for run in runs:
        for r in run["results"]:
            by.setdefault((r["name"], r["threads"]), []).append(r)
    out = {}
    for key, rs in by.items():
        best = min(rs, key=lambda r: r["bestMilliseconds"])
        out[key] = dict(best, milliseconds=statistics.median(r["milliseconds"] for r in rs))
    return runs[0], out
(cohort_run, cohort), (torch_run, torch) = merged("cohort"), merged("torch")
peak = cohort_run["peakGFLOPSPerCore"]
print(f"BLAS kernel {cohort_run['blasCore']}; measured peak {peak:.1f} GFLOP/s per core; PyTorch {torch_run['torch']}")
print("ratio = PyTorch time / Cohort time; > 1 means Cohort is faster")
print(f"{'workload':52}{'thr':>4}{'Cohort best':>12}{'Torch best':>11}{'ratio':>7}{'Cohort med':>11}{'Torch med':>10}{'ratio':>7}{'GF/s':>8}{'%peak':>7}")
nan = {"milliseconds": float("nan"), "bestMilliseconds": float("nan")}
for key in sorted(cohort, key=lambda k: (k[1], list(cohort).index(k))):
    r, t = cohort[key], torch.get(key, nan)
    gf = f"{r['gflops']:.1f}" if r.get("gflops") else "-"
    pp = f"{r['percentOfPeak']:.0f}%" if r.get("percentOfPeak") else ""
    print(f"{r['name']:52}{r['threads']:>4}{r['bestMilliseconds']:>12.3f}{t['bestMilliseconds']:>11.3f}"
          f"{t['bestMilliseconds'] / r['bestMilliseconds']:>7.2f}{r['milliseconds']:>11.3f}{t['milliseconds']:>10.3f}"
          f"{t['milliseconds'] / r['milliseconds']:>7.2f}{gf:>8}{pp:>7}")
PYEOF
