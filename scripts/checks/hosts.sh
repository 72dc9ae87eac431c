# Multi-host checks: three test hosts on this machine (scripts/hosts.sh: network
# namespaces, TCP between hosts, shared memory within one), sourced by scripts/test.sh
# (which defines `check` and `root`; cluster.sh defines `mpi` and `expect_error`).
#
# What crosses a network here: mpirun's daemons started by an agent on each host,
# every collective and job message between hosts, a host dying mid-run.

hosts_tmp="$(mktemp -d)"
hosts_cohort="$root/.build/release/cohort"
export COHORT_HOSTS_DIR="$hosts_tmp/hosts"

# mpirun over the test hosts: scripts/mpirun.sh with their hostfile and agent.
on_hosts() {
  local flags
  flags="$("$root/scripts/hosts.sh" mpirun-flags)" || return 1
  # shellcheck disable=SC2086
  "$root/scripts/mpirun.sh" $flags "$@"
}

# The same in the background, output to $1; mpirun's own pid (for signals) in $started.
start_on_hosts() {
  local log="$1" flags
  shift
  flags="$("$root/scripts/hosts.sh" mpirun-flags)" || return 1
  # shellcheck disable=SC2086
  "$root/scripts/mpirun.sh" $flags "$@" > "$log" 2>&1 &
  started=$!
}

hosts_up() { "$root/scripts/hosts.sh" up "$@" > /dev/null; }
check "hosts: three test hosts up" hosts_up 3

hosts_info() {
  local out
  out="$(on_hosts -np 6 cohort info)" || return 1
  printf '%s\n' "$out" | tail -6
  [ "$(printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+\/6$/ {print $2}' | sort -u | tr '\n' ' ')" = "cohort-h1 cohort-h2 cohort-h3 " ]
}
check "hosts: cohort info on 3 hosts x 2 ranks names three hosts" hosts_info

hosts_asha() {
  on_hosts -np 6 cohort tune --config examples/surrogate.yaml --out "$hosts_tmp/asha" --quiet > "$hosts_tmp/asha.log" &&
    "$hosts_cohort" tune --audit --out "$hosts_tmp/asha"
}
check "hosts: ASHA on 3 hosts, journal legal" hosts_asha

# The same collectives in the same order: one host or three, bit for bit.
hosts_fed() {
  local args=(cohort fed --config examples/fedavg-synthetic.yaml --quiet --no-fsync)
  on_hosts -np 6 "${args[@]}" --out "$hosts_tmp/fed3" > /dev/null &&
    mpi -np 6 "${args[@]}" --out "$hosts_tmp/fed1" > /dev/null &&
    "$hosts_cohort" fed --compare "$hosts_tmp/fed1" "$hosts_tmp/fed3" --tolerance 0
}
check "hosts: FedAvg on 3 hosts bit-identical to 6 ranks on one host" hosts_fed

hosts_train() {
  local args=(cohort train --dataset digits --model mlp --epochs 2 --batch-size 64 --verify-replicas --quiet) many one
  many="$(on_hosts -np 6 "${args[@]}")" || return 1
  one="$(mpi -np 6 "${args[@]}")" || return 1
  printf '%s\n' "$many" | grep -E "replicas|digest"
  printf '%s' "$many" | grep -q "replicas identical after each of 42 steps on 6 rank(s)" &&
    [ "$(printf '%s\n' "$many" | grep 'weights digest')" = "$(printf '%s\n' "$one" | grep 'weights digest')" ]
}
check "hosts: data-parallel train across 3 hosts: replicas identical every step, weights as on one host" hosts_train

# `cohort tune --resume` of run $2 on every test host but $1 (4 ranks).
resume_without() {
  local flags
  grep -v "^$1 " "$COHORT_HOSTS_DIR/hostfile" > "$hosts_tmp/without-$1"
  flags="$("$root/scripts/hosts.sh" mpirun-flags | sed "s|--hostfile [^ ]*|--hostfile $hosts_tmp/without-$1|")"
  # shellcheck disable=SC2086
  "$root/scripts/mpirun.sh" $flags -np 4 cohort tune --resume --out "$2" --quiet > "$2.resumed.log" 2>&1 ||
    { cat "$2.resumed.log"; return 1; }
}

