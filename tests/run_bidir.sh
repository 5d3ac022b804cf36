#!/bin/sh
# End-to-end checks of --bidirectional 1 on the lookahead task (padded rows
# whose padding holds tokens, so reading it shows):
#   - a bad value is refused with one line, exit 2, and no run directory;
#   - the same run on 1, 2, 3 and 4 ranks gives the same metrics and weights
#     (compare_runs.py, 1e-5), with dropout between the layers and before fc;
#   - a run stopped mid-epoch (--max-steps) and resumed ends bit for bit as
#     the straight run; changing bidirectional on resume is refused;
#   - a checkpoint without the attribute (written before it existed) reads as
#     unidirectional;
#   - with PyTorch: to_pytorch.py --check gives rnn_dist eval's loss and
#     accuracy, and a bidirectional nn.LSTM converted by from_pytorch.py gives
#     in rnn_dist eval the loss torch computes on the packed sequences.
# Usage: RNN_DIST=build/rnn_dist tests/run_bidir.sh
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
params() { h5dump -g /params "$1" | grep -v '^HDF5'; }
# field NAME: the value of `NAME value` in $W/out
field() { sed -n "s/^$1 //p" "$W/out"; }

"$BIN" datagen lookahead --out "$W/la.h5" --n 300 >/dev/null 2>&1 || bad "datagen lookahead failed"

for v in 2 -1 yes; do
  if expect_exit "refused: --bidirectional $v" 2 "$BIN" train --data "$W/la.h5" --bidirectional "$v" \
    --run-dir "$W/never"; then
    [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q 'bidirectional' "$W/err" && ok \
      || bad "--bidirectional $v: not one line naming the option: $(cat "$W/err")"
  fi
done
[ ! -e "$W/never" ] && ok || bad "a refused command line created the run dir"

# 1..4 ranks: the same run (2 layers, dropout, padded rows)
D="--data $W/la.h5 --cell gru --hidden 12 --layers 2 --dropout 0.2 --out-dropout 0.1 \
--bidirectional 1 --epochs 3 --batch-size 24 --seed 3"
# shellcheck disable=SC2086
ranks_agree bidirectional $D
h5dump -a /bidirectional "$W/np1/last.h5" 2>/dev/null | grep -q '(0): 1' && ok \
  || bad "last.h5 has no attribute bidirectional = 1"
h5dump -H -d /params/rnn.weight_ih_l1_reverse "$W/np1/last.h5" 2>/dev/null | grep -q '( 36, 24 )' \
  && ok || bad "last.h5 lacks rnn.weight_ih_l1_reverse [36, 24] (3 gates x 12, input 2 x 12)"

# stopped mid-epoch and resumed == straight; bidirectional cannot change on resume
S="--data $W/la.h5 --cell lstm --hidden 8 --bidirectional 1 --epochs 2 --batch-size 20 --seed 4"
# shellcheck disable=SC2086
if expect_exit "straight" 0 "$BIN" train $S --run-dir "$W/straight" \
  && expect_exit "max-steps" 0 "$BIN" train $S --run-dir "$W/split" --max-steps 17; then
  expect_exit "bidirectional changed on resume" 2 "$BIN" train --run-dir "$W/split" --resume auto \
    --bidirectional 0 --max-steps 0 && grep -q 'cannot change: bidirectional 1 -> 0' "$W/err" && ok \
    || bad "changing bidirectional on resume: '$(cat "$W/err")'"
  if expect_exit "resume" 0 "$BIN" train --run-dir "$W/split" --resume auto --max-steps 0; then
    params "$W/straight/last.h5" >"$W/a"
    params "$W/split/last.h5" >"$W/b"
    [ -s "$W/a" ] && cmp -s "$W/a" "$W/b" && ok || bad "resumed bidirectional /params differ"
  fi
fi

# a checkpoint from before the attribute existed: unidirectional
if expect_exit "unidirectional run" 0 "$BIN" train --data "$W/la.h5" --epochs 1 --run-dir "$W/uni" \
  && expect_exit "eval uni" 0 "$BIN" eval --checkpoint "$W/uni/last.h5" --data "$W/la.h5"; then
  cp "$W/out" "$W/eval_uni"
  cp "$W/uni/last.h5" "$W/old.h5"
  "$PY" -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); del f.attrs["bidirectional"]' \
    "$W/old.h5" || bad "cannot remove the attribute"
  expect_exit "eval old checkpoint" 0 "$BIN" eval --checkpoint "$W/old.h5" --data "$W/la.h5" \
    && cmp -s "$W/out" "$W/eval_uni" && ok || bad "an old checkpoint evaluates differently"
fi

if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "skip: to_pytorch.py / from_pytorch.py checks (PyTorch not installed)"
  summary run_bidir.sh
  exit
fi
# rnn_dist eval == the torch model of to_pytorch.py on the same data
if expect_exit "eval bidirectional" 0 "$BIN" eval --checkpoint "$W/straight/last.h5" --data "$W/la.h5"; then
  loss=$(field loss) acc=$(field acc)
  if expect_exit "to_pytorch --check" 0 "$PY" "$TOP/scripts/to_pytorch.py" "$W/straight/last.h5" \
    --out "$W/m.pt" --check "$W/la.h5"; then
    tl=$(sed -n 's/^loss //p' "$W/out") ta=$(sed -n 's/^acc //p' "$W/out")
    awk -v a="$loss" -v b="$tl" 'BEGIN { d = a - b; exit !(d * d <= 1e-10 * a * a) }' && ok \
      || bad "to_pytorch --check loss $tl, rnn_dist eval $loss"
    awk -v a="$acc" -v b="$ta" 'BEGIN { d = a - b; exit !(d * d <= 1e-10) }' && ok \
      || bad "to_pytorch --check acc $ta, rnn_dist eval $acc"
  fi
fi
# a bidirectional model made in torch, converted, evaluated by rnn_dist
cat >"$W/mk.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import torch
import rnn_dist_torch as rdt
torch.manual_seed(7)
cfg = rdt.ModelConfig(cell="lstm", input="tokens", vocab_size=10, embed=6, hidden=7, layers=2,
                      out=10, loss="ce", target="step", bidirectional=1)
model = rdt.RnnDistModel(cfg)
torch.save(model.state_dict(), sys.argv[2])
data = rdt.read_dataset(sys.argv[3], cfg, "val")
with torch.no_grad():
    s = rdt.loss_sums(model(torch.from_numpy(data.inputs), torch.from_numpy(data.lengths)),
                      torch.from_numpy(data.targets), torch.from_numpy(data.lengths), cfg)
print(f"{s['loss'] / s['count']:.9g}")
EOF
if tl=$("$PY" "$W/mk.py" "$TOP/scripts" "$W/torch.pt" "$W/la.h5" 2>"$W/err"); then
  if expect_exit "from_pytorch bidirectional" 0 "$PY" "$TOP/scripts/from_pytorch.py" "$W/torch.pt" \
    --out "$W/init.h5" --loss ce --target step \
    && expect_exit "eval converted" 0 "$BIN" eval --checkpoint "$W/init.h5" --data "$W/la.h5:/val"; then
    loss=$(field loss)
    awk -v a="$loss" -v b="$tl" 'BEGIN { d = a - b; exit !(d * d <= 1e-10 * a * a) }' && ok \
      || bad "converted bidirectional model: rnn_dist eval loss $loss, torch $tl"
  fi
else
  bad "torch model script failed: $(head -3 "$W/err")"
fi
summary run_bidir.sh
