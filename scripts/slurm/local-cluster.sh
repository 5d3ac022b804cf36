#!/bin/sh
# A real one-node SLURM cluster on this machine, for trying rnn_dist.sbatch and
# for tests/run_slurm.sh: munged, slurmctld and slurmd, every file (config,
# state, spool, sockets, PID files, logs) in one private directory, nothing in
# /etc or /run (README.md, "SLURM").
#
# Usage: scripts/slurm/local-cluster.sh up|down|status [DIR]
#   up      write DIR/slurm.conf and a munge key (if none), start munged (as the
#           munge user), slurmctld and slurmd, wait until the node is idle, then
#           print "export SLURM_CONF=DIR/slurm.conf" for your shell:
#             eval "$(scripts/slurm/local-cluster.sh up | grep '^export ')"
#   down    cancel the cluster's jobs, stop every daemon by its PID file, wait
#           for them to go, remove DIR
#   status  sinfo and squeue of the cluster in DIR
# DIR defaults to ${RNN_DIST_SLURM_DIR:-/tmp/rnn_dist-slurm}. up and down are
# idempotent: up on a running cluster only checks it, down on none does nothing.
# Needs root (slurmd runs jobs as any user; munged must run as the munge user)
# and the Debian packages slurm-wlm and munge (scripts/install-deps.sh).
# The node is `hostname` with `nproc` CPUs, at 127.0.0.1; slurmctld and slurmd
# listen on SLURM's default ports 6817 and 6818, so only one such cluster (and
# no system slurmd) can run at a time.
set -eu

usage() {
  sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
die() {
  echo "local-cluster.sh: $*" >&2
  exit 1
}

cmd=${1:-}
case $cmd in
  -h | --help | help) usage; exit 0 ;;
  up | down | status) ;;
  *) usage >&2; exit 2 ;;
