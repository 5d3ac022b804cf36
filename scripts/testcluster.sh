#!/bin/sh
# A 2-host MPI test cluster on this machine, from network namespaces
# (README.md, "Clusters"): hosts node1 (10.77.0.11) and node2
# (10.77.0.12) on the bridge br-mpi (10.77.0.1/24), each with its own
# hostname; mpirun reaches them with scripts/testcluster-agent.sh instead of ssh.
#
#   scripts/testcluster.sh up            create it (needs root; fine if already up)
#   scripts/testcluster.sh down          kill what runs in it, remove it (fine if down)
#   scripts/testcluster.sh status        up or down, and which hosts answer
#   scripts/testcluster.sh run ARGS...   mpirun --hostfile hostfiles/testcluster ARGS...
#     e.g. scripts/testcluster.sh run -np 4 build/rnn_dist train --data d.h5
#     (ranks 0-1 on node1, 2-3 on node2; a lost host ends the job in seconds)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
HOSTS="node1 node2"
BR=br-mpi

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0"; }
need_root() {
  [ "$(id -u)" = 0 ] || { echo "testcluster: '$1' needs root (namespaces, links)" >&2; exit 1; }
}
# up: the bridge, every host's namespace and hostname file; any: a piece of it
is_up() {
  ip link show "$BR" >/dev/null 2>&1 || return 1
  for n in $HOSTS; do [ -e "/run/netns/$n" ] && [ -e "/run/uts/$n" ] || return 1; done
}
any_up() {
  ip link show "$BR" >/dev/null 2>&1 && return 0
  for n in $HOSTS; do [ -e "/run/netns/$n" ] || [ -e "/run/uts/$n" ] && return 0; done
  return 1
}
addr() { case $1 in node1) echo 10.77.0.11 ;; node2) echo 10.77.0.12 ;; esac; }

up() {
  need_root up
  if is_up; then echo "testcluster: already up"; return; fi
  # remove the pieces of a half-built cluster (an interrupted up or down)
  any_up && down >/dev/null
  # any failing step ends the script (set -e): say so, and how to clean up
  trap '[ $? -eq 0 ] || echo "testcluster: up failed; scripts/testcluster.sh down removes what was made" >&2' EXIT
  # the bridge: the "switch" of the cluster; the root namespace is 10.77.0.1 on it
  ip link add "$BR" type bridge
  ip addr add 10.77.0.1/24 dev "$BR"
  ip link set "$BR" up
  mkdir -p /run/uts
  for n in $HOSTS; do
    # a network namespace per host, linked to the bridge by a veth pair
    # (veth-N in the root namespace, eth0 inside the host)
    ip netns add "$n"
    ip link add "veth-$n" type veth peer name eth0 netns "$n"
    ip link set "veth-$n" master "$BR"
    ip link set "veth-$n" up
    ip -n "$n" link set lo up
    ip -n "$n" addr add "$(addr "$n")/24" dev eth0
    ip -n "$n" link set eth0 up
    # a UTS namespace kept alive by a bind mount on /run/uts/N: the host's own
    # hostname, so Open MPI's session directories and messages are per host
    touch "/run/uts/$n"
    unshare --uts="/run/uts/$n" hostname "$n"
  done
  trap - EXIT
  echo "testcluster: up ($HOSTS on $BR)"
}

down() {
  any_up || { echo "testcluster: down"; return; }
  need_root down
  for n in $HOSTS; do
    # kill whatever still runs in the host, then remove it (the veth pair goes with it)
    if [ -e "/run/netns/$n" ]; then
      # shellcheck disable=SC2046
      kill -9 $(ip netns pids "$n") 2>/dev/null || true
      ip netns del "$n" 2>/dev/null || true
    fi
    ip link del "veth-$n" 2>/dev/null || true
    umount "/run/uts/$n" 2>/dev/null || true
    rm -f "/run/uts/$n"
  done
  ip link del "$BR" 2>/dev/null || true
  rmdir /run/uts 2>/dev/null || true
  echo "testcluster: down"
}

# answers HOST IP: HOST reaches IP within 2 s: one ping, or where ping is not
# installed a TCP connect to port 9 (a refusal proves the host answered)
answers() {
  if command -v ping >/dev/null; then
    ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1
  else
    ip netns exec "$1" timeout 2 bash -c ": </dev/tcp/$2/9" 2>/dev/null
    [ $? -ne 124 ]
  fi
}

status() {
  if ! is_up; then echo "testcluster: down"; return 1; fi
  echo "testcluster: up"
  # each host, under its own hostname, reaches the other over the bridge
  for n in $HOSTS; do
    for m in $HOSTS; do
      [ "$n" = "$m" ] && continue
      name=$(nsenter --uts="/run/uts/$n" hostname)
      if answers "$n" "$(addr "$m")"; then
        echo "  $name -> $m ($(addr "$m")): answers"
      else
        echo "  $name -> $m ($(addr "$m")): NO ANSWER"
      fi
    done
  done
}

run() {
  is_up || { echo "testcluster: down; run 'scripts/testcluster.sh up' first" >&2; exit 1; }
  # mpirun runs here, in the root namespace: node1 and node2 are both remote
  # to it, so it starts a daemon on each through the agent, and the ranks
  # really live in their host's namespaces. Each MCA parameter is given once,
  # here in the environment (twice is an error in Open MPI 4.1).
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_plm_rsh_agent="$TOP/scripts/testcluster-agent.sh"
  # TCP between hosts, shared memory within one, only over the bridge's subnet
  export OMPI_MCA_btl=tcp,vader,self
  export OMPI_MCA_btl_tcp_if_include=10.77.0.0/24 OMPI_MCA_oob_tcp_if_include=10.77.0.0/24
  # idle ranks yield the core (a tiny all-reduce costs ~8 ms on 2 cores otherwise)
  export OMPI_MCA_mpi_yield_when_idle=1
  # a silent host (partition) ends the job in seconds instead of hanging
  export OMPI_MCA_oob_tcp_keepalive_time=3 OMPI_MCA_oob_tcp_keepalive_intvl=1
  export OMPI_MCA_oob_tcp_keepalive_probes=3
  # one OpenBLAS thread per rank
  export OPENBLAS_NUM_THREADS=1
  exec mpirun --hostfile "$TOP/hostfiles/testcluster" "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  up) up ;;
  down) down ;;
  status) status ;;
  run) run "$@" ;;
  -h | --help | help) usage ;;
  *) echo "testcluster: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
