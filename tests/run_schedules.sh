#!/bin/sh
# End-to-end tests of --lr-schedule: the lr column of metrics.csv follows the
# schedule's formula (step with a warmup; plateau recomputed from the run's own
# monitored column); a run stopped mid-epoch by --max-steps and resumed equals
# the straight run (metrics.csv columns 1-8, last.h5's /params); a plateau run
# gives the same lr column on 1 and 2 ranks; bad values exit 2 with one line.
# Usage: RNN_DIST=build/rnn_dist tests/run_schedules.sh
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM

# lr_column RUN_DIR: epoch,lr of its metrics.csv
lr_column() { cut -d, -f1,3 "$1/metrics.csv" | tail -n +2; }
# same_run A B WHAT: metrics.csv columns 1-8 and last.h5's /params are equal
same_run() {
  if [ "$(cut -d, -f1-8 "$1/metrics.csv")" = "$(cut -d, -f1-8 "$2/metrics.csv")" ]; then ok; else
    bad "$3: metrics.csv columns 1-8 differ"
    diff "$1/metrics.csv" "$2/metrics.csv" | head -6 >&2
  fi
  [ "$(h5dump -g /params "$1/last.h5")" = "$(h5dump -g /params "$2/last.h5" | sed "s|$2|$1|")" ] \
    && ok || bad "$3: last.h5 /params differ"
}

# step with a warmup: lr 0.02, w 2, lr-step 3, gamma 0.5 over 8 epochs
STEP="--epochs 8 --seed 5 --lr 0.02 --lr-schedule step --warmup-epochs 2 --lr-step 3 --lr-gamma 0.5"
# shellcheck disable=SC2086
if expect_exit "step run" 0 "$BIN" train $STEP --run-dir "$W/step"; then
  lr_column "$W/step" | awk -F, '{ e = $1
      want = e <= 2 ? 0.02 * e / 2 : 0.02 * 0.5 ^ int((e - 3) / 3)
      if ($2 - want > 1e-9 * want || want - $2 > 1e-9 * want) { print "epoch " e ": lr " $2 ", want " want; bad = 1 }
      n++ }
    END { exit bad || n != 8 }' >"$W/why" && ok || bad "step: lr column off the formula: $(cat "$W/why")"
  # the same run stopped by max-steps in epoch 5 (25 steps an epoch), resumed
  # shellcheck disable=SC2086
  expect_exit "step run to max-steps" 0 "$BIN" train $STEP --run-dir "$W/step2" --max-steps 110 \
    && expect_exit "step resumed" 0 "$BIN" train --run-dir "$W/step2" --resume auto --max-steps 0 \
    && same_run "$W/step" "$W/step2" "step stopped mid-epoch and resumed"
fi

# plateau on val_acc, which saturates at 1: reductions every other epoch down to lr-min
PLAT="--epochs 9 --seed 5 --lr 0.01 --lr-schedule plateau --monitor val_acc --lr-patience 1 --lr-factor 0.5 --lr-min 0.002"
# shellcheck disable=SC2086
if expect_exit "plateau run" 0 "$BIN" train $PLAT --run-dir "$W/plat"; then
  # ReduceLROnPlateau (mode max, threshold 1e-4 relative) fed column 7 (val_acc)
  tail -n +2 "$W/plat/metrics.csv" | awk -F, '
    BEGIN { lr = 0.01; best = -1e300; nbad = 0; cuts = 0 }
    { if ($3 - lr > 1e-9 * lr || lr - $3 > 1e-9 * lr) { print "epoch " $1 ": lr " $3 ", want " lr; bad = 1 }
      if ($7 > best * (1 + 1e-4)) { best = $7; nbad = 0 } else nbad++
      if (nbad > 1) { nbad = 0; new = lr * 0.5 < 0.002 ? 0.002 : lr * 0.5
                      if (lr - new > 1e-8) { lr = new; cuts++ } } }
    END { if (cuts < 3) print "only " cuts " reductions"; exit bad || cuts < 3 }' >"$W/why" \
    && ok || bad "plateau: lr column is not ReduceLROnPlateau's: $(cat "$W/why")"
  grep -q ',0.002,' "$W/plat/metrics.csv" && ok || bad "plateau: lr-min 0.002 never reached"
  # shellcheck disable=SC2086
  expect_exit "plateau on 2 ranks" 0 mpirun --oversubscribe -np 2 "$BIN" train $PLAT --run-dir "$W/plat2" \
    && { [ "$(lr_column "$W/plat")" = "$(lr_column "$W/plat2")" ] && ok \
         || bad "plateau: lr column differs on 2 ranks"; }
  # stopped mid-epoch 6 (after reductions), resumed: the plateau's state came back
  # shellcheck disable=SC2086
  expect_exit "plateau to max-steps" 0 "$BIN" train $PLAT --run-dir "$W/plat3" --max-steps 140 \
    && expect_exit "plateau resumed" 0 "$BIN" train --run-dir "$W/plat3" --resume auto --max-steps 0 \
    && same_run "$W/plat" "$W/plat3" "plateau stopped mid-epoch and resumed"
fi

# the schedule is fixed on resume; bad values: exit 2, one line
expect_exit "schedule changed on resume" 2 "$BIN" train --run-dir "$W/step" --resume auto --epochs 9 \
  --lr-schedule cosine && grep -q 'lr-schedule step -> cosine' "$W/err" && ok
for args in "--lr-gamma -0.5" "--lr 0.01 --lr-min 0.1" "--lr-schedule linear" "--lr-factor 1" \
  "--lr-step 0" "--warmup-epochs 11 --epochs 10" "--lr-patience -1"; do
  # shellcheck disable=SC2086
  if expect_exit "bad option: $args" 2 "$BIN" train $args --run-dir "$W/never"; then
    [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q '^rnn_dist: ' "$W/err" && ok \
      || bad "bad option '$args': not one error line: $(cat "$W/err")"
  fi
done
[ ! -e "$W/never" ] && ok || bad "a refused command line created the run dir"

summary schedules
