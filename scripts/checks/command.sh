# Multi-process checks of users' programs as trainables (cohort tune with
# trainable: {type: command}), sourced by scripts/test.sh after cluster.sh (which
# defines `check`, `mpi` and `expect_error`). The programs are stdlib-only Python.

command_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"

# Checks a run of examples/command/quadratic*.py: every job the journal started ran
# exactly as often as it was started, each promoted job was handed the checkpoint
# its trial's previous job wrote, and finished jobs never ran again.
command_chain() { # $1 = run directory, $2 = the program's QUADRATIC_LOG
  python3 - "$1" "$2" <<'PY'
import collections, json, sys
run, log = sys.argv[1], sys.argv[2]
events = [json.loads(l) for l in open(run + "/events.jsonl")]
starts = collections.Counter((e["trial"], e["rung"]) for e in events if e["event"] == "start")
ran = collections.Counter()
for line in open(log):
    trial, rung, resource, given = line.split()
    trial, rung = int(trial), int(rung)
    ran[(trial, rung)] += 1
    start = [e for e in events if e["event"] == "start" and e["trial"] == trial and e["rung"] == rung][0]
    if "resume_from" in start:
        want = "%s/checkpoints/trial-%06d/r-%s.ckpt" % (run, trial, json.dumps(start["resume_from"]))
        assert given == want, f"trial {trial} rung {rung} was given {given}, not {want}"
    else:
        assert given == "-", f"a new trial {trial} was given a checkpoint {given}"
assert ran == starts, f"jobs run {sum(ran.values())} times for {sum(starts.values())} starts: {ran - starts} {starts - ran}"
finished = [(e["trial"], e["rung"]) for e in events if e["event"] in ("result", "failed")]
assert len(finished) == len(set(finished)), "a job was answered twice"
promoted = sum(1 for e in events if e["event"] == "start" and "resume_from" in e)
print(f"{len(finished)} jobs answered once, {promoted} promotions each given its trial's checkpoint, {sum(ran.values()) - len(finished)} re-runs of interrupted jobs")
PY
}

# ASHA over a per-job program on 5 ranks.
command_asha() {
  QUADRATIC_LOG="$command_tmp/asha.log" mpi -np 5 cohort tune --config examples/command/quadratic.yaml --out "$command_tmp/asha" --quiet > /dev/null &&
    "$cohort" tune --audit --out "$command_tmp/asha" &&
    command_chain "$command_tmp/asha" "$command_tmp/asha.log" &&
    grep -q '"trainable":{"type":"command","command":\["python3","examples/command/quadratic.py"\]' "$command_tmp/asha/events.jsonl" &&
    grep -q "\"$root/examples/command/quadratic.py\":\"$(sha256sum examples/command/quadratic.py | cut -d' ' -f1)\"" "$command_tmp/asha/events.jsonl"
}
check "command: ASHA over a Python program on 5 ranks: journal legal, each promotion given its checkpoint, digest journaled" command_asha

# The same search in persistent mode: one process per worker.
command_persistent() {
  QUADRATIC_LOG="$command_tmp/persistent.log" mpi -np 5 cohort tune --config examples/command/quadratic-persistent.yaml --out "$command_tmp/persistent" --quiet > /dev/null &&
    "$cohort" tune --audit --out "$command_tmp/persistent" &&
    command_chain "$command_tmp/persistent" "$command_tmp/persistent.log" &&
    [ "$(ls "$command_tmp/persistent/workers" | grep -c stdout)" -eq 4 ]
}
check "command: persistent workers on 5 ranks: journal legal, each promotion given its checkpoint" command_persistent

