#!/usr/bin/python3
"""Plot the learning curves of an rnn_dist run, and optionally its predictions.

Usage: scripts/plot_run.py RUN_DIR [--out FILE.png] [--predictions P.h5 [--pred-out FILE.png]]
                           [--data F.h5[:/group]] [--describe] [--force]

Reads RUN_DIR/metrics.csv (header epoch,step,lr,train_loss,train_<m>,val_loss,
val_<m>,grad_norm,seq_per_s,seconds,skipped; <m> is acc or rmse; empty cells
where there was no validation; docs/FORMAT.md describes every column) and
RUN_DIR/config.ini, and draws train and val loss, and train and val accuracy
or RMSE, against the epoch, into RUN_DIR/curves.png (or --out):
  - the loss axis is logarithmic when the plotted losses span a factor 10 or more;
  - the best epoch (the monitored metric, as best.h5 is chosen) is marked, and
    an early stop (patience) when the run ended with one;
  - a run stopped mid-epoch (max-steps, Ctrl-C, a signal) has a row for the
    part of the epoch it trained (RUN_DIR/last.h5 tells): drawn as a hollow
    point after a dotted line, never taken for the best epoch;
  - each resume (RUN_DIR/resumes.log) is a grey line after the checkpoint's
    epoch; those that changed options other than epochs and max-steps are
    numbered, their changes listed under the plot;
  - the best possible score is drawn as a dashed line when the data file
    stores it (`rnn_dist datagen` tasks: noise_floor_mse, noise_floor_rmse,
    best_acc on /train, /val). The data file is config.ini's `data` (as
    written, else relative to RUN_DIR's parent), or --data.

With --predictions P.h5 (written by `rnn_dist predict`) also draws, into
RUN_DIR/predictions.png (or --pred-out):
  - regression (loss mse): truth and prediction of each sample as points (per
    step targets: a short separate segment per sample, never joined to the
    next sample), at most 400 samples (40 with per-step targets), next to predicted-vs-true with the
    diagonal; the last output of each row (O > 1: output O-1). Values are in
    the data's original units when the data file (--data, else config.ini's)
    carries target_mean/target_std (float64, scalar or [O], on the group or
    root; values stored as (x - mean) / std, shown as x * std + mean) and the
    group's targets are those of P.h5; otherwise as stored.
  - classes (loss ce): the confusion matrix of predictions against /targets
    over the valid steps (rows: true class, colour: share of the row).

--describe prints what was drawn, one line each (loss axis, best epoch,
early stop, a part-done epoch, resumes, floors, units), so the choices can be checked without the image.

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
import textwrap

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outfile  # noqa: E402
import rnn_dist_torch as rdt  # noqa: E402
import runinfo  # noqa: E402

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
        wanted += [c for c in ("step",) if c in header]
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


def loss_is_log(cols):
    """(log axis?, low, high) of the plotted losses: log when they span 10x or more."""
    y = np.concatenate([cols["train_loss"], cols["val_loss"]])
    y = y[np.isfinite(y) & (y > 0)]
    if len(y) == 0:
        return False, math.nan, math.nan
    return bool(y.max() >= 10 * y.min()), float(y.min()), float(y.max())


def draw_floor(ax, value, part, attr, log, notes):
    """A dashed horizontal line at the best possible score value (skipped on a
    log axis when it is 0)."""
    if log and value <= 0:
        notes.append(f"{part} floor {attr} {value:g} not drawn (0 on a log axis)")
        return
    ax.axhline(value, linestyle="--", linewidth=1.2, color="C0" if part == "train" else "C1",
               alpha=0.8, label=f"best possible {part} ({value:.4g})")
    notes.append(f"{part} floor {attr} {value:.6g}")


def draw_marks(ax, cols, marks, column):
    """The best epoch (a star on the monitored curve, a dotted line) and an early stop."""
    if marks.best_epoch is not None:
        ax.axvline(marks.best_epoch, color="green", linestyle=":", linewidth=1.2)
        if column == marks.monitor:
            ax.plot([marks.best_epoch], [marks.best_value], "*", color="green", markersize=14,
                    label=f"best epoch {marks.best_epoch}", zorder=5)
    if marks.early_stop is not None:
        ax.axvline(marks.early_stop, color="red", linestyle="--", linewidth=1.2,
                   label=f"early stop (patience {marks.patience})" if column.endswith("loss") else None)


def draw_part(ax, x, y, whole, style, label):
    """The part-done last epoch of a curve (x, y; whole: the rows of whole
    epochs drawn): a hollow point, joined by a dotted line to the last whole
    epoch drawn, in the curve's colour (style[1]: its line, when there is one)."""
    color = style[1] if style[1] else None
    drawn = np.flatnonzero(whole)
    xs, ys = ([x[drawn[-1]]], [y[drawn[-1]]]) if len(drawn) else ([], [])
    line, = ax.plot(xs + [x[-1]], ys + [y[-1]], ":", color=color, linewidth=1.2)
    ax.plot([x[-1]], [y[-1]], style[0], color=line.get_color(), markerfacecolor="white",
            markersize=6, label=label)


