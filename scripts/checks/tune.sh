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

# A worker that stops answering (SIGSTOP) is declared lost after job_timeout; the run
# ends, and mpirun returns instead of waiting for that worker forever. Open MPI 4.1's
# mpirun itself sometimes fails in its teardown after the MPI_Abort that ends the stopped
# rank (a PMIx finalize deadlock, which scripts/mpirun.sh ends with its own line and
# status 137, or a segmentation fault of mpirun, 139): the run's records are then checked
# all the same, and any other status fails.
tune_stopped_worker() {
  sed -e 's/seconds_per_unit: 0.01/seconds_per_unit: 0.02/;s/job_timeout: 120/job_timeout: 3/' examples/surrogate.yaml > "$tune_tmp/lost.yaml"
  scripts/mpirun.sh -np 3 cohort tune --config "$tune_tmp/lost.yaml" --out "$tune_tmp/lost" --quiet > "$tune_tmp/lost.log" 2>&1 &
  local pid=$! worker="" i
  for i in $(seq 1 50); do
    worker="$(pgrep -f "^$cohort tune --config $tune_tmp/lost.yaml" | sort -n | tail -1 || true)"
    [ -n "$worker" ] && [ -s "$tune_tmp/lost/events.jsonl" ] && break
    sleep 0.1
  done
  kill -STOP "$worker"
  for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "mpirun still running 60 s after a worker was stopped"; kill -CONT "$worker"; kill "$pid"; wait "$pid"; return 1
  fi
  local status=0
  wait "$pid" || status=$?
  case "$status" in
    0) ;;
    137) grep -q "mpirun hung in its own teardown" "$tune_tmp/lost.log" || { echo "mpirun killed"; cat "$tune_tmp/lost.log"; return 1; }
         echo "(mpirun deadlocked in its teardown and was ended by scripts/mpirun.sh)" ;;
    139) ! grep -q "exited on signal" "$tune_tmp/lost.log" || { echo "a rank crashed"; cat "$tune_tmp/lost.log"; return 1; }
         echo "(mpirun crashed in its teardown after the abort)" ;;
    *) echo "mpirun exited $status"; cat "$tune_tmp/lost.log"; return 1 ;;
  esac
  grep -q '"event":"lost"' "$tune_tmp/lost/events.jsonl" && grep -q '"event":"end"' "$tune_tmp/lost/events.jsonl" &&
    grep -q "may still be training" "$tune_tmp/lost.log" && "$cohort" tune --audit --out "$tune_tmp/lost"
}
check "tune: a SIGSTOP'd worker is lost at job_timeout and mpirun still returns" tune_stopped_worker

# SIGUSR1 to mpirun (what Slurm's --signal sends before a time limit) stops the run at a
# job boundary with exit 0 and a resume line; a second coordinator on the same directory
# is refused while the first runs; the resumed run (1 worker: reproducible decisions)
# equals an uninterrupted one.
tune_signal_resume() {
  sed -e 's/seconds_per_unit: 0.01/seconds_per_unit: 0.02/;s/max_trials: 81/max_trials: 40/' examples/surrogate.yaml > "$tune_tmp/sig.yaml"
  mpi -np 2 cohort tune --config "$tune_tmp/sig.yaml" --out "$tune_tmp/whole" --quiet --no-fsync > /dev/null 2>&1 || return 1
  scripts/mpirun.sh -np 2 cohort tune --config "$tune_tmp/sig.yaml" --out "$tune_tmp/cut" --quiet > "$tune_tmp/cut.log" 2>&1 &
  local pid=$!
  sleep 2
  expect_error "is in use by another coordinator (pid [0-9]* on $(hostname)" "$cohort" tune --resume --out "$tune_tmp/cut" || { kill "$pid"; return 1; }
  kill -USR1 "$pid"
  wait "$pid" || { echo "stopped run exited $?"; return 1; }
  grep -q "stopped by SIGUSR1 .* resume with: cohort tune --resume --out $tune_tmp/cut" "$tune_tmp/cut.log" || { cat "$tune_tmp/cut.log"; return 1; }
  [ "$(tail -1 "$tune_tmp/cut/events.jsonl" | grep -c '"event":"stop"')" -eq 1 ] || { echo "no stop event last"; return 1; }
  mpi -np 2 cohort tune --resume --out "$tune_tmp/cut" --quiet > /dev/null 2>&1 &&
    "$cohort" tune --audit --out "$tune_tmp/cut" && cmp "$tune_tmp/whole/best.json" "$tune_tmp/cut/best.json" &&
    same_results "$tune_tmp/whole" "$tune_tmp/cut" "stopped"
}
check "tune: SIGUSR1 stops at a boundary, a second coordinator is refused, the resumed run equals an uninterrupted one" tune_signal_resume

# SIGKILL of the coordinator rank at seeded random moments, resumed each time (the
# first kill may land before the journal's first line): the finished journal is
# legal and answers every job once.
tune_rank0() { # $1 = pgrep pattern; prints the pid of MPI rank 0 among the matches
  local p
  for p in $(pgrep -f "$1" || true); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=0' && { echo "$p"; return; }
  done
}
tune_kill_many() {
  sed -e 's/seconds_per_unit: 0.01/seconds_per_unit: 0.02/;s/max_trials: 81/max_trials: 60/' examples/surrogate.yaml > "$tune_tmp/many.yaml"
  local args=(--config "$tune_tmp/many.yaml") delay pid coordinator i
  RANDOM=7
  for i in 1 2 3 4; do
    delay="$(( RANDOM % 25 ))"   # tenths of a second after the ranks start
    scripts/mpirun.sh -np 3 cohort tune "${args[@]}" --out "$tune_tmp/many" --quiet > /dev/null 2>&1 &
    pid=$!
    coordinator=""
    while [ -z "$coordinator" ] && kill -0 "$pid" 2>/dev/null; do
      coordinator="$(tune_rank0 "^$cohort tune .*--out $tune_tmp/many")"
      sleep 0.05
    done
    sleep "$((delay / 10)).$((delay % 10))"
    [ -z "$coordinator" ] || kill -KILL "$coordinator" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "kill $i after $((delay / 10)).$((delay % 10)) s: $(wc -l < "$tune_tmp/many/events.jsonl" 2>/dev/null || echo 0) journal lines"
    args=(--resume)
  done
  mpi -np 3 cohort tune --resume --out "$tune_tmp/many" --quiet > /dev/null 2>&1 &&
    "$cohort" tune --audit --out "$tune_tmp/many" &&
    [ "$(grep -o '"event":"start","trial":[0-9]*,"bracket":0,"rung":0,' "$tune_tmp/many/events.jsonl" | sort -u | wc -l)" -eq 60 ]
}
check "tune: SIGKILL of the coordinator at random moments, four times, then --resume: journal legal, every job once" tune_kill_many
