#!/bin/sh
# Run every cmocka test binary given; fail if any fails. Prints a summary.
set -u
fail=0
t0=$(date +%s)
for t in "$@"; do
  s=$(date +%s)
  if ! "$t"; then
    echo "FAILED: $t" >&2
    fail=1
  fi
  echo "time: $t $(($(date +%s) - s)) s"
done
[ $fail -eq 0 ] && echo "unit tests: all passed ($# binaries, $(($(date +%s) - t0)) s)"
exit $fail
