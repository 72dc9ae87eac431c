# Checks of the simulated cluster, its agreement with the real farm, scaling tables
# and reports; sourced by scripts/test.sh (which defines `check`, and `mpi` and
# `expect_error` in cluster.sh).

scale_tmp="$(mktemp -d)"
sed -e 's/time_limit: 1620 .*/time_limit: 405/' examples/sim-compare.yaml > "$scale_tmp/sim.yaml"

# 500 simulated workers with stragglers and dropped jobs: the same journal twice, and legal.
sim_deterministic() {
  local n
  for n in a b; do
    "$cohort" tune --config "$scale_tmp/sim.yaml" --simulate-workers 500 --stragglers lognormal:1 --drop-probability 0.01 \
      --out "$scale_tmp/sim500-$n" --quiet > "$scale_tmp/sim500-$n.log" || return 1
  done
  tail -1 "$scale_tmp/sim500-a.log"
  grep -q '"event":"lost"' "$scale_tmp/sim500-a/events.jsonl" &&
    cmp "$scale_tmp/sim500-a/events.jsonl" "$scale_tmp/sim500-b/events.jsonl" &&
    "$cohort" tune --audit --out "$scale_tmp/sim500-a"
}
check "simulated cluster: 500 workers with stragglers and drops, same seed same journal, legal" sim_deterministic

# The simulated and the real farm make the same decisions (4 workers, distinct trial
# speeds; the real farm spends about 10 ms per job on messages, polling and the
# fsync'ed journal here, which the simulation charges as --job-overhead; this
# config's decisions are the same for any overhead from 0 to 25 ms).
sim_vs_real() {
  "$cohort" tune --config examples/agreement.yaml --simulate-workers 4 --job-overhead 0.01 --out "$scale_tmp/agree-sim" --quiet > /dev/null &&
    mpi -np 5 cohort tune --config examples/agreement.yaml --out "$scale_tmp/agree-real" --quiet > /dev/null &&
    "$cohort" bench agreement --simulated "$scale_tmp/agree-sim" --real "$scale_tmp/agree-real"
}
check "simulated vs real farm: same decisions on 4 workers" sim_vs_real

# Reports of a tuning run and of a scaling table, photographed in headless Chromium.
reports_render() {
  local png
  "$cohort" tune --config "$scale_tmp/sim.yaml" --simulate-workers 25 --stragglers fraction:0.1:10 --out "$scale_tmp/sim25" --quiet > /dev/null &&
    "$cohort" bench scaling --experiment asha --target 0.3 --csv "$scale_tmp/asha.csv" "$scale_tmp/agree-real" "$scale_tmp/sim25" > /dev/null || return 1
  for p in "$scale_tmp/sim25" "$scale_tmp/agree-real" "$scale_tmp/asha.csv"; do
    png="$(scripts/report-screenshot.sh "$p")" || return 1
    echo "$p -> $png ($(stat -c %s "$png") bytes)"
    [ "$(stat -c %s "$png")" -gt 20000 ] || { echo "screenshot too small to hold the plots"; return 1; }
  done
  grep -q 'class="chart learning-curves"' "$scale_tmp/sim25/report.html" && grep -q 'class="ideal-line"' "$scale_tmp/asha.html"
}
check "cohort report: tuning runs and a scaling table render in Chromium" reports_render

# Reports of a federated run (FedEx on Synthetic(1,1)) and a NAS run (GAEA, a few steps).
workload_reports_render() {
  cat > "$scale_tmp/fedex.yaml" <<'YAML'
name: fedex-report
seed: 0
rounds: 20
data: {source: synthetic, alpha: 1, beta: 1, validation_fraction: 0.1}
model: {type: logistic}
sampling: {clients_per_round: 10}
server: {type: sgd}
evaluation: {every: 5}
fedex:
  sample:
    values_per_hyperparameter: 3
    space:
      learning_rate: {type: loguniform, low: 1.0e-3, high: 0.3}
      epochs: {type: int, low: 1, high: 5}
  schedule: aggressive
search:
  type: random
  arms: 2
  space: {server.learning_rate: {type: loguniform, low: 0.3, high: 3.0}}
YAML
  sed -e 's/samples: 12000/samples: 1500/' -e 's/epochs: 6/epochs: 2/' -e 's/warmupEpochs: 2/warmupEpochs: 1/' \
      -e 's/recordEvery: 20/recordEvery: 4/' -e 's/  samples: 20000/  samples: 1000/' -e 's/  epochs: 4/  epochs: 1/' \
      examples/nas-gaea-fashion.yaml > "$scale_tmp/gaea.yaml"
  "$cohort" fed --config "$scale_tmp/fedex.yaml" --out "$scale_tmp/fed" --quiet > /dev/null &&
    "$cohort" nas search --config "$scale_tmp/gaea.yaml" --out "$scale_tmp/nas" --quiet --workers 2 > /dev/null || return 1
  local p png
  for p in fed nas; do
    png="$(scripts/report-screenshot.sh "$scale_tmp/$p")" || return 1
    echo "$p -> $png ($(stat -c %s "$png") bytes)"
    [ "$(stat -c %s "$png")" -gt 20000 ] || { echo "screenshot too small to hold the plots"; return 1; }
  done
  grep -q 'class="chart fedex-entropy"' "$scale_tmp/fed/report.html" && grep -q 'class="chart edge-weights"' "$scale_tmp/nas/report.html"
}
check "cohort report: a federated and a NAS run render in Chromium" workload_reports_render

# Bad input: one readable line, non-zero exit.
check "sim: bad straggler model" expect_error "unknown straggler model 'gamma'" \
  "$cohort" tune --config examples/agreement.yaml --simulate-workers 4 --stragglers gamma --out "$scale_tmp/x"
check "sim: drops without a job timeout" expect_error "dropped jobs are noticed only through farm.job_timeout" \
  "$cohort" tune --config examples/agreement.yaml --simulate-workers 4 --drop-probability 0.1 --out "$scale_tmp/x"
check "sim: straggler flags without a simulated cluster" expect_error "add --simulate-workers N" \
  "$cohort" tune --config examples/agreement.yaml --stragglers none --out "$scale_tmp/x"
check "sim: not under mpirun" expect_error "start it without mpirun" \
  mpi -np 2 cohort tune --config examples/agreement.yaml --simulate-workers 4 --out "$scale_tmp/x"
mkdir -p "$scale_tmp/empty"
check "report: not a run" expect_error "cannot tell what kind of run" "$cohort" report "$scale_tmp/empty"
