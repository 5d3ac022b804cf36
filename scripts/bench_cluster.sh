#!/bin/sh
# make bench, slow-link part: data-parallel training of the LSTM shape
# (input 64, hidden 256, 2 layers, T 50, 64 sequences per rank, last-step
# 10-class CE, Adam) on the 2-host test cluster of network namespaces
# (scripts/testcluster.sh), 1 rank per host, with the link between the hosts
# shaped by tbf to 10 Gbit/s, 1 Gbit/s and 300 Mbit/s (and unshaped), the gradient
# all-reduce in fp32 and in bf16 (`--allreduce bf16`).
#
# Method. Every host shares this machine's cores, so ranks run with
# --bind-to none (binding would pin each host's first rank to core 0). Each
# round runs, back to back, 1 rank on node1 and then 2 ranks (node1, node2)
# for each link and all-reduce precision; a run's speed is the better of
# its epochs 2 and 3 (metrics.csv). A ratio (2 hosts / 1 rank, weak scaling:
# the global batch is 64 x ranks) is taken within a round and printed as the
# median over the rounds with its range, beside the share of step time the
# 2-host run spent waiting on its all-reduces.
# Needs root (namespaces, tc); prints one line and exits 0 otherwise. Leaves
# the cluster as it found it (brought down if this script brought it up)
# and removes every qdisc it added, also on Ctrl-C.
# Usage: [BENCH_LINKS="none 10gbit 1gbit 300mbit"] scripts/bench_cluster.sh RNN_DIST_BINARY [rounds]
# (BENCH_LINKS: the tc rates to run, "none" for unshaped)
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_common.sh"
TC="$here/testcluster.sh"
if [ "$(id -u)" != 0 ] || ! command -v tc >/dev/null; then
  echo "slow-link bench skipped: needs root and tc (iproute2) for the namespace cluster"
  exit 0
fi
W=$(mktemp -d /tmp/bench_cluster.XXXXXX)
was_up=0
"$TC" status >/dev/null 2>&1 && was_up=1
# unshape: remove the qdiscs this script may have added (none is fine)
unshape() {
  for n in node1 node2; do
    tc qdisc del dev "veth-$n" root 2>/dev/null || true
    ip netns exec "$n" tc qdisc del dev eth0 root 2>/dev/null || true
  done
}
cleanup() {
  unshape
  [ "$was_up" = 1 ] || "$TC" down >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
"$TC" up >/dev/null
# shape RATE: both directions of both hosts' links at RATE (e.g. 1gbit), with
# a bucket of 4 ms of traffic at RATE (1 Gbit/s: 500 kB) and a queue of 50 ms
shape() {
  unshape
  [ "$1" = none ] && return
  burst=$(awk -v r="$1" 'BEGIN { v = r + 0; if (r ~ /gbit/) v *= 1e9; else if (r ~ /mbit/) v *= 1e6
                                 printf "%d", v / 8 / 250 }')
  for n in node1 node2; do
    tc qdisc add dev "veth-$n" root tbf rate "$1" burst "$burst" latency 50ms
    ip netns exec "$n" tc qdisc add dev eth0 root tbf rate "$1" burst "$burst" latency 50ms
  done
}
bench_lstm_data "$W/lstm.h5" $((64 * 2 * 24))
# ours NP LINK AR ROUND: seq/s of NP ranks (1: node1; 2: one per host) appended
# to $W/LINK-AR-NP, the 2-rank all-reduce wait to $W/LINK-AR-wait
ours() {
  r="$W/r$1-$2-$3-$4"
  hosts=node1
  [ "$1" = 2 ] && hosts=node1,node2
  (cd "$W" && timeout 600 "$TC" run -np "$1" --host "$hosts" --bind-to none "$bin" train \
    --data "$W/lstm.h5" --cell lstm --hidden 256 --layers 2 --batch-size $((64 * $1)) \
    --epochs 3 --checkpoint-every 0 --allreduce "$3" --run-dir "$r") >"$r.out" 2>&1 ||
    { cat "$r.out"; exit 1; }
  bench_seqs_append "$r" "$4" "$W/$2-$3-$1"
  sed -n "s/^all-reduce: \([0-9.]*\)%.*/$4 \1/p" "$r.out" >>"$W/$2-$3-wait"
}
links=${BENCH_LINKS:-none 10gbit 1gbit 300mbit}
for round in $(seq "$rounds"); do
  for link in $links; do
    shape "$link"
    for ar in fp32 bf16; do
      ours 1 "$link" "$ar" "$round"
      ours 2 "$link" "$ar" "$round"
    done
  done
done
unshape

echo
echo "slow links: 2 hosts (namespaces, 1 rank each, --bind-to none) against 1 rank, LSTM shape,"
echo "64 sequences per rank; $rounds rounds, median (range)"
echo
echo "| link | all-reduce | 1 rank seq/s | 2 hosts seq/s | scaling | all-reduce wait, % of step |"
echo "|---|---|---|---|---|---|"
for link in $links; do
  for ar in fp32 bf16; do
    echo "| $link | $ar | $(bench_span "$W/$link-$ar-1") | $(bench_span "$W/$link-$ar-2") |" \
      "$(bench_ratio "$W/$link-$ar-2" "$W/$link-$ar-1") | $(bench_span "$W/$link-$ar-wait" 1) |"
  done
done
