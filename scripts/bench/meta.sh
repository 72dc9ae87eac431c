#!/usr/bin/env bash
# Meta-learning against the labelled-point budget: runs `cohort meta` for every learner,
# budget and training selection asked for (each run in its own directory under --out),
# then prints the README's table: 5-way 1-shot and 5-shot accuracy on held-out
# characters with uniform and coverage support (95% intervals over the test episodes),
# and the mean accuracy over Lake's 20 one-shot runs.
#
#   scripts/bench/meta.sh [--learners "protonets fomaml reptile"] [--budgets "1000 3000 10000 all"]
#                         [--selections "uniform coverage"] [--steps 1000] [--ranks 1]
#                         [--segment 500] [--lock FILE] [--out runs/meta-bench]
#
# Each run is cut into segments of --segment meta-iterations (--stop-after-steps, then
# --resume), each under `flock FILE` when --lock is given, so a shared machine is never
# held for long. A run whose directory holds a summary is not run again and an
# unfinished one is resumed: the script can be stopped and started. Not part of the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
learners="protonets fomaml reptile" budgets="1000 3000 10000 all" selections="uniform coverage"
steps=1000 ranks=1 segment=500 lock="" out="runs/meta-bench" table_only=0
usage="usage: $0 [--learners LIST] [--budgets LIST] [--selections LIST] [--steps N] [--ranks N] [--segment N] [--lock FILE] [--out DIR] [--table]"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --learners) learners="$2"; shift 2 ;;
    --budgets) budgets="$2"; shift 2 ;;
    --selections) selections="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --segment) segment="$2"; shift 2 ;;
    --lock) lock="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --table) table_only=1; shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
locked() { if [ -n "$lock" ]; then flock "$lock" "$@"; else "$@"; fi; }
if [ "$table_only" = 0 ]; then
  [ -x .build/release/cohort ] || locked swift build -c release --product cohort
  mkdir -p "$out"
  for learner in $learners; do
    config="examples/meta-$learner-omniglot.yaml"
    for budget in $budgets; do
      for selection in $selections; do
        dir="$out/$learner-$budget-$selection"
        [ -f "$dir/summary.json" ] && continue
        while [ ! -f "$dir/summary.json" ]; do
          if [ -f "$dir/config.yaml" ]; then
            locked bash scripts/mpirun.sh -np "$ranks" cohort meta --resume --out "$dir" --quiet --stop-after-steps "$segment" > /dev/null
          else
            locked bash scripts/mpirun.sh -np "$ranks" cohort meta --config "$config" --budget "$budget" --selection "$selection" \
              --steps "$steps" --out "$dir" --quiet --stop-after-steps "$segment" > /dev/null
          fi
        done
        echo "$dir done" >&2
      done
    done
  done
fi
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = []
for name in sorted(os.listdir(out)):
    path = os.path.join(out, name, "summary.json")
    if not os.path.exists(path):
        continue
    s = json.load(open(path))
    r = {(x["name"], x["selection"]): x for x in s["results"]}
    def cell(test, sel):
        x = r.get((test, sel))
        return f"{100 * x['accuracy']:.1f} ± {100 * x['interval']:.1f}" if x else "-"
    lake = next((x for x in s["results"] if x["name"].startswith("Lake")), None)
    order = {"protonets": 0, "fomaml": 1, "reptile": 2}.get(s["learner"], 9)
    budget = s["budget"] if isinstance(s["budget"], int) else 10**12
    rows.append(((order, budget, s["selection"]), [s["learner"], s["selection"], str(s["budget"]), str(s["tasks"] if s["tasks"] is not None else "-"),
                 str(s["steps"]), cell("5-way 1-shot", "uniform"), cell("5-way 1-shot", "coverage"),
                 cell("5-way 5-shot", "uniform"), cell("5-way 5-shot", "coverage"),
                 f"{100 * lake['accuracy']:.1f} ± {100 * lake['interval']:.1f}" if lake else "-"]))
header = ["learner", "train selection", "budget", "tasks", "steps", "1-shot uniform", "1-shot coverage", "5-shot uniform", "5-shot coverage", "Lake 20-way"]
print("| " + " | ".join(header) + " |")
print("|" + "|".join("---" for _ in header) + "|")
for _, row in sorted(rows):
    print("| " + " | ".join(row) + " |")
PY
