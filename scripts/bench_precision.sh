#!/bin/sh
# precision bf16 against fp32 on what users train: the tutorial tasks
# (configs/TASK.ini), a text (Genesis and Exodus, next character, windows of
# 35, LSTM 128) and a time series (weekly CO2, a year of weeks -> the next,
# LSTM 32), each over seeds 1, 2 and 3 on one rank. For each: the run's best
# validation score (its monitor, as printed on its closing line) per seed in
# fp32 and in bf16, and whether bf16's mean lies within the fp32 seeds'
# range (the seed spread). Needs a CPU with AMX-BF16 or AVX512_BF16 (exits 0
# with one line otherwise); the text and the series need Debian's
# bible-kjv-text and python3-statsmodels (skipped, with a line, without).
# Takes about 8 minutes on one core.
# Usage: scripts/bench_precision.sh RNN_DIST_BINARY
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/bench_precision.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
export OPENBLAS_NUM_THREADS=1
if ! grep -qw 'amx_bf16\|avx512_bf16' /proc/cpuinfo; then
  echo "precision bench skipped: this CPU has neither AMX-BF16 nor AVX512_BF16"
  exit 0
fi
# score NAME PRECISION SEED ARGS...: the best monitored value of the run,
# appended to $W/NAME-PRECISION
score() {
  name=$1 prec=$2 seed=$3
  shift 3
  r="$W/$name-$prec-$seed"
  (cd "$W" && "$bin" train "$@" --seed "$seed" --precision "$prec" --checkpoint-every 0 \
    --run-dir "$r") >"$r.log" 2>&1 || { tail -3 "$r.log"; exit 1; }
  sed -n 's/^done: .*; best \([a-z_]*\) \([-0-9.e+]*\) .*/\1 \2/p' "$r.log" >>"$W/$name-$prec"
}
cases=""
for t in counting seqclass stepclass arith sine adding; do
  "$bin" datagen "$t" --out "$W/$t.h5" >/dev/null
  cases="$cases $t"
done
if command -v bible >/dev/null; then
  bible -f gen1:1-50:26 ex1:1-40:38 | sed 's/^[^ ]* //' >"$W/moses.txt"
  /usr/bin/python3 "$top/scripts/text2h5.py" "$W/moses.txt" --out "$W/m35.h5" --seq-len 35 >/dev/null
  cases="$cases text"
else
  echo "text skipped: no bible program (apt-get install bible-kjv-text)"
fi
co2=/usr/lib/python3/dist-packages/statsmodels/datasets/co2/co2.csv
if [ -e "$co2" ]; then
  /usr/bin/python3 "$top/scripts/csv2h5.py" "$co2" --out "$W/co2.h5" --column co2 --window 52 \
    --fill linear >/dev/null
  cases="$cases co2"
else
  echo "series skipped: no $co2 (apt-get install python3-statsmodels)"
fi
for c in $cases; do
  for prec in fp32 bf16; do
    for seed in 1 2 3; do
      case $c in
        text) score text "$prec" "$seed" --data "$W/m35.h5" --cell lstm --hidden 128 --embed 16 \
          --lr 0.005 --clip-grad-norm 5 --epochs 8 ;;
        co2) score co2 "$prec" "$seed" --data "$W/co2.h5" --cell lstm --hidden 32 --epochs 60 ;;
        *) score "$c" "$prec" "$seed" --config "$top/configs/$c.ini" --data "$W/$c.h5" ;;
      esac
    done
  done
done
echo "precision bf16 against fp32, seeds 1 / 2 / 3, one rank,"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'):"
echo
echo "| case | score (best of the run) | fp32 | bf16 | bf16 mean within the fp32 seeds' range |"
echo "|---|---|---|---|---|"
for c in $cases; do
  paste -d ' ' "$W/$c-fp32" "$W/$c-bf16" | awk -v c="$c" '
    { m = $1; f[NR] = $2; b[NR] = $4 }
    END {
      lo = f[1]; hi = f[1]; s = 0
      for (i = 1; i <= NR; i++) { if (f[i] < lo) lo = f[i]; if (f[i] > hi) hi = f[i]; s += b[i] }
      mb = s / NR
      within = (mb >= lo && mb <= hi) ? "yes" : "NO"
      printf "| %s | %s | %.4g / %.4g / %.4g | %.4g / %.4g / %.4g | %s (mean %.4g, range %.4g-%.4g) |\n",
        c, m, f[1], f[2], f[3], b[1], b[2], b[3], within, mb, lo, hi
    }'
done
