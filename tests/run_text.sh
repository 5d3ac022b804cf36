#!/bin/sh
# Text in, text out: scripts/text2h5.py (shapes, shifted targets, the
# vocabulary round trip, byte level, refusals) and rnn_dist generate (a tiny
# character model that learnt a pattern continues it; seeds; top-k;
# refusals). Makes its own small texts (no installed corpus needed).
# Usage: RNN_DIST=build/rnn_dist tests/run_text.sh   (exits non-zero on failure)
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
T2H="$TOP/scripts/text2h5.py"

# try NAME CODE PATTERN CMD...: run CMD (stdout in $W/out, stderr in $W/err); a
# failed check unless it exits with CODE and, when PATTERN is not empty, writes
# one stderr line matching the extended regex PATTERN (then a passed check)
try() {
  name=$1 want=$2 pattern=$3
  shift 3
  timeout 120 "$@" >"$W/out" 2>"$W/err" </dev/null
  got=$?
  if [ "$got" -ne "$want" ]; then
    bad "$name: exit $got, expected $want: $(head -c 300 "$W/err")"
    return 1
  fi
  [ -z "$pattern" ] && return 0
  if [ "$(wc -l <"$W/err")" -eq 1 ] && grep -Eq -- "$pattern" "$W/err"; then
    ok
    return 0
  fi
  bad "$name: expected one line matching '$pattern', got: $(head -c 400 "$W/err")"
  return 1
}
# h5check FILE PYTHON: run the Python statements with f = h5py.File(FILE);
# they raise (a failed check) when something is wrong
h5check() {
  $PY -c "import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
$2" "$1" >"$W/py" 2>&1 || { bad "$(basename "$1"): $(tail -1 "$W/py")"; return 1; }
  ok
}

# ---- text2h5.py: shapes, targets, vocabulary --------------------------------
printf 'The quick brown fox, naïve café — jumps!\nOver the lazy dog.' >"$W/a.txt"
printf 'Zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich.\n' >"$W/b.txt"
if try "text2h5 char" 0 '' $PY "$T2H" "$W/a.txt" "$W/b.txt" --out "$W/ab.h5" --seq-len 7 --split 0.75; then
  # the joined text (a newline added after a.txt), cut at 75 %, windows of 8 every 7
  h5check "$W/ab.h5" "
text = open(sys.argv[1][:-5] + 'a.txt', encoding='utf-8').read() + '\n' + \
       open(sys.argv[1][:-5] + 'b.txt', encoding='utf-8').read()
vocab = bytes(f.attrs['vocab']).decode('utf-8')
assert list(vocab) == sorted(set(text)), 'vocab is not the sorted distinct characters'
assert f.attrs['vocab_size'] == f.attrs['num_classes'] == len(vocab), 'vocab_size'
assert f.attrs['level'] == 'char' and f.attrs['seq_len'] == 7, 'level / seq_len'
cut = round(len(text) * 0.75)
for g, part in (('train', text[:cut]), ('val', text[cut:])):
    x, y = f[g + '/inputs'][()], f[g + '/targets'][()]
    n = (len(part) - 7 + 6) // 7
    assert x.shape == y.shape == (n, 7), (g, x.shape, y.shape, n)
    assert x.dtype.kind == 'i' and y.dtype.kind == 'i', 'integer ids'
    assert (y[:, :-1] == x[:, 1:]).all(), 'targets are not the inputs shifted by one'
    assert (y[:-1, -1] == x[1:, 0]).all(), 'windows do not follow each other'
    got = ''.join(vocab[i] for i in x.reshape(-1)) + vocab[y[-1, -1]]
    assert got == part[:len(got)] and len(part) - len(got) < 7, 'decoding the inputs does not give the text'
    assert f[g].attrs['vocab_size'] == len(vocab) and 'description' in f[g].attrs
"
  try "inspect a text dataset" 0 '' "$BIN" inspect "$W/ab.h5" && grep -q "token ids" "$W/out" && ok
fi
if try "text2h5 stride" 0 '' $PY "$T2H" "$W/a.txt" --out "$W/st.h5" --seq-len 5 --stride 2 --split 1; then
  h5check "$W/st.h5" "
