#!/usr/bin/env bash
# FedEx against FedAvg with random search at equal client budget (same arms, rounds and
# clients per round) on Fashion-MNIST with Dirichlet(0.5) label skew, over several seeds.
# Each seed names the data partition, the arms' server values and every stream.
#
#   scripts/bench/fedex-vs-random-search.sh [-np N] [--sha] [--reference] [seeds...]   (default: -np 2, seeds 0 1 2)
#
# --reference runs FedEx as its reference code does (docs/reference-differences.md): an
# arm's 27 configurations are one draw and 26 perturbations within 0.1 of each range,
# clients are sampled with replacement, and each arm draws its baseline discount from
# U[0, 1]; the FedAvg baseline is unchanged. Runs go to <out>-reference/.
#
# --sha wraps both methods in successive halving instead of random search (9 arms,
# eta 3, 33 rounds at rung 0, 100 at the top); runs go to runs/bench-fedex-sha/.
#
# Arms are scored as FedEx scores local hyperparameters: each client fine-tunes the
# global model with the arm's tuned local configuration (FedEx: its most likely one) and
# is scored on its own data (evaluation.fine_tune). Prints, per seed, the test accuracy of
# the arm each method selects by that validation error (fine-tuned, on held-out clients,
# and of the global model itself), and the mean over seeds. Runs go to runs/bench-fedex/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
np=2 sha=0
if [ "${1:-}" = "-np" ]; then np="$2"; shift 2; fi
if [ "${1:-}" = "--sha" ]; then sha=1; shift; fi
reference=0
if [ "${1:-}" = "--reference" ]; then reference=1; shift; fi
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(0 1 2)
out="runs/bench-fedex"
[ "$sha" -eq 0 ] || out="runs/bench-fedex-sha"
[ "$reference" -eq 0 ] || out="$out-reference"
mkdir -p "$out"

best() { # summary.json -> "tuned_test tuned_heldout test arm"
  /usr/bin/python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["best"]; print(b.get("tuned_test_accuracy") or 0, b.get("tuned_heldout_accuracy") or 0, b["test_accuracy"], b["arm"])' "$1"
}

echo "Test accuracy of the arm each method selects (by fine-tuned validation error): fine-tuned on"
echo "each client with the arm's tuned local configuration / held-out clients fine-tuned / global model."
wrapper="random search"
[ "$sha" -eq 0 ] || wrapper="successive halving"
printf '%-6s %-40s %-40s\n' seed "fedavg + $wrapper" "fedex + $wrapper"
fedavg_sum=0 fedex_sum=0
for seed in "${seeds[@]}"; do
  for method in fedavg-random-search-fashion fedex-fashion-dirichlet; do
    dir="$out/$method-seed$seed"
    if [ ! -f "$dir/summary.json" ]; then
      rm -rf "$dir"
      sed -e "s/^seed: 0/seed: $seed/" "examples/$method.yaml" > "$out/$method-seed$seed.yaml"
      if [ "$sha" -eq 1 ]; then
        sed -i -e 's/^  type: random/  type: sha\n  eta: 3\n  min_rounds: 33/;s/^  arms: 4/  arms: 9/' "$out/$method-seed$seed.yaml"
      fi
      if [ "$reference" -eq 1 ] && [ "$method" = fedex-fashion-dirichlet ]; then
        sed -i -e 's/^    configurations: 27/    configurations: 27\n    perturbation: 0.1/' \
          -e 's/^  baseline_discount: 0.9/  baseline_discount: random/' \
          -e 's/^  clients_per_round: 10/  clients_per_round: 10\n  with_replacement: true/' "$out/$method-seed$seed.yaml"
      fi
      scripts/mpirun.sh -np "$np" cohort fed --config "$out/$method-seed$seed.yaml" --out "$dir" --quiet --no-fsync > "$dir.log"
    fi
  done
  read -r a ah ag aa < <(best "$out/fedavg-random-search-fashion-seed$seed/summary.json")
  read -r x xh xg xa < <(best "$out/fedex-fashion-dirichlet-seed$seed/summary.json")
  printf '%-6s tuned %.4f  held-out %.4f  global %.4f   tuned %.4f  held-out %.4f  global %.4f\n' \
    "$seed" "$a" "$ah" "$ag" "$x" "$xh" "$xg"
  fedavg_sum=$(/usr/bin/python3 -c "print($fedavg_sum + $a)")
  fedex_sum=$(/usr/bin/python3 -c "print($fedex_sum + $x)")
done
n=${#seeds[@]}
/usr/bin/python3 -c "print('mean   tuned %.4f%s tuned %.4f' % ($fedavg_sum / $n, ' ' * 38, $fedex_sum / $n))"
