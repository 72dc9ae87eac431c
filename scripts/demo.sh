#!/usr/bin/env bash
# The main job on one machine: installs what is missing, builds, and runs Cohort across
# 4 MPI ranks. Until the search workloads land this prints every rank's setup.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
swift build -c release --product cohort
scripts/mpirun.sh -np 4 cohort info
