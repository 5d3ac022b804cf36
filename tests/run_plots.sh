#!/bin/sh
# The user-facing extras: scripts/plot_run.py (curves of a regression and a
# classifier run, its choices checked through --describe against metrics.csv
# and the data file, the predictions images, original units), train
# --progress-every (lines off a terminal, alone and under mpirun), and
# scripts/from_pytorch.py (loss/target inference, refusal, --rename; only
# when PyTorch is installed).
# Usage: RNN_DIST=build/rnn_dist tests/run_plots.sh
# Exits non-zero if any check fails.
set -u
# shellcheck source=tests/common.sh
. "$(dirname "$0")/common.sh"
trap 'rm -rf "$W"' EXIT INT TERM
S="$TOP/scripts"
# one_line NAME PATTERN: stderr is one line matching the extended regex PATTERN
one_line() {
  if [ "$(wc -l <"$W/err" | tr -d ' ')" -eq 1 ] && grep -Eq -- "$2" "$W/err"; then ok; else
    bad "$1: expected one line matching '$2', got: $(cat "$W/err")"
  fi
}
# attr FILE OBJECT NAME: an attribute's value as h5dump prints it
attr() { h5dump -a "$2/$3" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | head -1; }
# is_png NAME FILE
is_png() {
  if [ -s "$2" ] && [ "$(head -c 4 "$2" | tail -c 3)" = PNG ]; then ok; else
    bad "$1: $2 is not a PNG"
    return 1
  fi
}
# plotted KIND RUN DATA TRAIN_OPTION...: train RUN on DATA, predict with its best.h5
# and draw both with plot_run.py --describe (its output in $W/out); true when the
# two images are there
plotted() {
  kind=$1 r=$2 data=$3
  shift 3
  expect_exit "train $kind" 0 "$BIN" train --data "$data" --run-dir "$r" --progress-every 0 "$@" &&
    expect_exit "predict $kind" 0 "$BIN" predict --checkpoint "$r/best.h5" --data "$data" \
      --out "$r/p.h5" &&
    expect_exit "plot_run.py $kind" 0 "$PY" "$S/plot_run.py" "$r" --predictions "$r/p.h5" --describe &&
    is_png "$kind curves" "$r/curves.png" && is_png "$kind predictions" "$r/predictions.png"
}
# described NAME PATTERN: the --describe output ($W/out) has a line matching PATTERN
described() {
  if grep -Eq -- "$2" "$W/out"; then ok; else
    bad "$1: --describe has no line matching '$2':"
    sed 's/^/    /' "$W/out" >&2
  fi
}
cd "$W" || exit 1

# ---- progress lines off a terminal -----------------------------------------
"$BIN" datagen sine --out sine.h5 --n 600 --seed 4 >/dev/null 2>&1 || bad "datagen sine"
PROGRESS='^progress: epoch [0-9]+/3 batch [0-9]+/[0-9]+ step [0-9]+ loss [0-9.]+ [0-9]+ seq/s eta [0-9hms?]+$'
if expect_exit "progress every step" 0 "$BIN" train --data sine.h5 --run-dir rp --epochs 3 --batch-size 64 \
  --progress-every 1e-9; then
  steps=$(tail -1 rp/metrics.csv | cut -d, -f2)
  n=$(grep -c '^progress: ' "$W/out")
  [ "$n" -eq "$steps" ] && ok || bad "--progress-every 1e-9: $n progress lines for $steps steps"
  nbad=$(grep '^progress: ' "$W/out" | grep -Evc "$PROGRESS")
  [ "$nbad" -eq 0 ] && ok || bad "progress lines not in the documented form: $(grep '^progress: ' "$W/out" | grep -Ev "$PROGRESS" | head -2)"
  # steps count up 1, 2, ... and every epoch's batches reach its total
  grep '^progress: ' "$W/out" | awk '{ if ($7 != NR) bad = 1; split($5, b, "/"); if (b[1] == b[2]) full++ }
    END { exit !(bad == 0 && full == 3) }' && ok || bad "progress steps or batches out of order"
  [ "$(grep -c '^epoch ' "$W/out")" -eq 3 ] && ok || bad "progress lines replaced the epoch lines"
