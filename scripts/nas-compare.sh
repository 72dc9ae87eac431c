#!/usr/bin/env bash
# Do the architectures RSWS and GAEA choose beat random ones?
#
#   scripts/nas-compare.sh [--ranks 2] [--random 8] [--seed 1] [--out runs/nas-compare]
#
# 1. Runs the RSWS and GAEA searches of examples/ (Fashion-MNIST) under mpirun.
# 2. Draws uniformly random connected cells (`cohort nas sample`).
# 3. Retrains every architecture, the two chosen ones and the random ones, from
#    scratch with one budget: the `retrain` section of examples/nas-rsws-fashion.yaml
#    (the GAEA example has the same), two trainings at a time.
# 4. Prints every accuracy, the random cells' median, and whether each chosen cell
#    beats it; writes the table to OUT/results.tsv.
# Takes 15-25 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ranks=2 random=8 seed=1 out=runs/nas-compare
while [ $# -gt 0 ]; do
  case "$1" in
    --ranks) ranks="$2"; shift 2 ;;
    --random) random="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "nas-compare.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -e "$out" ] && { echo "nas-compare.sh: $out exists; remove it or choose --out" >&2; exit 2; }
mkdir -p "$out"
[ -x .build/release/cohort ] || swift build -c release --product cohort
cohort=.build/release/cohort
export OPENBLAS_NUM_THREADS=1
coretype="$($cohort info --recommended-coretype 2>/dev/null || true)"
[ -z "$coretype" ] || export OPENBLAS_CORETYPE="$coretype"

budget=examples/nas-rsws-fashion.yaml
for strategy in rsws gaea; do
  echo "== $strategy search on $ranks ranks (seed $seed)"
  start=$(date +%s)
  scripts/mpirun.sh -np "$ranks" cohort nas search --config "examples/nas-$strategy-fashion.yaml" --seed "$seed" \
    --out "$out/$strategy" | tee "$out/$strategy.log"
  echo "$strategy search took $(( $(date +%s) - start )) s"
done

# The architectures to retrain: role and cell, tab-separated.
{
  printf 'rsws\t%s\n' "$(grep '^chosen: ' "$out/rsws.log" | awk '{print $2}')"
  printf 'gaea\t%s\n' "$(grep '^chosen: ' "$out/gaea.log" | awk '{print $2}')"
  $cohort nas sample --count "$random" --seed "$seed" | awk '{printf "random\t%s\n", $0}'
} > "$out/architectures.tsv"
cat "$out/architectures.tsv"

echo "== retraining $(wc -l < "$out/architectures.tsv") architectures with the budget of $budget"
retrain_one() {
  local line="$1" role arch
  role="${line%%$'\t'*}"; arch="${line#*$'\t'}"
  local result
  result="$($cohort nas retrain --config "$budget" --seed "$seed" --arch "$arch" --json)"
  printf '%s\t%s\n' "$role" "$result"
}
export -f retrain_one
export cohort budget seed
tr '\n' '\0' < "$out/architectures.tsv" | xargs -0 -P 2 -I{} bash -c 'retrain_one "$@"' _ {} > "$out/retrained.tsv"

python3 - "$out" <<'EOF'
import json, statistics, sys
out = sys.argv[1]
rows = []
for line in open(f"{out}/retrained.tsv"):
    role, payload = line.rstrip("\n").split("\t", 1)
    r = json.loads(payload)
    rows.append((role, r["architecture"], r["validation_accuracy"], r["test_accuracy"], r["train_seconds"]))
order = {"rsws": 0, "gaea": 1, "random": 2}
rows.sort(key=lambda r: (order[r[0]], -r[3]))
with open(f"{out}/results.tsv", "w") as f:
    f.write("role\tarchitecture\tvalidation_accuracy\ttest_accuracy\ttrain_seconds\n")
    for r in rows:
        f.write("\t".join([r[0], r[1], f"{r[2]:.4f}", f"{r[3]:.4f}", f"{r[4]:.1f}"]) + "\n")
print(f"{'role':7} {'val':>7} {'test':>7} {'secs':>6}  architecture")
for r in rows:
    print(f"{r[0]:7} {r[2]:7.4f} {r[3]:7.4f} {r[4]:6.1f}  {r[1]}")
random = [r[3] for r in rows if r[0] == "random"]
median = statistics.median(random)
print(f"random: median test accuracy {median:.4f} (min {min(random):.4f}, max {max(random):.4f}, n={len(random)})")
ok = True
for role in ("rsws", "gaea"):
    test = next(r[3] for r in rows if r[0] == role)
    verdict = "beats" if test > median else "does NOT beat"
    ok = ok and test > median
    print(f"{role}: chosen cell test accuracy {test:.4f} {verdict} the random median {median:.4f} ({(test - median) * 100:+.2f} points)")
sys.exit(0 if ok else 1)
EOF
