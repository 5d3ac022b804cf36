#!/usr/bin/python3
"""Turn a CSV time series into an rnn_dist dataset (/train, /val, /test).

Usage:
  scripts/csv2h5.py IN.csv --out F.h5 --window T [--columns A,B,...]
                    (--target NAME[,NAME...] [--horizon K] | --label NAME [--group NAME])
                    [--split TRAIN[,VAL]] [--fill none|ffill|linear|drop]
                    [--no-normalize] [--delimiter C] [--force]
  scripts/csv2h5.py IN.csv --out F.h5 --column NAME --window T ...   (one series:
                    NAME is both the only input and the target)

Columns are named by their header name, or by 0-based index. The first row is
a header when none of its cells is a number. The default inputs (--columns)
are every numeric column (first non-empty cell a number) except the target,
label and group columns; a target may also be listed as an input.

Rows are split in time BEFORE windowing: train = the first TRAIN share of the
rows, val = the next VAL share (default: all the rest), test = the rest
(only with two numbers); no window straddles a split. Gaps (an empty cell or
NaN in a used column) are refused by default (--fill none); ffill and linear
fill them within each part (or group), so no value crosses a split; drop
removes the row before the split.

Values (--target): every window of T rows of a part gives inputs [N, T, F]
and targets [N, K*O] = the next K rows of the O target columns after the
window, step-major: [t+1: o0 o1 ..., t+2: o0 o1 ..., ...].
Classes (--label): labels (integers or strings) become 0..C-1 in sorted order
(class_names, num_classes). Without --group, each window's target is the
label at its last row; with --group, each group id is one sequence (groups in
order of first appearance, padded, with lengths) and its target is the
group's label.

Normalisation (default; --no-normalize to skip): every input column, and every
target column, is standardised by the mean and std (numpy, ddof 0, float64)
of the TRAIN rows only, stored as attributes input_mean, input_std [F] and
target_mean, target_std [K*O] (one per output, as the targets: the columns'
statistics repeated for each step ahead) on every group; to undo: value *
std + mean. A constant column gets std 1 (a warning says so).

Every bad input is one line `csv2h5.py: error: ...` on stderr, exit status 2.
F.h5 is written as F.h5.tmp.PID and renamed when complete; an existing F.h5 is
refused unless --force is given, and IN.csv itself always. Train with e.g.
    rnn_dist train --data F.h5 --cell lstm
"""

import argparse
import csv
import math
import os
import sys

import h5py
import numpy as np

sys.modules.setdefault("torch", None)  # not needed here: rnn_dist_torch then skips its 1.5 s import
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outfile  # noqa: E402
import rnn_dist_torch as rdt  # noqa: E402

FILLS = ("none", "ffill", "linear", "drop")


BadInput = rdt.BadInput


# ---------------------------------------------------------------------------
# reading

def parse_number(text):
    """float(text) (NaN included), or None when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def read_table(path, delimiter):
    """(column names, header line or None, [(line, cells)] of the data rows)."""
    if not os.path.isfile(path):
        raise BadInput(f"{path}: no such file" if not os.path.exists(path) else f"{path}: not a regular file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(_numbered_rows(csv.reader(f, delimiter=delimiter)))
    except (UnicodeDecodeError, csv.Error) as e:
        raise BadInput(f"{path}: not a readable CSV file ({e})") from None
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror or e}") from None
    while rows and not any(c.strip() for c in rows[-1][1]):
        rows.pop()                      # trailing blank lines
    if not rows:
        raise BadInput(f"{path}: empty file")
    line, first = rows[0]
    width = max(len(cells) for _, cells in rows)
    if any(parse_number(c) is not None for c in first):
        return [str(i) for i in range(width)], None, rows
    if len(rows) == 1:
        raise BadInput(f"{path}: no rows below the header")
    names = [c.strip() for c in first]
    return names + [str(i) for i in range(len(names), width)], line, rows[1:]


def _numbered_rows(reader):
    """(line number where the row starts, row) for every row of a csv.reader."""
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def resolve(spec, names, header, path):
    """The index of a column given by name or 0-based index."""
    spec = spec.strip()
    if spec in names and header is not None:
        return names.index(spec)
    if spec.isdigit() and int(spec) < len(names):
        return int(spec)
    where = f"{path}:{header}" if header is not None else path
    known = ", ".join(names) if header is not None else f"no header: indices 0..{len(names) - 1}"
    raise BadInput(f"{where}: no column {spec!r} (columns: {known})")


def cell(cells, index):
    """The stripped cell of a row, '' when the row is shorter."""
    return cells[index].strip() if index < len(cells) else ""


def label_of(names, header, index):
    """How messages name a column."""
    return names[index] if header is not None else f"column {index}"


def is_numeric(rows, index):
    """Whether a column's first non-empty cell is a number."""
    for _, cells in rows:
        text = cell(cells, index)
        if text:
            return parse_number(text) is not None
    return True


