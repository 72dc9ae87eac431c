#!/usr/bin/env bash
# The tuning coordinator's decisions per second with its journal durable, against a
# tool that keeps nothing: zero-cost ASHA on 8 MPI ranks (1 coordinator, 7 workers)
# with the journal fsynced (group commit) and without, and Optuna's successive halving
# in memory on one thread, side by side in one run; medians of --repeats runs each.
#
#   scripts/bench/journal.sh [--repeats 3] [--trials 4000]
#
# Both sample the same number of trials (Optuna's in-memory storage slows as trials
# accumulate: about 4,400 results/s at 500 trials, 1,300 at 4,000). Builds a virtual environment with Optuna from PyPI on first
# use (~/.cache/cohort-bench/venv); not part of the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
repeats=3 trials=4000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --trials) trials="$2"; shift 2 ;;
    *) echo "usage: $0 [--repeats N] [--trials N]" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh > /dev/null
[ -x .build/release/cohort ] || swift build -c release --product cohort
venv="${COHORT_BENCH_VENV:-$HOME/.cache/cohort-bench/venv}"
if ! "$venv/bin/python" -c 'import optuna' 2>/dev/null; then
  echo "building $venv (Optuna from PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q optuna
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/zero.yaml" <<YAML
name: zero-cost
seed: 1
metric: loss
mode: min
scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 27, max_trials: $trials}
trainable: {type: surrogate, seconds_per_unit: 0, checkpoints: false}
space:
  lr: {type: loguniform, low: 1.0e-4, high: 1.0}
  momentum: {type: uniform, low: 0.0, high: 0.99}
YAML

rate() { # run directory -> "results seconds"
  python3 - "$1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
res = sum(e["event"] in ("result", "failed") for e in ev)
end = [e for e in ev if e["event"] == "end"][0]
print(res, end["time"])
PY
}

for i in $(seq "$repeats"); do
  for mode in fsync no-fsync; do
    flag=""; [ "$mode" = no-fsync ] && flag="--no-fsync"
    scripts/mpirun.sh -np 8 cohort tune --config "$tmp/zero.yaml" --out "$tmp/$mode-$i" --quiet $flag > /dev/null
    echo "$mode $(rate "$tmp/$mode-$i")" >> "$tmp/rates"
  done
  OPENBLAS_NUM_THREADS=1 "$venv/bin/python" scripts/bench/optuna_zero_cost.py --trials "$trials" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print("optuna", r["results"], r["seconds"])' >> "$tmp/rates"
done

python3 - "$tmp/rates" "$("$venv/bin/python" -c 'import optuna; print(optuna.__version__)')" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, results, seconds = line.split()
    runs.setdefault(name, []).append(int(results) / float(seconds))
label = {"fsync": "Cohort ASHA, 8 ranks, journal fsynced", "no-fsync": "Cohort ASHA, 8 ranks, --no-fsync",
         "optuna": f"Optuna {sys.argv[2]} successive halving, in memory"}
optuna = statistics.median(runs["optuna"])
print(f"{'':48}{'median results/s':>18}{'range':>18}{'x Optuna':>10}")
for name in ("fsync", "no-fsync", "optuna"):
    r = runs[name]
    print(f"{label[name]:48}{statistics.median(r):>18,.0f}{f'{min(r):,.0f}-{max(r):,.0f}':>18}{statistics.median(r) / optuna:>10.2f}")
PY
