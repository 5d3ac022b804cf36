#!/bin/sh
# Mutated input files through rnn_dist train and rnn_dist inspect: no crash,
# no hang, one error line.
#
# Valid datasets and checkpoints of every schema variant (fuzz/make_seeds.sh)
# are mutated by tests/make_mutants.py (bit flips, truncations, zeroed bytes,
# members rewritten with another type or shape, deleted members, huge
# dimensions, wrong attributes, bad values), deterministically from
# RNN_DIST_MUTANTS_SEED. Each mutant goes through
#   dataset:    rnn_dist train --data M --epochs 1 (tiny model)
#   checkpoint: rnn_dist train --resume M (even mutants) or --init M (odd),
#               with the options the checkpoint was trained with, --epochs 3
# and then rnn_dist inspect M, each bounded by `timeout 20`.
# A run passes when:
#   - it ends by itself (no timeout: exit 124) and not on a signal (>= 128);
#   - train exits 0 (the mutation left a valid file, e.g. a flipped bit in
#     padding or in a value), 2 (refused: bad input file) or 3 (a valid file
#     whose values make training diverge, e.g. an input of 1e38); inspect
#     exits 0 or 2. Exit 1 (an internal error: CHECK, out of memory) and
#     exit 4 fail;
#   - stderr: on a non-zero exit exactly one line, starting with "rnn_dist: ";
#     on exit 0 only "rnn_dist: " lines (warnings). So no HDF5 error stack, no
#     sanitizer report, no MPI abort text.
# Failed mutants are kept in RNN_DIST_MUTANTS_KEEP (default
# $TMPDIR/rnn_dist-mutants-failed) with a .txt holding the command, the exit
# code, the mutation and stderr.
# Usage: RNN_DIST=build/rnn_dist tests/run_mutants.sh   (exits non-zero on failure)
#   RNN_DIST_MUTANTS=N        mutants (default 100: the sample of make test;
#                             make fuzz runs 1000)
#   RNN_DIST_MUTANTS_SEED=S   seed of the mutations (default 1)
#   RNN_DIST_MUTANTS_JOBS=J   mutants run at once (default 2)
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
COUNT=${RNN_DIST_MUTANTS:-100}
SEED=${RNN_DIST_MUTANTS_SEED:-1}
JOBS=${RNN_DIST_MUTANTS_JOBS:-2}
KEEP=${RNN_DIST_MUTANTS_KEEP:-${TMPDIR:-/tmp}/rnn_dist-mutants-failed}
# every run is a singleton (no mpirun, no peers): skip starting a runtime
# daemon and probing the network (0.3 s a run instead of 0.8)
export OMPI_MCA_ess_singleton_isolated=1 OMPI_MCA_btl=self OMPI_MCA_pml=ob1

# one_run TAG ALLOWED_CODES CMD...: run bounded; print "" on a pass, else why
one_run() {
  tag=$1 allowed=$2
  shift 2
  timeout -k 5 20 "$@" >"$MW/$tag.out" 2>"$MW/$tag.err"
  rc=$?
  nl=$(wc -l <"$MW/$tag.err" | tr -d ' ')
  others=$(grep -cv '^rnn_dist: ' "$MW/$tag.err")
  why=""
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    why="timeout (20 s)"
  elif [ "$rc" -ge 128 ]; then
    why="signal $((rc - 128))"
  elif ! echo " $allowed " | grep -q " $rc "; then
    why="exit $rc (allowed: $allowed)"
  elif [ "$rc" -ne 0 ] && [ "$nl" -ne 1 ]; then
    why="exit $rc with $nl stderr lines (want 1)"
  elif [ "$others" -ne 0 ]; then
    why="stderr has $others line(s) not starting with 'rnn_dist: '"
  fi
  if [ -n "$why" ]; then
    {
      echo "$tag: $why"
      echo "  command: $*"
      sed 's/^/  stderr: /' "$MW/$tag.err" | head -20
    } >>"$MW/why"
  fi
}

