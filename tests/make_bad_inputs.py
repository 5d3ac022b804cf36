#!/usr/bin/python3
"""Write one HDF5 file (or non-file) per kind of bad training input.

Usage: make_bad_inputs.py OUTDIR

Writes OUTDIR/cases.tsv: one line per case, `file<TAB>expected message part`.
tests/run_integration.sh trains on each and expects exit code 2 and a single
error line containing the expected part (which names file, member and index).
"""
import os
import sys

import h5py
import numpy as np


def good(n=6, t=4, f=3, classes=3):
    rng = np.random.default_rng(0)
    return {
        "inputs": rng.standard_normal((n, t, f)).astype(np.float32),
        "targets": rng.integers(0, classes, (n, t)).astype(np.int32),
        "lengths": np.full(n, t, dtype=np.int32),
    }


def write(path, members, attrs=None):
    with h5py.File(path, "w") as h:
        for k, v in members.items():
            h[k] = v
        for k, v in (attrs or {"num_classes": 3}).items():
            h.attrs[k] = v


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []

    def case(name, expect, members=None, attrs=None, raw=None):
        path = os.path.join(out, name)
        if raw is not None:
            with open(path, "wb") as f:
                f.write(raw)
        elif members is not None:
            write(path, members, attrs)
        cases.append((path, expect))

    case("missing.h5", "cannot open")
    case("not_hdf5.h5", "not an HDF5 file", raw=b"epoch,loss\n1,0.5\n")
    d = good(); del d["targets"]
    case("no_targets.h5", "member '/targets' is missing", d)
    d = good(); d["inputs"] = d["inputs"][:, :, 0]
    case("inputs_rank.h5", "/inputs must be float [N, T, F] or integer token ids [N, T], found float of rank 2", d)
    d = good(); d["targets"] = d["targets"].astype("S4")
    case("targets_type.h5", "/targets must be integer classes", d)
    d = good(); d["targets"] = d["targets"][:5]
    case("n_mismatch.h5", "/targets has 5 rows but /inputs has 6", d)
    d = good(); d["lengths"] = d["lengths"][:4]
    case("lengths_rows.h5", "/lengths has 4 rows but /inputs has 6", d)
    d = good(); d["lengths"][3] = 0
    case("lengths_zero.h5", "/lengths[3] = 0 is outside 1..4", d)
    d = good(); d["lengths"][5] = 9
    case("lengths_big.h5", "/lengths[5] = 9 is outside 1..4", d)
    d = good(); d["targets"][2, 1] = 3
    case("class_range.h5", "/targets[2, 1] = 3 is outside the classes 0..2", d)
    d = good(); d["targets"][2, 3] = 7; d["lengths"][2] = 3
    case_ok_padding = d  # a bad class in padding is allowed: not a case
    d = good(); d["targets"][4, 0] = -1
    case("class_negative.h5", "/targets[4, 0] = -1 is outside the classes 0..2", d)
    d = good()
    case("no_num_classes.h5", "attribute 'num_classes' is missing", d, attrs={"description": "x"})
    d = good(); d["inputs"][1, 2, 0] = np.nan
    case("nan_input.h5", "/inputs[1, 2, 0] is NaN", d)
    d = good(); d["inputs"][0, 3, 2] = np.inf
    case("inf_input.h5", "/inputs[0, 3, 2] is Inf", d)
    d = good(); d["targets"] = np.zeros((6, 4, 1), np.float32); d["targets"][5, 1, 0] = np.nan
    case("nan_target.h5", "/targets[5, 1, 0] is NaN", d)
    d = good(); d["inputs"] = d["inputs"][:0]; d["targets"] = d["targets"][:0]; d["lengths"] = d["lengths"][:0]
    case("empty.h5", "/inputs is empty (0 rows)", d)
    tok = {"inputs": np.array([[1, 2, 3], [4, 5, 12]], np.int32),
           "targets": np.array([[1, 2, 0], [1, 1, 1]], np.int32)}
    case("token_range.h5", "/inputs[1, 2] = 12 is outside the vocabulary 0..9", tok,
         attrs={"num_classes": 3, "vocab_size": 10})
    case("no_vocab.h5", "attribute 'vocab_size' is missing", tok, attrs={"num_classes": 3})
    d = good(); d["targets"] = d["targets"][:, :3]
    case("steps_mismatch.h5", "/targets has 3 steps but /inputs has 4", d)
    with h5py.File(os.path.join(out, "no_dataset.h5"), "w") as h:
        h["other"] = np.zeros(3)
    cases.append((os.path.join(out, "no_dataset.h5"), "no dataset found"))
    with open(os.path.join(out, "cases.tsv"), "w") as f:
        for path, expect in cases:
            f.write(f"{path}\t{expect}\n")
    write(os.path.join(out, "padding_ok.h5"), case_ok_padding)


if __name__ == "__main__":
    main()