fi
expect_exit "progress off" 0 "$BIN" train --data sine.h5 --run-dir rp0 --epochs 2 --progress-every 0 &&
  { ! grep -q '^progress' "$W/out" && ok || bad "--progress-every 0 printed progress lines"; }
expect_exit "progress every -1" 2 "$BIN" train --data sine.h5 --run-dir rpbad --progress-every -1 &&
  one_line "progress every -1" '^rnn_dist: .*progress-every'
expect_exit "progress every x" 2 "$BIN" train --data sine.h5 --run-dir rpbad --progress-every x &&
  one_line "progress every x" '^rnn_dist: .*progress-every'
if [ "$QUICK" != 1 ] && expect_exit "progress under mpirun" 0 mpirun --oversubscribe -np 2 "$BIN" train \
  --data sine.h5 --run-dir rpm --epochs 2 --batch-size 64 --progress-every 1e-9; then
  steps=$(tail -1 rpm/metrics.csv | cut -d, -f2)
  n=$(grep -Ec "$(echo "$PROGRESS" | sed 's|/3 |/2 |')" "$W/out")
  [ "$n" -eq "$steps" ] && ok || bad "mpirun -np 2: $n progress lines for $steps steps (rank 0 only, one a step)"
fi

# ---- plot_run.py: a regression run ------------------------------------------
if plotted regression rs sine.h5 --epochs 25 --patience 2 --lr 0.02; then
  # the best epoch: the smallest val_loss (min-delta 0), as metrics.csv says
  best=$(awk -F, 'NR > 1 && (b == "" || $6 < v) { v = $6; b = $1 } END { print b }' rs/metrics.csv)
  described "best epoch" "^curves: best epoch $best \(val_loss "
  last=$(tail -1 rs/metrics.csv | cut -d, -f1)
  if [ "$last" -lt 25 ] && [ $((last - best)) -ge 2 ]; then
    described "early stop" "^curves: early stop at epoch $last \(patience 2\)$"
  else
    described "no early stop" "^curves: early stop no$"
  fi
  axis=$(awk -F, 'NR > 1 { for (i = 4; i <= 6; i += 2) if ($i != "") { if (lo == "" || $i < lo) lo = $i;
    if ($i > hi) hi = $i } } END { print (hi >= 10 * lo) ? "log" : "linear" }' rs/metrics.csv)
  described "loss axis" "^curves: loss axis $axis "
  floor=$(attr sine.h5 /val noise_floor_rmse)
  floor=$(printf '%.6g' "$floor")
  described "val floor" "^curves: val floor noise_floor_rmse $floor$"
  described "points" "^predictions: regression, [0-9]+ samples, points$"
  described "units as stored" "^predictions units: .*no target_mean/target_std"
fi
# a resume is marked where it happened, with every option it changed
described "no resume" "^curves: resumed no$"
if expect_exit "train rr" 0 "$BIN" train --data sine.h5 --run-dir rr --epochs 2 \
  --progress-every 0 &&
  expect_exit "resume rr" 0 "$BIN" train --run-dir rr --resume auto --epochs 4 --lr 0.005 \
    --progress-every 0 &&
  expect_exit "plot_run.py resumed" 0 "$PY" "$S/plot_run.py" rr --describe; then
  described "resume marked" "^curves: resumed after epoch 2: epochs 2 -> 4, lr [0-9.e-]+ -> 0.005$"
  [ "$(grep -c '^curves: resumed' "$W/out")" -eq 1 ] && ok ||
    bad "one resume, described as: $(grep resumed "$W/out")"
  is_png "resumed curves" rr/curves.png
fi
# a run stopped mid-epoch (max-steps, as Ctrl-C does): its last row is part of epoch 2,
# never the best epoch (best.h5 is chosen at whole epochs), drawn apart; once resumed
# to the end, the row is whole
if expect_exit "train rm, stopped mid-epoch" 0 "$BIN" train --data sine.h5 --run-dir rm \
  --epochs 3 --max-steps 20 --progress-every 0 &&
  expect_exit "plot_run.py part-done" 0 "$PY" "$S/plot_run.py" rm --describe; then
  spe=$(sed -n 2p rm/metrics.csv | cut -d, -f2)
  described "part-done epoch" "^curves: part-done epoch 2: stopped at step 20, after $((20 - spe)) batches "
  described "best among whole epochs" "^curves: best epoch 1 "
  # the premise that makes the check above able to fail: the part's val_loss is lower
  awk -F, 'NR == 2 { v = $6 } NR == 3 { exit !($6 < v) }' rm/metrics.csv && ok ||
    bad "part-done row: its val_loss is not below epoch 1's, the best-epoch check proves nothing"
  is_png "part-done curves" rm/curves.png
  if expect_exit "resume rm" 0 "$BIN" train --run-dir rm --resume auto --max-steps 0 \
    --progress-every 0 &&
    expect_exit "plot_run.py resumed to the end" 0 "$PY" "$S/plot_run.py" rm --describe; then
    described "whole again" "^curves: part-done epoch none$"
  fi
