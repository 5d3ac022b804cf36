#!/bin/sh
# fuzz/make_seeds.sh OUTDIR - the seed corpus of make fuzz: small valid files
# of every schema variant, in OUTDIR/dataset and OUTDIR/checkpoint.
#   datasets: rnn_dist datagen of all six tasks (tokens / dense inputs, class /
#     value targets, per step / per sequence, groups /train /val /test), then
#     variants rewritten with h5py: at the root, with lengths, attributes on
#     the root only, no targets (predict), other integer and float widths,
#     chunked + gzip + shuffle + fletcher32, the newest file format
#   checkpoints: tiny rnn_dist train runs (rnn tanh/relu, lstm, gru; token and
#     dense input; class and value targets; adam, adamw, sgd+momentum;
#     --checkpoint-every 1: last.h5, best.h5, ckpt-epochNNNN.h5), and a
#     params-only file as from_pytorch.py writes
# OUTDIR/bases.tsv lists them for tests/make_mutants.py: kind, file and, for
# a checkpoint, the train options it was made with (without --epochs).
# Uses RNN_DIST (default build/rnn_dist) and /usr/bin/python3 (h5py).
set -eu
OUT=${1:?usage: make_seeds.sh OUTDIR}
BIN=${RNN_DIST:-build/rnn_dist}
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS="detect_leaks=0"
D="$OUT/dataset"
C="$OUT/checkpoint"
W="$OUT/work"
rm -rf "$D" "$C" "$W"
mkdir -p "$D" "$C" "$W"
: >"$OUT/bases.tsv"
for t in counting seqclass stepclass arith adding; do
  "$BIN" datagen "$t" --n 20 --seq-len 6 --out "$D/$t.h5" >/dev/null
done
"$BIN" datagen sine --n 40 --seq-len 6 --out "$D/sine.h5" >/dev/null

$PY - "$D" <<'PYEOF'
import os, sys
import h5py, numpy as np
d = sys.argv[1]

def root_copy(src, dst, group="train", lengths=False, targets=True, attrs_on_root=True,
              in_dtype=None, tg_dtype=None, chunked=False, latest=False, ln_dtype="i4"):
    with h5py.File(os.path.join(d, src), "r") as s:
        g = s[group]
        x = g["inputs"][()]
        y = g["targets"][()]
        attrs = dict(g.attrs)
    kw = {"libver": "latest"} if latest else {}
    with h5py.File(os.path.join(d, dst), "w", **kw) as h:
        opts = dict(chunks=True, compression="gzip", shuffle=True, fletcher32=True) if chunked else {}
        h.create_dataset("inputs", data=x.astype(in_dtype) if in_dtype else x, **opts)
        if targets:
            h.create_dataset("targets", data=y.astype(tg_dtype) if tg_dtype else y, **opts)
        if lengths:
            n, t = x.shape[0], x.shape[1]
            h.create_dataset("lengths", data=(np.arange(n) % t + 1).astype(ln_dtype), **opts)
        for k, v in attrs.items():
            if attrs_on_root:
                h.attrs[k] = v
        if not attrs_on_root:
            g2 = h  # attributes only through /train below
            tr = h.create_group("train")
            tr["inputs"] = x
            if targets:
                tr["targets"] = y
            for k, v in attrs.items():
                tr.attrs[k] = v

root_copy("counting.h5", "root_tokens_step_lengths.h5", lengths=True)
root_copy("counting.h5", "root_tokens_i64_lengths_i16.h5", lengths=True, in_dtype="i8", tg_dtype="i2", ln_dtype="i2")
root_copy("seqclass.h5", "root_dense_last_class.h5")
root_copy("seqclass.h5", "root_dense_f64_lengths.h5", lengths=True, in_dtype="f8")
root_copy("stepclass.h5", "root_dense_step_class_chunked.h5", lengths=True, chunked=True)
root_copy("adding.h5", "root_dense_last_value_latest.h5", latest=True)
root_copy("arith.h5", "root_dense_step_value_lengths.h5", lengths=True, tg_dtype="f8")
root_copy("sine.h5", "root_no_targets.h5", targets=False)
root_copy("counting.h5", "train_group_attrs_only.h5", attrs_on_root=False)
PYEOF

# checkpoints: tiny runs, two epochs, a checkpoint every epoch
n=0
train() {
  n=$((n + 1))
  data=$1
  shift
  "$BIN" train --data "$D/$data" --hidden 4 --epochs 2 --batch-size 8 --checkpoint-every 1 \
    --keep 1 --run-dir "$W/r$n" "$@" >/dev/null
  for f in last best; do cp "$W/r$n/$f.h5" "$C/r$n-$f.h5"; done
  cp "$W/r$n"/ckpt-epoch*.h5 "$C/r$n-epoch.h5"
  printf 'checkpoint\t%s\t%s\n' "$C/r$n-last.h5" "--data $D/$data --hidden 4 --batch-size 8 $*" \
    >>"$OUT/bases.tsv"
}
train counting.h5 --cell rnn
train counting.h5 --cell rnn --nonlinearity relu --embed 3 --optimizer sgd --momentum 0.9
train seqclass.h5 --cell lstm --layers 2 --dropout 0.1
train stepclass.h5 --cell gru --optimizer adamw
train adding.h5 --cell lstm --out-dropout 0.1
train arith.h5 --cell gru --layers 2 --optimizer sgd
train counting.h5 --cell lstm --max-steps 3
# parameters only (as scripts/from_pytorch.py writes: no format_version)
$PY - "$C/r1-last.h5" "$C/params_only.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as s, h5py.File(sys.argv[2], "w") as h:
    for k, v in s.attrs.items():
        if k in ("cell", "nonlinearity", "input", "loss", "target", "vocab_size", "embed",
                 "features", "hidden", "layers", "out"):
            h.attrs[k] = v
    for k in s["params"]:
        h["params/" + k] = s["params"][k][()]
PYEOF
printf 'checkpoint\t%s\t%s\n' "$C/params_only.h5" "--data $D/counting.h5 --hidden 4 --batch-size 8" \
  >>"$OUT/bases.tsv"
for f in "$D"/*.h5; do printf 'dataset\t%s\t\n' "$f" >>"$OUT/bases.tsv"; done
rm -rf "$W"
echo "make_seeds: $(ls "$D" | wc -l) datasets, $(ls "$C" | wc -l) checkpoints in $OUT ($(du -sk "$OUT" | cut -f1) KiB)"
