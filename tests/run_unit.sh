#!/bin/sh
# Run every cmocka test binary given; fail if any fails. Prints a summary.
set -u
fail=0
for t in "$@"; do
  if ! "$t"; then
    echo "FAILED: $t" >&2
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "unit tests: all passed ($# binaries)"
exit $fail