fi
# a rerun replaces its own images; a loss axis over a decade is logarithmic
expect_exit "plot_run.py rerun" 0 "$PY" "$S/plot_run.py" rs && ok
# --out without an extension gets .png; another extension is refused (the images are PNG)
expect_exit "plot_run.py --out noext" 0 "$PY" "$S/plot_run.py" rs --out noext &&
  { [ -f noext.png ] && [ ! -e noext ] && is_png "--out noext" noext.png ||
    bad "--out noext: wrote $(ls -d noext* 2>/dev/null)"; }
for o in --out --pred-out; do
  expect_exit "plot_run.py $o x.pdf" 2 "$PY" "$S/plot_run.py" rs --predictions rs/p.h5 $o x.pdf &&
    one_line "plot_run.py $o x.pdf" "^plot_run.py: error: $o x.pdf: plot_run.py writes PNG images; name it x.png$" &&
    { [ ! -e x.pdf ] && ok || bad "$o x.pdf: a refused plot wrote x.pdf"; }
done
printf 'epoch,step,lr,train_loss,train_rmse,val_loss,val_rmse,grad_norm,seq_per_s,seconds,skipped\n1,1,0.1,5,2.2,4,2,1,1,1,0\n2,2,0.1,0.3,0.5,0.2,0.45,1,1,1,0\n' >rlog.csv
mkdir rlog && mv rlog.csv rlog/metrics.csv
expect_exit "plot_run.py log axis" 0 "$PY" "$S/plot_run.py" rlog --describe &&
  described "log axis" "^curves: loss axis log " && described "no floors" "^curves: floors: no config.ini in the run directory"
# resumes.log: commas inside a value, a line of another form, a resume from an earlier
# checkpoint (the later history it rewrote loses its resumes)
cp -r rlog rlog2
L='2026-12-04 10:00:00 resumed from rlog/last.h5 at epoch'
printf '%s 1, step 1 on 2 ranks; changed: lr 0.1 -> 0.05, class-weights 1,2 -> balanced\nnoise\n' \
  "$L" >rlog/resumes.log
printf '%s 1, step 1 on 1 rank; no option changed\n%s 0, step 0 on 1 rank; changed: lr 0.1 -> 1\n' \
  "$L" "$L" >rlog2/resumes.log
expect_exit "plot_run.py resumes.log" 0 "$PY" "$S/plot_run.py" rlog --describe &&
  described "values with commas" \
    "^curves: resumed after epoch 1: lr 0.1 -> 0.05, class-weights 1,2 -> balanced$"
expect_exit "plot_run.py rewound" 0 "$PY" "$S/plot_run.py" rlog2 --describe &&
  { [ "$(grep '^curves: resumed' "$W/out")" = "curves: resumed after epoch 0: lr 0.1 -> 1" ] && ok ||
    bad "resumed from an earlier checkpoint, described as: $(grep resumed "$W/out")"; }
expect_exit "plot_run.py --data missing" 2 "$PY" "$S/plot_run.py" rs --data nosuch.h5 &&
  one_line "plot_run.py --data missing" 'nosuch.h5: no such file'

# ---- original units: target_mean/target_std of the data file ---------------
"$PY" - <<'EOF' || bad "standardising sine.h5"
import h5py, numpy as np, shutil
shutil.copy("sine.h5", "sinez.h5")
with h5py.File("sinez.h5", "r+") as f:
    for g in ("train", "val"):
        t = f[g]["targets"]
        t[...] = ((t[()] - 0.75) / 0.5).astype(np.float32)
    f.attrs["target_mean"] = np.float64(0.75)
    f.attrs["target_std"] = np.float64(0.5)
