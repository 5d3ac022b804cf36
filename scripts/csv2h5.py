#!/usr/bin/python3
"""Turn one column of a CSV time series into an rnn_dist regression dataset.

Usage: scripts/csv2h5.py IN.csv --out F.h5 --column NAME_OR_INDEX --window W
                         [--horizon H] [--val-fraction F] [--normalize] [--delimiter C]
                         [--force]

The series (the column's values, in file order) is split chronologically
FIRST: train = the first (1 - F) of the values, val = the last F, so no window
straddles the split. Each part is then cut into every window of W consecutive
values: inputs float32 [N, W, 1], targets float32 [N, 1] = the value H steps
after the window's last value. Writes groups /train and /val (inputs, targets,
attribute description). With --normalize, both parts are standardised with
the TRAIN mean and std, stored as root attributes `mean` and `std` (to undo:
value * std + mean).

The first row is a header when the column's cell in it is not a number. Empty
cells, non-numeric, NaN or infinite values in the column are refused with
file:line. F.h5 is written as F.h5.tmp.PID and renamed when complete; an
existing F.h5 is refused unless --force is given, and IN.csv itself always
(exit status 2). Train with e.g.
    rnn_dist train --data F.h5 --target last --cell lstm
"""

import argparse
import csv
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outfile  # noqa: E402
import rnn_dist_torch as rdt  # noqa: E402


def parse_number(text):
    """float(text) when it is a finite number, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_column(path, column, delimiter):
    """(column name, values as float64 array) of one CSV column."""
    if not os.path.isfile(path):
        raise rdt.UserError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(_numbered_rows(csv.reader(f, delimiter=delimiter)))
    except (UnicodeDecodeError, csv.Error) as e:
        raise rdt.UserError(f"{path}: not a readable CSV file ({e})") from None
    while rows and not rows[-1][1]:
        rows.pop()                      # trailing blank lines
    if not rows:
        raise rdt.UserError(f"{path}: empty file")
    line, first = rows[0]
    names = [c.strip() for c in first]
    by_name = column in names
    if by_name:
        index = names.index(column)
    elif column.isdigit():
        index = int(column)
    else:
        raise rdt.UserError(f"{path}:{line}: no column named {column!r} in the header "
                            f"({', '.join(names)}); give a name or a 0-based index")
    if index >= len(first):
        raise rdt.UserError(f"{path}:{line}: column index {index} out of range: the row has "
                            f"{len(first)} columns (indices are 0-based)")
    has_header = by_name or parse_number(first[index]) is None
    name = names[index] if has_header else f"column {index}"
    values = []
    for line, row in rows[1:] if has_header else rows:
        if not row:
            raise rdt.UserError(f"{path}:{line}: empty line")
        if index >= len(row):
            raise rdt.UserError(f"{path}:{line}: the row has {len(row)} column(s), no column {index}")
        cell = row[index].strip()
        if not cell:
            raise rdt.UserError(f"{path}:{line}: empty cell in {name}")
        value = parse_number(cell)
        if value is None:
            raise rdt.UserError(f"{path}:{line}: {cell!r} in {name} is not a finite number")
        values.append(value)
    if not values:
        raise rdt.UserError(f"{path}: no values below the header")
    return name, np.array(values, dtype=np.float64)


def _numbered_rows(reader):
    """(line number where the row starts, row) for every row of a csv.reader."""
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def windows(series, window, horizon):
    """inputs [N, W, 1] and targets [N, 1] of every window of a series part."""
    n = len(series) - window - horizon + 1
    idx = np.arange(n)[:, None] + np.arange(window)[None, :]
    inputs = series[idx][:, :, None]
    targets = series[np.arange(n) + window - 1 + horizon][:, None]
    return inputs.astype(np.float32), targets.astype(np.float32)


def main():
    parser = argparse.ArgumentParser(
        description="Turn one column of a CSV time series into an rnn_dist dataset "
                    "(/train and /val, many-to-one windows, chronological split).")
    parser.add_argument("csv", metavar="IN.csv", help="input CSV file")
    parser.add_argument("--out", metavar="F.h5", required=True,
                        help="HDF5 dataset to write (an existing file only with --force)")
    outfile.add_force_option(parser)
    parser.add_argument("--column", metavar="NAME_OR_INDEX", required=True,
                        help="header name of the column, or its 0-based index")
    parser.add_argument("--window", metavar="W", type=int, required=True,
                        help="input steps per sequence (>= 1)")
    parser.add_argument("--horizon", metavar="H", type=int, default=1,
                        help="predict the value H steps after the window's last value (default 1)")
    parser.add_argument("--val-fraction", metavar="F", type=float, default=0.2,
                        help="share of the series, at its end, kept for validation; 0 < F < 1 (default 0.2)")
    parser.add_argument("--normalize", action="store_true",
                        help="standardise by the train part's mean and std (stored as root attributes)")
    parser.add_argument("--delimiter", metavar="C", default=",",
                        help="field separator, one character; \\t for tab (default ,)")
    args = parser.parse_args()
    delimiter = "\t" if args.delimiter == "\\t" else args.delimiter
    if len(delimiter) != 1:
        parser.error(f"--delimiter must be one character, got {args.delimiter!r}")
    if args.window < 1:
        parser.error(f"--window must be >= 1, got {args.window}")
    if args.horizon < 1:
        parser.error(f"--horizon must be >= 1, got {args.horizon}")
    if not 0.0 < args.val_fraction < 1.0:
        parser.error(f"--val-fraction must be between 0 and 1 (exclusive), got {args.val_fraction}")
    out = outfile.OutFile(args.out, [("IN.csv", args.csv)], force=args.force)

    name, series = read_column(args.csv, args.column, delimiter)
    n_val = int(round(len(series) * args.val_fraction))
    parts = {"train": series[:len(series) - n_val], "val": series[len(series) - n_val:]}
    need = args.window + args.horizon
    for part, values in parts.items():
        if len(values) < need:
            raise rdt.UserError(f"{args.csv}: series of {len(series)} values too short: the {part} part has "
                                f"{len(values)}, one window needs {need} (window {args.window} + horizon "
                                f"{args.horizon}); use a longer series, a smaller window or another --val-fraction")
    mean, std = float(parts["train"].mean()), float(parts["train"].std())
    if args.normalize and not std > 0:
        raise rdt.UserError(f"{args.csv}: the train part of {name} is constant; cannot --normalize")

    with out.writing() as tmp, rdt.open_h5(tmp, "w") as f:
        rdt.write_attrs(f, source=os.path.basename(args.csv), column=name,
                        window=args.window, horizon=args.horizon)
        if args.normalize:
            rdt.write_attrs(f, mean=mean, std=std)
        start = 0
        for part, values in parts.items():
            if args.normalize:
                values = (values - mean) / std
            inputs, targets = windows(values, args.window, args.horizon)
            g = f.create_group(part)
            g.create_dataset("inputs", data=inputs)
            g.create_dataset("targets", data=targets)
            rdt.write_attrs(g, description=(
                f"{name} of {os.path.basename(args.csv)}, values {start}..{start + len(values) - 1} "
                f"({part} part): windows of {args.window} -> value {args.horizon} step(s) later"
                f"{', standardised by the train mean/std' if args.normalize else ''}"))
            print(f"{args.out}:/{part}: {len(inputs)} sequences from values {start}..{start + len(values) - 1}")
            start += len(values)


if __name__ == "__main__":
    rdt.run_cli(main)
