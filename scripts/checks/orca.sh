# Checks of `cohort orca`, sourced by scripts/test.sh (which defines `check`; cluster.sh
# defines `mpi` and `expect_error`). The real all-MiniLM-L6-v2 checkpoint: the forward pass
# against a NumPy BERT to 1e-4 and sentence embeddings ranked as the model card says;
# tiny runs (wine, two body layers) on 2 ranks twice and stopped-and-resumed giving
# byte-identical summaries; bad checkpoints, vocabularies and inputs reported once.

orca_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"
orca_model="${COHORT_MINILM_DIR:-/usr/local/share/cohort/all-minilm-l6-v2}"

orca_forward() { python3 "$root/scripts/orca_reference.py" "$cohort" "$orca_model"; }
check "orca: all-MiniLM-L6-v2's last hidden states match a NumPy BERT to 1e-4; mean-pooled embeddings rank the similar sentence first" orca_forward

cat > "$orca_tmp/wine.yaml" <<'YAML'
name: check-orca-wine
seed: 2
task: {type: tabular, dataset: wine, train: 40}
body: {layers: 2}
alignment: {epochs: 2, source_samples: 48}
training: {epochs: 2, batch_size: 8}
YAML

orca_repeat() {
  mpi -np 2 cohort orca --config "$orca_tmp/wine.yaml" --out "$orca_tmp/a" --quiet > "$orca_tmp/a.log" &&
    mpi -np 2 cohort orca --config "$orca_tmp/wine.yaml" --out "$orca_tmp/b" --quiet > /dev/null || return 1
  cat "$orca_tmp/a.log"
  cmp "$orca_tmp/a/summary.json" "$orca_tmp/b/summary.json" && cmp "$orca_tmp/a/checkpoints/orca.safetensors" "$orca_tmp/b/checkpoints/orca.safetensors" || return 1
  python3 - "$orca_tmp/a/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert set(s["results"]) == {"scratch", "finetune", "orca"}, s
a = s["alignment"]
# Stage 1 lowers the MMD² to the text features; the unaligned variants keep theirs, and
# orca starts where finetune does (same embedder, same body).
assert a["orca"]["initial_mmd"] == a["finetune"]["initial_mmd"], a
assert a["orca"]["final_mmd"] < a["orca"]["initial_mmd"], a
assert a["finetune"]["final_mmd"] == a["finetune"]["initial_mmd"], a
assert len(s["curves"]["orca"]["align_mmd"]) == 2 and s["curves"]["scratch"]["align_mmd"] == [], s["curves"]
assert all(0 <= v <= 1 for v in s["results"].values()), s["results"]
print("MMD² before/after alignment:", a["orca"]["initial_mmd"], a["orca"]["final_mmd"])
PY
}
check "orca: wine on 2 ranks twice: byte-identical summaries and checkpoints; alignment lowers the MMD²" orca_repeat

orca_resume() {
  local out
  for stop in 3 5; do
    rm -rf "$orca_tmp/cut$stop"
    out="$(mpi -np 2 cohort orca --config "$orca_tmp/wine.yaml" --out "$orca_tmp/cut$stop" --quiet --stop-after-epochs $stop)" || return 1
    printf '%s' "$out" | grep -q "continue with --resume" || return 1
    mpi -np 2 cohort orca --resume --out "$orca_tmp/cut$stop" --quiet > /dev/null || return 1
    cmp "$orca_tmp/a/summary.json" "$orca_tmp/cut$stop/summary.json" || return 1
    [ "$(grep -c '"event"' "$orca_tmp/cut$stop/events.jsonl")" -eq 11 ] || return 1
  done
  echo "stopped in the second variant's training and in orca's alignment, resumed: summaries identical, 11 events"
}
check "orca: stopped runs resumed give the uninterrupted run's summary" orca_resume

# Bad inputs: a checkpoint that is not a BERT, a vocabulary that does not match, a
# sequence longer than the position table, a malformed table.
mkdir -p "$orca_tmp/gpt" "$orca_tmp/shortvocab"
for f in vocab.txt model.safetensors; do ln -s "$orca_model/$f" "$orca_tmp/gpt/$f"; ln -s "$orca_model/$f" "$orca_tmp/shortvocab/$f"; done
sed 's/"model_type": "bert"/"model_type": "gpt2"/' "$orca_model/config.json" > "$orca_tmp/gpt/config.json"
cp "$orca_model/config.json" "$orca_tmp/shortvocab/config.json"
rm "$orca_tmp/shortvocab/vocab.txt"; head -n 30000 "$orca_model/vocab.txt" > "$orca_tmp/shortvocab/vocab.txt"
sed "s|body: {layers: 2}|body: {layers: 2, dir: $orca_tmp/gpt}|" "$orca_tmp/wine.yaml" > "$orca_tmp/gpt.yaml"
sed "s|body: {layers: 2}|body: {layers: 2, dir: $orca_tmp/shortvocab}|" "$orca_tmp/wine.yaml" > "$orca_tmp/shortvocab.yaml"
printf 'task: {type: burgers, train: 4, test: 2, grid: 2048, resolution: 1024, patch: 1}\nbody: {layers: 1}\n' > "$orca_tmp/long.yaml"
printf 'task: {type: burgers, patch: 7}\n' > "$orca_tmp/patch.yaml"
printf '3,2,a,b\n1,2,0\n3,x,1\n5,6,0\n' > "$orca_tmp/bad.csv"
printf 'task: {type: tabular, file: %s}\n' "$orca_tmp/bad.csv" > "$orca_tmp/badcsv.yaml"
check "orca: a checkpoint that is not a BERT, under mpirun, reported once" expect_error "not a BERT checkpoint (model_type gpt2)" \
  mpi -np 2 cohort orca --config "$orca_tmp/gpt.yaml" --out "$orca_tmp/x1"
check "orca: a vocabulary that does not match the embedding table" expect_error "has 30000 tokens but the model's vocab_size is 30522" \
  "$cohort" orca --config "$orca_tmp/shortvocab.yaml" --out "$orca_tmp/x2"
check "orca: sequences longer than the position table" expect_error "sequences of 1024 tokens, longer than the body's position table (512)" \
  "$cohort" orca --config "$orca_tmp/long.yaml" --out "$orca_tmp/x3"
check "orca: a malformed table" expect_error "bad.csv: not a scikit-learn CSV: row 3: 'x' is not a finite number" \
  "$cohort" orca --config "$orca_tmp/badcsv.yaml" --out "$orca_tmp/x4"
check "orca: a patch that does not divide the resolution" expect_error "task.patch: must divide task.resolution (256), got 7" \
  "$cohort" orca --config "$orca_tmp/patch.yaml" --out "$orca_tmp/x5"
