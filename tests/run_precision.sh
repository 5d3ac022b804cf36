#!/bin/sh
# precision bf16 (the recurrent products' operands in bfloat16, sums, weights
# and optimizer state in fp32), trained under mpirun:
#   - the run names its bf16 kernel in its first line; its weights leave the
#     fp32 run's (the operands really are rounded) but stay within 3% (L2):
#     each product is within about 2^-8 of fp32's, and Adam's step size does
#     not grow with a gradient's error (seen: 0.6-0.9%);
#   - the same run on 1, 2, 3 and 4 ranks, on one kernel: within 4e-3 (L2 of
#     every tensor, every loss). A row's products do not depend on the other
#     rows, but each rank sums the weight gradients of its part of a batch,
#     so the sums round differently (as in fp32, ~1e-7 a step); an operand
#     within that of a bf16 rounding boundary then rounds the other way, a
#     change of 2^-9 of itself, and training carries such changes on. Seen
#     after 68 steps: 1.0-1.5e-3 (fp32 runs agree within 1e-5); 4e-3 is
#     about 3x that, and under bf16's own distance from fp32 on this run
#     (6-9e-3): a change of rank count costs less than the choice of bf16;
#   - bit for bit the run of the instruction's scalar model (RNN_DIST_BF16 =
#     amx-bf16-model / avx512-bf16-model), for each bf16 instruction this CPU
#     has (a line says which were skipped), and fma-bf16 that of
#     avx512-bf16-model;
#   - a CPU without AMX-BF16 or AVX512_BF16 (RNN_DIST_BF16=none stands for
#     one): refused with one line naming both, exit 2, on 1 and 2 ranks.
# Usage: RNN_DIST=build/rnn_dist tests/run_precision.sh   (exits non-zero on failure)
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
# mp NP ARGS...: rnn_dist train on NP ranks, bounded, output in $W/log
mp() {
  np=$1
  shift
  timeout 200 mpirun --oversubscribe -np "$np" "$BIN" train "$@" >"$W/log" 2>&1
}
same() { $PY "$HERE/compare_runs.py" "$@" >"$W/cmp" 2>&1; }
"$BIN" datagen seqclass --out "$W/sc.h5" >/dev/null || bad "datagen seqclass"
LSTM="--data $W/sc.h5 --cell lstm --layers 2 --hidden 24 --dropout 0.3 --out-dropout 0.2
  --batch-size 30 --epochs 2 --seed 1"
# the runs compared use one kernel (AMX and AVX512_BF16 give different bits,
# and the faster one is measured at start); a CPU with no bf16 instruction
# still runs the tests, on the scalar model of AMX
kernel=amx-bf16-model
if grep -qw amx_bf16 /proc/cpuinfo 2>/dev/null; then
  kernel=amx-bf16
elif grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then
  kernel=avx512-bf16
else
  echo "note: no AMX-BF16 or AVX512_BF16 here: bf16 runs on the scalar model of AMX"
fi
bfmp() { RNN_DIST_BF16=$kernel mp "$@"; }

# shellcheck disable=SC2086
mp 1 $LSTM --run-dir "$W/fp1" || bad "fp32, 1 rank: $(tail -1 "$W/log")"
# shellcheck disable=SC2086
bfmp 1 $LSTM --precision bf16 --run-dir "$W/bf1" || bad "bf16, 1 rank: $(tail -1 "$W/log")"
first=$(head -1 "$W/log")
if echo "$first" | grep -q "gemm $kernel (RNN_DIST_BF16)" && ! same "$W/fp1" "$W/bf1" &&
  same --rtol 0.03 "$W/fp1" "$W/bf1"; then
  ok "bf16, 1 rank: ${first##*; }; weights off fp32's but within 3% ($(cat "$W/cmp"))"
else
  bad "bf16, 1 rank: ${first##*; }: $(cat "$W/cmp")"
fi

for np in 2 3 4; do
  # shellcheck disable=SC2086
  bfmp $np $LSTM --precision bf16 --run-dir "$W/bf$np" || bad "bf16, $np ranks: $(tail -1 "$W/log")"
  if same --rtol 4e-3 "$W/bf1" "$W/bf$np"; then
    ok "bf16: $np ranks = 1 rank within 4e-3 ($(cat "$W/cmp"))"
  else
    bad "bf16: $np ranks differ from 1: $(cat "$W/cmp")"
  fi
done

for kf in amx-bf16:amx_bf16 avx512-bf16:avx512_bf16; do
  k=${kf%:*} flag=${kf#*:}
  if ! grep -qw "$flag" /proc/cpuinfo 2>/dev/null; then
    echo "skipped: $k = its model (this CPU has no $flag)"
    continue
  fi
  # shellcheck disable=SC2086
  RNN_DIST_BF16=$k mp 2 $LSTM --precision bf16 --epochs 1 --run-dir "$W/k-$k" ||
    bad "$k: $(tail -1 "$W/log")"
  # shellcheck disable=SC2086
  RNN_DIST_BF16=$k-model mp 2 $LSTM --precision bf16 --epochs 1 --run-dir "$W/m-$k" ||
    bad "$k-model: $(tail -1 "$W/log")"
  if same --rtol 0 "$W/k-$k" "$W/m-$k"; then
    ok "$k on 2 ranks: its scalar model's run bit for bit"
  else
    bad "$k differs from its model: $(cat "$W/cmp")"
  fi
done

# fma-bf16: VDPBF16PS's bits on fp32 FMAs (AVX-512F), in training on 2 ranks
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  # shellcheck disable=SC2086
  RNN_DIST_BF16=fma-bf16 mp 2 $LSTM --precision bf16 --epochs 1 --run-dir "$W/k-fma" ||
    bad "fma-bf16: $(tail -1 "$W/log")"
  [ -d "$W/m-avx512-bf16" ] || RNN_DIST_BF16=avx512-bf16-model mp 2 $LSTM --precision bf16 \
    --epochs 1 --run-dir "$W/m-avx512-bf16" || bad "avx512-bf16-model: $(tail -1 "$W/log")"
  if same --rtol 0 "$W/k-fma" "$W/m-avx512-bf16"; then
    ok "fma-bf16 on 2 ranks: avx512-bf16's scalar model's run bit for bit"
  else
    bad "fma-bf16 differs from avx512-bf16's model: $(cat "$W/cmp")"
  fi
else
  echo "skipped: fma-bf16 = avx512-bf16's model (this CPU has no avx512f)"
fi

for np in 1 2; do
  # shellcheck disable=SC2086
  RNN_DIST_BF16=none mp $np $LSTM --precision bf16 --run-dir "$W/no$np"
  rc=$?
  n=$(grep -c "precision bf16 needs a CPU with AMX-BF16 or AVX512_BF16" "$W/log")
  if [ "$rc" = 2 ] && [ "$n" = 1 ] && ! grep -q "MPI_ABORT" "$W/log"; then
    ok "no bf16 instruction, $np rank(s): refused, exit 2: $(grep "precision bf16" "$W/log")"
  else
    bad "no bf16 instruction, $np rank(s): exit $rc, $n lines: $(head -3 "$W/log")"
  fi
done
summary precision
