#!/bin/sh
# Distributed semantics of rnn_dist on one machine, under mpirun:
#   - the same run (dropout on, shuffling on, a global batch not divisible by
#     the rank count, a last partial batch) on 1, 2, 3 and 4 ranks gives the
#     same per-epoch losses and final weights within 1e-5 relative;
#   - early stopping decides the same epoch on every rank count;
#   - a run stopped after an epoch (or mid-epoch) resumes on another number
#     of ranks to the same result;
#   - eval and predict give the same numbers and file on 1, 2 and 3 ranks;
#   - each rank holds only its rows of a large file, training and evaluating;
#     bad values found by any rank are reported once, the lowest row first;
#   - replicas that drift apart are detected (RNN_DIST_FAULT=drift@RANK);
#   - a NaN loss on one rank (RNN_DIST_FAULT=nan@RANK): every rank skips the
#     same updates (--on-nan skip), or stops before it with last.h5 (stop);
#   - a stuck rank (RNN_DIST_FAULT=stall@RANK): the watchdog of the others
#     (--comm-timeout) names the operation and step and ends the job;
#   - SIGUSR1 / SIGTERM to mpirun: last.h5 at the next step, every rank exits,
#     --resume auto finishes with the weights of an uninterrupted run;
#   - kill -9 of one rank mid-epoch: mpirun exits non-zero within 30 s, no
#     process is left, last.h5 loads, --resume auto finishes as above.
# Usage: RNN_DIST=build/rnn_dist tests/run_dist.sh    (exits non-zero on failure)
#   RNN_DIST_QUICK=1  a shorter subset (used under the sanitizers, where the
#                     resident-memory check does not apply)
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
cleanup() {
  pkill -KILL -f "$W/" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT INT TERM
# mp NP ARGS...: rnn_dist train on NP ranks, bounded, output in $W/log
mp() {
  np=$1
  shift
  timeout 120 mpirun --oversubscribe -np "$np" "$BIN" train "$@" >"$W/log" 2>&1
}
same() { $PY "$HERE/compare_runs.py" "$@" >"$W/cmp" 2>&1; }
# rnn_dist processes of this test still alive
leftovers() { pgrep -f "^$BIN train .*$W/" >/dev/null; }

"$BIN" datagen seqclass --out "$W/sc.h5" >/dev/null || bad "datagen seqclass"
"$BIN" datagen counting --out "$W/ct.h5" >/dev/null || bad "datagen counting"
"$BIN" datagen adding --n 1000 --out "$W/ad.h5" >/dev/null || bad "datagen adding"

# ---- rank-count invariance ---------------------------------------------------
# 1000 rows, global batch 30: 34 batches, the last of 10 rows; 30 rows split
# 15/15, 10/10/10 and 8/8/7/7 over 2, 3 and 4 ranks.
LSTM="--data $W/sc.h5 --cell lstm --layers 2 --hidden 24 --dropout 0.3 --out-dropout 0.2
  --batch-size 30 --epochs 2 --seed 1"
ranks="1 2 3 4"
[ "$QUICK" = 1 ] && ranks="1 3"
for np in $ranks; do
  # shellcheck disable=SC2086
  mp $np $LSTM --run-dir "$W/lstm$np" || bad "lstm on $np ranks: exit $? ($(tail -1 "$W/log"))"
done
for np in $ranks; do
  [ "$np" = 1 ] && continue
  if same "$W/lstm1" "$W/lstm$np"; then
    ok "lstm, dropout, uneven batches: $np ranks = 1 rank ($(cat "$W/cmp"))"
  else
    bad "lstm: $np ranks differ from 1 rank: $(cat "$W/cmp")"
  fi
done
# token input, per-step targets, a batch of 7 over 3 ranks (3/2/2)
TOK="--data $W/ct.h5 --batch-size 7 --epochs 2 --out-dropout 0.1 --seed 2"
# shellcheck disable=SC2086
mp 1 $TOK --run-dir "$W/tok1" && mp 3 $TOK --run-dir "$W/tok3" ||
  bad "token runs: $(tail -1 "$W/log")"
same "$W/tok1" "$W/tok3" && ok "tokens, per-step targets: 3 ranks = 1 rank" ||
  bad "tokens: 3 ranks differ: $(cat "$W/cmp")"

# a global batch of 3 rows on 4 ranks: one rank has no rows at every step and
# still takes part in every reduction
# shellcheck disable=SC2086
mp 1 $TOK --batch-size 3 --max-steps 30 --run-dir "$W/few1" &&
  mp 4 $TOK --batch-size 3 --max-steps 30 --run-dir "$W/few4" || bad "batch 3 on 4 ranks: $(tail -1 "$W/log")"
same "$W/few1" "$W/few4" && ok "batch of 3 on 4 ranks (one idle rank per step) = 1 rank" ||
  bad "batch 3 on 4 ranks differs: $(cat "$W/cmp")"

# ---- the bf16 wire (--allreduce bf16) ----------------------------------------
# 1 rank sends nothing: the fp32 run bit for bit. On 3 ranks the summed
# gradients are rounded to bf16 on the way: every rank still holds the same
# weights (the run checks its replicas each epoch), which leave the fp32 run's
# but stay within 2% (L2) of them: each step's gradient is within 3 x 2^-8
# (1.2%) of fp32's elementwise (allreduce.h), and Adam's step does not grow
# with the gradient's error. (Seen: 0.35%, losses within 1.3e-4.)
# shellcheck disable=SC2086
mp 1 $LSTM --allreduce bf16 --run-dir "$W/bf1" || bad "bf16 wire, 1 rank: $(tail -1 "$W/log")"
grep -q "^note: --allreduce bf16 has no effect on 1 rank" "$W/log" ||
  bad "bf16 wire, 1 rank: no note that it has no effect"
if $PY "$HERE/compare_runs.py" --rtol 0 "$W/lstm1" "$W/bf1" >"$W/cmp" 2>&1; then
  ok "bf16 wire on 1 rank: the fp32 run bit for bit"
else
  bad "bf16 wire on 1 rank differs from fp32: $(cat "$W/cmp")"
fi
# shellcheck disable=SC2086
mp 3 $LSTM --allreduce bf16 --run-dir "$W/bf3" || bad "bf16 wire, 3 ranks: $(tail -1 "$W/log")"
if grep -q "^gradients cross between ranks in bf16" "$W/log" &&
  grep -q "^all-reduce: .*(3 ranks, bf16 on the wire)" "$W/log" &&
  ! same "$W/lstm3" "$W/bf3" && same --rtol 0.02 "$W/lstm3" "$W/bf3"; then
  ok "bf16 wire on 3 ranks: said so, weights moved from fp32's but within 2% ($(cat "$W/cmp"))"
else
  bad "bf16 wire on 3 ranks: $(cat "$W/cmp"; tail -3 "$W/log")"
fi

# ---- eval and predict on any rank count ----------------------------------------
# each rank evaluates its share of the rows; rank 0 predicts and writes batch
# by batch: the same numbers and the same predictions file on 1, 2 and 3 ranks
# (dense per-sequence targets, and per-step token targets with padding)
# same_h5 A B: every dataset and root attribute of A and B equal, bit for bit
same_h5() {
  $PY - "$1" "$2" >"$W/cmp" 2>&1 <<'PYEOF'
import sys
import h5py
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
for k in a:
    x, y = a[k][()], b[k][()]
    assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), k
assert dict(a.attrs) == dict(b.attrs)
print(", ".join("%s %s" % (k, a[k].shape) for k in sorted(a)))
PYEOF
}
# close_evals A B: the same names and counts, values within 1e-7 relative (the
# per-row terms are the same bits whatever the rank count; their sums in
# double differ in order, as before eval streamed)
close_evals() {
  paste -d ' ' "$1" "$2" | awk '$1 != $3 { exit 1 }
    { d = $2 - $4; if (d < 0) d = -d; m = $2 < 0 ? -$2 : $2; if (d > 1e-7 * m + 1e-12) exit 1 }'
}
# the counting rows with lengths 1..4: padded steps hold NaN and -1
$PY - "$W/ct.h5" "$W/pad.h5" <<'PYEOF'
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "w") as g:
    g["inputs"] = f["val/inputs"][()]
    g["targets"] = f["val/targets"][()]
    g["lengths"] = np.random.default_rng(3).integers(1, 5, len(g["inputs"])).astype(np.int32)
    g.attrs["vocab_size"] = 10
    g.attrs["num_classes"] = 10