EOF
# predict writes such values in original units (units = "original"): drawn
# as they are, not converted twice
if plotted "original units" rz sinez.h5 --epochs 3; then
  described "original units" "^predictions units: original units \(as predict wrote them\)"
  rmse_want=$("$PY" -c 'import h5py, numpy as np
f = h5py.File("rz/p.h5", "r")
assert f.attrs["units"] in ("original", b"original")
print("%.6g" % np.sqrt(np.mean((f["predictions"][:, -1] - f["targets"][:, -1]) ** 2)))')
  described "rmse in original units" "^predictions rmse $rmse_want$"
  described "curves' rmse in original units" "^curves: rmse axis original units \(x target_std 0.5\)$"
fi
# csv2h5.py's statistics, one per output: one target column over two steps ahead has one
# target_std (the curves' RMSE in its units), two columns two that differ (as stored)
"$PY" -c 'import math
print("a,b")
for i in range(300): print(round(20 + 5 * math.sin(i / 9), 3), round(3 * math.cos(i / 7), 3), sep=",")' >ab.csv
for t in a a,b; do
  if expect_exit "csv2h5 --target $t" 0 "$PY" "$S/csv2h5.py" ab.csv --out "h$t.h5" --columns a,b \
    --target "$t" --window 6 --horizon 2 &&
    expect_exit "train on h$t.h5" 0 "$BIN" train --data "h$t.h5" --run-dir "rh$t" --epochs 2 \
      --hidden 8 --progress-every 0 &&
    expect_exit "plot_run.py rh$t" 0 "$PY" "$S/plot_run.py" "rh$t" --describe; then
    if [ "$t" = a ]; then
      std=$("$PY" -c 'import numpy as np; a = np.loadtxt("ab.csv", delimiter=",", skiprows=1)
print("%.6g" % a[:240, 0].std())')
      described "horizon 2, one column" "^curves: rmse axis original units \(x target_std $std\)$"
    else
      described "two columns" "^curves: rmse axis as stored "
    fi
  fi
done
# a predictions file of stored (standardised) values with the data file's
# statistics: converted by the script
"$PY" - <<'EOF' || bad "making a stored-units predictions file"
import h5py, numpy as np
with h5py.File("rz/p.h5", "r") as f, h5py.File("rz/p-stored.h5", "w") as g:
    for k in f:
        g[k] = f[k][()]
    for k, v in f.attrs.items():
        g.attrs[k] = v
    for k in ("predictions", "targets"):
        g[k][...] = ((f[k][()] - 0.75) / 0.5).astype(np.float32)
    g.attrs["units"] = "stored"
EOF
if expect_exit "plot_run.py stored units" 0 "$PY" "$S/plot_run.py" rz --predictions rz/p-stored.h5 \
  --pred-out rz/pred-stored.png --describe --data sinez.h5; then
  described "stored units converted" "^predictions units: original units \(x \* target_std \+ target_mean of sinez.h5:/val\)"
  described "rmse converted from stored units" "^predictions rmse $rmse_want$"
fi

# ---- plot_run.py: a classifier run ------------------------------------------
"$BIN" datagen stepclass --out step.h5 --n 300 --seed 4 >/dev/null 2>&1 || bad "datagen stepclass"
if plotted classifier rc step.h5 --epochs 3 --monitor val_acc; then
  best=$(awk -F, 'NR > 1 && (b == "" || $7 > v) { v = $7; b = $1 } END { print b }' rc/metrics.csv)
  described "best epoch by val_acc" "^curves: best epoch $best \(val_acc "
  floor=$(printf '%.6g' "$(attr step.h5 /val best_acc)")
  described "best possible accuracy" "^curves: val floor best_acc $floor$"
  expect_exit "eval stepclass" 0 "$BIN" eval --checkpoint rc/best.h5 --data step.h5 &&
    acc=$(sed -n 's/^acc //p' "$W/out") n=$(sed -n 's/^n //p' "$W/out") &&
    "$PY" "$S/plot_run.py" rc --predictions rc/p.h5 --describe >"$W/out" 2>"$W/err" &&
    described "confusion matrix" "^predictions: confusion matrix 3x3, $n targets, accuracy $(printf '%.6g' "$acc")$"
fi

# ---- from_pytorch.py: loss/target inference, refusal, --rename -------------
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "skip: from_pytorch.py checks (PyTorch not installed)"
else
  "$PY" - <<'EOF' || bad "making the .pt files"
import torch
from torch import nn
class Custom(nn.Module):
    def __init__(self, out):
        super().__init__()
        self.lstm = nn.LSTM(2, 5, batch_first=True)
        self.decoder = nn.Linear(5, out)
torch.manual_seed(0)
custom = Custom(3).state_dict()
torch.save(custom, "custom.pt")
plain = {k.replace("lstm.", "rnn.").replace("decoder.", "fc."): v for k, v in custom.items()}
torch.save(plain, "plain.pt")
torch.save({"state_dict": plain, "loss": "ce", "target": "last"}, "hinted.pt")
torch.save({"state_dict": plain, "config": {"loss": "ce", "target": "step"}}, "config.pt")
torch.save({"state_dict": plain, "loss": "hinge"}, "badhint.pt")
one = {k.replace("lstm.", "rnn.").replace("decoder.", "fc."): v for k, v in Custom(1).state_dict().items()}
torch.save(one, "one.pt")
EOF
  F="$S/from_pytorch.py"
  expect_exit "from_pytorch.py without loss and target" 2 "$PY" "$F" plain.pt --out o1.h5 &&
    one_line "from_pytorch.py without loss and target" 'plain.pt: .*give --loss ce\|mse and --target step\|last$'
  [ ! -e o1.h5 ] && ok || bad "a refused from_pytorch.py wrote its --out"
  expect_exit "from_pytorch.py one output" 2 "$PY" "$F" one.pt --out o2.h5 &&
    one_line "from_pytorch.py one output" 'one.pt: the target .*give --target step\|last$'
  expect_exit "from_pytorch.py one output, --target" 0 "$PY" "$F" one.pt --out o2.h5 --target last &&
    [ "$(attr o2.h5 / loss | tr -d '"')" = mse ] && ok || bad "one output: loss not inferred as mse"
  expect_exit "from_pytorch.py saved hints" 0 "$PY" "$F" hinted.pt --out o3.h5 &&
    [ "$(attr o3.h5 / loss | tr -d '"')/$(attr o3.h5 / target | tr -d '"')" = ce/last ] && ok ||
    bad "saved loss/target not recorded"
  expect_exit "inspect of the hinted file" 0 "$BIN" inspect o3.h5 && ok
  expect_exit "from_pytorch.py config hints" 0 "$PY" "$F" config.pt --out o4.h5 &&
    [ "$(attr o4.h5 / target | tr -d '"')" = step ] && ok || bad "config dict target not recorded"
  expect_exit "from_pytorch.py hint contradicted" 2 "$PY" "$F" hinted.pt --out o5.h5 --target step &&
    one_line "hint contradicted" 'contradicts'
  expect_exit "from_pytorch.py bad saved loss" 2 "$PY" "$F" badhint.pt --out o5.h5 &&
    one_line "bad saved loss" "badhint.pt: saved loss 'hinge'"
  expect_exit "from_pytorch.py other module names" 2 "$PY" "$F" custom.pt --out o6.h5 --loss ce --target last &&
    one_line "other module names" 'modules are named lstm, decoder.*give --rename lstm=rnn,decoder=fc$'
  for r in "--rename lstm=rnn,decoder=fc" "--rename lstm=rnn --rename decoder=fc"; do
    rm -f o6.h5
    # shellcheck disable=SC2086
    if expect_exit "from_pytorch.py $r" 0 "$PY" "$F" custom.pt --out o6.h5 --loss ce --target last $r; then
      "$PY" -c 'import h5py, numpy as np, torch
sd = torch.load("custom.pt")
f = h5py.File("o6.h5", "r")
ok = all(np.array_equal(f["params"][k.replace("lstm.", "rnn.").replace("decoder.", "fc.")][()], v.numpy())
         for k, v in sd.items())
raise SystemExit(0 if ok else 1)' && ok || bad "$r: parameters not stored under the new names"
    fi
  done
  for r in "lstm" "lstm=" "lstm=gru" "nosuch=rnn"; do
    expect_exit "from_pytorch.py --rename $r" 2 "$PY" "$F" custom.pt --out o7.h5 --loss ce --target last \
      --rename "$r" && one_line "--rename $r" '--rename'
  done
fi
summary run_plots.sh