x, y = f['train/inputs'][()], f['train/targets'][()]
assert 'val' not in f and f.attrs['stride'] == 2, 'split 1 / stride'
assert (x[1:, :3] == x[:-1, 2:]).all() and (y[:, :-1] == x[:, 1:]).all(), 'stride 2 windows'
"
fi
# byte level: any bytes, ids = the sorted distinct byte values
printf 'caf\351 \377\000abc\n' >"$W/latin1.txt"
try "char level on non-UTF-8" 2 'latin1.txt:1: not UTF-8 .*--level byte' \
  $PY "$T2H" "$W/latin1.txt" --out "$W/l.h5" --seq-len 2
if try "text2h5 byte" 0 '' $PY "$T2H" "$W/latin1.txt" --out "$W/l.h5" --seq-len 2 --level byte --stride 1 --split 1; then
  h5check "$W/l.h5" "
data = open(sys.argv[1][:-4] + 'latin1.txt', 'rb').read()
vocab = bytes(f.attrs['vocab'])
assert vocab == bytes(sorted(set(data))) and f.attrs['level'] == 'byte', 'byte vocabulary'
x = f['train/inputs'][()]
assert bytes(vocab[i] for i in x[:, 0]) + bytes(vocab[i] for i in x[-1, 1:]) == data[:-1], 'byte round trip'
"
fi
# refusals: one line, exit 2, no output file
: >"$W/empty.txt"
try "missing file" 2 'nosuch.txt: no such file' $PY "$T2H" "$W/nosuch.txt" --out "$W/r.h5"
try "empty text" 2 'no text' $PY "$T2H" "$W/empty.txt" --out "$W/r.h5"
try "seq-len 0" 2 'seq-len must be >= 1' $PY "$T2H" "$W/a.txt" --out "$W/r.h5" --seq-len 0
try "seq-len over the text" 2 'too short.*needs 1001' $PY "$T2H" "$W/a.txt" --out "$W/r.h5" --seq-len 1000
try "split 0" 2 'split must be' $PY "$T2H" "$W/a.txt" --out "$W/r.h5" --split 0
try "out over an input" 2 "one of this command's inputs" $PY "$T2H" "$W/a.txt" --out "$W/a.txt" --force
try "out exists" 2 'exists \(a dataset\); give --force' $PY "$T2H" "$W/a.txt" --out "$W/ab.h5"
[ ! -e "$W/r.h5" ] && ok || bad "a refused text2h5 wrote its output"

# ---- a pattern learnt and continued ---------------------------------------
$PY -c "print('abcde' * 1200, end='')" >"$W/abc.txt"
try "text2h5 pattern" 0 '' $PY "$T2H" "$W/abc.txt" --out "$W/abc.h5" --seq-len 16
if try "train the pattern" 0 '' "$BIN" train --data "$W/abc.h5" --run-dir "$W/abc" --cell lstm \
  --hidden 16 --embed 8 --lr 0.02 --batch-size 16 --epochs 6 --seed 2; then
  acc=$(tail -1 "$W/abc/metrics.csv" | cut -d, -f7)
  $PY -c "import sys; sys.exit(not float(sys.argv[1]) >= 0.99)" "$acc" && ok || bad "pattern val_acc $acc < 0.99"
  C="$W/abc/best.h5"
  try "generate greedy" 0 '' "$BIN" generate --checkpoint "$C" --prime "cd" --length 40 --temperature 0 &&
    { [ "$(cat "$W/out")" = "cdeabcdeabcdeabcdeabcdeabcdeabcdeabcdeabcd" ] && ok ||
      bad "greedy generate does not continue the pattern: $(cat "$W/out")"; }
  cp "$W/out" "$W/greedy.txt"
  # --data names the vocabulary explicitly: the same text
  try "generate --data" 0 '' "$BIN" generate --checkpoint "$C" --data "$W/abc.h5" --prime "cd" \
    --length 40 --temperature 0 && cmp -s "$W/out" "$W/greedy.txt" && ok
  try "unknown prime character" 2 "character 'x' \(U\+0078, at byte 2\) is not in the vocabulary" \
    "$BIN" generate --checkpoint "$C" --prime "abx" --length 5
  try "empty prime" 2 'at least one character' "$BIN" generate --checkpoint "$C" --prime "" --length 5
  try "negative length" 2 'length must be an integer' "$BIN" generate --checkpoint "$C" --prime a --length -1
  try "negative temperature" 2 'temperature must be a number' "$BIN" generate --checkpoint "$C" --prime a \
    --length 5 --temperature -0.5
  try "temperature nan" 2 'temperature must be a number' "$BIN" generate --checkpoint "$C" --prime a \
    --length 5 --temperature nan
  try "negative top-k" 2 'top-k must be an integer' "$BIN" generate --checkpoint "$C" --prime a --length 5 --top-k -2
  try "no --length" 2 'are required' "$BIN" generate --checkpoint "$C" --prime a
  try "missing checkpoint" 2 'nosuch.h5' "$BIN" generate --checkpoint "$W/nosuch.h5" --prime a --length 5
  try "--data of a missing group" 2 'ab.h5: no group /nosuch' "$BIN" generate --checkpoint "$C" \
    --data "$W/ab.h5:/nosuch" --prime a --length 5
  "$BIN" datagen counting --out "$W/counting.h5" >/dev/null 2>&1
  try "--data not a text dataset" 2 "no attribute 'vocab'.*text2h5" "$BIN" generate --checkpoint "$C" \
    --data "$W/counting.h5" --prime a --length 5
  try "vocabulary of another size" 2 'vocabulary has 44 characters, the model of .*best.h5 6' "$BIN" generate \
    --checkpoint "$C" --data "$W/ab.h5" --prime a --length 5
  # the training data moved away or rewritten: --data is needed
  mv "$W/abc.h5" "$W/abc-moved.h5"
  try "training data gone" 2 'training data cannot be read.*give --data' "$BIN" generate \
    --checkpoint "$C" --prime a --length 5
  cp "$W/ab.h5" "$W/abc.h5"
  try "training data changed" 2 'has changed since: give --data' "$BIN" generate \
    --checkpoint "$C" --prime a --length 5
