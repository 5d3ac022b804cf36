# shellcheck shell=sh
# tests/mistakes/signals.sh - Ctrl-C, a closed terminal, a closed pipe and a
# kill -9 mid-save, alone and under mpirun. Sourced by tests/run_mistakes.sh.

# stop_with SIG NAME [MPI]: start a slow run, send SIG after its first epoch,
# expect exit 4, a message naming NAME, an intact last.h5, no temporary file
stop_with() {
  sig=$1 name=$2 dir="$W/sig-$1${3:+-mpi}"
  log="$dir.log" # a new name: a reused one may still hold the last run's lines
  if [ -n "${3:-}" ]; then
    timeout 120 mpirun --oversubscribe -np 2 "$BIN" train $SLOW --run-dir "$dir" >"$log" 2>&1 &
  else
    timeout 120 "$BIN" train $SLOW --run-dir "$dir" >"$log" 2>&1 &
  fi
  pid=$!
  if ! wait_line "^epoch 1/" "$log" $pid; then
    bad "$sig: the run did not start: $(tail -3 "$log")"
    pkill -KILL -P $pid 2>/dev/null
    return
  fi
  pkill "-$sig" -P $pid # the run itself (mpirun or rnn_dist), not timeout
  wait $pid
  rc=$?
  want=4
  [ -n "${3:-}" ] && want=$( [ "$sig" = USR1 ] && echo 4 || echo 1 ) # mpirun's own code after a TERM/INT
  if [ $rc -eq $want ] && grep -q "rnn_dist: stopped by $name at step [0-9]*" "$log"; then
    ok "$sig${3:+ under mpirun}: exit $rc, '$name' named"
  else
    bad "$sig${3:+ under mpirun}: exit $rc, log: $(grep -v '^epoch' "$log" | head -5)"
  fi
  "$BIN" inspect "$dir/last.h5" >/dev/null 2>&1 && ok || bad "$sig: last.h5 does not load"
  no_tmp "$sig" "$dir"
}
stop_with INT "SIGINT (Ctrl-C)"
stop_with HUP "SIGHUP (terminal closed)"
stop_with TERM SIGTERM
if [ "$QUICK" != 1 ]; then
  stop_with USR1 SIGUSR1 mpi
  stop_with TERM "SIGTERM (from mpirun: Ctrl-C, kill or scancel)" mpi
fi

# ---- a closed stdout: | head -1 ------------------------------------------
P="$W/piped"
{ "$BIN" train $FAST --epochs 3 --run-dir "$P" 2>"$W/pipe.err"; echo $? >"$W/pipe.rc"; } | head -1 >/dev/null
[ "$(cat "$W/pipe.rc")" = 0 ] && ok || bad "train | head -1: exit $(cat "$W/pipe.rc"): $(cat "$W/pipe.err")"
[ "$(awk -F, 'NR > 1' "$P/metrics.csv" | wc -l)" -eq 3 ] && ok || bad "train | head -1: not all epochs trained"

# ---- a temporary file left by kill -9 during a save ------------------------
K="$W/killed"
run "run K" 0 "$BIN" train $FAST --run-dir "$K" && ok
echo partial >"$K/last.h5.tmp.99999"
echo partial >"$K/metrics.csv.tmp"
run "resume K" 0 "$BIN" train $FAST --run-dir "$K" --resume auto --epochs 3 && ok
no_tmp "stale temporary files removed on the next start" "$K"

# ---- Ctrl-C during predict: nothing half-written, an earlier file intact ----
if [ "$QUICK" != 1 ]; then
  PR="$W/pred-run"
  "$BIN" datagen counting --n 300000 --out "$W/big-pred.h5" --seed 6 >/dev/null 2>&1 || bad "datagen big-pred"
  run "a model to predict with" 0 "$BIN" train $SLOW --max-steps 1 --run-dir "$PR" && ok
  echo "an earlier file" >"$W/pred-old.h5"
  timeout 120 "$BIN" predict --checkpoint "$PR/last.h5" --data "$W/big-pred.h5" --out "$W/pred-old.h5" \
    --force --batch-size 64 >"$W/pred-int.log" 2>&1 &
  pid=$!
  n=0
  while ! ls "$W"/pred-old.h5.tmp.* >/dev/null 2>&1 && [ $n -lt 600 ] && kill -0 $pid 2>/dev/null; do
    sleep 0.05
    n=$((n + 1))
  done
  pkill -INT -P $pid
  wait $pid
  rc=$?
  if [ $rc -eq 4 ] && grep -q "^rnn_dist: stopped by SIGINT (Ctrl-C) after [0-9]* of [0-9]* rows: no predictions written" "$W/pred-int.log"; then
    ok "Ctrl-C during predict: exit 4, named"
  else
    bad "Ctrl-C during predict: exit $rc: $(cat "$W/pred-int.log")"
  fi
  [ "$(cat "$W/pred-old.h5")" = "an earlier file" ] && ok || bad "Ctrl-C during predict: the earlier file changed"
  ls "$W"/pred-old.h5.tmp.* >/dev/null 2>&1 && bad "Ctrl-C during predict: temporary file left" || ok
fi
