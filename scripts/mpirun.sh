#!/usr/bin/env bash
# The one place where Cohort's mpirun flags live.
#
#   scripts/mpirun.sh -np 4 cohort tune --config examples/digits-asha.yaml
#   scripts/mpirun.sh -np 16 --hostfile hostfiles/two-nodes cohort info
#
# - as root, adds --allow-run-as-root;
# - without a hostfile and with more ranks than cores, adds --oversubscribe and makes
#   idle ranks yield (busy polling would make small collectives ~1000x slower);
# - with a hostfile, notices a host whose network went down within seconds;
# - passes Open MPI's messages on, but for the banners that only repeat that a rank
#   exited non-zero, and a lost daemon as one line naming its host (these may reach
#   stderr a moment after mpirun has exited);
# - when OpenBLAS would fall back to a slow generic kernel on this CPU, exports the
#   OPENBLAS_CORETYPE that fixes it, and one BLAS thread per rank unless set;
# - leaves odls_base_sigkill_timeout at Open MPI's 0: with T > 0 every job whose rank
#   exits non-zero (any input error) waits 2T s before mpirun returns. To stop a run
#   gracefully send SIGUSR1 to mpirun (forwarded to every rank), or export
#   OMPI_MCA_odls_base_sigkill_timeout=30 to give ranks 30 s after a SIGTERM;
# - ends mpirun when it deadlocks in its own teardown after every local rank has ended
#   (Open MPI 4.1's PMIx server finalize can hang there after an MPI_Abort), with one
#   line saying so (status 137), instead of leaving the caller waiting forever;
# - a missing hostfile or program is one clear line and exit 2.
# A program named `cohort` means this checkout's release build (built if missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

fail() { echo "mpirun.sh: $*" >&2; exit 2; }

np="" hostfile="" host_given=0 mpi_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -np|-n|--np|-c) [ $# -ge 2 ] || fail "$1 needs a number"; np="$2"; mpi_args+=("$1" "$2"); shift 2 ;;
    --hostfile|-hostfile|--machinefile|-machinefile)
      [ $# -ge 2 ] || fail "$1 needs a file"; hostfile="$2"; mpi_args+=("$1" "$2"); shift 2 ;;
    --host|-H) [ $# -ge 2 ] || fail "$1 needs hosts"; host_given=1; mpi_args+=("$1" "$2"); shift 2 ;;
    --mca|-mca) [ $# -ge 3 ] || fail "$1 needs a name and a value"; mpi_args+=("$1" "$2" "$3"); shift 3 ;;
    -x|--map-by|--bind-to|--rank-by|--report-bindings-file|--output-filename|--timeout)
      [ $# -ge 2 ] || fail "$1 needs a value"; mpi_args+=("$1" "$2"); shift 2 ;;
    --) shift; break ;;
    -*) mpi_args+=("$1"); shift ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || fail "usage: scripts/mpirun.sh -np N [--hostfile FILE] [mpirun options] PROGRAM [ARGS...]"
[ -n "$np" ] || fail "say how many ranks with -np N"
[[ "$np" =~ ^[1-9][0-9]*$ ]] || fail "-np needs a positive whole number, got '$np'"
[ -z "$hostfile" ] || [ -f "$hostfile" ] || fail "hostfile '$hostfile' does not exist"

program="$1"; shift
if [ "$program" = "cohort" ]; then
  program="$root/.build/release/cohort"
  if [ ! -x "$program" ]; then
    echo "mpirun.sh: building cohort (release) first" >&2
    (cd "$root" && swift build -c release --product cohort >/dev/null)
  fi
fi
command -v "$program" >/dev/null || [ -x "$program" ] || fail "program '$program' not found"

flags=()
[ "$(id -u)" -ne 0 ] || flags+=(--allow-run-as-root)
cores="$(nproc)"
if [ -z "$hostfile" ] && [ "$host_given" -eq 0 ] && [ "$np" -gt "$cores" ]; then
  flags+=(--oversubscribe --mca mpi_yield_when_idle 1)
fi

