# Checks of the files every command shares (CohortFiles), sourced by scripts/test.sh
# (which defines `check`; cluster.sh defines `mpi` and `expect_error`): one config
# dialect with one error for a misspelt key, outputs byte-identical run to run, and
# one coordinator per run directory.

files_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"

# A camelCase key is refused by every command, naming its snake_case spelling.
printf 'dataset: digits\nbatchSize: 8\n' > "$files_tmp/train.yaml"
sed 's/seconds_per_unit:/secondsPerUnit:/' examples/surrogate.yaml > "$files_tmp/tune.yaml"
sed 's/batch_size: 10/batchSize: 10/' examples/fedavg-synthetic.yaml > "$files_tmp/fed.yaml"
sed '0,/batch_size: 32/s//batchSize: 32/' "$nas_tmp/rsws.yaml" > "$files_tmp/nas.yaml"
check "train: a camelCase key names its snake_case spelling" expect_error \
  "^Error: batchSize: unknown key; did you mean batch_size?$" "$cohort" train --config "$files_tmp/train.yaml"
check "tune: a camelCase key names its snake_case spelling" expect_error \
  "^Error: trainable.secondsPerUnit: unknown key; did you mean seconds_per_unit?$" "$cohort" tune --config "$files_tmp/tune.yaml" --out "$files_tmp/never"
check "fed: a camelCase key names its snake_case spelling, once under mpirun" expect_error \
  "^Error: local.batchSize: unknown key; did you mean batch_size?$" mpi -np 2 cohort fed --config "$files_tmp/fed.yaml" --out "$files_tmp/never"
check "nas: a camelCase key names its snake_case spelling, once under mpirun" expect_error \
  "^Error: search.batchSize: unknown key; did you mean batch_size?$" mpi -np 2 cohort nas search --config "$files_tmp/nas.yaml" --out "$files_tmp/never"

# The same command twice: byte-identical files.
train_twice_identical() {
  for run in a b; do
    "$cohort" train --dataset digits --model mlp --epochs 30 --seed 7 --checkpoint-out "$files_tmp/train-$run.safetensors" --quiet || return 1
  done
  cmp "$files_tmp/train-a.safetensors" "$files_tmp/train-b.safetensors" && echo "checkpoints identical"
}
check "train twice: byte-identical checkpoints" train_twice_identical

tune_twice_identical() {
  sed 's/seconds_per_unit: 0.01/seconds_per_unit: 0/' examples/surrogate.yaml > "$files_tmp/surrogate.yaml"
  for run in a b; do
    "$cohort" tune --config "$files_tmp/surrogate.yaml" --out "$files_tmp/tune-$run" --workers 1 --quiet > /dev/null || return 1
  done
  cmp "$files_tmp/tune-a/best.json" "$files_tmp/tune-b/best.json" &&
    diff -r "$files_tmp/tune-a/checkpoints" "$files_tmp/tune-b/checkpoints" &&
    echo "best.json and $(find "$files_tmp/tune-a/checkpoints" -type f | wc -l) checkpoints identical"
}
check "tune (surrogate, one worker) twice: byte-identical best.json and checkpoints" tune_twice_identical

fed_twice_identical() {
  sed 's/^rounds: 200/rounds: 20/' examples/fedavg-synthetic.yaml > "$files_tmp/fedavg.yaml"
  for run in a b; do
    mpi -np 2 cohort fed --config "$files_tmp/fedavg.yaml" --out "$files_tmp/fed-$run" --quiet > /dev/null || return 1
  done
  cmp "$files_tmp/fed-a/checkpoints/arm-0000.safetensors" "$files_tmp/fed-b/checkpoints/arm-0000.safetensors" &&
    cmp "$files_tmp/fed-a/summary.json" "$files_tmp/fed-b/summary.json" && echo "checkpoint and summary.json identical"
}
check "fed on 2 ranks twice: byte-identical checkpoint and summary.json" fed_twice_identical

# A second coordinator on a run directory in use is refused, and the run goes on.
second_coordinator_refused() {
  sed 's/seconds_per_unit: 0.01/seconds_per_unit: 0.05/' examples/surrogate.yaml > "$files_tmp/slow.yaml"
  "$cohort" tune --config "$files_tmp/slow.yaml" --out "$files_tmp/busy" --workers 2 --quiet > /dev/null &
  local first=$!
  for _ in $(seq 100); do [ -s "$files_tmp/busy/events.jsonl" ] && break; sleep 0.1; done
  expect_error "is in use by another coordinator (pid $first on " "$cohort" tune --resume --out "$files_tmp/busy" --workers 1
  local refused=$?
  wait "$first" || { echo "the first run failed"; return 1; }
  [ "$refused" -eq 0 ] && grep -q '"event":"end"' "$files_tmp/busy/events.jsonl" && echo "the first run ended normally"
}
check "tune: a second coordinator on a busy run directory is refused" second_coordinator_refused
