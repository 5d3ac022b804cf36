#!/usr/bin/python3
"""Write N mutated HDF5 files from valid datasets and checkpoints.

Usage: make_mutants.py --seed S --count N --out OUTDIR BASE.tsv

BASE.tsv lists the valid files, one per line: `kind<TAB>file<TAB>train args`
(kind dataset or checkpoint; the train args are the options the checkpoint
was trained with, so --resume / --init reach its tensors). The mutants are a
pure function of (seed, count, the base files): mutant i uses its own
random.Random(seed * 1000003 + i), so a failure is reproduced by its number.

Writes OUTDIR/mNNNN.h5 and OUTDIR/mutants.tsv, one line per mutant:
`file<TAB>kind<TAB>train args<TAB>mutation` (mutation: what was done, for the
failure report).

Mutations, byte level (any file): bit flips at random offsets, bytes set to
0x00 / 0xff / random over a short run, truncation at a random length (in the
header, the metadata or the data), a zeroed block. Structural (h5py rewrites
the file, which stays valid HDF5 with its checksums): a member rewritten with
another type (int <-> float, 8/16/64 bits, unsigned, strings, compound) or
another shape (a dimension dropped, added, zeroed, swapped, shortened), a
member deleted or replaced by a group, huge dimensions (2^31 .. 2^60 rows or
steps of one member, or rows of every member of a group, stored as unwritten
chunks), attributes removed, out of range (0, -1,
2^31, 2^62), of the wrong type (string, float, array) or added at the wrong
place, bad values (NaN / Inf inputs, tokens and classes out of range, lengths
0 or > T, non-finite parameters).
"""
import argparse
import warnings
import os
import random
import shutil

import h5py
import numpy as np

warnings.filterwarnings("ignore")

HUGE = [2**31, 2**32 + 1, 2**40, 2**60]


def members(h):
    out = []
    h.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(out)


def groups(h):
    out = ["/"]
    h.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Group) else None)
    return out


def rewrite(h, name, data=None, **kw):
    """Replace dataset `name` by data (or by create_dataset(**kw))."""
    del h[name]
    if data is not None:
        h.create_dataset(name, data=data)
    else:
        h.create_dataset(name, **kw)


def swap_dtype(h, r):
    name = r.choice(members(h))
    x = h[name][()]
    kinds = ["i1", "i2", "i8", "u1", "u8", "f2", "f8", "f4", "i4", "S8", "str", "compound", "bool"]
    k = r.choice(kinds)
    if k == "S8":
        rewrite(h, name, data=np.full(x.shape, b"abc", dtype="S8"))
    elif k == "str":
        rewrite(h, name, data=np.array(["x"] * max(1, x.size), dtype=h5py.string_dtype()))
    elif k == "compound":
        dt = np.dtype([("a", "i4"), ("b", "f4")])
        rewrite(h, name, data=np.zeros(x.shape, dtype=dt))
    elif k == "bool":
        rewrite(h, name, data=(x != 0))
    else:
        with np.errstate(all="ignore"):
            rewrite(h, name, data=x.astype(k))
    return f"dtype {name} -> {k}"