# Several hosts: a host whose network goes down is noticed by TCP keepalives on
# mpirun's connections to its daemons within about 5 s (Open MPI's default: 8 minutes),
# and the job ends naming it. An OMPI_MCA_oob_tcp_keepalive_* variable overrides this.
if [ -n "$hostfile" ] || [ "$host_given" -eq 1 ]; then
  for setting in time=2 intvl=1 probes=3; do
    var="OMPI_MCA_oob_tcp_keepalive_${setting%=*}"
    [ -n "${!var:-}" ] || flags+=(--mca "oob_tcp_keepalive_${setting%=*}" "${setting#*=}")
  done
fi

# BLAS: one thread per rank unless told otherwise; fix the kernel where OpenBLAS falls back.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -x "$root/.build/release/cohort" ]; then
  coretype="$("$root/.build/release/cohort" info --recommended-coretype 2>/dev/null || true)"
  [ -z "$coretype" ] || export OPENBLAS_CORETYPE="$coretype"
fi
flags+=(-x OPENBLAS_NUM_THREADS)
[ -z "${OPENBLAS_CORETYPE:-}" ] || flags+=(-x OPENBLAS_CORETYPE)
for var in COHORT_MAX_WAIT_SLEEP_US; do
  [ -z "${!var:-}" ] || flags+=(-x "$var")
done

# Open MPI's own messages, boxed between dashed lines: the two that only repeat that a
# rank exited non-zero (after Cohort said why) are dropped, a lost daemon becomes one
# line naming its host, every other message passes as it is. (mpirun's -q would drop
# them all, the lost host's name too.) mpirun stays this process, so signals reach it;
# the filter runs in a session of its own, so that the caller's process group ends
# with mpirun even while the filter prints the last lines.
# Teardown watch: once mpirun has local children and every one of them but the filter
# has exited (zombies mpirun no longer reaps) for 10 s while mpirun itself runs, mpirun
# is stuck in its teardown; the job is over, so end it. The watcher reads a pipe whose
# write end mpirun inherits, so it leaves the moment mpirun does (end of file); like the
# filter it runs in a session of its own and holds none of the caller's descriptors, so
# the caller's process group ends with mpirun. It speaks through mpirun's own stderr.
watch_teardown() {
  local mpirun_pid="$1" self="$$" stuck=0 pid state comm ended waiting
  while true; do
    if read -r -t 1 _; then continue; elif [ $? -le 128 ]; then return; fi
    state="$(ps -o stat= -p "$mpirun_pid" 2>/dev/null || true)"
    case "$state" in T*|Z*|"") stuck=0; continue ;; esac
    ended=0 waiting=0
    while read -r pid state comm; do
      [ "$pid" = "$self" ] || [ "$comm" = awk ] && continue
      case "$state" in Z*) ended=1 ;; *) waiting=1 ;; esac
    done < <(ps -o pid=,stat=,comm= --ppid "$mpirun_pid" 2>/dev/null || true)
    if [ "$ended" -eq 1 ] && [ "$waiting" -eq 0 ]; then stuck=$((stuck + 1)); else stuck=0; fi
    if [ "$stuck" -ge 10 ]; then
      echo "mpirun.sh: every rank had ended but mpirun hung in its own teardown for 10 s (an Open MPI defect after MPI_Abort); ended it" \
        > "/proc/$mpirun_pid/fd/2" 2>/dev/null || true
      kill -KILL "$mpirun_pid" 2>/dev/null || true
      return
    fi
  done
}
exec {mpirun_alive}> >(exec setsid bash -c "$(declare -f watch_teardown); watch_teardown $$" >/dev/null 2>&1)

dashes="$(printf -- '-%.0s' $(seq 74))"
filter_program='
  function flush() {
    if (box ~ /Primary job +terminated normally|exited with non-zero status, thus causing/) { }
    else if (box ~ /lost communication with a remote daemon/) {
      host = box; sub(/.*Remote daemon: [^\n]* on node /, "", host); sub(/\n.*/, "", host)
      print "mpirun: lost host " host " (its daemon stopped answering: the host died or its network went down); the job was ended"
    } else { printf "%s", dashes "\n" box dashes "\n" }
    box = ""; inbox = 0; fflush()
  }
  $0 == dashes { if (inbox) flush(); else inbox = 1; next }
  inbox { box = box $0 "\n"; next }
  { print; fflush() }
  END { if (inbox) printf "%s", dashes "\n" box }'
exec mpirun "${flags[@]}" "${mpi_args[@]}" "$program" "$@" 2> >(exec setsid awk -v dashes="$dashes" "$filter_program" >&2)
