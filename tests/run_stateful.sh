#!/bin/sh
# End-to-end checks of --stateful 1 --bptt T:
#   - against PyTorch: word_language_model's loop on tests/fixtures/stateful_<cell>.h5
#     (lstm, gru, rnn; 2 epochs of 4 steps, the state carried detached):
#     each epoch's train_loss and the final parameters;
#   - the refusals: one line, exit 2 (bidirectional, shuffle 1, bptt without
#     stateful, per-sequence targets, fewer stream steps than columns);
#   - the same run (dropout, validation on the val stream) on 1, 2, 3 and 4
#     ranks: metrics and weights within 1e-5 (compare_runs.py);
#   - stopped mid-epoch (--max-steps) and resumed: bit for bit the straight
#     run on the same rank count, within 1e-5 on another one; the checkpoint
#     written mid-epoch holds /state/carry, an epoch's end none.
# Usage: RNN_DIST=build/rnn_dist tests/run_stateful.sh
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
params() { h5dump -g /params "$1" | grep -v '^HDF5'; }
FX="$HERE/fixtures"

# ---- PyTorch's numbers ------------------------------------------------------
for cell in lstm gru rnn; do
  "$PY" - "$FX/stateful_$cell.h5" "$W/init_$cell.h5" <<'EOF' || { bad "$cell: cannot write the init file"; continue; }
import sys, h5py
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "w") as g:
    for name, v in f["init"].items():
        g[f"params/{name}"] = v[()]
EOF
  expect_exit "$cell fixture run" 0 "$BIN" train --data "$FX/stateful_$cell.h5:/data" --stateful 1 \
    --bptt 4 --batch-size 3 --cell "$cell" --hidden 5 --layers 2 --embed 4 --init "$W/init_$cell.h5" \
    --epochs 2 --lr 0.01 --optimizer adam --run-dir "$W/fx_$cell" || continue
  "$PY" - "$FX/stateful_$cell.h5" "$W/fx_$cell" <<'EOF' >"$W/cmp" 2>&1 && ok || { bad "$cell: differs from PyTorch"; sed 's/^/    /' "$W/cmp" >&2; }
import csv, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
run = sys.argv[2]
steps, nb, bptt, cols = (int(f.attrs[k]) for k in ("steps_per_pass", "nb", "bptt", "batch"))
lens = [min(bptt, nb - i * bptt) for i in range(steps)]
rows = list(csv.DictReader(open(f"{run}/metrics.csv")))
losses = f["losses"][()]
bad = 0
for e in range(int(f.attrs["passes"])):
    mine = losses[e * steps:(e + 1) * steps]
    want = sum(l * t for l, t in zip(mine, lens)) / sum(lens)
    got = float(rows[e]["train_loss"])
    if abs(got - want) > 1e-5 * abs(want):
        print(f"epoch {e + 1}: train_loss {got}, torch {want}"); bad += 1
with h5py.File(f"{run}/last.h5", "r") as g:
    for name, ref in f["params_after"].items():
        a, b = g["params"][name][()], ref[()]
        over = np.abs(a - b) - 2e-4 * np.abs(b) > 2e-5
        if over.any():
            print(f"{name}: {over.sum()} of {b.size} elements differ, worst {np.abs(a - b).max()}"); bad += 1
sys.exit(1 if bad else 0)
EOF
done

# ---- refusals -------------------------------------------------------------
"$BIN" datagen counting --out "$W/c.h5" >/dev/null 2>&1 || bad "datagen counting failed"
"$BIN" datagen seqclass --out "$W/s.h5" >/dev/null 2>&1 || bad "datagen seqclass failed"
refuse() { # NAME PATTERN ARGS...: one line matching PATTERN, exit 2
  name=$1 pat=$2
  shift 2
  if expect_exit "refused: $name" 2 "$BIN" train "$@"; then
    [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q "$pat" "$W/err" && ok \
      || bad "refused $name: '$(cat "$W/err")'"
  fi
}
refuse "bidirectional" "not with bidirectional 1" --data "$W/c.h5" --stateful 1 --bidirectional 1 \
  --run-dir "$W/never"
refuse "shuffle" "shuffle 1 does not apply" --data "$W/c.h5" --stateful 1 --shuffle 1 --run-dir "$W/never"
refuse "bptt alone" "bptt applies only with stateful 1" --data "$W/c.h5" --bptt 5 --run-dir "$W/never"
[ ! -e "$W/never" ] && ok || bad "a refused command line created the run dir"
refuse "per-sequence targets" "needs a target at every step" --data "$W/s.h5" --stateful 1 \
  --run-dir "$W/r1"
refuse "columns" "fewer than the 100 columns" --data "$FX/stateful_lstm.h5:/data" --stateful 1 \
  --batch-size 100 --run-dir "$W/r2"

# ---- 1..4 ranks, and resume mid-stream --------------------------------------
D="--data $W/c.h5 --stateful 1 --bptt 7 --batch-size 10 --cell lstm --hidden 12 --layers 2 \
--dropout 0.2 --out-dropout 0.1 --epochs 2 --seed 5"
# shellcheck disable=SC2086
ranks_agree stateful $D
grep -q '^2,' "$W/np1/metrics.csv" && [ -n "$(tail -1 "$W/np1/metrics.csv" | cut -d, -f6)" ] && ok \
  || bad "no val_loss in metrics.csv: $(tail -1 "$W/np1/metrics.csv")"
h5dump -H -d /state/carry "$W/np1/last.h5" >/dev/null 2>&1 && bad "an epoch's-end checkpoint holds /state/carry" || ok
expect_exit "the run's config.ini as --config" 0 "$BIN" train --config "$W/np1/config.ini" --epochs 1 \
  --run-dir "$W/again" && ok
# shellcheck disable=SC2086
if expect_exit "max-steps" 0 timeout 200 mpirun --oversubscribe -np 2 "$BIN" train $D \
  --run-dir "$W/split" --max-steps 70; then
  h5dump -H -d /state/carry "$W/split/last.h5" 2>/dev/null | grep -q '( 2, 2, 10, 12 )' && ok \
    || bad "the mid-epoch checkpoint lacks /state/carry [2, 2, 10, 12]"
  cp -r "$W/split" "$W/split3"
  if expect_exit "resume on 2 ranks" 0 timeout 200 mpirun --oversubscribe -np 2 "$BIN" train \
    --run-dir "$W/split" --resume auto --max-steps 0; then
    params "$W/np2/last.h5" >"$W/a"
    params "$W/split/last.h5" >"$W/b"
    [ -s "$W/a" ] && cmp -s "$W/a" "$W/b" && ok || bad "resumed mid-stream: /params differ from the straight run"
  fi
  if expect_exit "resume on 3 ranks" 0 timeout 200 mpirun --oversubscribe -np 3 "$BIN" train \
    --run-dir "$W/split3" --resume auto --max-steps 0; then
    "$PY" "$HERE/compare_runs.py" "$W/np2" "$W/split3" --rtol 1e-5 >"$W/cmp" 2>&1 && ok \
      || { bad "resumed mid-stream on 3 ranks differs"; sed 's/^/    /' "$W/cmp" | tail -5 >&2; }
  fi
fi
summary run_stateful.sh