fi

# ---- seeds and top-k on a model that is unsure ------------------------------
$PY -c "import random
r = random.Random(7)
print(''.join(r.choice('aabcdeefg ') for _ in range(6000)), end='')" >"$W/rand.txt"
try "text2h5 random" 0 '' $PY "$T2H" "$W/rand.txt" --out "$W/rand.h5" --seq-len 20
if try "train on random text" 0 '' "$BIN" train --data "$W/rand.h5" --run-dir "$W/rand" --hidden 8 \
  --embed 4 --epochs 1 --seed 3; then
  G="$BIN generate --checkpoint $W/rand/last.h5 --prime ab --length 200"
  # shellcheck disable=SC2086
  try "seed 5" 0 '' $G --seed 5 && cp "$W/out" "$W/s5a"
  # shellcheck disable=SC2086
  try "seed 5 again" 0 '' $G --seed 5 && cp "$W/out" "$W/s5b"
  # shellcheck disable=SC2086
  try "seed 6" 0 '' $G --seed 6 && cp "$W/out" "$W/s6"
  cmp -s "$W/s5a" "$W/s5b" && ok || bad "the same seed gave different text"
  cmp -s "$W/s5a" "$W/s6" && bad "seeds 5 and 6 gave the same text" || ok
  [ "$(wc -c <"$W/s5a")" -eq 203 ] && ok || bad "prime + 200 characters + newline: $(wc -c <"$W/s5a") bytes"
  # shellcheck disable=SC2086
  try "greedy" 0 '' $G --temperature 0 && cp "$W/out" "$W/g0"
  # shellcheck disable=SC2086
  try "top-k 1" 0 '' $G --top-k 1 --seed 9 && cmp -s "$W/out" "$W/g0" && ok || bad "top-k 1 differs from greedy"
  cmp -s "$W/g0" "$W/s5a" && bad "sampling at temperature 1 gave the greedy text" || ok
  # top-k 2 draws only among the two most likely: fewer distinct characters than top-k 0
  # shellcheck disable=SC2086
  try "top-k 2" 0 '' $G --top-k 2 --seed 5 &&
    { [ "$(head -c 202 "$W/out" | fold -w1 | sort -u | wc -l)" -lt "$(head -c 202 "$W/s5a" | fold -w1 | sort -u | wc -l)" ] &&
      ok || bad "top-k 2 used as many characters as top-k 0"; }
fi

# ---- refusals of the model --------------------------------------------------
"$BIN" datagen sine --out "$W/sine.h5" --n 64 >/dev/null 2>&1
if try "train a value model" 0 '' "$BIN" train --data "$W/sine.h5" --run-dir "$W/sine" --epochs 1; then
  try "value model" 2 'generate needs a next-token model.*dense input' "$BIN" generate \
    --checkpoint "$W/sine/last.h5" --data "$W/abc-moved.h5" --prime a --length 5
fi
summary run_text.sh
