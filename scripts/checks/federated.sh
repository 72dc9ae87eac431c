# Multi-process checks of `cohort fed`, sourced by scripts/test.sh (which defines
# `check` and `root`; cluster.sh defines `mpi` and `expect_error`).
#
# FedAvg on Synthetic(1,1) (the paper's setting, 200 rounds): the same seed and rank
# count give bit-identical global models after every round; 3 and 5 ranks agree to
# float rounding; a run killed with SIGKILL and resumed equals an uninterrupted one.

fed_tmp="$(mktemp -d)"
fed_cohort="$root/.build/release/cohort"
fed_example="$root/examples/fedavg-synthetic.yaml"

fed_run() { # np out [extra args]
  local np="$1" out="$2"; shift 2
  "$root/scripts/mpirun.sh" -np "$np" cohort fed --config "$fed_example" --out "$out" --quiet --no-fsync "$@"
}

fed_same_seed() {
  fed_run 3 "$fed_tmp/a" > /dev/null && fed_run 3 "$fed_tmp/b" > /dev/null &&
    "$fed_cohort" fed --compare "$fed_tmp/a" "$fed_tmp/b" --tolerance 0
}
check "fed: same seed on 3 ranks twice: bit-identical model after every round" fed_same_seed

fed_rank_counts() {
  fed_run 5 "$fed_tmp/five" > /dev/null && "$fed_cohort" fed --compare "$fed_tmp/a" "$fed_tmp/five" --tolerance 1e-4
}
check "fed: 3 ranks against 5 ranks: models agree to float rounding" fed_rank_counts

fed_kill_resume() {
  "$root/scripts/mpirun.sh" -np 3 cohort fed --config "$fed_example" --out "$fed_tmp/killed" --quiet > /dev/null 2>&1 &
  local pid=$! waited=0
  # Kill once 20 rounds are journaled (whatever the machine's speed), at most 60 s in.
  local rounds=0
  while [ "$rounds" -lt 20 ] && [ "$waited" -lt 600 ]; do
    sleep 0.1; waited=$((waited + 1))
    rounds=$(grep -c '"event":"round"' "$fed_tmp/killed/events.jsonl" 2>/dev/null || true)
    rounds=${rounds:-0}
  done
  # The ranks first (mpirun.sh execs mpirun, so they are its children), then mpirun.
  { pkill -KILL -P "$pid"; kill -KILL "$pid"; wait "$pid"; } 2>/dev/null || true
  if grep -q '"event":"end"' "$fed_tmp/killed/events.jsonl"; then echo "run ended before the kill"; return 1; fi
  echo "killed after $(grep -c '"event":"round"' "$fed_tmp/killed/events.jsonl") rounds"
  "$root/scripts/mpirun.sh" -np 3 cohort fed --resume --out "$fed_tmp/killed" --quiet > /dev/null &&
    "$fed_cohort" fed --compare "$fed_tmp/a" "$fed_tmp/killed" --tolerance 0
}
check "fed: SIGKILL of mpirun, then --resume: equal to an uninterrupted run, bit for bit" fed_kill_resume

# FedEx with successive halving over server learning rates, on 3 ranks.
fed_fedex_sha() {
  cat > "$fed_tmp/fedex.yaml" <<'YAML'
name: fedex-synthetic-check
seed: 2
rounds: 9
data: {source: synthetic, alpha: 1, beta: 1, validation_fraction: 0.2}
model: {type: logistic}
sampling: {clients_per_round: 10}
local: {learning_rate: 0.01, epochs: 2, batch_size: 10}
evaluation: {every: 3}
fedex:
  grid: {learning_rate: [0.003, 0.03, 0.3], epochs: [1, 3]}
search:
  type: sha
  arms: 3
  eta: 3
  min_rounds: 3
  space:
    server.learning_rate: {type: loguniform, low: 0.3, high: 3.0}
YAML
  local out
  out="$("$root/scripts/mpirun.sh" -np 3 cohort fed --config "$fed_tmp/fedex.yaml" --out "$fed_tmp/fedex" --quiet --no-fsync)" || return 1
  printf '%s\n' "$out"
  [ "$(grep -c '"event":"result"' "$fed_tmp/fedex/events.jsonl")" -eq 4 ] &&
    grep -q '"most_likely"' "$fed_tmp/fedex/events.jsonl" && printf '%s' "$out" | grep -q "best arm"
}
check "fed: FedEx inside successive halving on 3 ranks" fed_fedex_sha

# Bad input: one readable line on stderr, non-zero exit, once under mpirun too.
fed_bad() { # sed expression -> $fed_tmp/bad.yaml
  sed -e "$1" "$fed_example" > "$fed_tmp/bad.yaml"
}
fed_bad 's/source: synthetic/source: digits\n  clients: 20\n  partition: dirichlet/;s/alpha: 1/alpha: 0/;/beta: 1/d'
check "fed: Dirichlet alpha <= 0" expect_error "data.alpha: must be a positive number, got 0.0" \
  "$fed_cohort" fed --config "$fed_tmp/bad.yaml" --out "$fed_tmp/x"
check "fed: Dirichlet alpha <= 0 under mpirun, reported once" expect_error "data.alpha: must be a positive number" \
  mpi -np 3 cohort fed --config "$fed_tmp/bad.yaml" --out "$fed_tmp/x"
fed_bad 's/alpha: 1/alpha: -1/'
check "fed: Synthetic alpha < 0" expect_error "data.alpha: must be zero or positive, got -1.0" \
  "$fed_cohort" fed --config "$fed_tmp/bad.yaml" --out "$fed_tmp/x"
fed_bad 's/clients_per_round: 10/clients_per_round: 31/'
check "fed: more clients per round than clients" \
  expect_error "sampling.clients_per_round: asks for 31 clients per round but there are only 30 training clients" \
  mpi -np 3 cohort fed --config "$fed_tmp/bad.yaml" --out "$fed_tmp/x"
printf '{"users": ["u1"], "num_samples": [1], "user_data": {"u1": {"x": [[0.1, 0.2]], "y": [1]' > "$fed_tmp/leaf.json"
fed_bad "s|source: synthetic|source: leaf\n  train: $fed_tmp/leaf.json|;/alpha: 1/d;/beta: 1/d"
check "fed: unreadable LEAF JSON" expect_error "leaf.json: is not valid JSON" \
  mpi -np 3 cohort fed --config "$fed_tmp/bad.yaml" --out "$fed_tmp/x"
sed -e "s|$fed_tmp/leaf.json|no/such/dir|" "$fed_tmp/bad.yaml" > "$fed_tmp/missing.yaml"
check "fed: missing LEAF file" expect_error "no/such/dir: no such file or directory" \
  "$fed_cohort" fed --config "$fed_tmp/missing.yaml" --out "$fed_tmp/x"
check "fed: existing run directory" expect_error "already exists; use --resume" \
  "$fed_cohort" fed --config "$fed_example" --out "$fed_tmp/a"
check "fed: nothing to resume" expect_error "cannot be resumed: no config.yaml and events.jsonl there" \
  "$fed_cohort" fed --resume --out "$fed_tmp/nothing"
