# Multi-process checks of CohortCluster, sourced by scripts/test.sh (which defines `check`).

mpi() { scripts/mpirun.sh "$@"; }

# Two tune runs of one config, one uninterrupted ($1) and one interrupted and resumed ($2,
# how: $3): true when their results (trial, rung, metric) are the same, none lost or repeated.
same_results() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
def results(run):
    return sorted((e["trial"], e["rung"], e["metric"]) for e in map(json.loads, open(f"{run}/events.jsonl"))
                  if e["event"] == "result")
whole, cut = results(sys.argv[1]), results(sys.argv[2])
print(f"{len(whole)} results uninterrupted, {len(cut)} {sys.argv[3]} and resumed, identical: {whole == cut}")
sys.exit(0 if whole == cut else 1)
PY
}
conformance="$root/.build/release/cohort-conformance"

for n in 2 3 4; do
  check "conformance suite on $n MPI ranks" mpi -np "$n" "$conformance"
done

# Idle ranks must sleep: 8 ranks on 2 cores, each waiting rank under 10% of a core.
check "idle waits leave the cores free (8 ranks)" mpi -np 8 cohort bench idle --seconds 1 --max-core-share 0.10

# Bad input: one readable line on stderr and a non-zero exit.
expect_error() {
  local want="$1"; shift
  local out rc=0
  out="$("$@" 2>&1 >/dev/null)" || rc=$?
  if [ "$rc" -eq 0 ]; then echo "expected failure, got success: $*"; return 1; fi
  if [ "$(printf '%s\n' "$out" | grep -c .)" -ne 1 ]; then echo "expected one line, got:"; printf '%s\n' "$out"; return 1; fi
  if ! printf '%s' "$out" | grep -q -- "$want"; then echo "expected '$want' in: $out"; return 1; fi
  echo "ok ($rc): $out"
}
cohort="$root/.build/release/cohort"
check "unknown subcommand" expect_error "Unexpected argument 'frobnicate'" "$cohort" frobnicate
check "unknown flag" expect_error "Unknown option '--bogus'" "$cohort" info --bogus
check "unknown flag under mpirun reported once" expect_error "Unknown option '--bogus'" mpi -np 3 cohort info --bogus
check "rank count a command cannot use" expect_error "needs mpirun with at least 2 ranks" "$cohort" bench allreduce
check "rank count under mpirun" expect_error "needs at least 2 ranks" mpi -np 1 cohort bench idle
check "missing hostfile" expect_error "hostfile 'no/such/hostfile' does not exist" mpi -np 2 --hostfile no/such/hostfile cohort info

# scripts/mpirun.sh ends an mpirun whose ranks have all ended while it hangs in its own
# teardown: here a stand-in `mpirun` whose two children exit at once (zombies it never
# reaps) while it sleeps two minutes: ended after 10 s of that, with one line.
mpirun_teardown_watch() {
  local fake rc=0 out started
  fake="$(mktemp -d)"
  printf '%s\n' '#!/usr/bin/env python3' 'import os, time' \
    'for _ in range(2):' '    if os.fork() == 0: os._exit(0)' 'time.sleep(120)' > "$fake/mpirun"
  chmod +x "$fake/mpirun"
  started=$SECONDS
  out="$(PATH="$fake:$PATH" scripts/mpirun.sh -np 2 true 2>&1)" || rc=$?
  rm -rf "$fake"
  echo "status $rc after $((SECONDS - started)) s: $out"
  [ "$rc" -eq 137 ] && printf '%s' "$out" | grep -q "mpirun hung in its own teardown"
}
check "mpirun.sh ends an mpirun stuck in its teardown after every rank ended" mpirun_teardown_watch
