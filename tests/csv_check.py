"""Checks of scripts/csv2h5.py's output for tests/run_csv.sh (run by /usr/bin/python3).

Usage: csv_check.py CHECK ARGS...  (column lists separated by ";"; exit 1 with one line on stderr when it fails)

The expected values are recomputed here from the CSV with plain loops (not
the script's vectorised indexing), so a wrong offset, split, order or
statistic in csv2h5.py shows up as a mismatch.
"""

import csv
import sys

import h5py
import numpy as np


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def table(path, header=True):
    """{column name or index string: list of cell strings}, in file order."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    names = rows[0] if header else [str(i) for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    return {n: [r[i].strip() for r in body] for i, n in enumerate(names)}


def shares(split, n):
    """Row (or group) counts of the parts."""
    s = [float(x) for x in split.split(",")]
    a = int(round(n * s[0]))
    return [a, n - a] if len(s) == 1 else [a, int(round(n * s[1])), n - a - int(round(n * s[1]))]


def fill(col, mode):
    """One part's column with its gaps (NaN) filled by loops."""
    out = list(col)
    known = [i for i, v in enumerate(out) if not np.isnan(v)]
    for i, v in enumerate(out):
        if not np.isnan(v):
            continue
        before = [k for k in known if k < i]
        after = [k for k in known if k > i]
        if mode == "ffill":
            out[i] = col[before[-1]] if before else col[after[0]]
        elif not before or not after:
            out[i] = col[(before or after)[-1 if before else 0]]
        else:
            lo, hi = before[-1], after[0]
            out[i] = (col[hi] - col[lo]) / (hi - lo) * (i - lo) + col[lo]   # np.interp's order
    return np.array(out, np.float64)


def equal(what, got, want):
    if got.shape != want.shape:
        fail(f"{what}: shape {got.shape}, expected {want.shape}")
    if not np.array_equal(got, want):
        i = np.argwhere(got != want)[0]
        fail(f"{what}: differs at {tuple(i)}: {got[tuple(i)]!r}, expected {want[tuple(i)]!r}")


def values(h5, csvfile, inputs, targets, T, K, split, normalize, fillmode="none", header="1"):
    """Every part: inputs [N,T,F], targets [N,K*O] and the train-only statistics."""
    cols = table(csvfile, header == "1")
    T, K = int(T), int(K)
    inputs, targets = inputs.split(";"), targets.split(";")
    num = {n: np.array([float(c) if c else np.nan for c in cols[n]]) for n in set(inputs + targets)}
    counts = shares(split, len(cols[inputs[0]]))
    names = ["train", "val", "test"][:len(counts)]
    with h5py.File(h5, "r") as f:
        if sorted(f.keys()) != sorted(names):
            fail(f"{h5}: groups {sorted(f.keys())}, expected {sorted(names)}")
        start, parts = 0, {}
        for part, n in zip(names, counts):
            parts[part] = {c: fill(v[start:start + n], fillmode) for c, v in num.items()}
            start += n
        train = parts["train"]
        mean = {c: np.mean(v) for c, v in train.items()}
        std = {c: (np.std(v) if np.std(v) > 0 else 1.0) for c, v in train.items()}
        for part in names:
            g, p = f[part], parts[part]
            if normalize == "1":
                p = {c: (v - mean[c]) / std[c] for c, v in p.items()}
                # targets: one value per output [K*O], step-major as the targets
                for attr, cs, d in (("input_mean", inputs, mean), ("input_std", inputs, std),
                                    ("target_mean", targets * K, mean),
                                    ("target_std", targets * K, std)):
                    got = g.attrs[attr]
                    if got.dtype != np.float64:
                        fail(f"/{part} {attr}: type {got.dtype}, expected float64")
                    equal(f"/{part} {attr}", got, np.array([d[c] for c in cs]))
            else:
                for attr in ("input_mean", "input_std", "target_mean", "target_std"):
                    if attr in g.attrs:
                        fail(f"/{part}: {attr} written with --no-normalize")
            n = len(p[inputs[0]]) - T - K + 1
            x = np.zeros((n, T, len(inputs)), np.float32)
            y = np.zeros((n, K * len(targets)), np.float32)
            for i in range(n):
                for t in range(T):
                    for j, c in enumerate(inputs):
                        x[i, t, j] = p[c][i + t]
                for k in range(K):
                    for o, c in enumerate(targets):
                        y[i, k * len(targets) + o] = p[c][i + T + k]
            equal(f"/{part}/inputs", g["inputs"][()], x)
            equal(f"/{part}/targets", g["targets"][()], y)


def labels(h5, csvfile, inputs, label, T, split, group=""):
    """Class targets: per window (label at the window's last row) or per group."""
    cols = table(csvfile)
    T = int(T)
    inputs = inputs.split(";")
    classes = sorted(set(cols[label]))
    with h5py.File(h5, "r") as f:
        for part in f:
            g = f[part]
            if strings(g.attrs["class_names"]) != classes:
                fail(f"/{part} class_names {strings(g.attrs['class_names'])}, expected {classes}")
            if g.attrs["num_classes"] != len(classes):
                fail(f"/{part} num_classes {g.attrs['num_classes']}, expected {len(classes)}")
        if not group:
            counts = shares(split, len(cols[label]))
            start = 0
            for part, n in zip(["train", "val", "test"], counts):
                want = [classes.index(cols[label][start + i + T - 1]) for i in range(n - T + 1)]
                equal(f"/{part}/targets", f[part]["targets"][()], np.array(want, np.int32))
                start += n
            return
        order = list(dict.fromkeys(cols[group]))
        counts = shares(split, len(order))
        start = 0
        for part, n in zip(["train", "val", "test"], counts):
            ids = order[start:start + n]
            rows = [[i for i, g in enumerate(cols[group]) if g == gid] for gid in ids]
            equal(f"/{part}/lengths", f[part]["lengths"][()], np.array([len(r) for r in rows], np.int32))
            equal(f"/{part}/targets", f[part]["targets"][()],
                  np.array([classes.index(cols[label][r[0]]) for r in rows], np.int32))
            x = f[part]["inputs"][()]
            for i, r in enumerate(rows):
                raw = np.array([[float(cols[c][k]) for c in inputs] for k in r])
                if not np.allclose(x[i, :len(r)] * f[part].attrs["input_std"] + f[part].attrs["input_mean"],
                                   raw, rtol=1e-6):
                    fail(f"/{part}/inputs[{i}] * std + mean is not the group's rows")
                if np.any(x[i, len(r):] != 0):
                    fail(f"/{part}/inputs[{i}] padding is not zero")
            start += n


def strings(values):
    """An HDF5 string array attribute as a list of str."""
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def attr(h5, name, want):
    """A root string-array attribute, joined by ';'."""
    with h5py.File(h5, "r") as f:
        got = ";".join(strings(np.atleast_1d(f.attrs[name])))
    if got != want:
        fail(f"{h5}: attribute {name} is {got!r}, expected {want!r}")


def shape(h5, member, want):
    """One member's shape, e.g. train/targets 36,6."""
    with h5py.File(h5, "r") as f:
        got = ",".join(str(d) for d in f[member].shape)
    if got != want:
        fail(f"{h5}:/{member} shape {got}, expected {want}")


if __name__ == "__main__":
    {"values": values, "labels": labels, "shape": shape, "attr": attr}[sys.argv[1]](*sys.argv[2:])