esac
[ $# -le 2 ] || { usage >&2; exit 2; }
D=${2:-${RNN_DIST_SLURM_DIR:-/tmp/rnn_dist-slurm}}
case $D in
  /*) ;;
  *) D=$(pwd)/$D ;;
esac
D=${D%/}
if [ -z "$D" ] || [ "$D" = / ]; then die "refusing directory '$D'"; fi
CONF=$D/slurm.conf
# every daemon (and so every slurmstepd) runs with this variable in its
# environment: down finds stragglers by it
MARK="RNN_DIST_SLURM_CLUSTER=$D"

[ "$(id -u)" -eq 0 ] || die "needs root (slurmd and munged are started as root); try sudo"

# pid_of NAME: the live PID recorded in NAME's PID file, or nothing
pid_of() {
  case $1 in
    munged) f=$D/munge/munged.pid ;;
    *) f=$D/$1.pid ;;
  esac
  [ -s "$f" ] || return 0
  p=$(cat "$f" 2>/dev/null) || return 0
  case $p in '' | *[!0-9]*) return 0 ;; esac
  kill -0 "$p" 2>/dev/null && echo "$p"
  return 0
}

# node_state: the node's state as sinfo prints it (idle, mix, down*, ...)
node_state() {
  SLURM_CONF=$CONF sinfo -h -N -o %t 2>/dev/null | head -1
}

# PIDs of processes (other than this one) started by this cluster's daemons
marked_pids() {
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}
    p=${p%/environ}
    [ "$p" != $$ ] || continue
    { tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qxF "$MARK" && echo "$p"
  done
  return 0
}

# stop_pids SIGNAL PID...: signal them, wait up to 10 s for them to go, then KILL
stop_pids() {
  sig=$1
  shift
  [ $# -gt 0 ] || return 0
  kill -"$sig" "$@" 2>/dev/null || :
  n=0
  while [ $n -lt 100 ]; do
    alive=
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -n "$alive" ] || return 0
    sleep 0.1
    n=$((n + 1))
  done
  echo "local-cluster.sh: killing$alive (still alive 10 s after SIG$sig)" >&2
  # shellcheck disable=SC2086
  kill -KILL $alive 2>/dev/null || :
}

write_conf() {
  host=$(hostname)
  cpus=$(nproc)
  cat >"$CONF" <<EOF
# written by scripts/slurm/local-cluster.sh: a one-node cluster, all state in $D
ClusterName=rnndist
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$D/munge/munge.socket.2
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MailProg=/bin/true
# finished jobs stay visible to 'scontrol show job' for 5 minutes (no sacct here)
MinJobAge=300
# seconds between SIGTERM and SIGKILL when a job is cancelled or times out
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

make_key() {
  key=$D/munge/munge.key
  [ -s "$key" ] && return 0
  if ! runuser -u munge -- mungekey --create --keyfile="$key" 2>/dev/null; then
    rm -f "$key"
    dd if=/dev/urandom of="$key" bs=1024 count=1 2>/dev/null
  fi
  chown munge: "$key"
  chmod 400 "$key"
}

up() {
  for c in slurmctld slurmd sinfo squeue scancel /usr/sbin/munged; do
    command -v "$c" >/dev/null ||
      die "$c is missing: run scripts/install-deps.sh (Debian packages slurm-wlm, munge)"
  done
  id munge >/dev/null 2>&1 || die "no 'munge' user: install the munge package"
  mkdir -p "$D/state" "$D/spool" "$D/munge"
  chmod 755 "$D"
  chown munge: "$D/munge"
  chmod 755 "$D/munge"
  runuser -u munge -- test -w "$D/munge" ||
    die "the munge user cannot write $D/munge: a parent directory is closed (chmod o+x it)"
  [ -s "$CONF" ] || write_conf
  make_key

  if [ -z "$(pid_of munged)" ]; then
    rm -f "$D/munge/munge.socket.2" "$D/munge/munge.socket.2.lock"
    env "$MARK" runuser -u munge -- /usr/sbin/munged \
      --socket="$D/munge/munge.socket.2" --key-file="$D/munge/munge.key" \
      --pid-file="$D/munge/munged.pid" --log-file="$D/munge/munged.log" \
      --seed-file="$D/munge/munged.seed" ||
      die "munged did not start: $(tail -3 "$D/munge/munged.log" 2>/dev/null)"
  fi
  if [ -z "$(pid_of slurmctld)" ]; then
    env "$MARK" SLURM_CONF="$CONF" slurmctld -f "$CONF" ||
      die "slurmctld did not start: $(tail -3 "$D/slurmctld.log" 2>/dev/null)"
  fi
  if [ -z "$(pid_of slurmd)" ]; then
    env "$MARK" SLURM_CONF="$CONF" slurmd -f "$CONF" ||
      die "slurmd did not start: $(tail -3 "$D/slurmd.log" 2>/dev/null)"
  fi

  # wait (at most 20 s) for the node to register and become idle
  n=0
  st=
  while [ $n -lt 200 ]; do
    st=$(node_state)
    case $st in idle | mix | alloc) break ;; esac
    sleep 0.1
    n=$((n + 1))
  done
  case $st in
    idle | mix | alloc) ;;
    *)
      for f in munge/munged.log slurmctld.log slurmd.log; do
        echo "--- $D/$f" >&2
        tail -5 "$D/$f" >&2 2>/dev/null || :
      done
      die "the node is not idle after 20 s (state '${st:-no answer}'); 'local-cluster.sh down $D' cleans up"
      ;;
  esac
  echo "slurm cluster up in $D: node $(hostname), $(nproc) CPUs, $st"
  echo "export SLURM_CONF=$CONF"
}

down() {
  [ -d "$D" ] || return 0
  [ -f "$CONF" ] || [ -d "$D/munge" ] ||
    die "$D does not look like a local-cluster.sh directory; not touching it"
  # cancel the cluster's jobs first so that slurmd cleans up their processes
  if [ -n "$(pid_of slurmctld)" ] && [ -n "$(pid_of slurmd)" ]; then
    jobs=$(SLURM_CONF=$CONF squeue -h -o %i 2>/dev/null || :)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      SLURM_CONF=$CONF scancel $jobs 2>/dev/null || :
      n=0
      while [ $n -lt 150 ] && [ -n "$(SLURM_CONF=$CONF squeue -h -o %i 2>/dev/null)" ]; do
        sleep 0.1
        n=$((n + 1))
      done
    fi
  fi
  # shellcheck disable=SC2046
  stop_pids TERM $(pid_of slurmd) $(pid_of slurmctld)
  # shellcheck disable=SC2046
  stop_pids TERM $(pid_of munged)
  # anything else the daemons started (a slurmstepd of a job still running)
  # shellcheck disable=SC2046
  stop_pids KILL $(marked_pids)
  rm -rf "$D"
  echo "slurm cluster in $D stopped and removed"
}

status() {
  [ -f "$CONF" ] || die "no cluster in $D (no slurm.conf)"
  echo "munged $(pid_of munged), slurmctld $(pid_of slurmctld), slurmd $(pid_of slurmd)"
  SLURM_CONF=$CONF sinfo
  SLURM_CONF=$CONF squeue
}

$cmd
