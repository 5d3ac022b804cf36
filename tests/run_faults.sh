#!/bin/sh
# A hostile environment, on a real small file system (a 4 MiB tmpfs as the run
# directory's disk), under mpirun with 2 ranks:
#   - the disk fills up mid-run: the next checkpoint cannot be written; the job
#     ends on every rank with one line naming the file and "No space left on
#     device" (exit 1), and the checkpoints written before stay intact;
#   - the same with --on-save-error continue: a warning per failed save,
#     training goes on, and once space is free again the next save succeeds
#     and the run completes;
#   - a run directory that is full from the start is refused before training
#     on every rank, with nothing left behind;
#   - a run directory on a read-only file system (root writes anywhere else) is
#     refused before training on every rank.
# Needs root (mount): skipped otherwise.
# Usage: RNN_DIST=build/rnn_dist tests/run_faults.sh    (exits non-zero on failure)
set -u
if [ "$(id -u)" -ne 0 ]; then
  echo "faults: skipped: needs root (mount tmpfs)"
  exit 0
fi
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
DISK="$W/disk"
cleanup() {
  pkill -KILL -f "$W/" 2>/dev/null
  umount -l "$DISK" 2>/dev/null
  umount -l "$W/ro" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$DISK"
mount -t tmpfs -o size=4m tmpfs "$DISK" || { bad "cannot mount a tmpfs"; summary faults; exit 1; }
# ~0.1 s per epoch on 2 ranks: 20000 counting sequences, batch 64; enough
# epochs (~6 s) that a loaded machine, where this script's polling may lag
# the run by seconds, still fills the disk while the run trains
"$BIN" datagen counting --n 20000 --out "$W/ct.h5" >/dev/null || bad "datagen counting"
EPOCHS=60
RUN="--data $W/ct.h5 --batch-size 64 --epochs $EPOCHS --seed 3 --checkpoint-every 1 --keep 1"
ms() { echo $(($(date +%s%N) / 1000000)); }
# fill: write zeros until the file system is full (4 KiB blocks: not a page is left)
fill() { dd if=/dev/zero of="$DISK/filler" bs=4k >/dev/null 2>&1; }
# start NAME ARGS...: train on 2 ranks in the background, output in $W/NAME.log
start() {
  name=$1
  shift
  # shellcheck disable=SC2086
  timeout 300 mpirun --oversubscribe -np 2 "$BIN" train $RUN --run-dir "$DISK/$name" "$@" \
    >"$W/$name.log" 2>&1 &
  pid=$!
}

# ---- the disk fills up mid-run: stop --------------------------------------------
start stop
wait_line "^epoch 2/" "$W/stop.log" "$pid" || bad "disk full, stop: training did not start: $(tail -2 "$W/stop.log")"
t0=$(ms)
fill
wait $pid
rc=$?
took=$(($(ms) - t0))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
  [ "$(grep -c '^rnn_dist: .*cannot write checkpoint: No space left on device; the previous checkpoints are intact' "$W/stop.log")" -eq 1 ] &&
  "$BIN" inspect "$DISK/stop/last.h5" >"$W/insp" 2>&1 && ! ls "$DISK/stop" | grep -q '\.tmp'; then
  ok "disk full mid-run: one line, exit $rc after ${took} ms, last.h5 intact ($(grep state "$W/insp" | sed 's/^ *//'))"
else
  bad "disk full mid-run: exit $rc; $(grep rnn_dist: "$W/stop.log" | head -2); $(cat "$W/insp" 2>/dev/null | head -1)"
fi
rm -f "$DISK/filler"
rm -rf "$DISK/stop"

# ---- the disk fills up mid-run: continue, then space comes back ------------------
start cont --on-save-error continue
wait_line "^epoch 2/" "$W/cont.log" "$pid" || bad "disk full, continue: training did not start"
fill
if wait_line "warning: .*cannot write checkpoint: No space left on device; training goes on" \
  "$W/cont.log" "$pid"; then
  rm -f "$DISK/filler"
  wait $pid
  rc=$?
  ep=$("$BIN" inspect "$DISK/cont/last.h5" 2>/dev/null | sed -n 's/.*state *epoch \([0-9]*\),.*/\1/p')
  if [ $rc -eq 0 ] && [ "$ep" = $EPOCHS ]; then
    ok "disk full with --on-save-error continue: warned, trained on, saved again once space was back (last.h5 at epoch $EPOCHS)"
  else
    bad "continue: exit $rc, last.h5 epoch '$ep': $(grep rnn_dist: "$W/cont.log" | tail -2)"
  fi
else
  bad "continue: no warning: $(grep rnn_dist: "$W/cont.log" | head -2)"
  wait $pid
fi
rm -rf "$DISK/cont"

# ---- a disk full from the start: refused before training ------------------------
mkdir -p "$DISK/full"
"$BIN" train --epochs 1 --run-dir "$DISK/full" >/dev/null 2>&1 # leaves a run to resume
fill
# shellcheck disable=SC2086
timeout 60 mpirun --oversubscribe -np 2 "$BIN" train --epochs 2 --run-dir "$DISK/full" \
  --resume auto >"$W/full.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "^rnn_dist: .*No space left on device" "$W/full.log" &&
  ! grep -q "^epoch " "$W/full.log" && ! ls "$DISK/full" | grep -q '\.tmp'; then
  ok "disk full before the run: refused on every rank before training (exit $rc), no temporary file left"
else
  bad "disk full before the run: exit $rc: $(grep -v '^-' "$W/full.log" | head -3)"
fi

# ---- a run directory that cannot be written: refused before training ------------
mkdir -p "$W/ro"
if mount -t tmpfs -o ro,size=1m tmpfs "$W/ro"; then
  timeout 60 mpirun --oversubscribe -np 2 "$BIN" train --data "$W/ct.h5" --epochs 1 --run-dir "$W/ro" \
    >"$W/ro.log" 2>&1
  rc=$?
  if [ $rc -eq 2 ] && [ "$(grep -c "^rnn_dist: run-dir $W/ro: cannot create or write: Read-only file system" \
    "$W/ro.log")" -eq 1 ] && ! grep -q "^epoch " "$W/ro.log"; then
    ok "run directory on a read-only file system: one line, every rank exits 2 before training"
  else
    bad "read-only run directory: exit $rc: $(grep -v '^-' "$W/ro.log" | head -3)"
  fi
else
  bad "cannot mount a read-only tmpfs"
fi

summary faults
