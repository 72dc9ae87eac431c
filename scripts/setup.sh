#!/usr/bin/env bash
# Installs the system packages Cohort needs, only those missing. Idempotent: a second
# run installs nothing. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  libopenmpi-dev openmpi-bin   # Open MPI: mpirun, headers, ompi-c pkg-config
  libopenblas-dev              # OpenBLAS: cblas.h, libopenblas, openblas pkg-config
  zlib1g-dev                   # gzip-compressed datasets (IDX .gz)
  pkg-config                   # SwiftPM finds the two libraries through it
  dataset-fashion-mnist        # Fashion-MNIST IDX files under /usr/share/datasets
  chromium                     # headless screenshots of cohort report pages (checks)
  python3 python3-numpy        # users' programs in the checks: a NumPy model in federated rounds
  iproute2                     # test hosts as network namespaces (scripts/hosts.sh)
  glpk-utils                   # glpsol: the optimum of a cache trace (checks, scripts/bench/pipeline.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "setup: missing packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
