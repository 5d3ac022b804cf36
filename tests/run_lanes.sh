#!/bin/sh
# Run two parts of the test suite at once, so that one waiting (mpirun
# starting, a rank sleeping until a signal lands, a SLURM job queued) lends
# the cores to the other: the first command's output as it comes, the
# second's into LOG, printed whole when both have ended. Ctrl-C (or a
# TERM) stops both.
# Usage: tests/run_lanes.sh LOG "FIRST COMMAND" "SECOND COMMAND"
# Exits 0 when both commands succeed, else 1 (and names the lanes that failed).
set -u
[ $# -eq 3 ] || { echo "usage: $0 LOG FIRST SECOND" >&2; exit 2; }
log=$1 first=$2 second=$3
mkdir -p "$(dirname "$log")"
t0=$(date +%s)
# an asynchronous command of a non-interactive shell ignores SIGINT: a
# Ctrl-C reaches the second lane through this trap
(
  sh -c "$second"
  rc=$?
  echo "(this lane ended after $(($(date +%s) - t0)) s)"
  exit $rc
) >"$log" 2>&1 </dev/null &
pid=$!
trap 'kill -TERM 0' INT TERM
sh -c "$first"
rc1=$?
t1=$(date +%s)
wait $pid
rc2=$?
trap - INT TERM
echo "---- the lane beside it: $second (log: $log) ----"
cat "$log"
echo "lanes: '$first' exit $rc1 after $((t1 - t0)) s; '$second' exit $rc2"
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && exit 0
[ $rc1 -ne 0 ] && echo "FAILED: $first" >&2
[ $rc2 -ne 0 ] && echo "FAILED: $second" >&2
exit 1
