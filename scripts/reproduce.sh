#!/bin/sh
# Reproduce the tutorial tasks: generate each dataset, train its config, and
# evaluate best.h5 on the held-out group. Prints a Markdown table (the README's).
# An existing datasets/TASK.h5 is used as it is (datagen never replaces a
# file); delete it to have it generated with the defaults.
# Usage: scripts/reproduce.sh [task ...]   (default: all; needs ./rnn_dist built)
# Set MPIRUN="mpirun -np 2" to train under MPI.
set -eu
cd "$(dirname "$0")/.."
bin=./rnn_dist
tasks=${*:-counting seqclass stepclass arith sine adding}
mkdir -p datasets runs
export OPENBLAS_NUM_THREADS=1
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | head -1; }
col() { awk -F, -v c="$2" -v e="$3" 'NR > 1 && $1 == e { print $c }' "$1"; }
echo "| task | config | result | best possible |"
echo "|---|---|---|---|"
for t in $tasks; do
  [ -e "datasets/$t.h5" ] || $bin datagen "$t" --out "datasets/$t.h5" >/dev/null
  variants="$t"
  [ "$t" = adding ] && variants="adding adding-gru adding-rnn"
  [ "$t" = seqclass ] && variants="seqclass seqclass-overfit"
  for v in $variants; do
    extra=""
    case $v in
      seqclass-overfit) extra="--dropout 0 --out-dropout 0 --patience 0 --hidden 128 --epochs 200" ;;
      adding-gru) extra="--cell gru" ;;
      adding-rnn) extra="--cell rnn --clip-grad-norm 1 --epochs 30" ;;
    esac
    # an earlier reproduction moves into runs/$v/previous-N/ (nothing is deleted)
    # shellcheck disable=SC2086
    ${MPIRUN:-} $bin train --config "configs/$t.ini" --run-dir "runs/$v" --fresh $extra >"runs/$v.log" 2>&1
    m=runs/$v/metrics.csv
    best=$(attr "runs/$v/last.h5" best_epoch)
    epochs=$(($(wc -l <"$m") - 1))
    [ "$v" = seqclass-overfit ] && best=$epochs # the point: what overfitting ends at
    case $t in
      counting|stepclass|seqclass)
        res="val acc $(col "$m" 7 "$best") at epoch $best of $epochs (train acc $(col "$m" 5 "$best"))"
        ceil="acc $(attr "datasets/$t.h5" best_acc)" ;;
      arith)
        mse=$($bin eval --checkpoint "runs/$v/best.h5" --data "datasets/$t.h5:/test" | awk '$1 == "loss" { print $2 }')
        res="test MSE $mse (best.h5, epoch $best of $epochs)"
        ceil="MSE 0" ;;
      sine)
        res="val RMSE $(col "$m" 7 "$best") (epoch $best of $epochs)"
        ceil="RMSE $(attr "datasets/$t.h5" noise_floor_rmse) (Bayes, window 3)" ;;
      adding)
        res="val MSE $(col "$m" 6 "$best") (epoch $best of $epochs)"
        ceil="MSE 0 (predicting 1: $(attr "datasets/$t.h5" baseline_mse))" ;;
    esac
    echo "| $v | configs/$t.ini $extra | $res | $ceil |"
  done
done