def swap_shape(h, r):
    name = r.choice(members(h))
    x = h[name][()]
    choice = r.randrange(7)
    if choice == 0 and x.ndim > 0:
        y = x.reshape(x.shape[:-1]) if x.shape[-1] == 1 else x[..., 0]
        what = "last dim dropped"
    elif choice == 1:
        y = x[..., None]
        what = "dim added"
    elif choice == 2 and x.ndim > 0:
        y = x[:0]
        what = "0 rows"
    elif choice == 3 and x.ndim > 1:
        y = np.swapaxes(x, 0, 1)
        what = "axes 0,1 swapped"
    elif choice == 4 and x.ndim > 0 and x.shape[0] > 1:
        y = x[: x.shape[0] // 2]
        what = "rows halved"
    elif choice == 5:
        y = np.asarray(x.flat[0] if x.size else 0)
        what = "scalar"
    else:
        y = np.concatenate([x, x], axis=-1) if x.ndim > 0 else x
        what = "last dim doubled"
    rewrite(h, name, data=y)
    return f"shape {name} {x.shape} -> {y.shape} ({what})"


def huge_rows(h, r):
    """Every member of one group declares the same huge number of rows."""
    name = r.choice(members(h))
    grp = name.rsplit("/", 1)[0] if "/" in name else ""
    n = r.choice(HUGE)
    for m in members(h):
        if (m.rsplit("/", 1)[0] if "/" in m else "") != grp:
            continue
        x = h[m]
        shape = (n,) + tuple(x.shape[1:])
        dt = x.dtype
        del h[m]
        h.create_dataset(m, shape=shape, dtype=dt, chunks=tuple(1 for _ in shape),
                         maxshape=tuple(None for _ in shape))
    return f"huge rows {n} in every member of /{grp} (unwritten chunks)"


def huge_dims(h, r):
    if r.random() < 0.5:
        return huge_rows(h, r)
    name = r.choice(members(h))
    x = h[name]
    shape = list(x.shape) or [1]
    dt = x.dtype
    axis = r.randrange(len(shape))
    shape[axis] = r.choice(HUGE)
    chunks = tuple(1 for _ in shape)
    del h[name]
    h.create_dataset(name, shape=tuple(shape), dtype=dt, chunks=chunks,
                     maxshape=tuple(None for _ in shape))
    return f"huge {name} {tuple(shape)} (unwritten chunks)"


def delete_member(h, r):
    name = r.choice(members(h) + groups(h)[1:])
    del h[name]
    if r.random() < 0.3:
        h.create_group(name)
        return f"{name} replaced by a group"
    return f"deleted {name}"


def attr_targets(h):
    out = []
    for g in groups(h):
        for k in h[g].attrs:
            out.append((g, k))
    for m in members(h):
        for k in h[m].attrs:
            out.append((m, k))
    return out


def wrong_attr(h, r):
    targets = attr_targets(h)
    if not targets:
        h.attrs["num_classes"] = -1
        return "num_classes = -1 added"
    obj, k = r.choice(targets)
    a = h[obj].attrs
    c = r.randrange(6)
    if c == 0:
        del a[k]
        return f"attr {obj}@{k} deleted"
    if c == 1:
        v = r.choice([0, -1, 1, 2**31, 2**62, -(2**63)])
        a[k] = np.int64(v)
        return f"attr {obj}@{k} = {v}"
    if c == 2:
        a[k] = r.choice(["", "lstm", "x" * 300, "tokens", "dense", "mse"])
        return f"attr {obj}@{k} = a string"
    if c == 3:
        a[k] = r.choice([np.nan, np.inf, 1e300, -0.5, 2.5])
        return f"attr {obj}@{k} = a float"
    if c == 4:
        a[k] = np.arange(r.randrange(0, 5), dtype="i8")
        return f"attr {obj}@{k} = an array"
    a[k] = np.zeros((), dtype=[("x", "i4")])
    return f"attr {obj}@{k} = a compound"


def bad_values(h, r):
    name = r.choice(members(h))
    x = h[name][()]
    if x.size == 0:
        return wrong_attr(h, r)
    flat = x.reshape(-1).copy()
    i = r.randrange(flat.size)
    if flat.dtype.kind == "f":
        v = r.choice([np.nan, np.inf, -np.inf, 1e38, -1e38])
    else:
        v = r.choice([-1, 0, 10**6, 2**31 - 1, -(2**31)])
    with np.errstate(all="ignore"):
        flat[i] = v
    h[name][...] = flat.reshape(x.shape)
    return f"value {name}[{i}] = {v}"


STRUCT = [(swap_dtype, 3), (swap_shape, 3), (huge_dims, 2), (delete_member, 2),
          (wrong_attr, 3), (bad_values, 3)]


def structural(path, r):
    fns = [f for f, w in STRUCT for _ in range(w)]
    with h5py.File(path, "r+") as h:
        return r.choice(fns)(h, r)


def bytes_level(path, r):
    data = bytearray(open(path, "rb").read())
    n = len(data)
    c = r.randrange(10)
    if c < 5:
        k = r.choice([1, 1, 2, 4, 8, 32])
        offs = []
        for _ in range(k):
            # half of the flips in the first 4 KiB: the superblock and root metadata
            o = r.randrange(min(n, 4096)) if r.random() < 0.5 else r.randrange(n)
            data[o] ^= 1 << r.randrange(8)
            offs.append(o)
        what = f"{k} bit flip(s) at {offs[:4]}{'...' if k > 4 else ''}"
    elif c < 8:
        cut = r.choice([r.randrange(0, 64), r.randrange(0, min(n, 4096)), r.randrange(n)])
        del data[cut:]
        what = f"truncated to {cut} of {n} bytes"
    elif c < 9:
        o = r.randrange(n)
        ln = r.randrange(1, 17)
        fill = r.choice([0x00, 0xFF, None])
        for j in range(o, min(n, o + ln)):
            data[j] = r.randrange(256) if fill is None else fill
        what = f"{ln} bytes at {o} set to {'random' if fill is None else hex(fill)}"
    else:
        o = r.randrange(n)
        ln = r.randrange(64, 1025)
        data[o:o + ln] = bytes(len(data[o:o + ln]))
        what = f"{ln} bytes zeroed at {o}"
    open(path, "wb").write(bytes(data))
    return what


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--out", required=True)
    ap.add_argument("bases")
    a = ap.parse_args()
    bases = []
    for line in open(a.bases):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 2:
            bases.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "mutants.tsv"), "w") as tsv:
        for i in range(a.count):
            r = random.Random(a.seed * 1000003 + i)
            kind, base, args = bases[i % len(bases)]
            out = os.path.join(a.out, f"m{i:04d}.h5")
            shutil.copyfile(base, out)
            try:
                what = structural(out, r) if r.random() < 0.55 else bytes_level(out, r)
            except Exception as ex:  # h5py refused this rewrite: flip bits instead
                shutil.copyfile(base, out)
                what = f"({type(ex).__name__}) " + bytes_level(out, r)
            what = f"{os.path.basename(base)}: {what}".replace("\t", " ").replace("\n", " ")
            tsv.write(f"{out}\t{kind}\t{args}\t{what}\n")


if __name__ == "__main__":
    main()
