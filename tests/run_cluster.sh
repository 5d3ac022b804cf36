#!/bin/sh
# rnn_dist on a 2-host cluster of network namespaces (scripts/testcluster.sh;
# README.md, "Clusters"): bytes between hosts cross a bridge over TCP.
#   - the test cluster comes up (twice is fine), each host answers, and
#     4 ranks land 2 per host, each in its host's network namespace;
#   - the same LSTM run (dropout, uneven batches) on 1 local rank and on
#     2 hosts x 2 ranks gives the same losses and weights within 1e-5;
#   - a lost host (every process of node2 killed mid-training): mpirun exits
#     non-zero within 30 s, no process is left on any host, last.h5 loads;
#   - a network partition (node2's link down) mid-training: the job ends
#     within 30 s naming node2;
#   - the cluster goes down without a trace (no namespace, no bridge).
# Needs root (namespaces): skipped otherwise. Takes about 10 s.
# Usage: RNN_DIST=build/rnn_dist tests/run_cluster.sh    (exits non-zero on failure)
set -u
if [ "$(id -u)" != 0 ]; then
  echo "cluster: skipped: needs root (network namespaces)"
  exit 0
fi
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
TC="$TOP/scripts/testcluster.sh"
cleanup() {
  "$TC" down >/dev/null 2>&1
  pkill -KILL -f "$W/" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# cl ARGS...: mpirun on the cluster (2 hosts x 2 slots), bounded, output in $W/log
cl() { timeout 60 "$TC" run "$@" >"$W/log" 2>&1; }
same() { $PY "$HERE/compare_runs.py" "$@" >"$W/cmp" 2>&1; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# processes still running on the hosts, and rnn_dist processes of this test anywhere
on_hosts() { ip netns pids node1 2>/dev/null; ip netns pids node2 2>/dev/null; }
leftovers() { [ -n "$(on_hosts)" ] || pgrep -f "^$BIN train .*$W/" >/dev/null; }

# ---- the cluster ---------------------------------------------------------------
if "$TC" up >"$W/log" 2>&1 && "$TC" up >>"$W/log" 2>&1 && "$TC" status >>"$W/log" 2>&1 &&
  [ "$(grep -c ': answers$' "$W/log")" = 2 ]; then
  ok "cluster up (twice), node1 and node2 answer each other"
else
  bad "cluster does not come up: $(tr '\n' ' ' <"$W/log")"
  summary cluster
  exit 1
fi
# each rank prints its hostname and the inode of its network namespace
# shellcheck disable=SC2016
cl -np 4 sh -c 'echo "$(hostname) $(stat -L -c %i /proc/self/ns/net)"'
got=$(sort "$W/log" | tr '\n' ' ')
want=""
for n in node1 node1 node2 node2; do want="$want$n $(stat -L -c %i "/run/netns/$n") "; done
if [ "$got" = "$want" ]; then
  ok "4 ranks: 2 on node1, 2 on node2, each in its host's network namespace"
else
  bad "4 ranks placed as '$got', expected '$want'"
fi

# ---- 2 hosts x 2 ranks = 1 rank ------------------------------------------------
"$BIN" datagen seqclass --out "$W/sc.h5" >/dev/null || bad "datagen seqclass"
"$BIN" datagen adding --n 1000 --out "$W/ad.h5" >/dev/null || bad "datagen adding"
# 1000 rows, global batch 30: 34 batches, the last of 10 rows; 8/8/7/7 per rank
LSTM="--data $W/sc.h5 --cell lstm --layers 2 --hidden 24 --dropout 0.3 --out-dropout 0.2
  --batch-size 30 --epochs 2 --seed 1"
# shellcheck disable=SC2086
timeout 60 mpirun -np 1 "$BIN" train $LSTM --run-dir "$W/one" >"$W/log1" 2>&1 ||
  bad "lstm on 1 local rank: exit $? ($(tail -1 "$W/log1"))"
# shellcheck disable=SC2086
cl -np 4 "$BIN" train $LSTM --run-dir "$W/four" ||
  bad "lstm on 2 hosts x 2 ranks: exit $? ($(tail -1 "$W/log"))"
if ! grep -q "; 4 ranks;" "$W/log"; then
  bad "the cluster run does not say 4 ranks: $(head -1 "$W/log")"
elif same "$W/one" "$W/four"; then
  ok "lstm, dropout, uneven batches: 2 hosts x 2 ranks = 1 rank ($(cat "$W/cmp"))"
else
  bad "lstm: 2 hosts x 2 ranks differ from 1 rank: $(cat "$W/cmp")"
fi

# train_bg NAME LIMIT ARGS...: 4 ranks train in the background for up to LIMIT
# seconds (run dir $W/NAME, log $W/log.NAME, mpirun's pid in mpid); returns
# once the first epoch's checkpoint exists (up to 30 s) or mpirun has ended.
# ~0.1 s per epoch on 4 ranks: 500 epochs would take ~45 s
train_bg() {
  name=$1 limit=$2
  shift 2
  dir="$W/$name"
  timeout "$limit" "$TC" run -np 4 "$BIN" train --data "$W/ad.h5" --cell lstm --hidden 64 \
    --batch-size 20 --epochs 500 --seed 6 --run-dir "$dir" "$@" >"$W/log.$name" 2>&1 &
  mpid=$!
  n=0
  while [ ! -f "$dir/last.h5" ] && [ $n -lt 300 ] && kill -0 $mpid 2>/dev/null; do
    sleep 0.1
    n=$((n + 1))
  done
}
# wait_end: wait until 30 s after t0 for mpirun to end, then kill it; sets took
# (ms since t0), rc (mpirun's exit code) and late (1 when it had to be killed)
wait_end() {
  while kill -0 $mpid 2>/dev/null && [ $(($(ms) - t0)) -lt 30000 ]; do sleep 0.05; done
  took=$(($(ms) - t0))
  late=0
  if kill -0 $mpid 2>/dev/null; then
    late=1
    kill -9 $mpid
  fi
  wait $mpid
  rc=$?
}

# ---- a host lost mid-training --------------------------------------------------
train_bg lost 60
if [ ! -f "$dir/last.h5" ]; then
  bad "host loss: training did not get through an epoch: $(tail -2 "$W/log.lost")"
fi
t0=$(ms)
victims=$(ip netns pids node2)
# shellcheck disable=SC2086
[ -n "$victims" ] && kill -9 $victims
# mpirun must notice and exit within 30 s
wait_end
[ $late -eq 1 ] && bad "host loss: mpirun still running after ${took} ms"
# the ranks on node1 may take a moment to be reaped
n=0
while leftovers && [ $n -lt 50 ]; do
  sleep 0.1
  n=$((n + 1))
done
if leftovers; then
  bad "host loss: processes left behind: $(on_hosts | tr '\n' ' ') $(pgrep -f "^$BIN train .*$W/" | tr '\n' ' ')"
fi
# mpirun's first own line about it (not rnn_dist's, not a frame of dashes)
msg=$(grep -v -E '^(rnn_dist: |epoch |-+$)' "$W/log.lost" | head -1)
if [ -z "$victims" ]; then
  bad "host loss: nothing was running on node2"
elif [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $took -ge 30000 ]; then
  bad "host loss: mpirun exit $rc after ${took} ms: $(tail -3 "$W/log.lost")"
elif ! "$BIN" inspect "$dir/last.h5" >"$W/insp" 2>&1; then
  bad "host loss: last.h5 does not load: $(cat "$W/insp")"
else
  state=$(grep 'state' "$W/insp" | sed 's/^ *//')
  ok "host loss: mpirun exit $rc after ${took} ms ('$msg'), nothing left, last.h5 loads ($state)"
fi

# ---- a network partition mid-training -------------------------------------------
# node2's link goes down: with the keepalives of testcluster.sh (and the
# --comm-timeout watchdog as the second line) the job ends within 30 s, and
# the message names the lost host.
train_bg part 90 --comm-timeout 20
t0=$(ms)
ip link set veth-node2 down
wait_end
ip link set veth-node2 up
if [ ! -f "$dir/last.h5" ]; then
  bad "partition: training did not get through an epoch: $(tail -2 "$W/log.part")"
elif [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -lt 30000 ] && grep -q "node2" "$W/log.part"; then
  msg=$(grep -m1 "node2" "$W/log.part" | sed 's/^ *//')
  ok "partition: mpirun exit $rc after ${took} ms, naming node2 ('$msg')"
else
  bad "partition: exit $rc after ${took} ms: $(grep -v '^-' "$W/log.part" | grep -v '^epoch' | head -4 | tr '\n' ' ')"
fi

# ---- down, without a trace -------------------------------------------------------
"$TC" down >"$W/log" 2>&1 && "$TC" down >>"$W/log" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! ip netns list | grep -qE '^node[12]( |$)' &&
  ! ip link show br-mpi >/dev/null 2>&1 && [ ! -e /run/uts/node1 ]; then
  ok "cluster down (twice): no namespace, bridge or hostname file left"
else
  bad "cluster down: exit $rc, $(ip netns list | tr '\n' ' ') $(ip -br link show br-mpi 2>&1)"
fi
summary cluster
