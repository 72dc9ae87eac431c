#!/usr/bin/env bash
# ASHA against synchronous SHA and random search on simulated clusters: 25 and 500
# workers, without and with stragglers, 10 seeds, time to a target in multiples of
# time(R). Three targets: a configuration in the best 1%, 0.5% and 0.1% of the search
# space (see docs/scaling.md for what each shows).
#
#   scripts/sim-compare.sh [OUT]      (default OUT: results/sim-compare)
#
# Writes OUT/q0.01.txt, OUT/q0.005.txt and OUT/q0.001.txt (tables and verdicts) and OUT/q*.csv
# (every run). Takes well under a minute on a release build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-results/sim-compare}"
[ -x .build/release/cohort ] || swift build -c release
mkdir -p "$out"
for q in 0.01 0.005 0.001; do
  echo "== target: the best $q of configurations"
  .build/release/cohort bench sim-compare --config examples/sim-compare.yaml \
    --schedulers asha,sha,random --workers 25,500 --stragglers none,lognormal:1,fraction:0.1:10 \
    --seeds 1-10 --target-quantile "$q" --time-limit 20 --csv "$out/q$q.csv" | tee "$out/q$q.txt"
done
