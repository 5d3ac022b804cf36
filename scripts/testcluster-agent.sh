#!/bin/sh
# rsh agent for the test cluster of scripts/testcluster.sh: mpirun calls it
# instead of ssh (OMPI_MCA_plm_rsh_agent) to start its daemon on a "host",
# which here is a network namespace with its own UTS namespace (hostname).
# Usage, as ssh: testcluster-agent.sh [ssh options] HOST COMMAND...
#   e.g. testcluster-agent.sh -x node2 orted ...
#        testcluster-agent.sh node2 PATH=... ; export PATH ; orted ...
# Runs COMMAND with sh in HOST's namespaces, in the caller's current directory.
set -eu
# skip ssh options; those listed take an argument (-l user, -o opt, -p port, ...)
while [ $# -gt 0 ]; do
  case $1 in
    -[bcDEeFIiJLlmOopQRSWw]) shift 2 ;;
    -?*) shift ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "usage: $0 [options] HOST COMMAND..." >&2; exit 255; }
host=$1
shift
# the working directory, single-quoted for sh (a ' inside becomes '\'')
wd=$(pwd | sed "s/'/'\\\\''/g")
# ssh joins the words of COMMAND with spaces for the remote shell; so do we
exec ip netns exec "$host" nsenter --uts="/run/uts/$host" sh -c "cd '$wd' && $*"
