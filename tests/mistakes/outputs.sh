# shellcheck shell=sh disable=SC2086  # $FAST is a list of options
# Sourced by tests/run_mistakes.sh: outputs never destroy a file they should
# not, and inputs must be regular files.
#  - predict --out naming its own checkpoint or data file (however spelt):
#    exit 2, one line, the file byte for byte as before, --force or not;
#  - predict twice into the same file: the second replaces its own output;
#  - an existing checkpoint or dataset as --out: refused without --force,
#    replaced with it; a reader of the old file keeps reading the old bytes;
#  - datagen into an existing dataset (refused; --force replaces) and into a
#    missing directory; no temporary file left behind;
#  - a FIFO or a directory as data, checkpoint or resume file: exit 2 at once
#    (a FIFO used to block the open forever), also under mpirun;
#  - the Python scripts' --out over their own input or an existing file.

# o_fast NAME EXPECTED SECONDS CMD...: run, and within SECONDS
o_fast() {
  o_name=$1 o_want=$2 o_limit=$3
  shift 3
  o_t0=$(date +%s)
  run "$o_name" "$o_want" timeout 60 "$@" || return 1
  o_took=$(($(date +%s) - o_t0))
  [ "$o_took" -le "$o_limit" ] && return 0
  bad "$o_name: took $o_took s, expected at most $o_limit"
  return 1
}
# o_script_line NAME PROG PATTERN: $W/err is one line 'PROG: ' matching PATTERN
o_script_line() {
  if [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q "^$2: " "$W/err" && grep -Eq -- "$3" "$W/err"; then
    ok
  else
    bad "$1: expected one line '$2: ...' matching '$3', got: $(head -c 600 "$W/err")"
  fi
}

R="$W/out-run"
if run "outputs: train a tiny run" 0 "$BIN" train $FAST --epochs 1 --run-dir "$R"; then
  # --out = the checkpoint it reads
  cp "$R/best.h5" "$W/out-best.copy"
  run "predict --out its own checkpoint" 2 "$BIN" predict --checkpoint "$R/best.h5" \
    --data "$W/ct.h5:/val" --out "$R/best.h5" &&
    one_line "predict --out its own checkpoint" \
      "^rnn_dist: predict: --out .*/out-run/best.h5 is one of this command's inputs \(--checkpoint\); choose another file$"
  run "predict --out its own checkpoint, --force" 2 "$BIN" predict --checkpoint "$R/best.h5" \
    --data "$W/ct.h5:/val" --out "$R/./best.h5" --force &&
    one_line "predict --out its own checkpoint, --force" "inputs \(--checkpoint\)"
  same_bytes "predict --out its own checkpoint" "$R/best.h5" "$W/out-best.copy"

  # --out = the data file (writable copy), by its name, another spelling, a hard link
  cp "$W/ct.h5" "$W/out-data.h5" && chmod u+w "$W/out-data.h5"
  ln "$W/out-data.h5" "$W/out-data-link.h5"
  for o_out in "$W/out-data.h5" "$W/./out-data.h5" "$W/out-data-link.h5"; do
    for o_force in "" --force; do
      # shellcheck disable=SC2086
      run "predict --out its data file $o_out $o_force" 2 "$BIN" predict --checkpoint "$R/best.h5" \
        --data "$W/out-data.h5:/val" --out "$o_out" $o_force &&
        one_line "predict --out its data file $o_out $o_force" \
          "^rnn_dist: predict: --out .* is one of this command's inputs \(--data\); choose another file$"
    done
  done
  same_bytes "predict --out its data file" "$W/out-data.h5" "$W/ct.h5"

  # the same predictions file twice: the second run replaces the first
  run "predict into pred.h5" 0 "$BIN" predict --checkpoint "$R/best.h5" --data "$W/ct.h5:/val" \
    --out "$W/pred.h5" && [ "$(attr "$W/pred.h5" rnn_dist_output)" = predictions ] && ok ||
    bad "pred.h5 lacks rnn_dist_output = predictions"
  cp "$W/pred.h5" "$W/pred.before"
  exec 3<"$W/pred.h5" # someone still reading the first predictions
  run "predict into pred.h5 again" 0 "$BIN" predict --checkpoint "$R/best.h5" \
    --data "$W/ct.h5:/train" --out "$W/pred.h5" &&
    h5ls "$W/pred.h5" | grep -q '^predictions *Dataset {480' && ok ||
    bad "the second predict did not replace pred.h5: $(h5ls "$W/pred.h5" | head -3)"
  cmp -s - "$W/pred.before" <&3 && ok || bad "a reader of the old pred.h5 saw it change"
  exec 3<&-

  # --out = a copy of a checkpoint: refused, then replaced with --force
  cp "$R/best.h5" "$W/out-ckpt.h5"
  run "predict --out an existing checkpoint" 2 "$BIN" predict --checkpoint "$R/best.h5" \
    --data "$W/ct.h5:/val" --out "$W/out-ckpt.h5" &&
    one_line "predict --out an existing checkpoint" \
      "^rnn_dist: predict: --out .*out-ckpt.h5 exists \(an rnn_dist checkpoint\); give --force to replace it, or choose another file$"
  same_bytes "predict --out an existing checkpoint" "$W/out-ckpt.h5" "$R/best.h5"
  run "predict --out an existing checkpoint, --force" 0 "$BIN" predict --checkpoint "$R/best.h5" \
    --data "$W/ct.h5:/val" --out "$W/out-ckpt.h5" --force &&
    [ "$(attr "$W/out-ckpt.h5" rnn_dist_output)" = predictions ] && ok ||
    bad "predict --force did not replace the checkpoint copy"
  # a dataset is not a predictions file
  cp "$W/ct.h5" "$W/out-ds-pred.h5"
  run "predict --out an existing dataset" 2 "$BIN" predict --checkpoint "$R/best.h5" \
    --data "$W/ct.h5:/val" --out "$W/out-ds-pred.h5" &&
    one_line "predict --out an existing dataset" "exists \(a dataset\); give --force"
  same_bytes "predict --out an existing dataset" "$W/out-ds-pred.h5" "$W/ct.h5"
  run "predict --out into a missing directory" 2 "$BIN" predict --checkpoint "$R/best.h5" \
    --data "$W/ct.h5:/val" --out "$W/out-nodir/p.h5" &&
    one_line "predict --out into a missing directory" "directory .*out-nodir does not exist$"
fi

# datagen over an existing dataset, into a missing directory
cp "$W/ct.h5" "$W/out-ds.h5" && chmod u+w "$W/out-ds.h5"
run "datagen over an existing dataset" 2 "$BIN" datagen sine --out "$W/out-ds.h5" &&
  one_line "datagen over an existing dataset" \
    "^rnn_dist: datagen: --out .*out-ds.h5 exists \(a dataset\); give --force to replace it, or choose another file$"
same_bytes "datagen over an existing dataset" "$W/out-ds.h5" "$W/ct.h5"
run "datagen over an existing dataset, --force" 0 "$BIN" datagen sine --out "$W/out-ds.h5" --force &&
  [ "$(attr "$W/out-ds.h5" task)" = sine ] && ok || bad "datagen --force did not replace the dataset"
run "datagen into a missing directory" 2 "$BIN" datagen sine --out "$W/out-nodir/s.h5" &&
  one_line "datagen into a missing directory" \
    "^rnn_dist: datagen: --out .*out-nodir/s.h5: directory .*out-nodir does not exist$"
[ ! -e "$W/out-nodir" ] && ok || bad "datagen created the missing directory"
no_tmp "outputs: temporary files" "$W"

# a FIFO or a directory where a file is read: refused at once, no hang
mkfifo "$W/out-fifo.h5"
mkdir "$W/out-dir.h5"
FIFO_LINE="^rnn_dist: .*out-fifo.h5: not a regular file \(a FIFO\)$"
o_fast "train --data FIFO" 2 10 "$BIN" train --data "$W/out-fifo.h5" --run-dir "$W/out-f1" &&
  one_line "train --data FIFO" "$FIFO_LINE"
o_fast "train --data FIFO:/train" 2 10 "$BIN" train --data "$W/out-fifo.h5:/train" \
  --run-dir "$W/out-f1" && one_line "train --data FIFO:/train" "$FIFO_LINE"
o_fast "train --val FIFO" 2 10 "$BIN" train $FAST --val "$W/out-fifo.h5" --run-dir "$W/out-f2" &&
  one_line "train --val FIFO" "$FIFO_LINE"
o_fast "train --init FIFO" 2 10 "$BIN" train $FAST --init "$W/out-fifo.h5" --run-dir "$W/out-f3" &&
  one_line "train --init FIFO" "$FIFO_LINE"
o_fast "train --resume FIFO" 2 10 "$BIN" train $FAST --resume "$W/out-fifo.h5" --run-dir "$W/out-f4" &&
  one_line "train --resume FIFO" "$FIFO_LINE"
o_fast "inspect FIFO" 2 10 "$BIN" inspect "$W/out-fifo.h5" && one_line "inspect FIFO" "$FIFO_LINE"
if [ -e "$R/best.h5" ]; then
  o_fast "eval --data FIFO" 2 10 "$BIN" eval --checkpoint "$R/best.h5" --data "$W/out-fifo.h5" &&
    one_line "eval --data FIFO" "$FIFO_LINE"
  o_fast "predict --data FIFO" 2 10 "$BIN" predict --checkpoint "$R/best.h5" --data "$W/out-fifo.h5" \
    --out "$W/out-p.h5" && one_line "predict --data FIFO" "$FIFO_LINE"
fi
o_fast "eval --checkpoint FIFO" 2 10 "$BIN" eval --checkpoint "$W/out-fifo.h5" --data "$W/ct.h5" &&
  one_line "eval --checkpoint FIFO" "$FIFO_LINE"
o_fast "train --data FIFO, mpirun -np 2" 2 30 mpirun --oversubscribe -np 2 "$BIN" train \
  --data "$W/out-fifo.h5" --run-dir "$W/out-f5" &&
  grep -Eq "$FIFO_LINE" "$W/err" && ok || bad "mpirun train --data FIFO: $(head -3 "$W/err")"
if [ -e "$R/best.h5" ]; then
  o_fast "eval --data FIFO, mpirun -np 2" 2 30 mpirun --oversubscribe -np 2 "$BIN" eval \
    --checkpoint "$R/best.h5" --data "$W/out-fifo.h5" &&
    grep -Eq "$FIFO_LINE" "$W/err" && ok || bad "mpirun eval --data FIFO: $(head -3 "$W/err")"
fi
o_fast "train --data DIR" 2 10 "$BIN" train --data "$W/out-dir.h5" --run-dir "$W/out-f6" &&
  one_line "train --data DIR" "^rnn_dist: .*out-dir.h5: not a regular file \(a directory\)$"
o_fast "inspect DIR" 2 10 "$BIN" inspect "$W/out-dir.h5" &&
  one_line "inspect DIR" "not a regular file \(a directory\)$"

# the Python scripts: an output over an input or an existing file
S="$TOP/scripts"
printf 't,v\n' >"$W/out-series.csv"
i=0
while [ $i -lt 60 ]; do
  printf '%d,%d\n' $i $((i * i % 17)) >>"$W/out-series.csv"
  i=$((i + 1))
done
cp "$W/out-series.csv" "$W/out-series.copy"
run "csv2h5.py --out its own input" 2 "$PY" "$S/csv2h5.py" "$W/out-series.csv" \
  --out "$W/./out-series.csv" --column v --window 4 --force &&
  o_script_line "csv2h5.py --out its own input" csv2h5.py \
    "--out .*out-series.csv is one of this command's inputs \(IN.csv\); choose another file$"
same_bytes "csv2h5.py --out its own input" "$W/out-series.csv" "$W/out-series.copy"
run "csv2h5.py" 0 "$PY" "$S/csv2h5.py" "$W/out-series.csv" --out "$W/out-series.h5" \
  --column v --window 4 && ok
cp "$W/out-series.h5" "$W/out-series.h5.copy"
run "csv2h5.py over an existing dataset" 2 "$PY" "$S/csv2h5.py" "$W/out-series.csv" \
  --out "$W/out-series.h5" --column v --window 5 &&
  o_script_line "csv2h5.py over an existing dataset" csv2h5.py \
    "--out .*out-series.h5 exists \(a dataset\); give --force to replace it, or choose another file$"
same_bytes "csv2h5.py over an existing dataset" "$W/out-series.h5" "$W/out-series.h5.copy"
run "csv2h5.py over an existing dataset, --force" 0 "$PY" "$S/csv2h5.py" "$W/out-series.csv" \
  --out "$W/out-series.h5" --column v --window 5 --force &&
  [ "$(attr "$W/out-series.h5" window)" = 5 ] && ok || bad "csv2h5.py --force did not replace"
run "csv2h5.py into a missing directory" 2 "$PY" "$S/csv2h5.py" "$W/out-series.csv" \
  --out "$W/out-nodir/s.h5" --column v --window 4 &&
  o_script_line "csv2h5.py into a missing directory" csv2h5.py "does not exist$"
if [ "$QUICK" != 1 ] && [ -e "$R/best.h5" ] && "$PY" -c 'import torch' 2>/dev/null; then
  run "to_pytorch.py --out its own checkpoint" 2 "$PY" "$S/to_pytorch.py" "$R/best.h5" \
    --out "$R/best.h5" --force &&
    o_script_line "to_pytorch.py --out its own checkpoint" to_pytorch.py \
      "is one of this command's inputs \(CKPT.h5\)"
  same_bytes "to_pytorch.py --out its own checkpoint" "$R/best.h5" "$W/out-best.copy"
  run "to_pytorch.py" 0 "$PY" "$S/to_pytorch.py" "$R/best.h5" --out "$W/out-model.pt" && ok
  cp "$W/out-model.pt" "$W/out-model.copy"
  run "to_pytorch.py over an existing file" 2 "$PY" "$S/to_pytorch.py" "$R/best.h5" \
    --out "$W/out-model.pt" &&
    o_script_line "to_pytorch.py over an existing file" to_pytorch.py "exists \(a file\); give --force"
  run "from_pytorch.py --out its own input" 2 "$PY" "$S/from_pytorch.py" "$W/out-model.pt" \
    --out "$W/out-model.pt" --force &&
    o_script_line "from_pytorch.py --out its own input" from_pytorch.py \
      "is one of this command's inputs \(MODEL.pt\)"
  same_bytes "from_pytorch.py --out its own input" "$W/out-model.pt" "$W/out-model.copy"
  run "from_pytorch.py over predictions" 2 "$PY" "$S/from_pytorch.py" "$W/out-model.pt" \
    --out "$W/out-ckpt.h5" &&
    o_script_line "from_pytorch.py over predictions" from_pytorch.py "exists \(an rnn_dist predictions file\)"
fi
if [ -e "$R/metrics.csv" ]; then
  cp "$R/metrics.csv" "$W/out-metrics.copy"
  run "plot_run.py --out its own metrics.csv" 2 "$PY" "$S/plot_run.py" "$R" --out "$R/metrics.csv" \
    --force && o_script_line "plot_run.py --out metrics.csv" plot_run.py "inputs \(RUN_DIR/metrics.csv\)"
  same_bytes "plot_run.py --out metrics.csv" "$R/metrics.csv" "$W/out-metrics.copy"
  run "plot_run.py" 0 "$PY" "$S/plot_run.py" "$R" && run "plot_run.py again (its own image)" 0 \
    "$PY" "$S/plot_run.py" "$R" && ok
  run "plot_run.py over a dataset" 2 "$PY" "$S/plot_run.py" "$R" --out "$W/out-data.h5" &&
    o_script_line "plot_run.py over a dataset" plot_run.py "exists \(a dataset\)"
fi
no_tmp "outputs: temporary files at the end" "$W"
