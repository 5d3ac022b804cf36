#!/usr/bin/python3
"""Plot the learning curves of an rnn_dist run, and optionally its predictions.

Usage: scripts/plot_run.py RUN_DIR [--out FILE.png] [--predictions P.h5 [--pred-out FILE.png]]
                           [--force]

Reads RUN_DIR/metrics.csv (header epoch,step,lr,train_loss,train_<m>,val_loss,
val_<m>,grad_norm,seq_per_s,seconds,skipped; <m> is acc or rmse; empty cells
where there was no validation; docs/FORMAT.md describes every column) and draws train and val loss, and train and val
accuracy or RMSE, against the epoch, into RUN_DIR/curves.png (or --out).

With --predictions P.h5 (written by `rnn_dist predict` for a regression run)
also draws ground truth against prediction for the whole series: x = sample
index, the last output value of each row (at its last valid step for per-step
outputs), into RUN_DIR/predictions.png (or --pred-out).

Images are written as FILE.png.tmp.PID and renamed when complete. An
existing image of the same sort that plot_run.py drew (marked by the PNG text
rnn_dist_output) is replaced, so a rerun refreshes the plots; any other
existing file needs --force, and an input (metrics.csv, P.h5) is never
replaced (exit status 2).
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

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def read_metrics(path):
    """(metric name 'acc' or 'rmse', {column: float array}); empty cells are NaN."""
    if not os.path.isfile(path):
        raise rdt.UserError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header:
            raise rdt.UserError(f"{path}: empty file")
        header = [h.strip() for h in header]
        metric = next((m for m in ("acc", "rmse") if f"train_{m}" in header), None)
        if metric is None:
            raise rdt.UserError(f"{path}:1: header has neither train_acc nor train_rmse "
                                f"(expected epoch,step,lr,train_loss,train_<m>,val_loss,val_<m>,...)")
        wanted = ["epoch", "train_loss", f"train_{metric}", "val_loss", f"val_{metric}"]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise rdt.UserError(f"{path}:1: header lacks {', '.join(missing)}")
        columns = {c: [] for c in wanted}
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise rdt.UserError(f"{path}:{reader.line_num}: {len(row)} cells, header has {len(header)}")
            for c in wanted:
                cell = row[header.index(c)].strip()
                try:
                    value = float(cell) if cell else math.nan
                except ValueError:
                    raise rdt.UserError(f"{path}:{reader.line_num}: {c} = {cell!r} is not a number") from None
                if c == "epoch" and math.isnan(value):
                    raise rdt.UserError(f"{path}:{reader.line_num}: empty epoch")
                columns[c].append(value)
    if not columns["epoch"]:
        raise rdt.UserError(f"{path}: no epochs recorded yet")
    return metric, {c: np.array(v) for c, v in columns.items()}


def plot_curves(metric, cols, title, out):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    label = {"acc": "accuracy", "rmse": "RMSE"}[metric]
    for ax, (name, ylabel) in zip(axes, (("loss", "loss"), (metric, label))):
        for part, style in (("train", "o-"), ("val", "s-")):
            y = cols[f"{part}_{name}"]
            if np.isfinite(y).any():
                ok = np.isfinite(y)  # skip empty cells, keep the line through the rest
                ax.plot(cols["epoch"][ok], y[ok], style, markersize=3, label=part)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.set_title(f"{ylabel} per epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, out)


def last_values(array, lengths, where, name):
    """The last output value of each row: [N, O] -> [:, -1]; [N, T, O] -> at step lengths-1."""
    if array.ndim == 2:
        return array[:, -1]
    if array.ndim == 3:
        return array[np.arange(len(array)), lengths - 1, -1]
    raise rdt.UserError(f"{where}/{name}: expected [N, O] or [N, T, O], got shape {list(array.shape)}")


def read_predictions(path):
    """(predicted, truth or None) series of a regression predictions file."""
    with rdt.open_h5(path) as f:
        loss = rdt.attr_value(f, "loss")
        if loss != "mse":
            raise rdt.UserError(f"{path}: loss is {loss!r}; the predictions plot needs a regression run (loss mse)")
        if "predictions" not in f:
            raise rdt.UserError(f"{path}: no /predictions dataset")
        pred = f["predictions"][()]
        truth = f["targets"][()] if "targets" in f else None
        lengths = f["lengths"][()] if "lengths" in f else None
    if pred.dtype.kind != "f" or pred.ndim not in (2, 3) or len(pred) == 0:
        raise rdt.UserError(f"{path}: /predictions must be float [N, O] or [N, T, O], "
                            f"got {pred.dtype} {list(pred.shape)}")
    if lengths is None:
        lengths = np.full(len(pred), pred.shape[1] if pred.ndim == 3 else 1)
    if lengths.shape != (len(pred),) or (pred.ndim == 3 and not ((lengths >= 1) & (lengths <= pred.shape[1])).all()):
        raise rdt.UserError(f"{path}: /lengths must be [N] with values in 1..T")
    if truth is not None and truth.shape != pred.shape:
        raise rdt.UserError(f"{path}: /targets has shape {list(truth.shape)}, "
                            f"/predictions {list(pred.shape)}")
    series = last_values(pred, lengths, path, "predictions")
    return series, None if truth is None else last_values(truth, lengths, path, "targets")


def plot_predictions(pred, truth, title, out):
    fig, ax = plt.subplots(figsize=(11, 4.2))
    x = np.arange(len(pred))
    if truth is not None:
        ax.plot(x, truth, label="Ground truth", linewidth=1)
    ax.plot(x, pred, label="Predicted", linewidth=1)
    ax.set_xlabel("sample index")
    ax.set_ylabel("value")
    ax.set_title(title if truth is not None else f"{title} (no /targets in the file)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save(fig, out)


def save(fig, out):
    """Write fig as PNG to the outfile.OutFile out, marked with its kind."""
    try:
        with out.writing() as tmp:
            fig.savefig(tmp, dpi=100, format="png", metadata={outfile.ATTR: out.kind})
    except (OSError, ValueError) as e:
        raise rdt.UserError(f"{out.path}: cannot write the image ({e})") from None
    finally:
        plt.close(fig)
    print(f"wrote {out.path}")


def main():
    parser = argparse.ArgumentParser(
        description="Plot loss and accuracy/RMSE curves of an rnn_dist run (RUN_DIR/metrics.csv), "
                    "and optionally ground truth vs prediction of a regression run.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory holding metrics.csv")
    parser.add_argument("--out", metavar="FILE.png", help="curves image (default RUN_DIR/curves.png)")
    parser.add_argument("--predictions", metavar="P.h5",
                        help="output of `rnn_dist predict` for a regression (mse) run: plot it too")
    parser.add_argument("--pred-out", metavar="FILE.png",
                        help="predictions image (default RUN_DIR/predictions.png)")
    outfile.add_force_option(parser, "--out / --pred-out")
    args = parser.parse_args()
    if args.pred_out and not args.predictions:
        parser.error("--pred-out needs --predictions")
    if not os.path.isdir(args.run_dir):
        raise rdt.UserError(f"{args.run_dir}: no such directory")
    run_name = os.path.basename(os.path.normpath(args.run_dir))
    metrics = os.path.join(args.run_dir, "metrics.csv")
    curves_path = args.out or os.path.join(args.run_dir, "curves.png")
    inputs = [("RUN_DIR/metrics.csv", metrics), ("--predictions", args.predictions)]
    curves = outfile.OutFile(curves_path, inputs, "curves", args.force)
    pred_out = None
    if args.predictions:
        pred_path = args.pred_out or os.path.join(args.run_dir, "predictions.png")
        if os.path.realpath(pred_path) == os.path.realpath(curves_path):
            raise outfile.Refused(f"--pred-out {pred_path} is also the curves image (--out); "
                                  f"choose another file")
        pred_out = outfile.OutFile(pred_path, inputs, "predictions plot", args.force, "--pred-out")
    metric, cols = read_metrics(metrics)
    series = read_predictions(args.predictions) if args.predictions else None
    plot_curves(metric, cols, f"run {run_name}", curves)
    if series is not None:
        plot_predictions(*series, f"{os.path.basename(args.predictions)}: ground truth vs predicted",
                         pred_out)


if __name__ == "__main__":
    rdt.run_cli(main)
