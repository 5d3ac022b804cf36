#!/bin/sh
# rnn_dist selftest, the single-node test mode: alone and under
# mpirun -np 4 --oversubscribe it prints its table with every check passing,
# exits 0 and leaves no temporary run directory behind; a check that fails
# (replicas driven apart by RNN_DIST_FAULT=drift) makes it print FAIL on
# that row and exit 1, on every rank.
# Usage: RNN_DIST=build/rnn_dist tests/run_selftest.sh   (exits non-zero on failure)
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
ROWS=10
# st NAME NP: rnn_dist selftest on NP ranks (0: without mpirun), bounded,
# TMPDIR=$W/tmp; output in $W/NAME.out; returns the exit code
st() {
  name=$1 np=$2
  if [ "$np" -eq 0 ]; then
    TMPDIR=$W/tmp timeout 120 "$BIN" selftest >"$W/$name.out" 2>&1
  else
    TMPDIR=$W/tmp timeout 120 mpirun --oversubscribe -np "$np" "$BIN" selftest \
      >"$W/$name.out" 2>&1
  fi
}
mkdir -p "$W/tmp"

for np in 0 4; do
  ranks=$np
  [ "$np" -eq 0 ] && ranks=1
  st "np$np" "$np"
  rc=$?
  out="$W/np$np.out"
  passed=$(grep -c '^[a-z].* pass  ' "$out")
  if [ "$rc" -eq 0 ] && [ "$passed" -eq "$ROWS" ] && grep -q "^rnn_dist selftest: $ranks rank(s)" "$out" &&
    grep -q "^selftest: $ROWS passed, 0 failed" "$out" && [ -z "$(ls "$W/tmp" | grep rnn_dist-selftest)" ]; then
    ok "selftest on $ranks rank(s): $ROWS checks pass, no run directory left in TMPDIR"
  else
    bad "selftest on $ranks rank(s): exit $rc, $passed of $ROWS rows pass"
    sed 's/^/    /' "$out" >&2
  fi
done
for row in "gradcheck rnn tanh" "gradcheck rnn relu" "gradcheck lstm" "gradcheck gru" \
  "gradcheck catches errors" "all-reduce" "all-reduce bf16" "broadcast" "parameter checksum" "tiny run"; do
  grep -q "^$row .* pass  " "$W/np4.out" || bad "selftest on 4 ranks: no passing row '$row'"
done

# A replica nudged after the first epoch of the tiny run: its row fails, the
# run directory is kept and named, every rank exits 1.
RNN_DIST_FAULT=drift@1 st drift 2
rc=$?
if [ "$rc" -ne 0 ] && grep -q '^tiny run (counting) *FAIL .*replicas drifted apart.*see ' "$W/drift.out" &&
  grep -q "^selftest: $((ROWS - 1)) passed, 1 failed" "$W/drift.out" &&
  grep -q 'rnn_dist: selftest: 1 of 10 checks failed' "$W/drift.out"; then
  ok "drifted replica in the tiny run: its row fails, exit $rc"
else
  bad "drifted replica in the tiny run: exit $rc"
  sed 's/^/    /' "$W/drift.out" >&2
fi

summary selftest
