# shellcheck shell=sh
# tests/mistakes/inputs.sh - a data file rewritten during a run; small
# things a user reads: the parameter count, max-steps inside the first
# epoch. Sourced by tests/run_mistakes.sh.

# ---- the data file changes mid-run ----------------------------------------
cp "$W/slow.h5" "$W/changing.h5"
D="$W/changed"
timeout 120 "$BIN" train $SLOW --data "$W/changing.h5" --run-dir "$D" >"$W/chg.log" 2>&1 &
pid=$!
if wait_line "^epoch 2/" "$W/chg.log" $pid; then
  cp "$W/ct.h5" "$W/changing.h5"
  wait $pid
  rc=$?
  if [ $rc -eq 2 ] && grep -q "^rnn_dist: $W/changing.h5 changed during the run" "$W/chg.log"; then
    ok "data rewritten mid-run: exit 2, named"
  else
    bad "data rewritten mid-run: exit $rc: $(grep -v '^epoch' "$W/chg.log" | head -3)"
  fi
  ep=$(attr "$D/last.h5" epoch)
  [ -n "$ep" ] && [ "$ep" -ge 2 ] && "$BIN" inspect "$D/last.h5" >/dev/null 2>&1 && ok ||
    bad "data changed: last.h5 (epoch '$ep') is not the last good state"
  no_tmp "data changed" "$D"
else
  bad "changing-data run did not start: $(tail -3 "$W/chg.log")"
  pkill -KILL -P $pid 2>/dev/null
fi

# ---- what the user reads ----------------------------------------------------
if run "max-steps inside the first epoch" 0 "$BIN" train $FAST --max-steps 3 --run-dir "$W/ms"; then
  grep -q "no epoch completed yet" "$W/out" && ! grep -qi "nan" "$W/out" && ok ||
    bad "max-steps in epoch 1: $(tail -1 "$W/out")"
fi
# the parameter count is PyTorch's: the sum of the tensors' sizes
if run "parameter count" 0 "$BIN" train $FAST --epochs 1 --hidden 7 --run-dir "$W/pc"; then
  shown=$(sed -n 's/.*, \([0-9]*\) parameters;.*/\1/p' "$W/out")
  real=$($PY -c "
import h5py, sys
f = h5py.File(sys.argv[1], 'r')
print(sum(d.size for d in f['params'].values()))" "$W/pc/last.h5")
  [ -n "$shown" ] && [ "$shown" = "$real" ] && ok || bad "parameter count: printed '$shown', tensors hold $real"
fi
