#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the unit tests
# (`swift test`, in-process backend), then the multi-process suites under a real
# mpirun with the release build. Exits non-zero on any failure. Works as root and as
# a normal user.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

echo "== unit tests (swift test)"
swift build --build-tests
swift test

echo "== release build"
swift build -c release

# Multi-process checks: each prints its own output; a summary line closes the run.
passed=0 failed=0 failures=()
check() {
  local name="$1"; shift
  echo "-- $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}
for f in scripts/checks/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "mpirun: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
