#!/bin/sh
# make bench: rnn_dist's full training step (forward, loss, backward, Adam)
# against oneDNN's forward and backward of the recurrent layers alone
# (bench_onednn.c), one thread each, shape after shape in the same run, on
# the shapes cell:I:H:L:T:B of issue 14; with the core's FMA peak, so each
# figure is also a share of what the core can do.
# Usage: scripts/bench_onednn.sh BENCH_MODEL BENCH_ONEDNN [seconds per case]
set -eu
model=$1
onednn=$2
secs=${3:-2}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
shapes="lstm:64:256:2:50:64 gru:64:256:2:50:64 lstm:128:128:1:100:64 lstm:512:512:2:50:64
lstm:1024:1024:1:50:32 lstm:64:256:2:50:16 lstm:64:256:2:50:256 gru:512:512:2:50:64"
out=""
for s in $shapes; do
  raw=$("$model" "$secs" "$s")
  ours=$(echo "$raw" | awk '$2 == "seq_per_s" { print $3, $5, $7 }
    $2 == "bf16_seq_per_s" { print $3, $7 } $1 == "fma_peak" { print "fma", $3 }')
  kern=$(echo "$raw" | awk '$1 == "kernel_fp32" { print $3 }')
  fma=$(echo "$raw" | awk '$1 == "fma_peak" { print $3 }')
  ref=$("$onednn" "$secs" "$s" | awk '{ print $3 }')
  out="$out$s $(echo "$ours" | tr '\n' ' ') $ref
"
done
echo "rnn_dist against oneDNN $(dpkg-query -W -f='${Version}' libdnnl2 2>/dev/null || echo '?'), one thread," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'):"
echo
echo "| shape (cell:I:H:L:T:B) | rnn_dist seq/s (kernel) | % of FMA peak | oneDNN seq/s | ratio |" \
  "rnn_dist precision bf16 seq/s (kernel) | bf16 / fp32 |"
echo "|---|---|---|---|---|---|---|"
printf '%s' "$out" | awk '{
  # shape seq gflops kernel bf16seq bf16kernel fma PEAK ref
  printf "| %s | %.0f (%s) | %.0f%% | %.0f | %.2fx | ", $1, $2, $4, 100 * $3 / $8, $9, $2 / $9
  if ($5 > 0) printf "%.0f (%s) | %.2fx |\n", $5, $6, $5 / $2
  else printf "n/a (no AMX-BF16 or AVX512_BF16) | |\n"
}'
echo
echo "rnn_dist: the whole training step (a 10-class head on the last step, Adam); oneDNN: the"
echo "recurrent layers' forward_training and backward alone (weights reordered for backward each step)."
echo "precision bf16: the same step with the recurrent products' operands in bfloat16 (--precision bf16)."
echo "The fp32 micro-kernel alone (a 12 x 32 block of C, its operands in the L1 cache; last shape's run):"
echo "$kern $fma" | awk '{ printf "%.0f GFLOP/s, %.0f%% of the FMA peak: the ceiling of every product of the step.\n", $1, 100 * $1 / $2 }'
