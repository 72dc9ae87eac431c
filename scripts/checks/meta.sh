# Multi-process checks of `cohort meta`, sourced by scripts/test.sh (which defines
# `check`; cluster.sh defines `mpi` and `expect_error`). Tiny meta-training runs on
# Omniglot's small splits: one seed and rank count giving byte-identical summaries, a
# stopped run resumed to the same summary, and bad input reported once with nothing
# written.

meta_tmp="$(mktemp -d)"
cohort="$root/.build/release/cohort"
# The project reads Omniglot's small splits beside its checkout and never ships them; a
# clone made elsewhere finds them beside the checkout it was cloned from.
meta_omniglot_dir() {
  local origin
  if [ -n "${COHORT_OMNIGLOT_DIR:-}" ]; then echo "$COHORT_OMNIGLOT_DIR"; return; fi
  origin="$(git -C "$root" config --get remote.origin.url 2>/dev/null || true)"
  if [ ! -d "$root/../shared/data/omniglot" ] && [ -n "$origin" ] && [ -d "$origin/../shared/data/omniglot" ]; then
    echo "$(cd "$origin/../shared/data/omniglot" && pwd)"; return
  fi
  echo "$root/../shared/data/omniglot"
}
omniglot="$(meta_omniglot_dir)"
meta_data_present() {
  [ -f "$omniglot/images_background_small1.zip" ] && [ -f "$omniglot/all_runs.zip" ] && return 0
  echo "Omniglot's small splits are not at $omniglot (set COHORT_OMNIGLOT_DIR to the folder holding images_background_small1.zip and all_runs.zip)"
  return 1
}
check "meta: Omniglot's small splits are where the checks read them" meta_data_present
# Without the data every check below would fail for that one reason: they are not run.
if meta_data_present > /dev/null; then

cat > "$meta_tmp/tiny.yaml" <<YAML
name: check-meta
seed: 4
data: {type: omniglot, directory: $omniglot, test_characters: 30}
episodes: {ways: 5, shots: 1, queries: 3}
budget: 400
learner: {type: fomaml, filters: 8, inner_steps: 2, inner_learning_rate: 0.1, test_steps: 2}
training: {steps: 6, meta_batch: 3, log_every: 2, checkpoint_every: 2}
selection: {train: coverage, test: [uniform, coverage], candidates: 3}
evaluation: {ways: 5, shots: [1], queries: 3, episodes: 12, one_shot_runs: true}
YAML

meta_repeat() {
  mpi -np 2 cohort meta --config "$meta_tmp/tiny.yaml" --out "$meta_tmp/a" --quiet > "$meta_tmp/a.log" &&
    mpi -np 2 cohort meta --config "$meta_tmp/tiny.yaml" --out "$meta_tmp/b" --quiet > /dev/null || return 1
  cat "$meta_tmp/a.log"
  cmp "$meta_tmp/a/summary.json" "$meta_tmp/b/summary.json" && cmp "$meta_tmp/a/checkpoints/meta.safetensors" "$meta_tmp/b/checkpoints/meta.safetensors"
}
check "meta: first-order MAML with budgeted coverage selection on 2 ranks twice: byte-identical summaries and checkpoints" meta_repeat

meta_resume() {
  local out
  out="$(mpi -np 2 cohort meta --config "$meta_tmp/tiny.yaml" --out "$meta_tmp/cut" --quiet --stop-after-steps 3)" || return 1
  printf '%s\n' "$out"
  printf '%s' "$out" | grep -q "continue with --resume" || return 1
  mpi -np 2 cohort meta --resume --out "$meta_tmp/cut" --quiet > /dev/null || return 1
  [ "$(grep -c '"event":"step"' "$meta_tmp/cut/events.jsonl")" -eq 3 ] && cmp "$meta_tmp/a/summary.json" "$meta_tmp/cut/summary.json" &&
    echo "resumed: summary identical, 3 step events"
}
check "meta: stopped after 3 of 6 meta-iterations and resumed: the uninterrupted run's summary" meta_resume

meta_learners() {
  local learner
  for learner in protonets reptile; do
    "$cohort" meta --config "$meta_tmp/tiny.yaml" --learner "$learner" --budget all --out "$meta_tmp/$learner" --quiet > /dev/null || return 1
  done
  python3 - "$meta_tmp" <<'PY'
import json, sys
for learner in ["protonets", "reptile"]:
    s = json.load(open(f"{sys.argv[1]}/{learner}/summary.json"))
    assert s["learner"] == learner and s["budget"] == "all" and s["tasks"] is None, s
    names = [(r["name"], r["selection"]) for r in s["results"]]
    assert names == [("5-way 1-shot", "uniform"), ("5-way 1-shot", "coverage"), ("Lake's 20 runs, 20-way 1-shot", "given")], names
    assert all(0 <= r["accuracy"] <= 1 and r["interval"] >= 0 for r in s["results"]), s["results"]
    print(learner, [round(r["accuracy"], 3) for r in s["results"]])
PY
}
check "meta: ProtoNets and Reptile run end to end (5-way and Lake's 20-way runs)" meta_learners

mkdir -p "$meta_tmp/not-omniglot/photos" && printf 'x' > "$meta_tmp/not-omniglot/photos/a.jpg"
mkdir -p "$meta_tmp/damaged" && python3 - "$omniglot/images_background_small1.zip" "$meta_tmp/damaged/images_background_small1.zip" <<'PY'
import sys, zipfile
src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w")
for info in src.infolist()[:12]:
    data = bytearray(src.read(info))
    if info.filename.endswith(".png") and not any(i.filename.endswith(".png") for i in dst.infolist()):
        data[60] ^= 0x01  # a flipped bit in the first drawing's image data
    dst.writestr(info, bytes(data))
dst.close()
PY
sed '0,/queries: 3}/s//queries: 21}/' "$meta_tmp/tiny.yaml" | sed 's/train: coverage/train: uniform/' > "$meta_tmp/many-shots.yaml"
check "meta: more shots and queries than a class has drawings, under mpirun, reported once" expect_error \
  "episodes need 22 drawings per class (shots 1 + queries 21), but a class has only 20" \
  mpi -np 2 cohort meta --config "$meta_tmp/many-shots.yaml" --out "$meta_tmp/x1"
check "meta: a budget smaller than one task" expect_error \
  "budget 10 is smaller than one task: 5 ways x (1 shots + 3 queries) = 20 labelled points" \
  "$cohort" meta --config "$meta_tmp/tiny.yaml" --budget 10 --out "$meta_tmp/x2"
check "meta: a directory that is not Omniglot's layout" expect_error \
  "not-omniglot: no dataset files found (looked for images_background\*.zip" \
  "$cohort" meta --config "$meta_tmp/tiny.yaml" --data "$meta_tmp/not-omniglot" --out "$meta_tmp/x3"
check "meta: a damaged PNG inside the archive" expect_error \
  "damaged PNG: CRC mismatch in chunk" \
  "$cohort" meta --config "$meta_tmp/tiny.yaml" --data "$meta_tmp/damaged" --out "$meta_tmp/x4"
meta_nothing_written() {
  [ ! -e "$meta_tmp/x1" ] && [ ! -e "$meta_tmp/x2" ] && [ ! -e "$meta_tmp/x3" ] && [ ! -e "$meta_tmp/x4" ] && echo "no run directory for bad input"
}
check "meta: bad input writes nothing" meta_nothing_written
fi
