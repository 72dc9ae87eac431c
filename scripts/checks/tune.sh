# Multi-process checks of cohort tune, sourced by scripts/test.sh (which defines
# `check`, and `mpi`/`expect_error` in cluster.sh).

tune_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"

# ASHA on 4 MPI workers: the journal is legal and complete.
tune_asha() {
  mpi -np 5 cohort tune --config examples/surrogate.yaml --out "$tune_tmp/asha" --quiet --no-fsync > "$tune_tmp/asha.log" &&
    "$cohort" tune --audit --out "$tune_tmp/asha"
}
check "tune: ASHA on 5 MPI ranks, journal legal" tune_asha

# Kill mpirun mid-run (SIGKILL), resume, and get every result exactly once.
tune_kill_resume() {
  sed -e 's/seconds_per_unit: 0.01/seconds_per_unit: 0.04/' examples/surrogate.yaml > "$tune_tmp/slow.yaml"
  scripts/mpirun.sh -np 5 cohort tune --config "$tune_tmp/slow.yaml" --out "$tune_tmp/killed" --quiet > /dev/null 2>&1 &
  local pid=$!
  sleep 3
  kill -KILL "$pid" 2>/dev/null || true
  pkill -KILL -P "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sleep 1
  { wait "$pid"; } 2>/dev/null || true
  if grep -q '"event":"end"' "$tune_tmp/killed/events.jsonl"; then echo "run ended before the kill"; return 1; fi
  mpi -np 5 cohort tune --resume --out "$tune_tmp/killed" --quiet > /dev/null &&
    "$cohort" tune --audit --out "$tune_tmp/killed" &&
    [ "$(grep -c '"event":"start","trial":[0-9]*,"bracket":0,"rung":0,' "$tune_tmp/killed/events.jsonl")" -ge 81 ]
}
check "tune: SIGKILL of mpirun, then --resume: every job answered once" tune_kill_resume

# Bad input: one readable line, non-zero exit, existing run directory untouched.
tune_bad() { # $1 = scheduler/space snippet replacing a line of the example
  sed -e "$1" examples/surrogate.yaml > "$tune_tmp/bad.yaml"
}
printf 'space: [1, 2\n' > "$tune_tmp/malformed.yaml"
check "tune: malformed YAML" expect_error "is not valid YAML" "$cohort" tune --config "$tune_tmp/malformed.yaml" --out "$tune_tmp/x"
tune_bad 's/type: loguniform, low: 1.0e-4/type: logunif, low: 1.0e-4/;/weight_decay/d'
check "tune: unknown hyperparameter type" expect_error "unknown type 'logunif'" "$cohort" tune --config "$tune_tmp/bad.yaml" --out "$tune_tmp/x"
tune_bad 's/low: 0.0, high: 0.99/low: 0.99, high: 0.0/'
check "tune: low > high" expect_error "low (0.99) is greater than high (0.0)" "$cohort" tune --config "$tune_tmp/bad.yaml" --out "$tune_tmp/x"
tune_bad 's/eta: 3/eta: 1/'
check "tune: eta < 2" expect_error "scheduler.eta: must be at least 2" "$cohort" tune --config "$tune_tmp/bad.yaml" --out "$tune_tmp/x"
tune_bad 's/min_resource: 1/min_resource: 81/'
check "tune: r > R" expect_error "min_resource (81) is greater than max_resource (27)" "$cohort" tune --config "$tune_tmp/bad.yaml" --out "$tune_tmp/x"
check "tune: 1 rank under mpirun" expect_error "needs at least 2 ranks under mpirun" mpi -np 1 cohort tune --config examples/surrogate.yaml --out "$tune_tmp/x"
tune_existing() {
  cp "$tune_tmp/asha/events.jsonl" "$tune_tmp/before.jsonl"
  expect_error "already exists; use --resume" "$cohort" tune --config examples/surrogate.yaml --out "$tune_tmp/asha" &&
    cmp "$tune_tmp/asha/events.jsonl" "$tune_tmp/before.jsonl"
}
check "tune: an existing run directory is left untouched" tune_existing

# A real trainable: ASHA over an MLP on the embedded digits, 2 MPI workers. The best
# configuration's test accuracy is sane and the journal is legal.
tune_digits() {
  sed -e 's/max_trials: 243/max_trials: 27/;s/max_resource: 27/max_resource: 9/' examples/digits-asha.yaml > "$tune_tmp/digits.yaml"
  mpi -np 3 cohort tune --config "$tune_tmp/digits.yaml" --out "$tune_tmp/digits" --quiet --no-fsync > "$tune_tmp/digits.log" &&
    "$cohort" tune --audit --out "$tune_tmp/digits" &&
    python3 - "$tune_tmp/digits/best.json" <<'PY'
import json, sys
best = json.load(open(sys.argv[1]))
print(f"best trial {best['trial']} at resource {best['resource']}: validation {best['metric']:.4f}, test {best['test_metric']:.4f}")
sys.exit(0 if best["resource"] == 9 and best["test_metric"] >= 0.93 else 1)
PY
}
check "tune: ASHA over an MLP on digits, 3 MPI ranks: test accuracy >= 0.93, journal legal" tune_digits
sed -e 's|  dataset: fashion-mnist|  dataset: fashion-mnist\n  data_dir: /nonexistent/fashion|' examples/fashion-mlp-asha.yaml > "$tune_tmp/nodata.yaml"
check "tune: missing dataset" expect_error "trainable.dataset: /nonexistent/fashion: no such file or directory" \
  mpi -np 3 cohort tune --config "$tune_tmp/nodata.yaml" --out "$tune_tmp/nodata"
