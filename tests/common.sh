# shellcheck shell=sh disable=SC2034  # variables for the scripts that source this
# tests/common.sh - sourced by the tests/run_*.sh scripts (POSIX sh).
# Sets BIN (absolute path of the rnn_dist binary, from $RNN_DIST), QUICK
# (RNN_DIST_QUICK=1: the shorter subset run under the sanitizers), PY, HERE
# (tests/), TOP (the checkout), W (a scratch directory: the script removes it
# in its own EXIT trap), the environment mpirun needs here, and the pass/fail
# counters with ok, bad and summary; wait_line; expect_exit; ranks_agree.
BIN=${RNN_DIST:-build/rnn_dist}
QUICK=${RNN_DIST_QUICK:-0}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
case "$BIN" in /*) ;; *) BIN="$TOP/$BIN" ;; esac
W=$(mktemp -d)
# root may run mpirun; idle ranks yield; one OpenBLAS thread per rank
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
export OPENBLAS_NUM_THREADS=1
# Under ASan: Open MPI's own allocations at MPI_Init/Finalize are reported from
# unloaded plugins ("unknown module") that no suppression can name, so leak
# detection is off for the binary; the unit tests (no MPI) run with it on.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0"
pass=0
fail=0
T0=$(date +%s)
ok() { pass=$((pass + 1)); [ $# -eq 0 ] || echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# wait_line PATTERN FILE PID: wait (up to 60 s) for PATTERN in FILE while PID lives
wait_line() {
  n=0
  while ! grep -q "$1" "$2" 2>/dev/null && [ $n -lt 1200 ] && kill -0 "$3" 2>/dev/null; do
    sleep 0.05
    n=$((n + 1))
  done
  grep -q "$1" "$2" 2>/dev/null
}
# summary NAME: print the counts and the script's seconds (the suite's
# budget is kept by reading these); false when any check failed
summary() {
  echo "$1: $pass passed, $fail failed ($(($(date +%s) - T0)) s)"
  [ "$fail" -eq 0 ]
}
# expect_exit NAME EXPECTED_CODE CMD...: run CMD (300 s at most, stdin empty)
# with its output in $W/out and $W/err; a failed check (shown with the first
# lines of $W/err) when its exit status is not EXPECTED_CODE
expect_exit() {
  name=$1 want=$2
  shift 2
  timeout 300 "$@" >"$W/out" 2>"$W/err" </dev/null
  got=$?
  [ "$got" -eq "$want" ] && return 0
  bad "$name: exit $got, expected $want"
  sed 's/^/    /' "$W/err" | head -5 >&2
  return 1
}
# ranks_agree WHAT TRAIN_ARGS...: train on 1, 2, 3 and 4 ranks into $W/np1 ..
# $W/np4; the runs on 2-4 ranks must give the metrics and weights of 1 rank
# within 1e-5 (compare_runs.py)
ranks_agree() {
  what=$1
  shift
  for np in 1 2 3 4; do
    expect_exit "$what: $np ranks" 0 timeout 200 mpirun --oversubscribe -np $np "$BIN" train \
      "$@" --run-dir "$W/np$np" || continue
    [ "$np" -eq 1 ] && continue
    "$PY" "$HERE/compare_runs.py" "$W/np1" "$W/np$np" --rtol 1e-5 >"$W/cmp" 2>&1 && ok \
      || { bad "$what: $np ranks differ from 1"; sed 's/^/    /' "$W/cmp" | tail -5 >&2; }
  done
}
