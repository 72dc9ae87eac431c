#!/bin/sh
# mpirun's remote-start agent (plm_rsh_agent) for the test hosts of scripts/hosts.sh:
# runs the command mpirun gives, as a shell line, inside the named host's network
# namespace and a UTS namespace of its own whose hostname is the host's name, as ssh
# would run it on another machine.
#
#   host-agent.sh cohort-h2 orted -mca ess env ...
host="$1"; shift
case "$host" in
  cohort-h[0-9]*) ;;
  *) echo "host-agent.sh: '$host' is not a test host (cohort-hN)" >&2; exit 2 ;;
esac
exec ip netns exec "$host" unshare --uts sh -c "hostname '$host' && exec $*"