# changes that do not alter the curves' course (only how long the run goes on)
QUIET_CHANGES = ("epochs ", "max-steps ")


def draw_resumes(ax, resumes, last_epoch, numbered):
    """A grey dash-dot line between each resume's epoch and the next; those that
    changed options other than epochs and max-steps are numbered at the line's
    top (numbered) and listed in the returned key lines. Returns (notes: every
    resume and all its changes, key lines)."""
    notes, key, labelled = [], [], False
    for r in resumes:
        if r.epoch >= last_epoch:
            continue
        shown = [c for c in r.changes if not c.startswith(QUIET_CHANGES)]
        ax.axvline(r.epoch + 0.5, color="0.45", linestyle="-.", linewidth=1.1,
                   label=None if labelled else "resumed")
        labelled = True
        if shown:
            key.append(f"({len(key) + 1}) resumed after epoch {r.epoch}: {', '.join(shown)}")
            if numbered:
                ax.text(r.epoch + 0.5, 0.98, str(len(key)), fontsize=8, ha="center", va="top",
                        transform=ax.get_xaxis_transform(), zorder=6,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.45"})
        notes.append(f"resumed after epoch {r.epoch}"
                     + (f": {', '.join(r.changes)}" if r.changes else " (no option changed)"))
    return notes, key


def plot_curves(metric, cols, ctx, out):
    """Loss and metric per epoch, with the marks and floors; returns the notes."""
    marks, floors, scale = ctx["marks"], ctx["floors"].values, ctx["rmse_scale"]
    pd = ctx["part"]
    log, lo, hi = loss_is_log(cols)
    notes = [f"loss axis {'log' if log else 'linear'} (losses {lo:.4g} .. {hi:.4g})"]
    notes.append(f"best epoch {marks.best_epoch} ({marks.monitor} {marks.best_value:.6g})"
                 if marks.best_epoch is not None else "best epoch none")
    notes.append(f"early stop at epoch {marks.early_stop} (patience {marks.patience})"
                 if marks.early_stop is not None else "early stop no")
    notes.append(f"part-done epoch {pd.epoch}: stopped at step {pd.step}, after {pd.batch} batches "
                 f"(a hollow point; the row is replaced when the epoch completes on resume)"
                 if pd else "part-done epoch none")
    if metric == "rmse":
        notes.append(f"rmse axis original units (x target_std {scale:.6g})" if scale else
                     "rmse axis as stored (no target_std, or one per output that differ)")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    loss_name = "cross-entropy" if metric == "acc" else "MSE" + (", standardised" if scale else "")
    metric_label = "accuracy" if metric == "acc" else \
        "RMSE" + (" (original units)" if scale else " (target units)")
    panels = (("loss", f"loss ({loss_name})", "loss_mse" if metric == "rmse" else None),
              (metric, metric_label, metric))
    for ax, (name, ylabel, floor_key) in zip(axes, panels):
        factor = scale if (scale and name == "rmse") else 1.0
        for part, marker in (("train", "o"), ("val", "s")):
            y = cols[f"{part}_{name}"] * factor
            ok = np.isfinite(y)  # skip empty cells, keep the line through the rest
            whole = ok & (np.arange(len(y)) < len(y) - 1 if pd else True)
            color = None
            if whole.any():
                color = ax.plot(cols["epoch"][whole], y[whole], marker + "-", markersize=3,
                                label=part)[0].get_color()
            if pd and ok[-1]:
                draw_part(ax, list(cols["epoch"]), list(y), whole, (marker, color),
                          f"epoch {pd.epoch} in part ({pd.batch} batches)" if part == "train"
                          else None)
        if name == "loss" and log:
            ax.set_yscale("log")
        if floor_key:
            attr = runinfo.FLOOR_ATTRS[floor_key]
            for part in ("train", "val"):
                if attr in floors.get(part, {}):
                    draw_floor(ax, floors[part][attr] * factor, part, attr,
                               name == "loss" and log, notes)
        draw_marks(ax, cols, marks, f"{marks.monitor.split('_')[0]}_{name}")
        resumed, key = draw_resumes(ax, ctx["resumes"], cols["epoch"].max(), name == "loss")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel + (" [log]" if name == "loss" and log else ""))
        ax.set_title(f"{ylabel.split(' (')[0]} per epoch")
        ax.grid(alpha=0.3, which="both" if name == "loss" and log else "major")
        ax.legend(fontsize=8)
    notes += resumed or ["resumed no"]
    if ctx["floors"].note:
        notes.append(f"floors: {ctx['floors'].note}")
    fig.suptitle(ctx["title"])
    if key:
        text = "\n".join(textwrap.fill(k, 170, subsequent_indent="      ") for k in key)
        fig.text(0.01, 0.01, text, fontsize=8, color="0.25", va="bottom")
        fig.set_size_inches(12, 4.6 + 0.16 * text.count("\n"))
    fig.tight_layout(rect=(0, 0.035 + 0.035 * text.count("\n"), 1, 1) if key else None)
    save(fig, out)
    return notes