def numeric(rows, columns, names, header, path):
    """float64 [R, len(columns)], NaN at the gaps (an empty cell or NaN)."""
    out = np.empty((len(rows), len(columns)), np.float64)
    for r, (line, cells) in enumerate(rows):
        for c, index in enumerate(columns):
            text = cell(cells, index)
            value = parse_number(text) if text else math.nan
            if value is None:
                raise BadInput(f"{path}:{line}: {text!r} in column {label_of(names, header, index)} "
                               f"is not a number")
            if math.isinf(value):
                raise BadInput(f"{path}:{line}: {text!r} in column {label_of(names, header, index)} "
                               f"is not a finite number")
            out[r, c] = value
    return out


# ---------------------------------------------------------------------------
# gaps

def fill_segment(values, mode):
    """Fill the NaNs of values [n, C] in place, column by column: ffill
    carries the last value forward (leading gaps take the first value),
    linear interpolates between the values either side (the ends take the
    nearest value). False when a column has no value at all."""
    rows = np.arange(len(values))
    for c in range(values.shape[1]):
        col = values[:, c]
        known = ~np.isnan(col)
        if known.all():
            continue
        if not known.any():
            return False
        if mode == "linear":
            col[~known] = np.interp(rows[~known], rows[known], col[known])
        else:
            last = np.maximum.accumulate(np.where(known, rows, -1))
            first = rows[known][0]
            col[:] = col[np.where(last < 0, first, last)]
    return True


# ---------------------------------------------------------------------------
# shaping

def windows(features, window, n):
    """inputs [n, T, F] float32: the windows starting at rows 0 .. n-1."""
    return features[np.arange(n)[:, None] + np.arange(window)[None, :]].astype(np.float32)


def ahead(targets, window, horizon, n):
    """targets [n, K*O] float32: for the window starting at row i, rows
    i+T .. i+T+K-1 of targets [rows, O], step-major."""
    rows = np.arange(n)[:, None] + window + np.arange(horizon)[None, :]
    return targets[rows].reshape(n, horizon * targets.shape[1]).astype(np.float32)


def class_ids(texts):
    """(ids 0..C-1 int32, class names in sorted order) of label strings."""
    as_int = [parse_number(t) for t in texts]
    if all(v is not None and math.isfinite(v) and v == int(v) for v in as_int):
        keys = sorted({int(v) for v in as_int})
        names = [str(k) for k in keys]
        lookup = {k: i for i, k in enumerate(keys)}
        return np.array([lookup[int(v)] for v in as_int], np.int32), names
    names = sorted(set(texts))
    lookup = {k: i for i, k in enumerate(names)}
    return np.array([lookup[t] for t in texts], np.int32), names


def split_counts(total, split):
    """Sizes of (train, val[, test]) of `total` items in order."""
    n_train = int(round(total * split[0]))
    if len(split) == 1:
        return [n_train, total - n_train]
    n_val = int(round(total * split[1]))
    return [n_train, n_val, total - n_train - n_val]


# ---------------------------------------------------------------------------
# command line

