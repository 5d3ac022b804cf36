#!/bin/sh
# fuzz/run_fuzzer.sh FUZZER SECONDS CORPUS FINDINGS SEEDS... - run one
# libFuzzer target for SECONDS in total, one process at a time. A crash,
# timeout or out-of-memory ends a libFuzzer process; it is logged in full
# (stack trace included) to FINDINGS/log, its input saved in FINDINGS/, and
# fuzzing goes on with a new process until the time is used up. Prints the
# executions, the final coverage and the findings.
# libFuzzer options: FUZZ_OPTS (default -timeout=10 -rss_limit_mb=2048).
set -u
bin=$1 secs=$2 corpus=$3 findings=$4
shift 4
opts=${FUZZ_OPTS:--timeout=10 -rss_limit_mb=2048 -max_len=65536}
# HDF5 leaks on error paths of damaged files: leak detection stays off
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
mkdir -p "$corpus" "$findings"
# seed directories that exist (libFuzzer refuses a missing one)
seeds=""
for d in "$@"; do [ -d "$d" ] && seeds="$seeds $d"; done
log="$findings/log"
: >"$log"
start=$(date +%s)
runs=0 execs=0 crashes=0
while :; do
  left=$((secs - ($(date +%s) - start)))
  [ "$left" -gt 5 ] || break
  runs=$((runs + 1))
  # shellcheck disable=SC2086  # opts, seeds: lists, split on purpose
  "$bin" $opts -print_final_stats=1 -max_total_time="$left" -artifact_prefix="$findings/" \
    "$corpus" $seeds >"$findings/run.log" 2>&1
  rc=$?
  cat "$findings/run.log" >>"$log"
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$findings/run.log" | tail -1)
  execs=$((execs + ${n:-0}))
  if [ "$rc" -ne 0 ]; then
    crashes=$((crashes + 1))
    echo "fuzz: $(basename "$bin"): finding after $(($(date +%s) - start)) s:" \
      "$(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|ERROR: libFuzzer' "$findings/run.log")"
  fi
done
rm -f "$findings/run.log"
cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*\(cov: [0-9]*\).*\(ft: [0-9]*\).*/\1 \2/p')
echo "fuzz: $(basename "$bin"): $(($(date +%s) - start)) s, $execs executions" \
  "($((execs / ($(date +%s) - start + 1))) exec/s), $cov, corpus $(ls "$corpus" | wc -l) files," \
  "$crashes finding(s) (libFuzzer restarted $((runs - 1)) time(s)); inputs: $findings"
