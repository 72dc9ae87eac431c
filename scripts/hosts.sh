#!/usr/bin/env bash
# Test hosts on one machine: each host a network namespace with its own address (and,
# through the agent, its own hostname), joined by veth pairs to a bridge in the root
# namespace, so that mpirun starts its daemons there as on separate machines and the
# ranks of different hosts talk over TCP (shared memory only within a host).
#
#   scripts/hosts.sh up 3 [--slots 2] [--rate 1gbit] [--delay 2ms]
#   scripts/mpirun.sh -np 6 $(scripts/hosts.sh mpirun-flags) cohort info
#   scripts/hosts.sh kill cohort-h2      # a host dies: every process in it, at once
#   scripts/hosts.sh down                # removes every namespace, link and process made
#
# Addresses come from 198.18.0.0/15 (reserved for network tests, RFC 2544): the bridge
# is 198.18.77.1, host i is 198.18.77.(10+i). `--rate` shapes each host's link with a
# token bucket; `--delay` adds latency with netem where the kernel has it (and fails
# with one clear line where it does not). Needs root; iproute2 comes from setup.sh.
# The state lives in $COHORT_HOSTS_DIR (default /tmp/cohort-hosts): the hostfile and
# the list of what was made, which `down` reads.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${COHORT_HOSTS_DIR:-/tmp/cohort-hosts}"
bridge=cohort-br0
subnet=198.18.77
prefix=cohort-h

fail() { echo "hosts.sh: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces)"
command -v ip >/dev/null || fail "ip (iproute2) is missing: run scripts/setup.sh"

# Every process inside a namespace, children included.
pids_in() { ip netns pids "$1" 2>/dev/null || true; }

down() {
  local ns link pids i
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix[0-9]*$" || true); do
    pids="$(pids_in "$ns")"
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    for i in $(seq 1 50); do [ -z "$(pids_in "$ns")" ] && break; sleep 0.1; done
    ip netns del "$ns"
  done
  # A namespace's links go with its last reference, which may outlive the name:
  # remove the root side of every pair now.
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^$prefix[0-9]+-v$" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge"; fi
  rm -rf "$dir"
}

up() {
  local n="" slots=2 rate="" delay=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --slots) [ $# -ge 2 ] || fail "--slots needs a number"; slots="$2"; shift 2 ;;
      --rate) [ $# -ge 2 ] || fail "--rate needs a rate such as 1gbit"; rate="$2"; shift 2 ;;
      --delay) [ $# -ge 2 ] || fail "--delay needs a time such as 2ms"; delay="$2"; shift 2 ;;
      -*) fail "unknown option '$1'" ;;
      *) [ -z "$n" ] || fail "say the host count once"; n="$1"; shift ;;
    esac
  done
  [[ "$n" =~ ^[1-9][0-9]?$ ]] && [ "$n" -le 32 ] || fail "up needs a host count from 1 to 32, got '${n}'"
  [[ "$slots" =~ ^[1-9][0-9]?$ ]] || fail "--slots needs a positive whole number, got '$slots'"
  down
  mkdir -p "$dir"
  ip link add "$bridge" type bridge
  ip addr add "$subnet.1/24" dev "$bridge"
  ip link set "$bridge" up
  : > "$dir/hostfile.tmp"
  local i ns
  for i in $(seq 1 "$n"); do
    ns="$prefix$i"
    ip netns add "$ns"
    ip link add "$ns-v" type veth peer name eth0 netns "$ns"
    ip link set "$ns-v" master "$bridge"
    ip link set "$ns-v" up
    ip -n "$ns" addr add "$subnet.$((10 + i))/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    if [ -n "$delay" ]; then
      # Both directions: the host's side of the pair and the bridge's.
      tc -n "$ns" qdisc add dev eth0 root netem delay "$delay" 2>/dev/null &&
        tc qdisc add dev "$ns-v" root netem delay "$delay" 2>/dev/null ||
        { down; fail "--delay needs the kernel's netem queueing discipline, which this kernel lacks (--rate works without it)"; }
    elif [ -n "$rate" ]; then
      tc -n "$ns" qdisc add dev eth0 root tbf rate "$rate" burst 256kb latency 50ms &&
        tc qdisc add dev "$ns-v" root tbf rate "$rate" burst 256kb latency 50ms ||
        { down; fail "could not shape the links to '$rate'"; }
    fi
    echo "$ns slots=$slots" >> "$dir/hostfile.tmp"
  done
  mv "$dir/hostfile.tmp" "$dir/hostfile"
  echo "hosts.sh: $n hosts (${prefix}1..$prefix$n, $subnet.11..$subnet.$((10 + n))), hostfile $dir/hostfile"
}

# What mpirun needs to use these hosts: their hostfile, the agent that starts a
# daemon inside a host, TCP on the test subnet only, and yielding while idle (the
# hosts share this machine's cores).
mpirun_flags() {
  [ -f "$dir/hostfile" ] || fail "no test hosts: run scripts/hosts.sh up N first"
  echo "--hostfile $dir/hostfile --mca plm_rsh_agent $root/scripts/host-agent.sh" \
       "--mca oob_tcp_if_include $subnet.0/24 --mca btl_tcp_if_include $subnet.0/24" \
       "--mca btl self,vader,tcp --mca mpi_yield_when_idle 1"
}

kill_host() {
  local ns="${1:-}"
  [[ "$ns" =~ ^$prefix[0-9]+$ ]] || fail "kill needs a host name such as ${prefix}2, got '$ns'"
  ip netns list | awk '{print $1}' | grep -qx "$ns" || fail "no host '$ns'"
  pids="$(pids_in "$ns")"
  [ -z "$pids" ] || kill -9 $pids
  echo "hosts.sh: killed every process on $ns"
}

# Leftovers of this script: namespaces, links and processes (empty when clean).
leftovers() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix[0-9]*$" || true
  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^($bridge|$prefix[0-9]+-v)$" || true
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down; echo "hosts.sh: down" ;;
  mpirun-flags) mpirun_flags ;;
  kill) shift; kill_host "$@" ;;
  leftovers) leftovers ;;
  *) fail "usage: scripts/hosts.sh up N [--slots S] [--rate R] [--delay D] | down | mpirun-flags | kill HOST | leftovers" ;;
esac