# --one I: run mutant I (a line of mutants.tsv); append "I pass train=RC
# inspect=RC" or "I fail ..." to $MD/results (xargs runs these JOBS at a time)
if [ "${1:-}" = "--one" ]; then
  i=$2
  MD=$RNN_DIST_MUTANTS_DIR
  MW="$W"
  # its own Open MPI session directory: isolated singletons all use
  # <tmp>/ompi.HOST.UID/jf.0, and two at once raced on it (one's cleanup
  # removed the directory the other was creating: orte_init failed, exit 1)
  export OMPI_MCA_orte_tmpdir_base="$MW"
  line=$(sed -n "$((i + 1))p" "$MD/mutants.tsv")
  file=$(printf '%s' "$line" | cut -f1)
  kind=$(printf '%s' "$line" | cut -f2)
  args=$(printf '%s' "$line" | cut -f3)
  what=$(printf '%s' "$line" | cut -f4)
  : >"$MW/why"
  if [ "$kind" = dataset ]; then
    one_run train "0 2 3" "$BIN" train --data "$file" --epochs 1 --hidden 4 --batch-size 8 \
      --run-dir "$MW/run"
  else
    how=--resume
    [ $((i % 2)) -eq 1 ] && how=--init
    # shellcheck disable=SC2086  # args: options, split on purpose
    one_run train "0 2 3" "$BIN" train $args --epochs 3 "$how" "$file" --run-dir "$MW/run"
  fi
  train_rc=$rc
  one_run inspect "0 2" "$BIN" inspect "$file"
  if [ -s "$MW/why" ]; then
    mkdir -p "$KEEP"
    name=$(basename "$file" .h5)
    cp "$file" "$KEEP/$name.h5"
    { echo "mutation: $what"; cat "$MW/why"; } >"$KEEP/$name.txt"
    echo "$i fail $KEEP/$name.h5: $what: $(head -1 "$MW/why")" >>"$MD/results"
  else
    echo "$i pass train=$train_rc inspect=$rc" >>"$MD/results"
  fi
  rm -rf "$W"
  exit 0
fi

start=$(date +%s)
RNN_DIST="$BIN" "$TOP/fuzz/make_seeds.sh" "$W/seeds" >/dev/null 2>"$W/seeds.err" ||
  { bad "fuzz/make_seeds.sh: $(tail -1 "$W/seeds.err")"; summary mutants; exit 1; }
$PY "$HERE/make_mutants.py" --seed "$SEED" --count "$COUNT" --out "$W/m" "$W/seeds/bases.tsv" ||
  { bad "make_mutants.py failed"; summary mutants; exit 1; }
: >"$W/m/results"
export RNN_DIST="$BIN" RNN_DIST_MUTANTS_DIR="$W/m" RNN_DIST_MUTANTS_KEEP="$KEEP"
i=0
while [ "$i" -lt "$COUNT" ]; do
  echo "$i"
  i=$((i + 1))
done | xargs -P "$JOBS" -n 1 "$0" --one
pass=$(grep -c ' pass ' "$W/m/results")
fail=$(grep -c ' fail ' "$W/m/results")
missing=$((COUNT - pass - fail))
if [ "$fail" -gt 0 ]; then
  echo "mutants: failures (kept with a .txt of command, exit code and stderr):" >&2
  sort -n "$W/m/results" | grep ' fail ' | sed 's/^/  mutant /' >&2
fi
[ "$missing" -eq 0 ] || { fail=$((fail + missing)); echo "FAIL: $missing mutant(s) gave no result" >&2; }
echo "mutants: seed $SEED, $COUNT files (datasets and checkpoints) through train and inspect in $(($(date +%s) - start)) s;" \
  "exit codes of the passes: $(grep ' pass ' "$W/m/results" | cut -d' ' -f3- | tr ' ' '\n' | sort |
    uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')"
summary mutants
