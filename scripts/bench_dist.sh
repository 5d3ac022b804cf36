#!/bin/sh
# make bench, data-parallel part: rnn_dist training throughput of the LSTM
# shape (input 64, hidden 256, 2 layers, T 50, 64 sequences per rank, last-step
# 10-class CE, Adam) on 1 and 2 ranks, one OpenBLAS thread each; the scaling
# ratio; the share of step time spent waiting on the gradient all-reduces;
# and, when python3-torch is importable, PyTorch DDP (gloo, 2 processes, one
# thread each) on the same shape. Weak scaling: the global batch is 64 x ranks.
#
# Method. The machine is shared and its speed drifts by tens of percent over
# seconds, so each ratio is taken within a round: 1 rank, 2 ranks and DDP run
# back to back (DDP first in odd rounds, last in even ones), each keeping the
# better of two timed windows of about 2.7 s after its warm-up (rnn_dist: two
# epochs after the first; DDP: two windows after three warm-up steps). A ratio
# is printed as the median over the rounds, with its range; the best figure
# of each side over all rounds is printed too.
# Usage: scripts/bench_dist.sh RNN_DIST_BINARY [rounds]
set -eu
bin=$1
rounds=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_common.sh"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
bench_lstm_data "$W/lstm.h5" $((64 * 2 * 28))
torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && torch=1

# ddp ROUND: PyTorch DDP's seq/s (the better of two windows) appended to $W/ddp
ddp() {
  x=$(timeout 120 /usr/bin/python3 "$here/bench_ddp.py" --json --seconds 2.7 --windows 2 |
    sed -n 's/.*: *\([0-9.]*\)}.*/\1/p')
  [ -n "$x" ] || { echo "bench_dist: the DDP run of round $1 failed" >&2; exit 1; }
  echo "$1 $x" >>"$W/ddp"
}
# ours NP ROUND: rnn_dist's seq/s on NP ranks (the better of epochs 2 and 3 of
# its metrics.csv) appended to $W/np$NP, and its all-reduce wait to $W/wait$NP
ours() {
  r="$W/r$1-$2"
  timeout 300 mpirun --oversubscribe -np "$1" "$bin" train --data "$W/lstm.h5" --cell lstm \
    --hidden 256 --layers 2 --batch-size $((64 * $1)) --epochs 3 --checkpoint-every 0 \
    --run-dir "$r" >"$r.out" 2>&1 || { cat "$r.out"; exit 1; }
  bench_seqs_append "$r" "$2" "$W/np$1"
  sed -n "s/^all-reduce: \([0-9.]*\)%.*/$2 \1/p" "$r.out" >>"$W/wait$1"
}
for round in $(seq "$rounds"); do
  if [ "$torch" = 1 ] && [ $((round % 2)) = 1 ]; then ddp "$round"; fi
  ours 1 "$round"
  ours 2 "$round"
  if [ "$torch" = 1 ] && [ $((round % 2)) = 0 ]; then ddp "$round"; fi
done

best() { awk '$2 > b { b = $2 } END { printf "%.0f", b }' "$1"; }
echo
echo "data parallel, LSTM shape, 64 sequences per rank; $rounds rounds, median (range) over the rounds"
echo
echo "| | seq/s | best | ratio per round | ratio of the bests |"
echo "|---|---|---|---|---|"
echo "| rnn_dist, 1 rank | $(bench_span "$W/np1") | $(best "$W/np1") | | |"
echo "| rnn_dist, 2 ranks | $(bench_span "$W/np2") | $(best "$W/np2") | scaling $(bench_ratio "$W/np2" "$W/np1") |" \
  "$(awk -v a="$(best "$W/np2")" -v b="$(best "$W/np1")" 'BEGIN { printf "%.2fx", a / b }') |"
echo "| all-reduce wait, 2 ranks | $(bench_span "$W/wait2" 1) % of step time | | | |"
if [ "$torch" = 1 ]; then
  echo "| PyTorch DDP (gloo), 2 processes | $(bench_span "$W/ddp") | $(best "$W/ddp") | rnn_dist $(bench_ratio "$W/np2" "$W/ddp") |" \
    "$(awk -v a="$(best "$W/np2")" -v b="$(best "$W/ddp")" 'BEGIN { printf "%.2fx", a / b }') |"
else
  echo "| PyTorch DDP | n/a (python3-torch not installed) | | | |"
fi