PYEOF
for pair in "lstm1 sc.h5" "tok1 pad.h5"; do
  ck=${pair% *} data=${pair#* }
  for np in 1 2 3; do
    timeout 60 mpirun --oversubscribe -np $np "$BIN" eval --checkpoint "$W/$ck/best.h5" \
      --data "$W/$data" --batch-size 7 >"$W/eval$np" 2>"$W/log" || bad "eval on $np ranks: $(tail -1 "$W/log")"
    timeout 60 mpirun --oversubscribe -np $np "$BIN" predict --checkpoint "$W/$ck/best.h5" \
      --data "$W/$data" --batch-size 7 --out "$W/pred$np.h5" >/dev/null 2>"$W/log" ||
      bad "predict on $np ranks: $(tail -1 "$W/log")"
  done
  close_evals "$W/eval1" "$W/eval2" && close_evals "$W/eval1" "$W/eval3" &&
    ok "eval of $data on 1, 2, 3 ranks: $(tr '\n' ' ' <"$W/eval1")" ||
    bad "eval of $data differs: $(cat "$W/eval1" "$W/eval2" "$W/eval3" | tr '\n' ' ')"
  same_h5 "$W/pred1.h5" "$W/pred3.h5" && same_h5 "$W/pred1.h5" "$W/pred2.h5" &&
    ok "predict $data on 3 and 2 ranks = 1 rank, bit for bit: $(cat "$W/cmp")" ||
    bad "predict $data: ranks differ: $(cat "$W/cmp")"
done

# ---- early stopping: the same decision on every rank count -------------------
ES="--data $W/sc.h5 --cell gru --hidden 16 --batch-size 25 --epochs 30 --patience 2
  --min-delta 0.01 --seed 4"
# shellcheck disable=SC2086
mp 1 $ES --run-dir "$W/es1" && mp 3 $ES --run-dir "$W/es3" || bad "early-stopping runs"
rows=$(($(wc -l <"$W/es1/metrics.csv") - 1))
if [ "$rows" -lt 30 ] && grep -q "early stopping" "$W/log" && same "$W/es1" "$W/es3"; then
  ok "early stopping after epoch $rows on 1 and 3 ranks"
else
  bad "early stopping: $rows epochs on 1 rank; $(cat "$W/cmp")"
fi

# ---- resume on a different number of ranks -----------------------------------
# shellcheck disable=SC2086
mp 2 $LSTM --epochs 1 --run-dir "$W/re" && mp 3 $LSTM --resume auto --run-dir "$W/re" ||
  bad "resume 2 -> 3 ranks: $(tail -1 "$W/log")"
same "$W/lstm1" "$W/re" && ok "stopped after epoch 1 on 2 ranks, resumed on 3: = 1 rank" ||
  bad "resume 2 -> 3 ranks differs: $(cat "$W/cmp")"
# mid-epoch: 40 steps (epoch 2, batch 6) on 4 ranks, then the rest on 2
# shellcheck disable=SC2086
mp 4 $LSTM --max-steps 40 --run-dir "$W/mid" && mp 2 $LSTM --resume auto --max-steps 0 --run-dir "$W/mid" ||
  bad "mid-epoch resume 4 -> 2 ranks: $(tail -1 "$W/log")"
same "$W/lstm1" "$W/mid" && ok "stopped mid-epoch on 4 ranks, resumed on 2: = 1 rank" ||
  bad "mid-epoch resume 4 -> 2 differs: $(cat "$W/cmp")"

# ---- per-rank reads ---------------------------------------------------------------
if [ "$QUICK" != 1 ]; then
# a 190 MB file under --max-memory 90M: too big to hold, each of 2 ranks reads
# only the rows it trains on, as much at a time as half the room under the
# limit allows, and stays under it (most of it is MPI and libraries)
"$BIN" datagen adding --n 100000 --seq-len 200 --out "$W/big.h5" >/dev/null || bad "datagen big"
# (time appends to a file: a line on stderr was once lost by mpirun's forwarding)
timeout 120 mpirun --oversubscribe -np 2 /usr/bin/time -a -o "$W/rss" -f "maxrss_kb %M" "$BIN" train \
  --data "$W/big.h5" --cell gru --hidden 8 --batch-size 64 --max-steps 5 --run-dir "$W/big" \
  --max-memory 90M >"$W/log" 2>&1 || bad "training on the big file: $(tail -2 "$W/log")"
grep -q "^data: training rows read .* at a time" "$W/log" && ok \
  || bad "big file under --max-memory 90M: not read a window at a time: $(grep '^data' "$W/log")"
rss=$(sed -n 's/^maxrss_kb //p' "$W/rss" | sort -n | tail -1)
if [ "$(grep -c '^maxrss_kb ' "$W/rss")" -eq 2 ] && [ "$rss" -lt 92160 ]; then
  ok "190 MB dataset on 2 ranks under --max-memory 90M: largest rank resident set $((rss / 1024)) MB"
else
  bad "per-rank reads: a rank's resident set is ${rss:-?} kB (limit 92160): $(cat "$W/rss")"
fi
# eval streams its share a window at a time: as small as training, and the
# same numbers on 1 and 2 ranks (many windows of 8 MiB)
timeout 120 mpirun --oversubscribe -np 2 /usr/bin/time -a -o "$W/erss" -f "maxrss_kb %M" "$BIN" \
  eval --checkpoint "$W/big/last.h5" --data "$W/big.h5:/train" >"$W/eval2" 2>"$W/log" ||
  bad "eval of the big file on 2 ranks: $(tail -2 "$W/log")"
timeout 120 "$BIN" eval --checkpoint "$W/big/last.h5" --data "$W/big.h5:/train" >"$W/eval1" \
  2>"$W/log" || bad "eval of the big file on 1 rank: $(tail -2 "$W/log")"
rss=$(sed -n 's/^maxrss_kb //p' "$W/erss" | sort -n | tail -1)
if [ "$(grep -c '^maxrss_kb ' "$W/erss")" -eq 2 ] && [ "$rss" -lt 100000 ] &&
  close_evals "$W/eval1" "$W/eval2"; then
  ok "eval of 150 MB on 2 ranks: largest rank resident set $((rss / 1024)) MB, numbers = 1 rank"
else
  bad "eval of the big file: resident set ${rss:-?} kB (limit 100000), $(cat "$W/eval1" "$W/eval2" | tr '\n' ' ')"
fi
rm -f "$W/big.h5"
fi
# ranks check their own share of the rows: the lowest bad row wins, whichever
# rank found it (row 400 is rank 1's of 3, row 700 rank 2's)
$PY - "$W/sc.h5" "$W/badrows.h5" <<'PYEOF'
import shutil, sys
import h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    x = f["train/inputs"]
    x[700, 0, 0] = float("nan")
    x[400, 1, 2] = float("inf")
PYEOF
timeout 60 mpirun --oversubscribe -np 3 "$BIN" train --data "$W/badrows.h5" --run-dir "$W/badrows" \
  >"$W/log" 2>&1
rc=$?
n=$(grep -c '^rnn_dist: ' "$W/log")
if [ $rc -ne 0 ] && [ "$n" -eq 1 ] && grep -q "^rnn_dist: .*badrows.h5: /train/inputs\[400, 1, 2\] is Inf" "$W/log"; then
  ok "bad rows found by ranks 1 and 2: one message, the lowest row (exit $rc)"
else
  bad "bad rows on 3 ranks: exit $rc, $n messages: $(grep '^rnn_dist: ' "$W/log")"
fi

# ---- replicas that drift apart -------------------------------------------------
# shellcheck disable=SC2086
RNN_DIST_FAULT=drift@2 mp 3 $LSTM --run-dir "$W/drift"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "replicas drifted apart after epoch 1: the parameters of rank 2 differ" "$W/log"; then
  ok "drifted replica detected and named (exit $rc)"
else
  bad "drift: exit $rc, $(grep rnn_dist: "$W/log" | head -2)"
fi

# ---- a non-finite loss on one rank (RNN_DIST_FAULT=nan@R: steps 3 and 7) --------
# --on-nan skip: every rank skips the same two updates, counted in metrics.csv,
# and the run equals the same faults on 1 rank; --on-nan stop (default): every
# rank stops before step 3, last.h5 holds that state, and resuming with skip
# finishes to the skip run's weights.
# shellcheck disable=SC2086
RNN_DIST_FAULT=nan@0 mp 1 $TOK --on-nan skip --run-dir "$W/nan1" || bad "nan skip on 1 rank: exit $?"
# shellcheck disable=SC2086
RNN_DIST_FAULT=nan@2 mp 3 $TOK --on-nan skip --run-dir "$W/nan3"
rc=$?
skipped=$(awk -F, 'NR == 2 { print $11 }' "$W/nan3/metrics.csv" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$skipped" = 2 ] && same "$W/nan1" "$W/nan3" &&
  [ "$(grep -c 'update skipped (--on-nan skip)' "$W/log")" -eq 2 ]; then
  ok "NaN loss on rank 2 of 3, --on-nan skip: 2 updates skipped by every rank, = 1 rank"
else
  bad "nan skip: exit $rc, skipped '$skipped', $(cat "$W/cmp" 2>/dev/null) $(grep rnn_dist: "$W/log" | head -2)"
fi
# shellcheck disable=SC2086
RNN_DIST_FAULT=nan@1 mp 3 $TOK --run-dir "$W/nanstop"
rc=$?
if [ $rc -eq 3 ] && [ "$(grep -c '^rnn_dist: non-finite loss or gradient at step 3 (epoch 1, batch 4)' "$W/log")" -eq 1 ] &&
  "$BIN" inspect "$W/nanstop/last.h5" 2>/dev/null | grep -q "step 3, batch in epoch 3"; then
  # shellcheck disable=SC2086
  RNN_DIST_FAULT=nan@1 mp 2 $TOK --on-nan skip --resume auto --run-dir "$W/nanstop" &&
    same "$W/nan1" "$W/nanstop" && ok "NaN loss, --on-nan stop: exit 3 before step 3, last.h5 at step 3, resume = skip run" ||
    bad "nan stop, resume with skip: $(cat "$W/cmp" 2>/dev/null) $(grep rnn_dist: "$W/log" | head -2)"
else
  bad "nan stop: exit $rc, $(grep rnn_dist: "$W/log" | head -2)"
fi

# ---- HDF5 crashing on the data file, in every rank's probe child --------------
# shellcheck disable=SC2086
RNN_DIST_FAULT=probe_crash mp 3 $TOK --run-dir "$W/probe"
rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c "^rnn_dist: .*HDF5 crashed reading this file's structure" "$W/log")" -eq 1 ] &&
  ! leftovers; then
  ok "HDF5 crash on the data file (probe child): one line, every rank exits 2"
else
  bad "probe crash on 3 ranks: exit $rc: $(grep rnn_dist: "$W/log" | head -3)"
fi

# ---- a stuck rank (RNN_DIST_FAULT=stall@R sleeps before step 5) -----------------
# the others' collective waits past --comm-timeout: named, the job ends
t0=$(date +%s)
# shellcheck disable=SC2086
RNN_DIST_FAULT=stall@1 mp 3 $TOK --comm-timeout 3 --run-dir "$W/stall"
rc=$?
took=$(($(date +%s) - t0))
sleep 0.5
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -le 20 ] && ! leftovers &&
  grep -q "^rnn_dist: rank [02]: the gradient all-reduce waited more than 3 s during training at step 5" "$W/log"; then
  ok "stuck rank: the watchdog names the all-reduce and step 5, job ended after ${took}s (exit $rc)"