def parse_args():
    parser = rdt.OneLineParser(
        description="Turn a CSV time series into an rnn_dist dataset: /train, /val (and /test), "
                    "split in time before windowing, normalised by the train part's statistics.")
    parser.add_argument("csv", metavar="IN.csv", help="input CSV file")
    parser.add_argument("--out", metavar="F.h5", required=True,
                        help="HDF5 dataset to write (an existing file only with --force)")
    outfile.add_force_option(parser)
    parser.add_argument("--columns", metavar="A,B,...",
                        help="input features, names or 0-based indices (default: every numeric "
                             "column but the target, label and group columns)")
    parser.add_argument("--target", metavar="NAME[,NAME]",
                        help="value column(s) to predict: targets [N, K*O]")
    parser.add_argument("--label", metavar="NAME",
                        help="class column (integers or strings) to predict: targets [N]")
    parser.add_argument("--group", metavar="NAME",
                        help="with --label: one sequence per group id (padded, with lengths)")
    parser.add_argument("--column", metavar="NAME",
                        help="one series: NAME is both the only input and the target")
    parser.add_argument("--window", metavar="T", type=int,
                        help="steps per sequence (required unless --group; with --group: keep "
                             "the last T rows of longer groups)")
    parser.add_argument("--horizon", metavar="K", type=int, default=1,
                        help="predict the next K rows of each target after the window (default 1)")
    parser.add_argument("--split", metavar="TRAIN[,VAL]", default="0.8",
                        help="shares of the rows in time: train, val (default: the rest), "
                             "the rest test when two are given (default 0.8)")
    parser.add_argument("--val-fraction", metavar="F", type=float,
                        help="old form of --split 1-F")
    parser.add_argument("--fill", choices=FILLS, default="none",
                        help="gaps (empty or NaN cells): refuse (default), carry the last value "
                             "forward, interpolate linearly, or drop the row")
    parser.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True,
                        help="standardise by the train rows' mean and std, stored as attributes "
                             "(default on)")
    parser.add_argument("--delimiter", metavar="C", default=",",
                        help="field separator, one character; \\t for tab (default ,)")
    args = parser.parse_args()
    check_args(parser, args)
    return args


def check_args(parser, args):
    """Refuse inconsistent options; set args.split to a list of shares."""
    args.delimiter = "\t" if args.delimiter == "\\t" else args.delimiter
    if len(args.delimiter) != 1:
        parser.error(f"--delimiter must be one character, got {args.delimiter!r}")
    given = [o for o in ("column", "target", "label") if getattr(args, o) is not None]
    if len(given) != 1:
        parser.error("give one of --target, --label or --column" if not given else
                     f"--{given[0]} and --{given[1]} exclude each other")
    if args.column is not None and args.columns is not None:
        parser.error("--column is the one-series form; with --columns give --target")
    if args.group is not None and args.label is None:
        parser.error("--group needs --label (one class per group)")
    if args.window is None and args.group is None:
        parser.error("--window T is required (steps per sequence)")
    if args.window is not None and args.window < 1:
        parser.error(f"--window must be >= 1, got {args.window}")
    if args.horizon < 1:
        parser.error(f"--horizon must be >= 1, got {args.horizon}")
    if args.label is not None and args.horizon != 1:
        parser.error("--horizon applies to --target values, not to --label classes")
    if args.val_fraction is not None:
        if not 0.0 < args.val_fraction < 1.0:
            parser.error(f"--val-fraction must be between 0 and 1 (exclusive), got {args.val_fraction}")
        args.split = str(1.0 - args.val_fraction)
    try:
        shares = [float(s) for s in args.split.split(",")]
    except ValueError:
        parser.error(f"--split takes one or two numbers, e.g. 0.8 or 0.8,0.1; got {args.split!r}")
    if not 1 <= len(shares) <= 2 or not all(0.0 < s < 1.0 for s in shares):
        parser.error(f"--split takes one or two shares between 0 and 1 (exclusive), got {args.split!r}")
    if len(shares) == 2 and not sum(shares) < 1.0:
        parser.error(f"--split {args.split} leaves no rows for test; give train and val summing to "
                     f"less than 1, or only the train share")
    args.split = shares


