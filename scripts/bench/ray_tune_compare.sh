#!/usr/bin/env bash
# Cohort's ASHA side by side with Ray Tune's ASHAScheduler: the same surrogate
# learning curves, the same configurations, 8 workers each, a fixed time per resource
# unit; then coordinator throughput with a zero-cost trainable. Prints both tables
# and the ratios.
#
#   scripts/bench/ray_tune_compare.sh            # 256 trials at 0.1 s per unit, then 300 at zero cost (~10 min)
#   scripts/bench/ray_tune_compare.sh --quick    # a small run that checks the script
#
# Needs Ray Tune in the Python that `python3` runs: pip install 'ray[tune]'.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ -x .build/release/cohort ] || swift build -c release --product cohort
if ! python3 -c 'import ray.tune' 2>/dev/null; then
  echo "ray_tune_compare.sh: Ray Tune is not installed for $(command -v python3); run: pip install 'ray[tune]'" >&2
  exit 2
fi
export OPENBLAS_NUM_THREADS=1
exec python3 scripts/bench/ray_tune_compare.py "$@"
