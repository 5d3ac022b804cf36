#!/bin/sh
# make bench: training throughput of rnn_dist against the single-thread SGEMM
# peak of this machine and, when python3-torch is importable, against PyTorch
# on the same shapes with one thread. Prints a Markdown table.
# Usage: scripts/bench.sh BENCH_MODEL_BINARY [seconds per case]
set -eu
bin=$1
secs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
ours=$("$bin" "$secs")
torch=""
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  torch=$(/usr/bin/python3 "$here/bench_torch.py" --json --seconds "$secs")
fi
peak=$(echo "$ours" | awk '$1 == "sgemm_peak" { print $3 }')
fma=$(echo "$ours" | awk '$1 == "fma_peak" { print $3 }')
core=$(echo "$ours" | awk '$1 == "openblas_core" { print $2 }')
echo "single thread, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'):" \
  "SGEMM peak $peak GFLOP/s (OpenBLAS, its $core kernels), FMA peak $fma GFLOP/s (widest vectors)"
echo
echo "| case (GEMM kernel measured fastest) | rnn_dist seq/s | GFLOP/s | % of SGEMM peak | % of FMA peak | PyTorch seq/s | ratio |"
echo "|---|---|---|---|---|---|---|"
echo "$ours" | awk -v peak="$peak" -v fma="$fma" -v torch="$torch" '
  $1 != "sgemm_peak" && $1 != "fma_peak" && $1 != "openblas_core" && $1 !~ /^packed_/ {
    name = $1; seq = $3; gf = $5; kernel = $7; ref = ""
    if (torch != "" && match(torch, "\"" name "\": [0-9.eE+-]+")) {
      s = substr(torch, RSTART, RLENGTH); sub(/.*: /, "", s); ref = s
    }
    of_fma = fma > 0 ? sprintf("%.0f%%", 100 * gf / fma) : "n/a"
    printf "| %s (%s) | %.0f | %.1f | %.0f%% | %s | %s | %s |\n", name, kernel, seq, gf, 100 * gf / peak, of_fma,
      ref == "" ? "n/a" : sprintf("%.0f", ref), ref == "" ? "n/a" : sprintf("%.2fx", seq / ref)
  }'
echo
echo "$ours" | awk '$1 == "packed_fp32" { f = $3 } $1 == "packed_bf16" { b = $3 } $1 == "packed_amx" { x = $3 }
  $1 == "packed_fma16" { m = $3 }
  END { s = sprintf("packed product 64 x 1024 x 256 (an LSTM 256 step, batch 64): fp32 %.1f GFLOP/s", f)
        if (b > 0) s = s sprintf(", bf16 operands (AVX512_BF16) %.1f GFLOP/s = %.2fx", b, b / f)
        if (b > 0 && m > 0) s = s sprintf(", the same bits on fp32 FMAs (fma-bf16) %.1f GFLOP/s = %.2fx", m, m / f)
        if (x > 0) s = s sprintf(", bf16 operands on AMX tiles (AMX-BF16) %.1f GFLOP/s = %.2fx", x, x / f)
        no = b > 0 ? "" : "AVX512_BF16"
        if (x <= 0) no = no (no == "" ? "" : " nor ") "AMX-BF16"
        print s (no == "" ? "" : "; no " no " here") }'
echo "lstm/gru: input 64, hidden 256, 2 layers, T 50, batch 64, last-step 10-class CE, Adam."
echo "counting: tokens (vocab 10, embed 8), RNN 16, T 4, batch 32, per-step CE, Adam."