def choose_columns(args, names, header, rows):
    """(inputs, targets, label, group): column indices (label, group: None or one)."""
    path = args.csv

    def many(text):
        return [resolve(s, names, header, path) for s in text.split(",")]
    label = resolve(args.label, names, header, path) if args.label is not None else None
    group = resolve(args.group, names, header, path) if args.group is not None else None
    if args.column is not None:
        one = resolve(args.column, names, header, path)
        return [one], [one], None, None
    targets = many(args.target) if args.target is not None else []
    special = [c for c in (label, group) if c is not None]
    if args.columns is not None:
        inputs = many(args.columns)
        for c in special:
            if c in inputs:
                raise BadInput(f"--columns includes the {'label' if c == label else 'group'} column "
                               f"{label_of(names, header, c)}")
    else:
        inputs = [c for c in range(len(names)) if c not in targets + special and is_numeric(rows, c)]
        if not inputs:
            raise BadInput(f"{path}: no input column left: every numeric column is a target, label or "
                           f"group; give --columns (a target may also be an input)")
    for what, cols in (("--columns", inputs), ("--target", targets)):
        if len(set(cols)) != len(cols):
            raise BadInput(f"{what} names a column twice")
    if label is not None and label == group:
        raise BadInput("--label and --group name the same column")
    return inputs, targets, label, group


# ---------------------------------------------------------------------------
# building the parts

def unique(columns):
    """columns without repeats, in order: the numeric columns read."""
    return list(dict.fromkeys(columns))


def texts(rows, index):
    """The stripped cells of one column."""
    return [cell(cells, index) for _, cells in rows]


def drop_gaps(args, rows, values, text_cols):
    """The rows (and values) without a gap in a used column; says how many went."""
    keep = ~np.isnan(values).any(axis=1)
    for index in text_cols:
        keep &= np.array([bool(t) for t in texts(rows, index)])
    if not keep.all():
        print(f"{args.csv}: dropped {int((~keep).sum())} of {len(rows)} rows with a gap")
    return [r for r, k in zip(rows, keep) if k], values[keep]


def refuse_text_gaps(args, rows, names, header, text_cols):
    """Label and group cells are never filled: an empty one is refused."""
    for index in text_cols:
        for line, cells in rows:
            if not cell(cells, index):
                raise BadInput(f"{args.csv}:{line}: column {label_of(names, header, index)} is empty "
                               f"(labels and groups are not filled; use --fill drop)")


def fill_parts(args, segments, columns, names, header):
    """Fill (or refuse) the gaps of each segment (values [n, C], lines)."""
    if args.fill == "none":
        gaps = sum(int(np.isnan(v).sum()) for v, _ in segments)
        for values, lines in segments:
            if np.isnan(values).any():
                r, c = np.argwhere(np.isnan(values))[0]
                raise BadInput(f"{args.csv}:{lines[r]}: column {label_of(names, header, columns[c])} "
                               f"is empty (first of {gaps} gaps; use --fill ffill|linear|drop)")
        return
    for values, lines in segments:
        if not fill_segment(values, args.fill):
            c = int(np.argwhere(np.isnan(values).all(axis=0))[0][0])
            raise BadInput(f"{args.csv}:{lines[0]}: column {label_of(names, header, columns[c])} has "
                           f"no value at all in lines {lines[0]}..{lines[-1]}; nothing to fill from")


