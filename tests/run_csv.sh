#!/bin/sh
# scripts/csv2h5.py on small CSV files made here: several features and targets,
# --horizon K (shapes and values recomputed by tests/csv_check.py from the CSV),
# --split with and without test, each --fill mode and the refusal of gaps,
# --label per window and per --group, --no-normalize, train-only statistics,
# a header-less CSV, quoted fields, the old --column form, and every bad input
# as one line with exit 2; rnn_dist train accepts each file produced.
# Usage: RNN_DIST=build/rnn_dist tests/run_csv.sh   (exits non-zero on failure)
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
cd "$W" || exit 1
CSV2H5="$TOP/scripts/csv2h5.py"
CHECK="$HERE/csv_check.py"

# exits NAME WANT CMD...: CMD exits WANT (stdout in $W/out, stderr in $W/err), else a failed check
exits() {
  e_name=$1 e_want=$2
  shift 2
  e_got=0
  timeout 120 "$@" >"$W/out" 2>"$W/err" </dev/null || e_got=$?
  if [ "$e_got" -ne "$e_want" ]; then
    bad "$e_name: exit $e_got, expected $e_want: $(head -3 "$W/err")"
    return 1
  fi
}
# conv NAME CSV ARGS...: csv2h5.py CSV --out NAME.h5 ARGS, must succeed
conv() {
  c_name=$1 c_csv=$2
  shift 2
  exits "csv2h5.py $c_name" 0 "$CSV2H5" "$c_csv" --out "$W/$c_name.h5" "$@"
}
# check NAME CHECK ARGS...: tests/csv_check.py CHECK ARGS passes
check() {
  c_name=$1
  shift
  if "$PY" "$CHECK" "$@" 2>"$W/check.err"; then ok; else bad "$c_name: $(cat "$W/check.err")"; fi
}
# refused NAME PATTERN CSV ARGS...: exit 2, one line 'csv2h5.py: error: ' matching PATTERN
refused() {
  r_name=$1 r_pat=$2
  shift 2
  exits "$r_name" 2 "$CSV2H5" "$@" || return
  if [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q '^csv2h5.py: error: ' "$W/err" && grep -Eq -- "$r_pat" "$W/err"; then
    ok
  else
    bad "$r_name: expected one line matching '$r_pat', got: $(head -c 600 "$W/err")"
  fi
}
# trains NAME FILE: a 1-epoch rnn_dist run accepts the file
trains() {
  exits "train on $1" 0 "$BIN" train --data "$2" --epochs 1 --hidden 4 --batch-size 8 \
    --run-dir "$W/run-$1" && ok
}
# answers NAME FILE: eval and predict of the run `trains NAME` made take FILE's
# /val statistics (one per output): /predictions = /outputs * std + mean
answers() {
  exits "eval on $1" 0 "$BIN" eval --checkpoint "$W/run-$1/last.h5" --data "$2:/val" &&
    exits "predict on $1" 0 "$BIN" predict --checkpoint "$W/run-$1/last.h5" --data "$2:/val" \
      --out "$W/pred-$1.h5" || return
  "$PY" - "$2" "$W/pred-$1.h5" <<'EOF' && ok || bad "predict on $1: not in the original units"
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as d, h5py.File(sys.argv[2], "r") as p:
    mean, std = d["val"].attrs["target_mean"], d["val"].attrs["target_std"]
    want = p["outputs"][()].astype(np.float64) * std + mean
    sys.exit(0 if np.allclose(p["predictions"][()], want, rtol=1e-6, atol=1e-5) else 1)
EOF
}

# ---- the CSV files ----------------------------------------------------------
"$PY" - <<'EOF' || bad "making the CSV files"
import numpy as np
rng = np.random.RandomState(7)
n = 60
t = np.arange(n)
a = np.sin(0.3 * t) + 0.1 * rng.randn(n)
b = np.cos(0.2 * t) * 3 + 10
c = rng.randn(n).round(3)
grp = [f"g{i // 5}" for i in range(n)]                # 12 groups of 5 rows
glab = ["up", "down", "flat"]
lab = [glab[(i // 5) % 3] for i in range(n)]         # one label per group
win = ["hi" if v > 0 else "lo" for v in a]           # a label per row
with open("multi.csv", "w") as f:
    f.write("t,a,b,c,lab,grp,win\n")
    for i in range(n):
        f.write(f"{t[i]},{a[i]!r},{b[i]!r},{c[i]!r},{lab[i]},{grp[i]},{win[i]}\n")
with open("nohead.csv", "w") as f:                   # no header: columns by index
    for i in range(n):
        f.write(f"{a[i]!r},{b[i]!r}\n")
with open("quoted.csv", "w") as f:                   # quoted names and numbers
    f.write('"time","price, USD","volume"\n')
    for i in range(n):
        f.write(f'"{t[i]}","{b[i]!r}",{abs(c[i])!r}\n')
rows = [f"{v:.2f}" for v in 5 + np.sin(0.5 * np.arange(20))]
w = [f"{v:.1f}" for v in np.arange(20) * 0.5]
for i in (0, 3, 4, 10, 19):                          # leading, inner, a part's start, trailing
    rows[i] = ""
w[7] = "NaN"
with open("gaps.csv", "w") as f:
    f.write("x,w\n")
    for i in range(20):
        f.write(f"{rows[i]},{w[i]}\n")
EOF

# ---- values: several features and targets, horizon ---------------------------
conv multi multi.csv --columns a,b,c --target a,b --window 5 --horizon 3 &&
  check "multi: values and statistics" values "$W/multi.h5" multi.csv "a;b;c" "a;b" 5 3 0.8 1 &&
  check "multi: /train/targets [N, K*O]" shape "$W/multi.h5" train/targets 41,6 &&
  trains multi "$W/multi.h5" &&
  answers multi "$W/multi.h5"
# a horizon file as an older csv2h5.py wrote it (one statistic per column):
# eval says so, and how to mend it
cp "$W/multi.h5" "$W/oldstats.h5" &&
  "$PY" -c 'import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    for k in ("target_mean", "target_std"):
        f["val"].attrs[k] = f["val"].attrs[k][:2]' "$W/oldstats.h5" &&
  exits "eval of an older horizon file" 2 "$BIN" eval --checkpoint "$W/run-multi/last.h5" \
    --data "$W/oldstats.h5:/val" &&
  hint="must hold 6 values (one per output); made by an older csv2h5.py --horizon.*run csv2h5.py again"
  if grep -q "$hint" "$W/err"; then
    ok
  else
    bad "eval of an older horizon file: no hint to run csv2h5.py again: $(head -3 "$W/err")"
  fi
conv split3 multi.csv --columns a,c --target b --window 4 --horizon 2 --split 0.6,0.25 &&
  check "split 0.6,0.25: train, val, test" values "$W/split3.h5" multi.csv "a;c" b 4 2 0.6,0.25 1 &&
  check "split 0.6,0.25: /test" shape "$W/split3.h5" test/inputs 4,4,2 &&
  trains split3 "$W/split3.h5"
conv raw multi.csv --columns a,b --target c --window 3 --no-normalize --split 0.7 &&
  check "--no-normalize: raw values, no statistics" values "$W/raw.h5" multi.csv "a;b" c 3 1 0.7 0 &&
  trains raw "$W/raw.h5"
conv default multi.csv --target c --window 3 &&
  check "default --columns: every numeric column but the target" attr "$W/default.h5" input_columns "t;a;b"
conv old multi.csv --column b --window 4 &&
  check "--column: one series" values "$W/old.h5" multi.csv b b 4 1 0.8 1 &&
  [ "$(h5dump -a /window "$W/old.h5" | sed -n 's/^ *(0): *//p')" = 4 ] && ok || bad "--column: no window attribute"
conv nohead nohead.csv --columns 0 --target 1 --window 2 --horizon 2 &&
  check "header-less CSV" values "$W/nohead.h5" nohead.csv 0 1 2 2 0.8 1 none 0 &&
  trains nohead "$W/nohead.h5"
conv quoted quoted.csv --columns 1,2 --target volume --window 3 &&
  check "quoted fields" values "$W/quoted.h5" quoted.csv "price, USD;volume" volume 3 1 0.8 1 &&
  check "quoted fields: names" attr "$W/quoted.h5" input_columns "price, USD;volume"
# a constant column: std stored as 1, with a warning
"$PY" -c 'import sys; sys.stdout.write("k,v\n" + "".join(f"2,{i % 7}\n" for i in range(40)))' >const.csv
conv const const.csv --columns k,v --target v --window 3 &&
  grep -q "warning: column k is constant in the train part; its std is stored as 1" "$W/err" &&
  check "constant column: std 1" values "$W/const.h5" const.csv "k;v" v 3 1 0.8 1 ||
  bad "constant column: no warning: $(cat "$W/err")"

# ---- gaps -------------------------------------------------------------------
refused "gaps refused by default" \
  "^csv2h5.py: error: gaps.csv:2: column x is empty \(first of 6 gaps; use --fill ffill\|linear\|drop\)$" \
  gaps.csv --out "$W/g.h5" --columns x,w --target x --window 1 --split 0.5
for mode in ffill linear; do
  conv "fill-$mode" gaps.csv --columns x,w --target x --window 1 --split 0.5 --fill $mode &&
    check "--fill $mode" values "$W/fill-$mode.h5" gaps.csv "x;w" x 1 1 0.5 1 $mode &&
    trains "fill-$mode" "$W/fill-$mode.h5"
done
conv fill-drop gaps.csv --columns x,w --target x --window 1 --split 0.5 --fill drop &&
  grep -q "dropped 6 of 20 rows with a gap" "$W/out" && ok || bad "--fill drop: $(cat "$W/out")"
"$PY" -c 'import csv; r=[l for l in csv.reader(open("gaps.csv")) if l]; open("nogaps.csv","w").write("".join(",".join(l)+"\n" for l in r if all(c and c!="NaN" for c in l)))'
check "--fill drop: the rows without gaps" values "$W/fill-drop.h5" nogaps.csv "x;w" x 1 1 0.5 1

# ---- classes ----------------------------------------------------------------
conv perwin multi.csv --columns a,b --label win --window 4 --split 0.75 &&
  check "--label per window" labels "$W/perwin.h5" multi.csv "a;b" win 4 0.75 &&
  trains perwin "$W/perwin.h5"
conv pergroup multi.csv --columns a,b,c --label lab --group grp --split 0.5,0.25 &&
  check "--label per --group" labels "$W/pergroup.h5" multi.csv "a;b;c" lab 0 0.5,0.25 grp &&
  check "--group: 3 test groups of 5 rows" shape "$W/pergroup.h5" test/inputs 3,5,3 &&
  trains pergroup "$W/pergroup.h5"
conv groupcut multi.csv --columns a --label lab --group grp --window 3 &&
  grep -q "12 group(s) longer than --window 3 keep their last 3 rows" "$W/out" &&
  check "--group --window 3: the last 3 rows" shape "$W/groupcut.h5" val/inputs 2,3,1 &&
  check "--group --window 3: lengths" shape "$W/groupcut.h5" train/lengths 10 ||
  bad "--group --window: $(cat "$W/out")"
sed '3s/,up,/,down,/' multi.csv >twolabels.csv
refused "a group with two labels" "twolabels.csv:3: group g0 has label down here but up on line 2" \
  twolabels.csv --out "$W/x.h5" --columns a --label lab --group grp
refused "one class" "has one class" const.csv --out "$W/x.h5" --columns v --label k --window 2

# ---- bad input: one line, exit 2 ----------------------------------------------
refused "wrong column name" "multi.csv:1: no column 'price' \(columns: t, a, b, c, lab, grp, win\)$" \
  multi.csv --out "$W/x.h5" --target price --window 3
: >empty.csv
refused "empty file" "empty.csv: empty file$" empty.csv --out "$W/x.h5" --column v --window 3
sed '5s/^3,/3,oops/' multi.csv | sed '5s/oops[^,]*,/oops,/' >text.csv
refused "a non-numeric cell" "text.csv:5: 'oops' in column a is not a number$" \
  text.csv --out "$W/x.h5" --columns a,b --target b --window 3
refused "a missing file" "nosuch.csv: no such file$" nosuch.csv --out "$W/x.h5" --column a --window 3
refused "window longer than a part" "the val part has 12 rows, one window needs 14" \
  multi.csv --out "$W/x.h5" --column a --window 12 --horizon 2
refused "split leaving no test" "--split 0.8,0.2 leaves no rows for test" \
  multi.csv --out "$W/x.h5" --column a --window 3 --split 0.8,0.2
refused "bad --fill" "argument --fill: invalid choice" multi.csv --out "$W/x.h5" --column a --window 3 --fill zero
refused "no --window" "--window T is required" multi.csv --out "$W/x.h5" --target a
refused "--target and --label" "exclude each other" multi.csv --out "$W/x.h5" --target a --label win --window 3
refused "--horizon with --label" "--horizon applies to --target" \
  multi.csv --out "$W/x.h5" --label win --window 3 --horizon 2
refused "label as an input" "--columns includes the label column win" \
  multi.csv --out "$W/x.h5" --columns a,win --label win --window 3
[ ! -e "$W/x.h5" ] && ok || bad "a refused conversion left $W/x.h5"

summary "csv2h5.py"
