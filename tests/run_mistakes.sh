#!/bin/sh
# A user's ordinary habits, typed as a user types them: rerunning into a run
# directory, resuming with changed options, an output over an input, Ctrl-C,
# a closed pipe, a file that changes mid-run, memory that cannot suffice, a
# FIFO as data, sloppy config files. Each case checks what the user must see:
# nothing lost, one clear line, the documented exit code.
# The cases live in tests/mistakes/*.sh (one concern each), sourced in name
# order; they share this script's helpers and counters.
# Usage: RNN_DIST=build/rnn_dist tests/run_mistakes.sh   (exits non-zero on failure)
#   RNN_DIST_QUICK=1  the shorter subset (under the sanitizers)
#   ONLY=NAME         only tests/mistakes/NAME.sh
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'pkill -KILL -f "$W/" 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
cd "$W" || exit 1

# run NAME EXPECTED_CODE CMD...: expect_exit (common.sh)
run() { expect_exit "$@"; }
# one_line NAME PATTERN: $W/err is exactly one line, starting 'rnn_dist: ' and
# matching the extended regex PATTERN
one_line() {
  if [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q '^rnn_dist: ' "$W/err" && grep -Eq -- "$2" "$W/err"; then
    ok
  else
    bad "$1: expected one line matching '$2', got: $(head -c 600 "$W/err")"
  fi
}
# same_bytes NAME A B: files A and B are identical
same_bytes() { cmp -s "$2" "$3" && ok || bad "$1: $2 changed"; }
# no_tmp NAME DIR: no temporary file is left anywhere under DIR
no_tmp() {
  left=$(find "$2" -name '*.tmp*' 2>/dev/null | head -3)
  [ -z "$left" ] && ok || bad "$1: temporary files left: $left"
}
# attr FILE NAME: a scalar attribute of the root group
attr() { h5dump -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | tr -d '"' | head -1; }

# small data every case may use (read-only: copy before changing it)
"$BIN" datagen counting --n 600 --out "$W/ct.h5" --seed 2 >/dev/null 2>&1 || bad "datagen counting"
"$BIN" datagen sine --out "$W/sine.h5" --seed 2 >/dev/null 2>&1 || bad "datagen sine"
chmod a-w "$W/ct.h5" "$W/sine.h5"
FAST="--data $W/ct.h5 --batch-size 32 --epochs 2 --seed 3"
# sums DIR: a line per file of DIR (not subdirectories): name and checksum
sums() { (cd "$1" && for f in *; do [ -f "$f" ] && echo "$f $(cksum <"$f")"; done); }
# slow data for runs to interrupt: ~0.4 s per epoch with an LSTM of 128
"$BIN" datagen counting --n 20000 --out "$W/slow.h5" --seed 4 >/dev/null 2>&1 || bad "datagen slow"
SLOW="--data $W/slow.h5 --cell lstm --hidden 128 --batch-size 32 --epochs 200 --seed 3"


for f in "$HERE"/mistakes/${ONLY:-*}.sh; do
  [ -e "$f" ] || continue
  # shellcheck disable=SC1090
  . "$f"
done
summary mistakes
