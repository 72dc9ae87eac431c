#!/usr/bin/env bash
# FedEx against FedAvg with random search at equal client budget (same arms, rounds and
# clients per round) on Fashion-MNIST with Dirichlet(0.5) label skew, over several seeds.
# Each seed names the data partition, the arms' server values and every stream.
#
#   scripts/bench/fedex-vs-random-search.sh [-np N] [seeds...]     (default: -np 2, seeds 0 1 2)
#
# Prints, per seed, the test accuracy of the arm each method selects by validation
# error, and the mean over seeds. Runs go to runs/bench-fedex/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
np=2
if [ "${1:-}" = "-np" ]; then np="$2"; shift 2; fi
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(0 1 2)
out="runs/bench-fedex"
mkdir -p "$out"

best() { # summary.json -> "test_accuracy heldout_accuracy"
  /usr/bin/python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["best"]; print(b["test_accuracy"], b["heldout_accuracy"], b["arm"])' "$1"
}

printf '%-6s %-28s %-28s\n' seed "fedavg+random search" "fedex+random search"
fedavg_sum=0 fedex_sum=0
for seed in "${seeds[@]}"; do
  for method in fedavg-random-search-fashion fedex-fashion-dirichlet; do
    dir="$out/$method-seed$seed"
    if [ ! -f "$dir/summary.json" ]; then
      rm -rf "$dir"
      sed -e "s/^seed: 0/seed: $seed/" "examples/$method.yaml" > "$out/$method-seed$seed.yaml"
      scripts/mpirun.sh -np "$np" cohort fed --config "$out/$method-seed$seed.yaml" --out "$dir" --quiet --no-fsync > "$dir.log"
    fi
  done
  read -r a ah aa < <(best "$out/fedavg-random-search-fashion-seed$seed/summary.json")
  read -r x xh xa < <(best "$out/fedex-fashion-dirichlet-seed$seed/summary.json")
  printf '%-6s test %.4f held-out %.4f   test %.4f held-out %.4f\n' "$seed" "$a" "$ah" "$x" "$xh"
  fedavg_sum=$(/usr/bin/python3 -c "print($fedavg_sum + $a)")
  fedex_sum=$(/usr/bin/python3 -c "print($fedex_sum + $x)")
done
n=${#seeds[@]}
/usr/bin/python3 -c "print('mean   test %.4f%s test %.4f' % ($fedavg_sum / $n, ' ' * 21, $fedex_sum / $n))"
