#!/bin/sh
# End-to-end checks of class-weights: all-1 weights give bit for bit the
# numbers of no weights; balanced gives the same run on 1 and 2 ranks
# (compare_runs.py, as run_dist.sh compares rank counts);
# a run stopped mid-epoch and resumed equals the straight run; refusals are
# one line with exit 2.
# Usage: RNN_DIST=build/rnn_dist tests/run_class_weights.sh
set -u
HERE=$(dirname "$0")
PY=/usr/bin/python3
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
lines() { wc -l <"$1" | tr -d ' '; }
params() { h5dump -g /params "$1" | grep -v '^HDF5'; }
cols() { cut -d, -f1-8 "$1"; }
# identical A B WHAT: run dirs A and B have the same metrics.csv columns 1-8
# and /params, bit for bit
identical() {
  cols "$1/metrics.csv" >"$W/a"
  cols "$2/metrics.csv" >"$W/b"
  cmp -s "$W/a" "$W/b" && ok || bad "$3: metrics.csv differs"
  params "$1/last.h5" >"$W/a"
  params "$2/last.h5" >"$W/b"
  [ -s "$W/a" ] && cmp -s "$W/a" "$W/b" && ok || bad "$3: /params differ"
}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

"$BIN" datagen stepclass --out "$W/s.h5" >/dev/null 2>&1 || bad "datagen stepclass failed"
"$BIN" datagen sine --out "$W/sine.h5" >/dev/null 2>&1 || bad "datagen sine failed"

# refused: one line naming the problem, exit 2
for case in "1,2|num_classes 3" "1,-2,3|must be a finite number >= 0" "1,a,3|'a' is not a number" \
  "0,0,0|every weight is 0" "1,2,3,|'' is not a number"; do
  args=${case%%|*} msg=${case#*|} # expect_exit sets want
  if expect_exit "refused: $args" 2 "$BIN" train --data "$W/s.h5" --class-weights "$args" \
    --run-dir "$W/never"; then
    [ "$(lines "$W/err")" -eq 1 ] && grep -q "^rnn_dist: .*$msg" "$W/err" && ok \
      || bad "refused '$args': not the one error line wanted: $(cat "$W/err")"
  fi
done
expect_exit "class-weights on mse" 2 "$BIN" train --data "$W/sine.h5" --class-weights 1 \
  --run-dir "$W/never2" && grep -q "class-weights needs class targets" "$W/err" && ok \
  || bad "class-weights on mse: message is '$(cat "$W/err")'"

D="--data $W/s.h5 --epochs 2 --seed 3"
# all-1 weights: bit-identical to none
# shellcheck disable=SC2086
if expect_exit "no weights" 0 "$BIN" train $D --run-dir "$W/plain" \
  && expect_exit "weights 1,1,1" 0 "$BIN" train $D --class-weights 1,1,1 --run-dir "$W/ones"; then
  identical "$W/plain" "$W/ones" "--class-weights 1,1,1 against no weights"
fi
# weights change the numbers
# shellcheck disable=SC2086
if expect_exit "weights 1,5,1" 0 "$BIN" train $D --class-weights 1,5,1 --run-dir "$W/w"; then
  params "$W/plain/last.h5" >"$W/a"
  params "$W/w/last.h5" >"$W/b"
  cmp -s "$W/a" "$W/b" && bad "--class-weights 1,5,1 gave the weights of no class weights" || ok
fi

# balanced: printed, the same on 1 and 2 ranks (within compare_runs.py's tolerance)
# shellcheck disable=SC2086
if expect_exit "balanced, 1 rank" 0 "$BIN" train $D --class-weights balanced --run-dir "$W/b1" \
  && expect_exit "balanced, 2 ranks" 0 mpirun --oversubscribe -np 2 "$BIN" train $D \
    --class-weights balanced --run-dir "$W/b2"; then
  grep -q "^class weights: " "$W/out" && ok || bad "balanced: the weights were not printed"
  # ranks sum the gradients in another order: compared as run_dist.sh does
  $PY "$HERE/compare_runs.py" "$W/b1" "$W/b2" >"$W/cmp" 2>&1 && ok \
    || bad "balanced: 1 and 2 ranks differ: $(tail -3 "$W/cmp")"
fi

# stopped by max-steps mid-epoch and resumed == straight
# shellcheck disable=SC2086
if expect_exit "split" 0 "$BIN" train $D --class-weights 1,5,2 --run-dir "$W/split" --max-steps 30 \
  && expect_exit "resume" 0 "$BIN" train --run-dir "$W/split" --resume auto --max-steps 0 \
  && expect_exit "straight" 0 "$BIN" train $D --class-weights 1,5,2 --run-dir "$W/straight"; then
  identical "$W/straight" "$W/split" "resumed against the straight run"
fi
# changing the weights on resume is refused
expect_exit "resume with other weights" 2 "$BIN" train --run-dir "$W/split" --resume auto \
  --class-weights 1,1,1 --epochs 3 && ok
summary run_class_weights
