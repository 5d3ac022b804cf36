# shellcheck shell=sh
# tests/mistakes/rundir.sh - a run directory belongs to one run: reruns,
# --fresh, the lock, --resume auto among another run's files, resume with
# changed options, a finished run. Sourced by tests/run_mistakes.sh.

# ---- training again into a run directory --------------------------------
R="$W/run1"
run "first run" 0 "$BIN" train $FAST --run-dir "$R" && ok
sums "$R" >"$W/before"
if run "rerun into the same run-dir" 2 "$BIN" train $FAST --run-dir "$R"; then
  one_line "rerun into the same run-dir" "already holds a run.*--resume auto.*--fresh"
fi
sums "$R" >"$W/after"
same_bytes "rerun: nothing in the run-dir changed" "$W/before" "$W/after"
cp "$R/config.ini" "$W/hand.ini"
run "its own config.ini as --config" 2 "$BIN" train --config "$R/config.ini" --run-dir "$R" &&
  one_line "its own config.ini as --config" "already holds a run"
same_bytes "config.ini used as --config is intact" "$W/hand.ini" "$R/config.ini"
[ ! -e "$R/.lock" ] && ok || bad "a refused run left $R/.lock"

# ---- --fresh moves the earlier run aside ----------------------------------
if run "--fresh" 0 "$BIN" train $FAST --run-dir "$R" --fresh; then
  grep -q "moved the earlier run's .* into $R/previous-1/" "$W/err" && ok ||
    bad "--fresh: no note of the moved files: $(cat "$W/err")"
  sums "$R/previous-1" >"$W/moved"
  same_bytes "--fresh: the earlier run's files are in previous-1, intact" "$W/before" "$W/moved"
  [ -s "$R/metrics.csv" ] && [ -s "$R/last.h5" ] && ok || bad "--fresh: the new run's files are missing"
fi
run "--fresh again" 0 "$BIN" train $FAST --run-dir "$R" --fresh && [ -d "$R/previous-2" ] &&
  [ -d "$R/previous-1" ] && ok
run "--fresh with --resume" 2 "$BIN" train $FAST --run-dir "$R" --fresh --resume auto && ok

# ---- the lock: two runs into one directory at once ------------------------
L="$W/locked"
"$BIN" train $SLOW --run-dir "$L" >"$W/l1.log" 2>&1 &
first=$!
if wait_line "^epoch 1/" "$W/l1.log" $first; then
  if run "a second run into a locked run-dir" 2 "$BIN" train $SLOW --run-dir "$L" --resume auto; then
    one_line "a second run into a locked run-dir" "in use by another run \(pid $first on host $(hostname)"
  fi
  kill -KILL $first
  wait $first 2>/dev/null
  # the holder is gone: its lock is taken over with a warning
  if run "resume after kill -9 (stale lock)" 0 "$BIN" train $SLOW --run-dir "$L" --resume auto --epochs 2; then
    grep -q "taking over the lock of a run that is gone (pid $first" "$W/err" && ok ||
      bad "stale lock: no warning: $(cat "$W/err")"
  fi
  no_tmp "kill -9 then resume" "$L"
  [ ! -e "$L/.lock" ] && ok || bad "lock left after the run"
else
  bad "slow run did not start: $(cat "$W/l1.log")"
  kill -KILL $first 2>/dev/null
fi

# ---- --resume auto and keep see only this run's checkpoints ---------------
A="$W/runA"
B="$W/runB"
run "run A" 0 "$BIN" train $FAST --epochs 4 --run-dir "$A" && ok
run "run B" 0 "$BIN" train $FAST --epochs 2 --keep 5 --run-dir "$B" && ok
# a checkpoint of run A (more steps) dropped into B's directory
cp "$A/ckpt-epoch0004.h5" "$B/ckpt-epoch0009.h5"
sleep 0.01
touch "$B/last.h5"
if run "--resume auto beside another run's checkpoint" 0 "$BIN" train $FAST --epochs 3 --keep 5 --run-dir "$B" --resume auto; then
  grep -q "resuming from $B/last.h5: epoch 2" "$W/out" && ok ||
    bad "resumed from the wrong file: $(grep resuming "$W/out")"
  grep -q "1 checkpoint(s) of another run" "$W/err" && ok || bad "no warning of the other run's file"
  [ -e "$B/ckpt-epoch0009.h5" ] && ok || bad "keep pruned another run's checkpoint"
fi
# keep prunes this run's older checkpoints (known by their run id) and the ones
# this launch wrote (known without opening them), never another run's
K="$W/runK"
run "run K, 2 epochs" 0 "$BIN" train $FAST --epochs 2 --keep 5 --run-dir "$K" && ok
cp "$A/ckpt-epoch0004.h5" "$K/ckpt-epoch0001.h5"
sleep 0.01
touch "$K/last.h5"
if run "resume K with --keep 1" 0 "$BIN" train $FAST --epochs 4 --keep 1 --run-dir "$K" --resume auto; then
  [ -e "$K/ckpt-epoch0001.h5" ] && ok || bad "--keep 1 pruned another run's checkpoint"
  [ ! -e "$K/ckpt-epoch0002.h5" ] && ok || bad "--keep 1 left the run's own epoch 2"
  [ ! -e "$K/ckpt-epoch0003.h5" ] && ok || bad "--keep 1 left epoch 3, written by this launch"
  [ -e "$K/ckpt-epoch0004.h5" ] && ok || bad "--keep 1 removed the newest checkpoint"
