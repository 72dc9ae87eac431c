#!/usr/bin/env bash
# Rounds per second of `cohort fed` (N MPI ranks, default 5) against Flower's
# simulation engine (PyPI flwr[simulation], Ray) on the same federation, model and local
# work: FedAvg on Synthetic(1,1) (30 clients, 10 per round, E = 20, batch 10, lr 0.01),
# with multinomial logistic regression (the paper's model) and with an MLP(200).
# The data is exported from Cohort's own config (`cohort fed --export-leaf`), so both
# frameworks train on the same samples. Round time excludes start-up (MPI launch and data
# generation for Cohort; Ray start-up for Flower); neither evaluates before the last round.
#
#   scripts/bench/federated.sh [-np N] [--rounds R]
#
# Flower runs in a virtual environment (.build/flower-venv) on top of Debian's
# python3-torch; the first run installs flwr[simulation] into it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
np=5 rounds=20
while [ $# -gt 0 ]; do
  case "$1" in
    -np) np="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "usage: $0 [-np N] [--rounds R]" >&2; exit 2 ;;
  esac
done

venv="$root/.build/flower-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import flwr, ray, torch" 2>/dev/null; then
  echo "setting up Flower in $venv" >&2
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q "flwr[simulation]" "numpy<2" >&2
fi
[ -x .build/release/cohort ] || swift build -c release --product cohort >&2

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed -e "s/^rounds: 200/rounds: $rounds/;s/^  every: 10/  every: $rounds/" examples/fedavg-synthetic.yaml > "$work/logistic.yaml"
sed -e 's/^  type: logistic/  type: mlp\n  hidden: [200]/' "$work/logistic.yaml" > "$work/mlp.yaml"
.build/release/cohort fed --config "$work/logistic.yaml" --export-leaf "$work/leaf" > /dev/null

cohort_rate() { # config -> "rounds_per_second test_accuracy"
  scripts/mpirun.sh -np "$np" cohort fed --config "$1" --out "$work/run-$(basename "$1" .yaml)" --quiet --no-fsync > /dev/null
  /usr/bin/python3 - "$work/run-$(basename "$1" .yaml)/events.jsonl" "$rounds" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
start = next(e["time"] for e in events if e["event"] == "arm")
last = [e for e in events if e["event"] == "round"][-1]
print(int(sys.argv[2]) / (last["time"] - start), last["test_accuracy"])
PY
}

flower_rate() { # hidden widths... -> "rounds_per_second test_accuracy"
  "$venv/bin/python" scripts/bench/flower_fedavg.py --data "$work/leaf" --rounds "$rounds" --hidden "$@" 2> "$work/flower.log" |
    tail -1 | /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(r["rounds_per_second"], r["test_accuracy"])'
}

echo "FedAvg, Synthetic(1,1), 10 of 30 clients per round, E=20, batch 10, lr 0.01, $rounds rounds; $(nproc) cores"
printf '%-10s %-28s %-28s %s\n' model "cohort ($np MPI ranks)" "flower $("$venv/bin/python" -c 'import flwr; print(flwr.__version__)') (ray)" "ratio"
for model in logistic mlp; do
  read -r c cacc < <(cohort_rate "$work/$model.yaml")
  if [ "$model" = logistic ]; then read -r f facc < <(flower_rate); else read -r f facc < <(flower_rate 200); fi
  /usr/bin/python3 -c "print('%-10s %7.3f rounds/s (acc %.3f)  %7.3f rounds/s (acc %.3f)  %6.1fx' % ('$model', $c, $cacc, $f, $facc, $c / $f))"
done