def statistics(train, names, header, columns):
    """(mean, std) float64 of train [n, C]; a zero std becomes 1, with a warning."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    for c in np.flatnonzero(~(std > 0)):
        print(f"csv2h5.py: warning: column {label_of(names, header, columns[c])} is constant in the "
              f"train part; its std is stored as 1", file=sys.stderr)
        std[c] = 1.0
    return mean, std


def window_parts(args, table, cols, values):
    """{part: (inputs, targets, first line, last line)} in window mode, and stats."""
    names, header, rows = table
    inputs, targets, label, _ = cols
    used = unique(inputs + targets)
    fi, ti = [used.index(c) for c in inputs], [used.index(c) for c in targets]
    lines = [line for line, _ in rows]
    counts = split_counts(len(rows), args.split)
    parts, start = {}, 0
    for part, n in zip(("train", "val", "test"), counts):
        parts[part] = (values[start:start + n], lines[start:start + n], start)
        start += n
    need = args.window + (args.horizon if label is None else 0)
    for part, (v, _, _) in parts.items():
        if len(v) < need:
            raise BadInput(f"{args.csv}: the {part} part has {len(v)} rows, one window needs {need} "
                           f"(window {args.window}{'' if label is not None else f' + horizon {args.horizon}'}); "
                           f"use more rows, a smaller window or another --split")
    fill_parts(args, [(v, ln) for v, ln, _ in parts.values()], used, names, header)
    stats = None
    if args.normalize:
        train = parts["train"][0]
        stats = (statistics(train[:, fi], names, header, inputs),
                 statistics(train[:, ti], names, header, targets) if targets else None)
    ids = class_ids(texts(rows, label)) if label is not None else None
    out = {}
    for part, (v, ln, first) in parts.items():
        feats, tgts = v[:, fi], v[:, ti]
        if stats:
            feats = (feats - stats[0][0]) / stats[0][1]
            if stats[1]:
                tgts = (tgts - stats[1][0]) / stats[1][1]
        n = len(v) - need + 1
        x = windows(feats, args.window, n)
        if label is None:
            y = ahead(tgts, args.window, args.horizon, n)
        else:
            y = ids[0][first + args.window - 1:first + len(v)]
        out[part] = (x, y, None, ln[0], ln[-1])
    return out, stats, (ids[1] if ids else None)


def group_parts(args, table, cols, values):
    """{part: (inputs, targets, lengths, first line, last line)} with one
    sequence per group id, and stats."""
    names, header, rows = table
    inputs, _, label, group = cols
    members = {}
    for r, (_, cells) in enumerate(rows):
        members.setdefault(cell(cells, group), []).append(r)
    ids, class_names = class_ids(texts(rows, label))
    for key, rs in members.items():
        other = [r for r in rs if ids[r] != ids[rs[0]]]
        if other:
            raise BadInput(f"{args.csv}:{rows[other[0]][0]}: group {key} has label "
                           f"{cell(rows[other[0]][1], label)} here but {cell(rows[rs[0]][1], label)} "
                           f"on line {rows[rs[0]][0]}; one label per group")
    seqs = list(members.values())
    if args.window is not None:
        cut = sum(1 for rs in seqs if len(rs) > args.window)
        if cut:
            print(f"{args.csv}: {cut} group(s) longer than --window {args.window} keep their last "
                  f"{args.window} rows")
        seqs = [rs[-args.window:] for rs in seqs]
    counts = split_counts(len(seqs), args.split)
    parts, start = {}, 0
    for part, n in zip(("train", "val", "test"), counts):
        if n < 1:
            raise BadInput(f"{args.csv}: {len(seqs)} groups leave none for the {part} part; "
                           f"use more groups or another --split")
        parts[part] = seqs[start:start + n]
        start += n
    segments = [(values[rs], [rows[r][0] for r in rs]) for part in parts.values() for rs in part]
    fill_parts(args, segments, inputs, names, header)
    filled = iter(v for v, _ in segments)
    parts = {p: [(rs, next(filled)) for rs in part] for p, part in parts.items()}
    stats = None
    if args.normalize:
        stats = (statistics(np.concatenate([v for _, v in parts["train"]]), names, header, inputs), None)
    T = max(len(rs) for rs in seqs)
    out = {}
    for part, seq in parts.items():
        x = np.zeros((len(seq), T, len(inputs)), np.float32)
        for i, (_, v) in enumerate(seq):
            x[i, :len(v)] = (v - stats[0][0]) / stats[0][1] if stats else v
        y = np.array([ids[rs[0]] for rs, _ in seq], np.int32)
        lengths = np.array([len(rs) for rs, _ in seq], np.int32)
        lines = sorted(rows[r][0] for rs, _ in seq for r in rs)
        out[part] = (x, y, lengths, lines[0], lines[-1])
    return out, stats, class_names


# ---------------------------------------------------------------------------
# writing

def write(args, out, table, cols, parts, stats, class_names):
    """Write the dataset file through out (an outfile.OutFile)."""
    names, header, _ = table
    inputs, targets, label, group = cols
    src = os.path.basename(args.csv)

    def strings(obj, name, values):
        obj.attrs.create(name, data=list(values), dtype=h5py.string_dtype())
    with out.writing() as tmp, rdt.open_h5(tmp, "w") as f:
        rdt.write_attrs(f, source=src, horizon=args.horizon, fill=args.fill,
                        normalized=int(args.normalize))
        if args.window is not None:
            rdt.write_attrs(f, window=args.window)
        if args.column is not None:
            rdt.write_attrs(f, column=label_of(names, header, inputs[0]))
        strings(f, "input_columns", [label_of(names, header, c) for c in inputs])
        if label is None:
            strings(f, "target_columns", [label_of(names, header, c) for c in targets])
        else:
            rdt.write_attrs(f, label_column=label_of(names, header, label))
            if group is not None:
                rdt.write_attrs(f, group_column=label_of(names, header, group))
        f.attrs["split"] = np.array(args.split, np.float64)
        for part, (x, y, lengths, first, last) in parts.items():
            g = f.create_group(part)
            g.create_dataset("inputs", data=x)
            g.create_dataset("targets", data=y)
            if lengths is not None:
                g.create_dataset("lengths", data=lengths)
            if class_names is not None:
                rdt.write_attrs(g, num_classes=len(class_names))
                strings(g, "class_names", class_names)
            if stats:
                g.attrs["input_mean"], g.attrs["input_std"] = stats[0]
                if stats[1]:
                    # one value per output: the K steps ahead repeat the columns' statistics
                    g.attrs["target_mean"], g.attrs["target_std"] = (
                        np.tile(v, args.horizon) for v in stats[1])
            what = (f"{len(class_names)} classes of {label_of(names, header, label)}" if label is not None
                    else f"the next {args.horizon} row(s) of {len(targets)} column(s)")
            rdt.write_attrs(g, description=(
                f"{src} lines {first}..{last} ({part} part): {x.shape[2]} feature(s) -> {what}"
                f"{', standardised by the train mean/std' if stats else ''}"))
            print(f"{args.out}:/{part}: {len(x)} sequences from lines {first}..{last}")


def main():
    args = parse_args()
    out = outfile.OutFile(args.out, [("IN.csv", args.csv)], force=args.force)
    names, header, rows = read_table(args.csv, args.delimiter)
    cols = choose_columns(args, names, header, rows)
    inputs, targets, label, group = cols
    used = unique(inputs + targets)
    values = numeric(rows, used, names, header, args.csv)
    text_cols = [c for c in (label, group) if c is not None]
    if args.fill == "drop":
        rows, values = drop_gaps(args, rows, values, text_cols)
        if not rows:
            raise BadInput(f"{args.csv}: every row has a gap in {len(used)} used column(s)")
    else:
        refuse_text_gaps(args, rows, names, header, text_cols)
    table = (names, header, rows)
    build = group_parts if group is not None else window_parts
    parts, stats, class_names = build(args, table, cols, values)
    if class_names is not None and len(class_names) < 2:
        raise BadInput(f"{args.csv}: column {label_of(names, header, label)} has one class "
                       f"({class_names[0]}); a label needs at least 2")
    write(args, out, table, cols, parts, stats, class_names)


if __name__ == "__main__":
    rdt.run_cli(main)