# SIGKILL of mpirun mid-run, then --resume: nothing finished is lost or run again.
command_kill_resume() {
  sed -e 's/max_trials: 40/max_trials: 60/' examples/command/quadratic.yaml > "$command_tmp/kill.yaml"
  QUADRATIC_LOG="$command_tmp/kill.log" scripts/mpirun.sh -np 5 cohort tune --config "$command_tmp/kill.yaml" --out "$command_tmp/kill" --quiet > /dev/null 2>&1 &
  local pid=$!
  sleep 4
  kill -KILL "$pid" 2>/dev/null || true
  pkill -KILL -P "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 1
  if grep -q '"event":"end"' "$command_tmp/kill/events.jsonl"; then echo "run ended before the kill"; return 1; fi
  echo "killed after $(grep -c '"event":"result"' "$command_tmp/kill/events.jsonl") results"
  QUADRATIC_LOG="$command_tmp/kill.log" mpi -np 5 cohort tune --resume --out "$command_tmp/kill" --quiet > /dev/null &&
    "$cohort" tune --audit --out "$command_tmp/kill" &&
    command_chain "$command_tmp/kill" "$command_tmp/kill.log"
}
check "command: SIGKILL of mpirun, then --resume: nothing finished lost or repeated" command_kill_resume

# Programs that fail on some configurations: the trials fail with their reasons, the
# search completes, and mpirun returns.
command_failures() {
  cat > "$command_tmp/fail.yaml" <<'YAML'
name: failing
seed: 4
metric: val_mse
mode: min
scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 30}
trainable: {type: command, command: [python3, examples/command/quadratic.py], timeout: 3}
space:
  lr: {type: loguniform, low: 1.0e-3, high: 0.1}
  momentum: {type: uniform, low: 0.0, high: 0.9}
  fail: {type: choice, values: [none, exit, signal, hang, nan, nan-token, noresult, raise]}
YAML
  mpi -np 5 cohort tune --config "$command_tmp/fail.yaml" --out "$command_tmp/fail" --quiet > /dev/null &&
    "$cohort" tune --audit --out "$command_tmp/fail" &&
    python3 - "$command_tmp/fail/events.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
config = {e["trial"]: e["config"]["fail"] for e in events if e["event"] == "start"}
want = {"exit": "the program exited with status 3", "signal": "the program was killed by signal 6 (SIGABRT)",
        "hang": "the program timed out after 3", "nan": "the program reported: metric is nan", "nan-token": "metric is nan",
        "noresult": "the program exited 0 without a result", "raise": "the program exited with status 1"}
failed = [e for e in events if e["event"] == "failed"]
seen = set()
for e in failed:
    kind = config[e["trial"]]
    assert kind in want and e["reason"].startswith(want[kind]), f"trial {e['trial']} ({kind}): {e['reason']!r}"
    seen.add(kind)
assert seen == set(want), f"failure kinds seen: {sorted(seen)}"
ok = [e for e in events if e["event"] == "result"]
assert all(config[e["trial"]] == "none" for e in ok) and ok, "results only from working configurations"
print(f"{len(failed)} failed with their reasons ({', '.join(sorted(seen))}), {len(ok)} results")
PY
}
check "command: exits, signals, hangs, NaN and missing results fail their trials; the search completes" command_failures

# GPUs per worker: farm.devices lists them; each worker's program sees its own.
command_devices() {
  cat > "$command_tmp/devices.sh" <<'SH'
#!/bin/sh
printf '{"metric": 1, "device": %s, "worker": %s}\n' "${CUDA_VISIBLE_DEVICES:--1}" "$COHORT_WORKER" > "$COHORT_RESULT"
SH
  cat > "$command_tmp/devices.yaml" <<YAML
name: devices
seed: 1
metric: loss
mode: min
scheduler: {type: random, max_trials: 12, max_resource: 1}
farm: {devices: [0, 1]}
trainable: {type: command, command: [/bin/sh, $command_tmp/devices.sh]}
space:
  x: {type: uniform, low: 0, high: 1}
YAML
  mpi -np 5 cohort tune --config "$command_tmp/devices.yaml" --out "$command_tmp/devices" --quiet > /dev/null &&
    python3 - "$command_tmp/devices/events.jsonl" <<'PY'
import json, sys
pairs = {(e["metrics"]["worker"], e["metrics"]["device"]) for l in open(sys.argv[1]) for e in [json.loads(l)] if e["event"] == "result"}
assert pairs and all(d == (w - 1) % 2 for w, d in pairs), f"worker -> device: {sorted(pairs)}"
print("worker -> device:", sorted(pairs))
PY
}
check "command: farm.devices gives each worker its GPU (CUDA_VISIBLE_DEVICES)" command_devices
check "info: the GPU column of a machine without GPUs" bash -c "scripts/mpirun.sh -np 3 cohort info | grep -E '^ *1/3 .* none *$'"

