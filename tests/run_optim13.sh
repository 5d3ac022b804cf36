#!/bin/sh
# End-to-end checks of issue 13's optimizers: rmsprop resumes exactly (its
# square_avg in the checkpoint), sgd --nesterov 1 trains and resumes, and the
# refusals are one line with exit 2.
# Usage: RNN_DIST=build/rnn_dist tests/run_optim13.sh
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
lines() { wc -l <"$1" | tr -d ' '; }
params() { h5dump -g /params "$1" | grep -v '^HDF5'; }

"$BIN" datagen counting --out "$W/counting.h5" >/dev/null 2>&1 || bad "datagen counting failed"

# refused: one line, exit 2, no run directory
for args in "--nesterov 1" "--optimizer sgd --nesterov 1" "--optimizer adam --nesterov 1" \
  "--optimizer sgd --momentum 0.9 --nesterov 2" "--optimizer rmsprop --momentum 0.9" \
  "--optimizer rmsprop --nesterov 1" "--optimizer rmsprops"; do
  # shellcheck disable=SC2086
  if expect_exit "refused: $args" 2 "$BIN" train --data "$W/counting.h5" $args --run-dir "$W/never"; then
    [ "$(lines "$W/err")" -eq 1 ] && grep -q '^rnn_dist: ' "$W/err" && ok \
      || bad "refused '$args': not one error line: $(cat "$W/err")"
  fi
done
expect_exit "nesterov without momentum" 2 "$BIN" train --data "$W/counting.h5" --optimizer sgd \
  --nesterov 1 --run-dir "$W/never" && grep -q "nesterov needs optimizer sgd with momentum > 0" "$W/err" \
  && ok || bad "nesterov without momentum: message is '$(cat "$W/err")'"
[ ! -e "$W/never" ] && ok || bad "a refused command line created the run dir"

# each optimizer: 3 epochs straight == stopped by max-steps mid-epoch + resumed
for opt in "--optimizer rmsprop --lr 0.005" "--optimizer rmsprop --lr 0.005 --weight-decay 0.01" \
  "--optimizer sgd --lr 0.1 --momentum 0.9 --nesterov 1"; do
  D="--data $W/counting.h5 --epochs 3 --seed 5 $opt"
  rm -rf "$W/straight" "$W/split"
  # shellcheck disable=SC2086
  expect_exit "$opt: straight" 0 "$BIN" train $D --run-dir "$W/straight" || continue
  # shellcheck disable=SC2086
  expect_exit "$opt: max-steps" 0 "$BIN" train $D --run-dir "$W/split" --max-steps 25 || continue
  # shellcheck disable=SC2086
  expect_exit "$opt: resume" 0 "$BIN" train --run-dir "$W/split" --resume auto --max-steps 0 || continue
  params "$W/straight/last.h5" >"$W/a"
  params "$W/split/last.h5" >"$W/b"
  [ -s "$W/a" ] && cmp -s "$W/a" "$W/b" && ok || bad "$opt: resumed /params differ from the straight run"
  name=$(h5dump -a /optim/optimizer "$W/split/last.h5" | sed -n 's/^ *(0): *"\(.*\)"/\1/p')
  case "$opt" in
    *rmsprop*) want=square_avg; [ "$name" = rmsprop ] && ok || bad "$opt: /optim optimizer is '$name'" ;;
    *) want=momentum_buffer ;;
  esac
  h5dump -g "/optim/$want" -H "$W/split/last.h5" >/dev/null 2>&1 && ok || bad "$opt: no /optim/$want"
  tail -1 "$W/straight/metrics.csv" | awk -F, '{exit !($4 < 1.0)}' && ok \
    || bad "$opt: training loss did not fall below 1: $(tail -1 "$W/straight/metrics.csv")"
done
# nesterov is not plain momentum
D="--data $W/counting.h5 --epochs 1 --seed 5 --optimizer sgd --lr 0.1 --momentum 0.9"
# shellcheck disable=SC2086
if expect_exit "sgd momentum" 0 "$BIN" train $D --run-dir "$W/plain" \
  && expect_exit "sgd nesterov" 0 "$BIN" train $D --nesterov 1 --run-dir "$W/nest"; then
  params "$W/plain/last.h5" >"$W/a"
  params "$W/nest/last.h5" >"$W/b"
  cmp -s "$W/a" "$W/b" && bad "--nesterov 1 gave the same weights as plain momentum" || ok
fi
summary run_optim13