def last_values(array, lengths, where, name):
    """The last output value of each row: [N, O] -> [:, -1]; [N, T, O] -> [N, T] (all steps)."""
    if array.ndim == 2:
        return array[:, -1]
    if array.ndim == 3:
        return array[:, :, -1]
    raise rdt.UserError(f"{where}/{name}: expected [N, O] or [N, T, O], got shape {list(array.shape)}")


def read_predictions(path):
    """{'loss', 'pred', 'truth' (or None), 'lengths', 'raw_targets'} of a predictions file."""
    with rdt.open_h5(path) as f:
        loss = rdt.attr_value(f, "loss")
        if loss not in ("mse", "ce"):
            raise rdt.UserError(f"{path}: loss attribute is {loss!r}, expected ce or mse "
                                f"(not an `rnn_dist predict` file?)")
        if "predictions" not in f:
            raise rdt.UserError(f"{path}: no /predictions dataset")
        pred = f["predictions"][()]
        truth = f["targets"][()] if "targets" in f else None
        lengths = f["lengths"][()] if "lengths" in f else None
        # "original": predict already wrote values in the data's units
        units = rdt.attr_value(f, "units") if "units" in f.attrs else "stored"
    dims = (2, 3) if loss == "mse" else (1, 2)
    if pred.dtype.kind != ("f" if loss == "mse" else "i") or pred.ndim not in dims or len(pred) == 0:
        raise rdt.UserError(f"{path}: /predictions of a {loss} run must be "
                            f"{'float [N, O] or [N, T, O]' if loss == 'mse' else 'int [N] or [N, T]'}, "
                            f"got {pred.dtype} {list(pred.shape)}")
    per_step = pred.ndim == dims[1]
    steps = pred.shape[1] if per_step else np.inf
    if lengths is None:
        lengths = np.full(len(pred), pred.shape[1] if per_step else 1)
    if lengths.shape != (len(pred),) or not ((lengths >= 1) & (lengths <= steps)).all():
        raise rdt.UserError(f"{path}: /lengths must be [N] with values in 1..T")
    if truth is not None and truth.shape != pred.shape:
        raise rdt.UserError(f"{path}: /targets has shape {list(truth.shape)}, "
                            f"/predictions {list(pred.shape)}")
    if loss == "ce":
        return {"loss": loss, "pred": pred, "truth": truth, "lengths": lengths, "raw_targets": truth}
    return {"loss": loss, "pred": last_values(pred, lengths, path, "predictions"),
            "truth": None if truth is None else last_values(truth, lengths, path, "targets"),
            "lengths": lengths, "raw_targets": truth, "outputs": pred.shape[-1], "units": units}


def to_units(values, units, outputs):
    """values (of the last output) in original units when units has mean/std."""
    if units.mean is None:
        return values
    k = -1 if len(units.std) == outputs else 0
    return values * units.std[k] + units.mean[k]


MAX_SAMPLES = 400   # points drawn, one per sample (last-step targets)
MAX_SEGMENTS = 40   # samples drawn as segments (per-step targets)


