#!/usr/bin/env bash
# A Python objective tuned by Cohort's ASHA (persistent workers, fsynced journal),
# Ray Tune's ASHAScheduler and Optuna's successive halving, 8 workers each, side by
# side in one run: results per second at zero cost, then time to a target at a real
# cost per resource unit; then the per-job overhead of Cohort's two modes.
#
#   scripts/bench/command_peers.sh           # 150 trials at zero cost, 81 at 0.05 s/unit, overheads
#   scripts/bench/command_peers.sh --quick   # small runs that check the script
#
# Builds a virtual environment with Ray Tune and Optuna from PyPI on first use
# (~/.cache/cohort-bench/venv); not part of the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash scripts/setup.sh > /dev/null
[ -x .build/release/cohort ] || swift build -c release --product cohort
venv="${COHORT_BENCH_VENV:-$HOME/.cache/cohort-bench/venv}"
if ! "$venv/bin/python" -c 'import ray.tune, optuna' 2>/dev/null; then
  echo "building $venv (Ray Tune, Optuna from PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'ray[tune]' optuna
fi
export OPENBLAS_NUM_THREADS=1
py="$venv/bin/python"
"$py" -c 'import ray, optuna, sys; print(f"python {sys.version.split()[0]}, ray {ray.__version__}, optuna {optuna.__version__}")'
if [ "${1:-}" = "--quick" ]; then
  "$py" scripts/bench/command_peers.py --trials 30 --cost 0
else
  "$py" scripts/bench/command_peers.py --trials 150 --cost 0
  "$py" scripts/bench/command_peers.py --trials 81 --cost 0.05
fi

# Per-job overhead at zero cost: command mode against the interpreter's own start-up
# running the same script, persistent mode per job.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/job.py" <<'PY'
import json, os
json.dump({"metric": 1.0}, open(os.environ["COHORT_RESULT"], "w"))
PY
cat > "$tmp/overhead.yaml" <<YAML
name: overhead
seed: 1
metric: loss
mode: min
scheduler: {type: random, max_trials: 100, max_resource: 1}
trainable: {type: command, command: [$py, $tmp/job.py]}
space:
  lr: {type: uniform, low: 0, high: 1}
YAML
sed -e "s|trainable: .*|trainable: {type: command, mode: persistent, command: [$py, $root/scripts/bench/objective.py]}|" \
    -e 's|  lr: {type: uniform, low: 0, high: 1}|  lr: {type: uniform, low: 0.001, high: 1}\n  momentum: {type: uniform, low: 0, high: 1}|' \
    "$tmp/overhead.yaml" > "$tmp/persistent.yaml"
scripts/mpirun.sh -np 2 cohort tune --config "$tmp/overhead.yaml" --out "$tmp/per-job" --quiet > /dev/null
scripts/mpirun.sh -np 2 cohort tune --config "$tmp/persistent.yaml" --out "$tmp/persistent" --quiet > /dev/null
"$py" - "$tmp" "$py" <<'PY'
import json, os, statistics, subprocess, sys, time
tmp, py = sys.argv[1], sys.argv[2]
def job_seconds(run):
    return [json.loads(l)["seconds"] for l in open(f"{tmp}/{run}/events.jsonl") if '"event":"result"' in l]
env = dict(os.environ, COHORT_RESULT=f"{tmp}/r.json")
alone = []
for _ in range(30):
    t = time.perf_counter(); subprocess.run([py, f"{tmp}/job.py"], env=env, check=True); alone.append(time.perf_counter() - t)
per_job, persistent = statistics.median(job_seconds("per-job")), statistics.median(job_seconds("persistent"))
print(f"per job: {per_job * 1000:.1f} ms a job; the same script alone {statistics.median(alone) * 1000:.1f} ms: "
      f"overhead {(per_job - statistics.median(alone)) * 1000:.1f} ms")
print(f"persistent: {persistent * 1000:.2f} ms a job (build, train, evaluate, save)")
PY