# A user's model in federated rounds: FedAvg with a NumPy logistic regression
# (examples/federated/logistic.py) on Synthetic(1,1), 3 ranks, gives the built-in
# logistic model's test accuracy in every evaluated round and its loss up to float rounding.
command_python() { # a python3 that has NumPy (setup.sh installs Debian's)
  if python3 -c 'import numpy' 2>/dev/null; then command -v python3; else echo /usr/bin/python3; fi
}
command_fed() {
  sed -e 's/^rounds: 200/rounds: 30/' examples/fedavg-synthetic.yaml > "$command_tmp/fed-builtin.yaml"
  sed -e 's/^rounds: 200/rounds: 30/' -e "s|command: \[python3,|command: [$(command_python),|" \
    examples/federated/fedavg-synthetic-command.yaml > "$command_tmp/fed-command.yaml"
  mpi -np 3 cohort fed --config "$command_tmp/fed-builtin.yaml" --out "$command_tmp/fed-builtin" --quiet > /dev/null &&
    mpi -np 3 cohort fed --config "$command_tmp/fed-command.yaml" --out "$command_tmp/fed-command" --quiet > /dev/null &&
    python3 - "$command_tmp/fed-builtin/events.jsonl" "$command_tmp/fed-command/events.jsonl" <<'PY'
import json, sys
def curve(path):
    return {e["round"]: (e["test_accuracy"], e["test_loss"]) for l in open(path) for e in [json.loads(l)]
            if e["event"] == "round" and e["test_accuracy"] is not None}
a, b = curve(sys.argv[1]), curve(sys.argv[2])
assert a.keys() == b.keys() and len(a) == 3, f"evaluated rounds {sorted(a)} and {sorted(b)}"
for r in a:
    assert a[r][0] == b[r][0], f"round {r}: test accuracy {a[r][0]} (built-in) and {b[r][0]} (Python)"
    assert abs(a[r][1] - b[r][1]) <= 1e-5, f"round {r}: test loss {a[r][1]} and {b[r][1]}"
print("test accuracy per evaluated round, built-in and Python:", [(r, a[r][0], b[r][0]) for r in sorted(a)],
      "largest loss difference %.1e" % max(abs(a[r][1] - b[r][1]) for r in a))
PY
}
check "command: FedAvg with a NumPy model in Python equals the built-in logistic model on Synthetic(1,1), 3 ranks" command_fed
command_fed_error() {
  cat > "$command_tmp/broken_model.py" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import cohort_worker
class Broken(cohort_worker.FederatedModel):
    def parameter_count(self): return 10
    def initialize(self, seed): return [0.0] * 10
    def train(self, parameters, data, plan):
        print("training on", data.count, "samples", flush=True)
        raise RuntimeError("out of memory (simulated)")
    def evaluate(self, parameters, data): return (0.0, 0, data.count)
sys.exit(cohort_worker.serve(Broken))
PY
  sed -e 's/^rounds: 200/rounds: 3/' -e "s|command: \[python3, examples/federated/logistic.py\]|command: [python3, $command_tmp/broken_model.py, $root/python]|" \
    examples/federated/fedavg-synthetic-command.yaml > "$command_tmp/fed-broken.yaml"
  expect_error "model: fed_train: RuntimeError: out of memory (simulated)" mpi -np 2 cohort fed --config "$command_tmp/fed-broken.yaml" --out "$command_tmp/fed-broken" &&
    cat "$command_tmp"/fed-broken/workers/rank-*.stdout | grep -q "^training on [0-9]* samples$"
}
check "command: a Python model that raises in training ends cohort fed with its message; its output is kept in the run" command_fed_error