else
  bad "stuck rank: exit $rc after ${took}s: $(grep rnn_dist: "$W/log" | head -2)"
fi

# ---- interruptions: signals and kill -9 ----------------------------------------
# ~0.15 s per epoch on 2 ranks: an interruption after epoch 2 lands mid-run.
hid=128
[ "$QUICK" = 1 ] && hid=64
LONG="--data $W/ad.h5 --cell lstm --hidden $hid --batch-size 20 --epochs 20 --seed 6"
# shellcheck disable=SC2086
mp 2 $LONG --run-dir "$W/straight" || bad "uninterrupted long run: $(tail -1 "$W/log")"
# interrupt NAME ACTION: start the long run in the background, act after epoch 2,
# then check how it ended and that --resume auto gives the uninterrupted result
interrupt() {
  name=$1 action=$2 dir="$W/$1"
  # shellcheck disable=SC2086
  timeout 120 mpirun --oversubscribe -np 2 "$BIN" train $LONG --run-dir "$dir" >"$W/log.$name" 2>&1 &
  mpid=$!
  # act once two epochs are done (18 remain, ~2.5 s)
  n=0
  while [ "$(cat "$dir/metrics.csv" 2>/dev/null | wc -l)" -lt 3 ] && [ $n -lt 600 ]; do
    sleep 0.1
    n=$((n + 1))
  done
  t0=$(date +%s)
  case $action in
    USR1 | TERM) pkill -"$action" -P $mpid -x mpirun ;;
    KILL) pkill -KILL -n -f "^$BIN train .*$dir" ;;
  esac
  wait $mpid
  rc=$?
  took=$(($(date +%s) - t0))
  sleep 0.5
  if leftovers; then
    bad "$name: rnn_dist processes left behind"
    pkill -KILL -f "^$BIN train .*$W/"
  fi
  if [ $took -gt 30 ]; then bad "$name: mpirun took ${took}s to exit"; fi
  case $action in
    USR1) [ $rc -eq 4 ] && grep -q "stopped by SIGUSR1 at step" "$W/log.$name" ||
      bad "$name: exit $rc, expected 4 and the stop message" ;;
    TERM) [ $rc -ne 0 ] && grep -q "stopped by SIGTERM (from mpirun: Ctrl-C, kill or scancel) at step" "$W/log.$name" ||
      bad "$name: exit $rc, expected non-zero and the stop message" ;;
    KILL) [ $rc -ne 0 ] || bad "$name: mpirun exited 0 after a rank was killed" ;;
  esac
  if ! "$BIN" inspect "$dir/last.h5" >"$W/insp" 2>&1; then
    bad "$name: last.h5 does not load: $(cat "$W/insp")"
    return
  fi
  state=$(grep 'state' "$W/insp" | sed 's/^ *//')
  # shellcheck disable=SC2086
  if ! mp 2 $LONG --resume auto --run-dir "$dir"; then
    bad "$name: --resume auto failed: $(tail -1 "$W/log")"
  elif same "$W/straight" "$dir"; then
    ok "$name: exit $rc after ${took}s, last.h5 loads ($state), resume = uninterrupted run"
  else
    bad "$name: resumed run differs: $(cat "$W/cmp")"
  fi
}
interrupt sigusr1 USR1
if [ "$QUICK" != 1 ]; then
  interrupt sigterm TERM
  interrupt kill9 KILL
fi

summary dist
