#!/usr/bin/python3
"""Compare two rnn_dist run directories (or two checkpoints) within a tolerance.

Usage: compare_runs.py A B [--rtol 1e-5] [--rows N]
  A, B   run directories (metrics.csv and last.h5 compared) or .h5 checkpoints
         (/params compared)
  --rows N  compare only the first N rows of metrics.csv (default: all, and
            the row counts must match)

Every loss, metric and grad_norm column of metrics.csv must agree within
rtol relative (|a - b| <= rtol * max(|a|, |b|, 1e-12)); every parameter
tensor within rtol relative in the L2 norm (||a - b|| <= rtol * ||a||).

Why a norm for the weights: runs on different numbers of ranks sum the
gradients in a different order, so they differ by float rounding (~1e-7) at
the first step, and training amplifies that unevenly: after ~70 Adam steps
the median element differs by ~1e-7 of the tensor's scale but a few elements
by up to ~4e-5. The norm measures the replica as a whole; the largest single
element difference is printed as well, for information.
Prints the worst relative differences found; exits 1 on any mismatch.
"""
import argparse
import csv
import os
import sys

import h5py
import numpy as np

COLUMNS = ("train_loss", "train_acc", "train_rmse", "val_loss", "val_acc", "val_rmse",
           "grad_norm")


def compare_params(a, b, rtol):
    """Worst L2-relative difference, worst single element (relative to the
    tensor's largest magnitude), and the list of failures."""
    worst, elem, bad = 0.0, 0.0, []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        na, nb = sorted(fa["params"].keys()), sorted(fb["params"].keys())
        if na != nb:
            return 1.0, [f"parameter names differ: {na} vs {nb}"]
        for name in na:
            x = np.asarray(fa["params"][name], dtype=np.float64)
            y = np.asarray(fb["params"][name], dtype=np.float64)
            if x.shape != y.shape:
                bad.append(f"{name}: shape {x.shape} vs {y.shape}")
                continue
            rel = float(np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-30))
            scale = max(np.abs(x).max(), np.abs(y).max(), 1e-30)
            elem = max(elem, float(np.abs(x - y).max() / scale))
            worst = max(worst, rel)
            if not rel <= rtol:
                bad.append(f"{name}: relative difference {rel:.3g} (L2)")
    return worst, elem, bad


def read_metrics(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def compare_metrics(a, b, rtol, rows):
    ra, rb = read_metrics(a), read_metrics(b)
    bad, worst = [], 0.0
    if rows is None and len(ra) != len(rb):
        bad.append(f"metrics.csv rows: {len(ra)} vs {len(rb)}")
    n = min(len(ra), len(rb)) if rows is None else rows
    if len(ra) < n or len(rb) < n:
        return 1.0, [f"metrics.csv has {len(ra)} and {len(rb)} rows, {n} wanted"]
    for i in range(n):
        if ra[i]["epoch"] != rb[i]["epoch"] or ra[i]["step"] != rb[i]["step"]:
            bad.append(f"row {i + 1}: epoch/step {ra[i]['epoch']}/{ra[i]['step']} vs "
                       f"{rb[i]['epoch']}/{rb[i]['step']}")
        for c in COLUMNS:
            if c not in ra[i] or ra[i][c] == "":
                continue
            x, y = float(ra[i][c]), float(rb[i][c])
            rel = abs(x - y) / max(abs(x), abs(y), 1e-12)
            worst = max(worst, rel)
            if not rel <= rtol:
                bad.append(f"row {i + 1} {c}: {x!r} vs {y!r} (relative {rel:.3g})")
    return worst, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rtol", type=float, default=1e-5)
    ap.add_argument("--rows", type=int, default=None)
    args = ap.parse_args()
    if os.path.isdir(args.a):
        w, b = compare_metrics(os.path.join(args.a, "metrics.csv"),
                               os.path.join(args.b, "metrics.csv"), args.rtol, args.rows)
        ca, cb = os.path.join(args.a, "last.h5"), os.path.join(args.b, "last.h5")
    else:
        w, b = 0.0, []
        ca, cb = args.a, args.b
    pw, elem, pb = compare_params(ca, cb, args.rtol)
    bad = b + pb
    for line in bad:
        print(f"compare_runs: {line}", file=sys.stderr)
    print(f"metrics {w:.2g}, weights {pw:.2g} (L2; largest element {elem:.2g}); "
          f"rtol {args.rtol:g}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
