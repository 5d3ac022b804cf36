#!/bin/sh
# The structure rules of src/ that a reader relies on, checked on every
# `make test` (a broken rule fails it, naming the place):
#   - no file over 600 lines;
#   - no function over 60 lines unless the comment just above it says why,
#     with a line holding "long:" (e.g. "long: one switch over the kinds");
#   - MPI only in dist.c: no other file includes mpi.h;
#   - every public function declared in a header is preceded by a comment.
# Usage: tests/check_structure.sh [SRC_DIR]   (default: src)
set -u
src=${1:-src}
fail=0
report() { echo "structure: $*" >&2; fail=1; }

for f in "$src"/*.c "$src"/*.h; do
  n=$(wc -l < "$f")
  [ "$n" -le 600 ] || report "$f has $n lines (at most 600)"
done

# functions: a definition opens with "{" alone at column 0 and ends with "}"
# at column 0 (the project's style); the comment above is the block of
# comment lines just before the signature
long=$(awk '
  FNR == 1 { why = 0; s = 0 }
  /^\/\*/ { why = 0 }
  /long:/ { why = 1 }
  /^\{/ { s = FNR; name = prev }
  /^\}/ && s {
    if (FNR - s - 1 > 60 && !why) printf "%s:%d %s (%d lines)\n", FILENAME, s, name, FNR - s - 1
    s = 0; why = 0
  }
  { prev = $0 }
' "$src"/*.c)
[ -z "$long" ] || report "functions over 60 lines without a \"long:\" comment saying why:
$long"

mpi=$(grep -l '#include <mpi.h>' "$src"/*.c "$src"/*.h | grep -v "/dist.c$")
[ -z "$mpi" ] || report "mpi.h included outside dist.c: $mpi"

# a prototype at column 0 in a header ("type name(...);" possibly over
# several lines) must have a comment above it: its own, or that of the
# group of prototypes it stands in (no blank line between them)
undoc=$(awk '
  /^[A-Za-z_][A-Za-z0-9_ \*]*[ \*][a-z_][a-z0-9_]*\(/ && !/^typedef/ && !/^#/ {
    if (!commented) printf "%s:%d %s\n", FILENAME, FNR, $0
  }
  { t = $0; sub(/^[ \t]+/, "", t) }
  t ~ /\*\/$/ || t ~ /^\/\*/ || t ~ /^\* / || t == "*" { commented = 1; next }
  /^$/ { commented = 0 }
' "$src"/*.h)
[ -z "$undoc" ] || report "public functions without a comment in their header:
$undoc"

[ $fail -eq 0 ] && echo "structure: src/ keeps its rules (files <= 600 lines, functions <= 60 or say why, MPI in dist.c, headers documented)"
exit $fail
