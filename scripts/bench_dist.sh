#!/bin/sh
# make bench, data-parallel part: rnn_dist training throughput of the LSTM
# shape (input 64, hidden 256, 2 layers, T 50, 64 sequences per rank, last-step
# 10-class CE, Adam) on 1 and 2 ranks, one OpenBLAS thread each; the scaling
# ratio; the share of step time spent waiting on the gradient all-reduces;
# and, when python3-torch is importable, PyTorch DDP (gloo, 2 processes, one
# thread each) on the same shape. Weak scaling: the global batch is 64 x ranks.
# Usage: scripts/bench_dist.sh RNN_DIST_BINARY [epochs [rounds]]
set -eu
bin=$1
epochs=${2:-3}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 OMPI_MCA_mpi_yield_when_idle=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
/usr/bin/python3 - "$W/lstm.h5" <<'PYEOF'
import sys
import h5py
import numpy as np
rng = np.random.default_rng(0)
n, t, f = 64 * 2 * 16, 50, 64
with h5py.File(sys.argv[1], "w") as h:
    h["inputs"] = rng.standard_normal((n, t, f), dtype=np.float32)
    h["targets"] = rng.integers(0, 10, n, dtype=np.int32)
    h.attrs["num_classes"] = 10
PYEOF
# best epoch after the first (warm-up) of a run's metrics.csv seq_per_s
rate() { awk -F, 'NR > 2 && $9 > best { best = $9 } END { printf "%.0f", best }' "$1/metrics.csv"; }
# The machine is shared: 1 rank, 2 ranks and DDP alternate for `rounds`
# rounds, and each keeps its best, so a slow spell does not fall on one side of
# a ratio only.
torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && torch=1
one=0
two=0
ddp=0
wait=""
for round in $(seq "$rounds"); do
  if [ "$torch" = 1 ]; then
    x=$(timeout 120 /usr/bin/python3 "$here/bench_ddp.py" --json --seconds 3 --windows 1 |
      sed 's/.*: *\([0-9.]*\)}.*/\1/')
    [ -n "$x" ] || echo "bench_dist: the DDP run of round $round failed" >&2
    ddp=$(awk -v a="${x:-0}" -v b="$ddp" 'BEGIN { print (a > b ? a : b) }')
  fi
  for np in 1 2; do
    r="$W/r$np-$round"
    timeout 300 mpirun --oversubscribe -np $np "$bin" train --data "$W/lstm.h5" --cell lstm --hidden 256 \
      --layers 2 --batch-size $((64 * np)) --epochs "$epochs" --checkpoint-every 0 \
      --run-dir "$r" >"$r.out" 2>&1 || { cat "$r.out"; exit 1; }
    x=$(rate "$r")
    if [ "$np" = 1 ] && [ "$x" -gt "$one" ]; then one=$x; fi
    if [ "$np" = 2 ] && [ "$x" -gt "$two" ]; then
      two=$x
      wait=$(sed -n 's/^all-reduce: \([0-9.]*\)%.*/\1/p' "$r.out")
    fi
  done
done
echo
echo "| data parallel (LSTM shape, 64 sequences per rank) | seq/s | |"
echo "|---|---|---|"
echo "| rnn_dist, 1 rank | $one | |"
echo "| rnn_dist, 2 ranks | $two | scaling $(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.2fx", a / b }') |"
echo "| all-reduce wait, 2 ranks (fastest run) | ${wait:-?}% of step time | |"
if [ "$torch" = 1 ]; then
  echo "| PyTorch DDP (gloo), 2 processes | $ddp | rnn_dist $(awk -v a="$two" -v b="$ddp" 'BEGIN { printf "%.2fx", a / b }') |"
else
  echo "| PyTorch DDP | n/a (python3-torch not installed) | |"
fi