def plot_regression(p, units, title, out):
    """Truth and prediction per sample (points, or a segment per sample for per-step
    targets), and predicted vs true; returns the notes."""
    pred, truth = to_units(p["pred"], units, p["outputs"]), p["truth"]
    truth = None if truth is None else to_units(truth, units, p["outputs"])
    per_step = pred.ndim == 2
    n = min(len(pred), MAX_SEGMENTS if per_step else MAX_SAMPLES)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [2.2, 1]})
    ax = axes[0]
    if per_step:  # each sample's steps side by side, a gap before the next sample
        steps = pred.shape[1]
        for i in range(n):
            t = np.arange(p["lengths"][i])
            x = i * (steps + 1) + t
            if truth is not None:
                ax.plot(x, truth[i, t], "-", color="C0", linewidth=3.5, alpha=0.5,
                        label="truth" if i == 0 else None)
            ax.plot(x, pred[i, t], "-", color="C1", linewidth=1.2, marker=".", markersize=3,
                    label="predicted" if i == 0 else None)
        every = max(1, n // 10)
        ax.set_xticks([i * (steps + 1) for i in range(0, n, every)])
        ax.set_xticklabels([str(i) for i in range(0, n, every)])
        ax.set_xlabel(f"sample index (each sample: its {steps} steps; samples not joined)")
    else:
        x = np.arange(n)
        if truth is not None:
            ax.plot(x, truth[:n], "o", color="C0", markersize=3, label="truth")
        ax.plot(x, pred[:n], "x", color="C1", markersize=4, label="predicted")
        ax.set_xlabel("sample index (row of the data)")
    unit = "original units" if units.mean is not None or units.note.startswith("original") \
        else "as stored"
    which = f"output {p['outputs'] - 1} of {p['outputs']}, " if p["outputs"] > 1 else ""
    ax.set_ylabel(f"value ({which}{unit})")
    shown = f"first {n} of {len(pred)} samples" if n < len(pred) else f"{n} samples"
    ax.set_title(f"forecast vs truth ({shown})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    notes = [f"predictions: regression, {shown}, {'segments per sample' if per_step else 'points'}",
             f"predictions units: {units.note}"]
    ax = axes[1]
    if truth is not None:
        mask = np.isfinite(truth) & np.isfinite(pred)
        tv, pv = truth[mask], pred[mask]
        ax.plot(tv, pv, ".", markersize=3, alpha=0.5, color="C1")
        lo, hi = float(min(tv.min(), pv.min())), float(max(tv.max(), pv.max()))
        ax.plot([lo, hi], [lo, hi], "k--", linewidth=1, label="predicted = true")
        rmse = float(np.sqrt(np.mean((pv - tv) ** 2)))
        ax.set_title(f"predicted vs true (RMSE {rmse:.4g})")
        ax.set_xlabel(f"true ({unit})")
        ax.set_ylabel(f"predicted ({unit})")
        ax.legend(fontsize=8)
        notes.append(f"predictions rmse {rmse:.6g}")
    else:
        ax.text(0.5, 0.5, "no /targets in the file", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    save(fig, out)
    return notes


def confusion(pred, truth, lengths, classes):
    """[classes, classes] counts: rows true class, columns predicted, valid steps only."""
    if pred.ndim == 2:
        valid = np.arange(pred.shape[1])[None, :] < lengths[:, None]
        pred, truth = pred[valid], truth[valid]
    m = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(m, (truth.astype(np.int64), pred.astype(np.int64)), 1)
    return m


def plot_confusion(p, path, title, out):
    """The confusion matrix image of a classifier's predictions; returns the notes."""
    if p["truth"] is None:
        raise rdt.UserError(f"{path}: no /targets: the confusion matrix needs the true classes "
                            f"(predict on data with targets)")
    classes = int(max(p["pred"].max(), p["truth"][p["truth"] >= 0].max(initial=0)) + 1)
    m = confusion(p["pred"], p["truth"], p["lengths"], classes)
    total = int(m.sum())
    acc = float(np.trace(m)) / total if total else math.nan
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    size = min(4 + 0.45 * classes, 14)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    img = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(img, ax=ax, label="share of the true class's targets")
    if classes <= 20:
        for i in range(classes):
            for j in range(classes):
                ax.text(j, i, f"{m[i, j]}", ha="center", va="center", fontsize=9,
                        color="white" if share[i, j] > 0.5 else "black")
    ticks = np.arange(classes) if classes <= 30 else None
    if ticks is not None:
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{title}\nconfusion matrix: {total} targets, accuracy {acc:.4f}")
    fig.tight_layout()
    save(fig, out)
    return [f"predictions: confusion matrix {classes}x{classes}, {total} targets, accuracy {acc:.6g}"]


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


def png_path(path):
    """path as a PNG file name: ".png" added when it has no extension."""
    return path if os.path.splitext(os.path.basename(path))[1] else path + ".png"


def png_only(path, option):
    """Refuse an output name of another extension than .png (the images are PNG
    whatever the name says); after outfile's checks, whose reasons come first."""
    if os.path.splitext(path)[1].lower() != ".png":
        raise outfile.Refused(f"{option} {path}: plot_run.py writes PNG images; "
                              f"name it {os.path.splitext(path)[0]}.png")


def run_title(run_dir, cfg):
    """The run's name and model, for titles."""
    name = os.path.basename(os.path.normpath(run_dir))
    if not cfg:
        return f"run {name}"
    model = f"{cfg.get('cell', '?')} {cfg.get('hidden', '?')}x{cfg.get('layers', '?')}"
    data = os.path.basename(cfg.get("data", "")) or "counting (built-in)"
    return f"run {name}: {model} on {data}"


def main():
    parser = argparse.ArgumentParser(
        description="Plot loss and accuracy/RMSE curves of an rnn_dist run (RUN_DIR/metrics.csv), "
                    "with the best epoch, an early stop and the data's best possible score, and "
                    "optionally its predictions (forecast vs truth, or a confusion matrix).")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory holding metrics.csv")
    parser.add_argument("--out", metavar="FILE.png",
                        help="curves image (default RUN_DIR/curves.png; .png added to a name "
                             "without an extension)")
    parser.add_argument("--predictions", metavar="P.h5",
                        help="output of `rnn_dist predict`: plot it too (regression: forecast vs "
                             "truth; classes: confusion matrix)")
    parser.add_argument("--pred-out", metavar="FILE.png",
                        help="predictions image (default RUN_DIR/predictions.png; names as "
                             "for --out)")
    parser.add_argument("--data", metavar="F.h5[:/group]",
                        help="the data file for the best possible scores and, with --predictions, "
                             "the data predicted (target_mean/target_std) (default: config.ini's data)")
    parser.add_argument("--describe", action="store_true",
                        help="print what was drawn: loss axis, best epoch, early stop, "
                             "a part-done epoch, resumes, floors, units")
    outfile.add_force_option(parser, "--out / --pred-out")
    args = parser.parse_args()
    if args.pred_out and not args.predictions:
        parser.error("--pred-out needs --predictions")
    if not os.path.isdir(args.run_dir):
        raise outfile.Refused(f"{args.run_dir}: no such directory")
    metrics = os.path.join(args.run_dir, "metrics.csv")
    curves_path = png_path(args.out) if args.out else os.path.join(args.run_dir, "curves.png")
    inputs = [("RUN_DIR/metrics.csv", metrics), ("--predictions", args.predictions),
              ("--data", args.data and runinfo.split_data(args.data)[0])]
    curves = outfile.OutFile(curves_path, inputs, "curves", args.force)
    png_only(curves_path, "--out")
    pred_out = None
    if args.predictions:
        pred_path = png_path(args.pred_out) if args.pred_out else \
            os.path.join(args.run_dir, "predictions.png")
        if os.path.realpath(pred_path) == os.path.realpath(curves_path):
            raise outfile.Refused(f"--pred-out {pred_path} is also the curves image (--out); "
                                  f"choose another file")
        pred_out = outfile.OutFile(pred_path, inputs, "predictions plot", args.force, "--pred-out")
        png_only(pred_path, "--pred-out")
    if args.data and not os.path.isfile(runinfo.split_data(args.data)[0]):
        raise outfile.Refused(f"--data {runinfo.split_data(args.data)[0]}: no such file")
    metric, cols = read_metrics(metrics)
    cfg = runinfo.read_config(args.run_dir)
    title = run_title(args.run_dir, cfg)
    p = read_predictions(args.predictions) if args.predictions else None
    if p and p["loss"] == "mse" and p["units"] == "original":
        units = runinfo.Units(None, None, "original units (as predict wrote them)")
    elif p and p["loss"] == "mse":
        units = runinfo.read_units(args.data or cfg.get("data", ""), args.run_dir,
                                   len(p["pred"]), p["raw_targets"])
    else:
        units = runinfo.Units(None, None, "")
    part = runinfo.part_done(args.run_dir, cols)
    ctx = {"marks": runinfo.find_marks(cols, cfg, part), "part": part,
           "resumes": runinfo.read_resumes(args.run_dir),
           "floors": runinfo.read_floors(cfg, args.run_dir, args.data),
           "rmse_scale": runinfo.train_std(cfg, args.run_dir, args.data) if metric == "rmse" else None, "title": title}
    notes = ["curves: " + n for n in plot_curves(metric, cols, ctx, curves)]
    if p is not None:
        name = f"{title}; {os.path.basename(args.predictions)}"
        notes += plot_regression(p, units, name, pred_out) if p["loss"] == "mse" \
            else plot_confusion(p, args.predictions, name, pred_out)
    if args.describe:
        print("\n".join(notes))


if __name__ == "__main__":
    rdt.run_cli(main)
