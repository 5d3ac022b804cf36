#!/bin/sh
# Answers in the user's own units: eval's scores (errors in the original
# units, f1_macro, the confusion matrix, bpc, perplexity), predict's
# probabilities and de-normalised values, forecast; each checked against numpy
# from predict's own output and the stored statistics (tests/answers.py), on
# 1 and 2 ranks; and the refusals of forecast.
# Usage: RNN_DIST=build/rnn_dist tests/run_answers.sh
# Exits non-zero if any check fails.
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
A="$PY $HERE/answers.py"
# run NAME EXPECTED_CODE CMD...: expect_exit (common.sh)
run() { expect_exit "$@"; }
# refused NAME PATTERN CMD...: exit 2, one line on stderr matching PATTERN
refused() {
  name=$1 pat=$2
  shift 2
  run "$name" 2 "$@" || return
  if [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q -- "$pat" "$W/err"; then
    ok "$name: $(cat "$W/err")"
  else
    bad "$name: expected one line with '$pat', got: $(cat "$W/err")"
  fi
}
# check NAME CMD...: a tests/answers.py check
check() {
  name=$1
  shift
  if "$@" >"$W/chk" 2>&1; then ok "$name: $(cat "$W/chk")"; else bad "$name: $(cat "$W/chk")"; fi
}

$A data "$W" >/dev/null || { bad "answers.py data failed"; summary run_answers; exit 1; }
run "train values" 0 "$BIN" train --data "$W/sine.h5" --cell gru --hidden 8 --epochs 3 \
  --run-dir "$W/rs" || true
run "train token classes" 0 "$BIN" train --data "$W/tokcls.h5" --hidden 16 --epochs 3 \
  --run-dir "$W/rt" || true

# ---- values in the original units -------------------------------------------
if run "eval sine --json" 0 "$BIN" eval --checkpoint "$W/rs/best.h5" --data "$W/sine.h5" --json; then
  cp "$W/out" "$W/ev_s.json"
fi
run "eval plain --json" 0 "$BIN" eval --checkpoint "$W/rs/best.h5" --data "$W/sine_plain.h5" \
  --json && cp "$W/out" "$W/ev_p.json"
if run "eval sine" 0 "$BIN" eval --checkpoint "$W/rs/best.h5" --data "$W/sine.h5"; then
  [ "$(cut -d' ' -f1 "$W/out" | tr '\n' ' ')" = "loss rmse mae rmse_normalized mae_normalized n " ] &&
    ok || bad "eval sine output: $(cat "$W/out")"
fi
run "predict sine" 0 "$BIN" predict --checkpoint "$W/rs/best.h5" --data "$W/sine.h5" \
  --out "$W/ps.h5" &&
  check "values" $A values "$W/ps.h5" "$W/sine.h5" "$W/ev_s.json" "$W/ev_p.json"

# ---- classes: probabilities, f1_macro, confusion, bpc, perplexity ------------
run "eval tokcls --json" 0 "$BIN" eval --checkpoint "$W/rt/best.h5" --data "$W/tokcls.h5" \
  --json && cp "$W/out" "$W/ev_t.json"
run "predict tokcls" 0 "$BIN" predict --checkpoint "$W/rt/best.h5" --data "$W/tokcls.h5" \
  --out "$W/pt.h5" && check "classes" $A classes "$W/pt.h5" "$W/tokcls.h5" "$W/ev_t.json"
check "bpc, perplexity" $A bpc "$W/ev_t.json"
if run "eval tokcls" 0 "$BIN" eval --checkpoint "$W/rt/best.h5" --data "$W/tokcls.h5"; then
  [ "$(cut -d' ' -f1 "$W/out" | tr '\n' ' ')" = "loss acc f1_macro bpc perplexity n " ] && ok ||
    bad "eval text: $(cat "$W/out")"
fi
if run "eval tokcls --scores" 0 "$BIN" eval --checkpoint "$W/rt/best.h5" --data "$W/tokcls.h5" --scores; then
  [ "$(cut -d' ' -f1 "$W/out" | tr '\n' ' ')" = \
    "loss acc f1_macro bpc perplexity confusion[0] confusion[1] confusion[2] confusion[3] n " ] &&
    ok || bad "eval --scores: $(cat "$W/out")"
fi

# ---- 1 and 2 ranks print the same numbers ------------------------------------
for m in "rs sine.h5" "rt tokcls.h5"; do
  ck=${m% *} data=${m#* }
  for np in 1 2; do
    timeout 60 mpirun --oversubscribe -np $np "$BIN" eval --checkpoint "$W/$ck/best.h5" \
      --data "$W/$data" --batch-size 7 --json >"$W/eval$np" 2>"$W/log" ||
      bad "eval $data on $np ranks: $(tail -1 "$W/log")"
  done
  cmp -s "$W/eval1" "$W/eval2" && [ -s "$W/eval1" ] && ok "eval $data: 1 rank = 2 ranks" ||
    bad "eval $data on 1 and 2 ranks: $(cat "$W/eval1" "$W/eval2")"
done

# ---- forecast: a hand-made exact linear extrapolator ------------------------
if run "forecast" 0 "$BIN" forecast --checkpoint "$W/linear.h5" --data "$W/lin.h5" --steps 5 \
  --out "$W/fc.h5"; then
  check "forecast" $A forecast "$W/fc.h5" "$W/lin.h5" 5
  grep -q "^last window: 12 14 16 18 20$" "$W/out" && ok || bad "forecast summary: $(cat "$W/out")"
fi
# without --out: the last window only, printed
run "forecast, no --out" 0 "$BIN" forecast --checkpoint "$W/linear.h5" --data "$W/lin.h5" --steps 3 &&
  grep -q "^last window: 12 14 16$" "$W/out" && ok || bad "forecast without --out: $(cat "$W/out")"
run "forecast on 2 ranks" 0 mpirun --oversubscribe -np 2 "$BIN" forecast --checkpoint "$W/linear.h5" \
  --data "$W/lin.h5" --steps 5 --out "$W/fc2.h5" && check "forecast, 2 ranks" $A forecast "$W/fc2.h5" "$W/lin.h5" 5
run "forecast replaces its own output" 0 "$BIN" forecast --checkpoint "$W/linear.h5" \
  --data "$W/lin.h5" --steps 5 --out "$W/fc.h5" && ok

# ---- refusals: one line, exit 2 ----------------------------------------------
refused "forecast of a class model" "predicts classes" "$BIN" forecast \
  --checkpoint "$W/rt/best.h5" --data "$W/tokcls.h5" --steps 3
refused "forecast --steps 0" "--steps must be an integer in 1..100000, got '0'" "$BIN" forecast \
  --checkpoint "$W/linear.h5" --data "$W/lin.h5" --steps 0
refused "forecast without --steps" "--steps K is required" "$BIN" forecast \
  --checkpoint "$W/linear.h5" --data "$W/lin.h5"
refused "forecast --out over the data" "is one of this command's inputs (--data)" "$BIN" forecast \
  --checkpoint "$W/linear.h5" --data "$W/lin.h5" --steps 2 --out "$W/lin.h5" --force
refused "forecast --out over predictions" "exists" "$BIN" forecast \
  --checkpoint "$W/linear.h5" --data "$W/lin.h5" --steps 2 --out "$W/ps.h5"
refused "eval --steps" "--steps is for forecast" "$BIN" eval \
  --checkpoint "$W/linear.h5" --data "$W/lin.h5" --steps 2
$PY - "$W" <<'PYEOF'
import shutil, sys
import h5py
import numpy as np
d = sys.argv[1]
for name, edit in (("std0", lambda f: f.attrs.__setitem__("target_std", np.array([0.0]))),
                   ("nostd", lambda f: f.attrs.__delitem__("input_std")),
                   ("wide", lambda f: f.attrs.__setitem__("input_mean", np.array([1.0, 2.0]))),
                   ("text", lambda f: f.attrs.__setitem__("target_mean", "x"))):
    shutil.copy(d + "/sine.h5", "%s/%s.h5" % (d, name))
    with h5py.File("%s/%s.h5" % (d, name), "a") as f:
        edit(f)
PYEOF
refused "std 0" "target_std\[0\] = 0: a mean must be finite and a std finite and > 0" \
  "$BIN" eval --checkpoint "$W/rs/best.h5" --data "$W/std0.h5"
refused "mean without std" "attribute 'input_mean' without 'input_std'" \
  "$BIN" eval --checkpoint "$W/rs/best.h5" --data "$W/nostd.h5"
refused "statistics of another width" "'input_mean' must hold 1 value (one per feature)" \
  "$BIN" predict --checkpoint "$W/rs/best.h5" --data "$W/wide.h5" --out "$W/never.h5"
refused "statistics as text" "'target_mean' must be a number" \
  "$BIN" forecast --checkpoint "$W/rs/best.h5" --data "$W/text.h5" --steps 2
[ ! -e "$W/never.h5" ] && ok || bad "a refused predict left its output"

summary run_answers