# Host $2 fails mid-run ($1: kill = every process on it killed at once, cut = its
# link set down, noticed by TCP keepalives on mpirun's connections): mpirun ends the
# job within $3 s with a line naming the host, the journal is intact, and --resume on
# the hosts left finishes with every job answered once.
sed -e 's/seconds_per_unit: 0.01/seconds_per_unit: 0.2/' examples/surrogate.yaml > "$hosts_tmp/slow.yaml"
hosts_failure() {
  local how="$1" host="$2" limit="$3" out="$hosts_tmp/$1" i
  start_on_hosts "$out.log" -np 6 cohort tune --config "$hosts_tmp/slow.yaml" --out "$out" --quiet
  local pid=$started
  for i in $(seq 1 100); do
    [ "$(cat "$out/events.jsonl" 2>/dev/null | grep -c '"event":"result"')" -ge 20 ] && break
    sleep 0.1
  done
  case "$how" in
    kill) "$root/scripts/hosts.sh" kill "$host" ;;
    cut) ip link set "$host-v" down ;;
  esac
  local failed=$SECONDS
  for i in $(seq 1 $((limit * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "mpirun still running $limit s after $host failed"; kill -9 "$pid"; wait "$pid"; return 1; fi
  wait "$pid" && { echo "mpirun exited 0 after $host failed"; return 1; }
  echo "mpirun ended $((SECONDS - failed)) s after $host failed ($how)"
  for i in $(seq 1 20); do grep -q "lost host $host" "$out.log" && break; sleep 0.1; done
  grep "lost host" "$out.log" || { echo "no line names the host:"; cat "$out.log"; return 1; }
  grep -q '"event":"end"' "$out/events.jsonl" && { echo "run ended before the host failed"; return 1; }
  resume_without "$host" "$out" || return 1
  "$hosts_cohort" tune --audit --out "$out" &&
    [ "$(grep -c '"event":"start","trial":[0-9]*,"bracket":0,"rung":0,' "$out/events.jsonl")" -ge 81 ]
}
check "hosts: a host dies mid-run: mpirun ends within 10 s naming it; --resume on the rest audits clean" hosts_failure kill cohort-h3 10
check "hosts: a host's link goes down: mpirun ends within 30 s naming it; --resume on the rest audits clean" hosts_failure cut cohort-h2 30

# Trials trained by two ranks each, data-parallel, on 3 hosts (7 ranks, mapped by
# host so that each pair shares one): every result equals the one-rank run's to float
# rounding (an MLP without dropout or batch norm).
hosts_pairs() {
  hosts_up 3 --slots 3 || return 1
  cat > "$hosts_tmp/pairs.yaml" <<'YAML'
name: pairs
seed: 4
metric: val_loss
mode: min
scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 12}
trainable: {type: mlp, dataset: digits, metric: loss, validation_fraction: 0.2}
space:
  learning_rate: {type: loguniform, low: 1.0e-2, high: 0.3}
  momentum: {type: uniform, low: 0.0, high: 0.9}
  batch_size: {type: choice, values: [32, 64]}
  width: {type: int, low: 16, high: 128, log: true}
farm: {ranks_per_trial: 2}
YAML
  sed -e '/^farm:/d' "$hosts_tmp/pairs.yaml" > "$hosts_tmp/alone.yaml"
  on_hosts -np 7 --map-by node cohort tune --config "$hosts_tmp/pairs.yaml" --out "$hosts_tmp/pairs" --quiet --no-fsync > /dev/null &&
    mpi -np 2 cohort tune --config "$hosts_tmp/alone.yaml" --out "$hosts_tmp/alone" --quiet --no-fsync > /dev/null &&
    "$hosts_cohort" tune --audit --out "$hosts_tmp/pairs" &&
    python3 - "$hosts_tmp" <<'PY'
import json, sys
def results(run):
    out = {}
    for e in map(json.loads, open(f"{sys.argv[1]}/{run}/events.jsonl")):
        if e["event"] == "result":
            out[(e["trial"], e["rung"])] = (e["metric"], e["worker"])
    return out
pairs, alone = results("pairs"), results("alone")
shared = sorted(set(pairs) & set(alone))
worst = max(abs(pairs[k][0] - alone[k][0]) / max(abs(alone[k][0]), 1e-12) for k in shared)
workers = sorted({w for _, w in pairs.values()})
print(f"{len(shared)} results in both runs, largest relative difference {worst:.2e}; groups led by ranks {workers}")
sys.exit(0 if len(shared) >= 12 and worst <= 1e-5 and len(workers) == 3 else 1)
PY
}
check "hosts: ranks_per_trial 2 on 3 hosts: legal journal, every result the one-rank result to float rounding" hosts_pairs

# A run of groups stopped by SIGUSR1 and resumed: every group hears the stop, the
# journal audits clean, and each result is bit for bit the uninterrupted run's.
hosts_pairs_resume() {
  sed -e "s/max_resource: 9, max_trials: 12/max_resource: 27, max_trials: 300/" "$hosts_tmp/pairs.yaml" > "$hosts_tmp/pairs-long.yaml"
  on_hosts -np 7 --map-by node cohort tune --config "$hosts_tmp/pairs-long.yaml" --out "$hosts_tmp/whole-long" --quiet --no-fsync > /dev/null || return 1
  start_on_hosts "$hosts_tmp/cut-long.log" -np 7 --map-by node cohort tune --config "$hosts_tmp/pairs-long.yaml" --out "$hosts_tmp/cut-long" --quiet
  local pid=$started i
  for i in $(seq 1 200); do
    [ "$(cat "$hosts_tmp/cut-long/events.jsonl" 2>/dev/null | grep -c '"event":"result"')" -ge 6 ] && break
    sleep 0.05
  done
  kill -USR1 "$pid"
  wait "$pid" || { echo "stopped run exited $?"; cat "$hosts_tmp/cut-long.log"; return 1; }
  grep -q '"event":"stop"' "$hosts_tmp/cut-long/events.jsonl" || { echo "the run ended before the stop"; return 1; }
  on_hosts -np 7 --map-by node cohort tune --resume --out "$hosts_tmp/cut-long" --quiet > /dev/null &&
    "$hosts_cohort" tune --audit --out "$hosts_tmp/cut-long" &&
    python3 - "$hosts_tmp" <<'PY'
import json, sys
def results(run):
    return {(e["trial"], e["rung"]): e["metric"] for e in map(json.loads, open(f"{sys.argv[1]}/{run}/events.jsonl")) if e["event"] == "result"}
whole, cut = results("whole-long"), results("cut-long")
shared = sorted(set(whole) & set(cut))
same = sum(whole[k] == cut[k] for k in shared)
print(f"{len(cut)} results stopped and resumed, {len(shared)} shared with the uninterrupted run, {same} bit-identical")
sys.exit(0 if len(shared) >= 300 and same == len(shared) else 1)
PY
}
check "hosts: ranks_per_trial 2 stopped by SIGUSR1 and resumed: every group stops, results bit-identical" hosts_pairs_resume

hosts_down() {
  "$root/scripts/hosts.sh" down > /dev/null
  local left
  left="$("$root/scripts/hosts.sh" leftovers)"
  [ -z "$left" ] || { echo "left behind: $left"; return 1; }
  ! pgrep -f "$hosts_cohort" > /dev/null || { echo "cohort processes left:"; pgrep -af "$hosts_cohort"; return 1; }
}
check "hosts: down leaves no namespace, link or process" hosts_down
unset COHORT_HOSTS_DIR