fi
# pruning opens no file this launch wrote: opening one forks the HDF5 probe
# (after a fork every page the run writes faults once), so 6 epochs with
# --keep 1 fork as often as 2 epochs do
forks() { # forks DIR EPOCHS: processes started by a run of EPOCHS epochs
  strace -f -qq -e trace=clone,clone3,fork,vfork -o "$W/strace" "$BIN" train $FAST \
    --epochs "$2" --keep 1 --run-dir "$1" >/dev/null 2>&1 || echo "failed"
  grep -v CLONE_VM "$W/strace" | grep -c -E 'clone|fork'
}
if strace -f -qq -o /dev/null true 2>/dev/null; then
  f2=$(forks "$W/forks2" 2)
  f6=$(forks "$W/forks6" 6)
  [ "$f2" = "$f6" ] && ok || bad "pruning forks: 2 epochs $f2 processes, 6 epochs $f6"
else
  echo "skip: strace does not run here (the pruning fork count)"
fi

# ---- resume with changed options -----------------------------------------
C="$W/runC"
run "run C, 2 epochs" 0 "$BIN" train $FAST --run-dir "$C" && ok
sums "$C" >"$W/before"
if run "resume: --hidden changed" 2 "$BIN" train $FAST --run-dir "$C" --resume auto --epochs 3 --hidden 32 --seed 99; then
  one_line "resume: --hidden changed" "cannot change: hidden 16 -> 32, seed 3 -> 99"
fi
sums "$C" >"$W/after"
same_bytes "refused resume touched nothing" "$W/before" "$W/after"
cp "$W/sine.h5" "$W/other.h5"
run "resume: other data" 2 "$BIN" train $FAST --data "$W/other.h5" --run-dir "$C" --resume auto --epochs 3 &&
  one_line "resume: other data" "data $W/other.h5 is not the file this run trained on"
cp "$W/ct.h5" "$W/moved.h5"
if run "resume: lr changed, data moved" 0 "$BIN" train $FAST --data "$W/moved.h5" --run-dir "$C" --resume auto --epochs 3 --lr 0.005; then
  grep -q "^resume: lr 0.01 -> 0.005$" "$W/out" && grep -q "^resume: epochs 2 -> 3$" "$W/out" &&
    grep -q "^resume: data moved: $W/ct.h5 -> $W/moved.h5" "$W/out" && ok ||
    bad "resume changes not printed: $(cat "$W/out")"
  grep -q "^lr = 0.005$" "$C/config.ini" && ok || bad "config.ini does not record the new lr"
  grep -q "changed: .*lr 0.01 -> 0.005" "$C/resumes.log" && ok || bad "resumes.log: $(cat "$C/resumes.log")"
fi
# a finished run with a new lr: says so, touches nothing
sums "$C" >"$W/before"
if run "resume a finished run" 0 "$BIN" train $FAST --data "$W/moved.h5" --run-dir "$C" --resume auto --epochs 3 --lr 0.5 --hidden 64; then
  grep -q "this run is finished .*all 3 epochs are done; raise --epochs" "$W/out" && ok ||
    bad "finished run: $(cat "$W/out")"
fi
sums "$C" >"$W/after"
same_bytes "a finished run is left untouched" "$W/before" "$W/after"
# the same command without any option but the run-dir: the run's own options
run "resume with only --run-dir" 0 "$BIN" train --run-dir "$C" --resume auto --epochs 4 &&
  grep -q "resuming from $C/last.h5: epoch 3" "$W/out" && ok
# stopped in its second epoch (15 steps an epoch), resumed asking for one:
# finished, says so, touches nothing (it once printed "done" and stopped)
M2="$W/runM2"
run "run M2 stopped in its second epoch" 0 "$BIN" train $FAST --run-dir "$M2" --epochs 3 --max-steps 20 && ok
sums "$M2" >"$W/before"
if run "resume mid-epoch with fewer epochs" 0 "$BIN" train $FAST --run-dir "$M2" --resume auto --epochs 1 --max-steps 0; then
  grep -q "this run is finished .*all 1 epochs are done; raise --epochs" "$W/out" && ok ||
    bad "resume mid-epoch with fewer epochs: $(cat "$W/out")"
fi
sums "$M2" >"$W/after"
same_bytes "a run past the epochs asked for is left untouched" "$W/before" "$W/after"
# batch-size may change at an epoch boundary, not mid-epoch
M="$W/runM"
run "run M stopped mid-epoch" 0 "$BIN" train $FAST --run-dir "$M" --max-steps 5 && ok
run "resume mid-epoch with another batch-size" 2 "$BIN" train $FAST --run-dir "$M" --resume auto --max-steps 0 --batch-size 64 &&
  one_line "resume mid-epoch with another batch-size" "batch-size 32 -> 64.*epoch boundary"
run "resume at a boundary with another batch-size" 0 "$BIN" train $FAST --run-dir "$C" --resume auto --epochs 5 --batch-size 64 &&
  grep -q "^resume: batch-size 32 -> 64$" "$W/out" && ok
# an sgd run given momentum on resume (alone: the optimizer comes from the
# run): accepted, and its buffer starts at the first gradient as torch's
S="$W/runS"
run "run S with sgd" 0 "$BIN" train $FAST --run-dir "$S" --optimizer sgd --lr 0.05 && ok
run "resume adding momentum" 0 "$BIN" train --run-dir "$S" --resume auto --epochs 3 --momentum 0.9 &&
  grep -q "^resume: momentum 0 -> 0.9$" "$W/out" && grep -q "^momentum = 0.9$" "$S/config.ini" && ok
# ... while a new run still refuses momentum with adam
run "momentum with adam" 2 "$BIN" train $FAST --run-dir "$W/runA" --momentum 0.9 &&
  one_line "momentum with adam" "momentum applies to optimizer sgd only \\(got adam\\)$"
