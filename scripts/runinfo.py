"""What plot_run.py knows about a run beyond metrics.csv: its config.ini, the
best epoch and an early stop, a part-done last epoch (last.h5), its resumes
(resumes.log), and the attributes
of its data file (the best possible score that `rnn_dist datagen` stores,
the units of csv2h5.py data).

Not a command: plot_run.py imports it. docs/FORMAT.md describes every file.
"""

import dataclasses
import math
import os
import re
from typing import Optional

import numpy as np

import rnn_dist_torch as rdt

# the best possible score of each curve, as `rnn_dist datagen` stores it
# (src/dgpart.c): {curve name: dataset attribute}
FLOOR_ATTRS = {"loss_mse": "noise_floor_mse", "rmse": "noise_floor_rmse", "acc": "best_acc"}


def read_config(run_dir):
    """{option: value string} of RUN_DIR/config.ini ({} when absent or unreadable)."""
    path = os.path.join(run_dir, "config.ini")
    values = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line[0] in "#;[" or "=" not in line:
                    continue
                key, value = (s.strip() for s in line.split("=", 1))
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                values[key.replace("_", "-")] = value
    except (OSError, UnicodeDecodeError):
        return {}
    return values


def config_number(cfg, name, default):
    """A numeric option of config.ini (default when absent or not a number)."""
    try:
        return float(cfg[name])
    except (KeyError, ValueError):
        return default


@dataclasses.dataclass
class Marks:
    """The epochs worth marking on the curves."""
    monitor: str                  # column followed for best.h5: val_loss, train_acc, ...
    best_epoch: Optional[int]
    best_value: float
    early_stop: Optional[int]     # the last epoch when early stopping ended the run
    patience: int


@dataclasses.dataclass
class PartDone:
    """metrics.csv's last row when it is part of an epoch: a run stopped
    mid-epoch (max-steps, a signal, --on-nan stop) writes a row for the part
    it trained, replaced when the epoch completes on resume."""
    epoch: int
    step: int           # optimizer steps at the stop
    batch: int          # batches of the epoch trained


def part_done(run_dir, cols):
    """PartDone of the last row of metrics.csv (cols), or None when it is a
    whole epoch: RUN_DIR/last.h5, the state the run stopped in, is in the
    epoch after its completed ones, at the row's step. None too when last.h5
    is absent or unreadable (a row written before its checkpoint is whole)."""
    try:
        with rdt.open_h5(os.path.join(run_dir, "last.h5")) as f:
            state = [rdt.attr_value(f, k) for k in ("epoch", "batch_in_epoch", "step")]
    except (rdt.UserError, OSError):
        return None
    if not all(isinstance(v, int) for v in state) or "step" not in cols:
        return None
    epoch, batch, step = state
    last = int(cols["epoch"][-1])
    if batch > 0 and last == epoch + 1 and int(cols["step"][-1]) == step:
        return PartDone(last, step, batch)
    return None


def find_marks(cols, cfg, part_done_row=None):
    """The best epoch (as best.h5 is chosen: the monitored metric, val if the run
    had validation, improving by more than min-delta, at whole epochs: not a
    part-done last row, part_done_row) and an early stop (the run ended before its
    epochs with patience epochs without improvement)."""
    kind = "acc" if cfg.get("monitor") == "val_acc" and "train_acc" in cols else "loss"
    part = "val" if np.isfinite(cols[f"val_{kind}"]).any() else "train"
    name = f"{part}_{kind}"
    values = cols[name]
    higher = kind == "acc"
    delta = config_number(cfg, "min-delta", 0.0)
    best_epoch, best = None, math.nan
    whole = len(values) - (1 if part_done_row else 0)
    for epoch, v in zip(cols["epoch"][:whole], values[:whole]):
        if not math.isfinite(v):
            continue
        if best_epoch is None or (v > best + delta if higher else v < best - delta):
            best_epoch, best = int(epoch), float(v)
    patience = int(config_number(cfg, "patience", 0))
    epochs = int(config_number(cfg, "epochs", 0))
    last = int(cols["epoch"][-1])
    stopped = (part_done_row is None and patience > 0 and best_epoch is not None and last < epochs
               and last - best_epoch >= patience)
    return Marks(name, best_epoch, best, last if stopped else None, patience)


@dataclasses.dataclass
class Resume:
    """One line of resumes.log."""
    epoch: int          # the checkpoint's completed epochs: training went on from there
    changes: list       # ["lr 0.001 -> 0.0005", ...] in the log's order


RESUME_LINE = re.compile(r"resumed from .* at epoch (\d+), step \d+ on \d+ ranks?; "
                         r"(?:changed: (.*)|no option changed)$")


def read_resumes(run_dir):
    """The resumes of RUN_DIR/resumes.log that the run's history still holds, in
    order ([] when absent; lines of another form are skipped). A resume from an
    earlier checkpoint (--resume FILE) rewrote the epochs after its own, so the
    resumes logged after those epochs before it are dropped. A change is "NAME
    OLD -> NEW"; the changes are split at each ", " that starts the next NAME
    (a value may hold commas)."""
    out = []
    try:
        with open(os.path.join(run_dir, "resumes.log"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return out
    for line in lines:
        m = RESUME_LINE.search(line)
        if m:
            changes = re.split(r", (?=[a-z][a-z0-9-]* .* -> )", m.group(2)) if m.group(2) else []
            epoch = int(m.group(1))
            out = [r for r in out if r.epoch <= epoch] + [Resume(epoch, changes)]
    return out


def split_data(spec):
    """(file, group or None) of a data option F.h5 or F.h5:/group."""
    if ":/" in spec:
        path, group = spec.rsplit(":/", 1)
        return path, "/" + group
    return spec, None


def locate(path, run_dir):
    """The data file as config.ini names it: as written (relative to the
    directory train ran in), else relative to the run directory's parent."""
    for candidate in (path, os.path.join(os.path.dirname(os.path.abspath(run_dir)), path)):
        if os.path.isfile(candidate):
            return candidate
    return None


def _group(f, group, defaults):
    """The group used: the given one, else the root if it has inputs, else the
    first of defaults present; None when there is none."""
    if group:
        return f[group] if group in f else None
    if "inputs" in f:
        return f["/"]
    return next((f[g] for g in defaults if g in f), None)


def _attrs(g, names):
    """{name: float} of the attributes of g (then of the root) that are present."""
    found = {}
    for name in names:
        for obj in (g, g.file["/"]):
            v = rdt.attr_value(obj, name)
            if v is not None:
                found[name] = v
                break
    return found


@dataclasses.dataclass
class Floors:
    """The best possible scores of a run's data: {'train'|'val': {attr: value}}
    and where they were read, for the legend and --describe."""
    values: dict
    where: dict
    note: str = ""


def read_floors(cfg, run_dir, data_override=None):
    """The best possible scores of the run's training and validation data
    (empty with a note when the data file is not found or has none)."""
    spec = data_override or cfg.get("data", "")
    if not cfg and not spec:
        return Floors({}, {}, "no config.ini in the run directory (give --data)")
    if not spec:
        return Floors({}, {}, "no data file in config.ini (the built-in counting task)")
    path, group = split_data(spec)
    found = locate(path, run_dir)
    if found is None:
        return Floors({}, {}, f"data file {path} not found (give --data)")
    floors, where = {}, {}
    with rdt.open_h5(found) as f:
        train = _group(f, group, ("/train",))
        val = None
        if cfg.get("val"):
            vpath, vgroup = split_data(cfg["val"])
            vfound = locate(vpath, run_dir)
            if vfound is not None:
                with rdt.open_h5(vfound) as fv:
                    g = _group(fv, vgroup, ("/val", "/test"))
                    if g is not None:
                        floors["val"] = _own_attrs(g)
                        where["val"] = f"{vpath}:{g.name}"
        elif config_number(cfg, "val-split", 0) == 0 and train is not None \
                and train.name == "/train" and "/val" in f:
            val = f["/val"]
        for part, g in (("train", train), ("val", val)):
            if g is not None:
                floors[part] = _own_attrs(g)
                where[part] = f"{path}:{g.name}"
    floors = {k: v for k, v in floors.items() if v}
    note = "" if floors else f"{path} stores no best possible score"
    return Floors(floors, {k: where[k] for k in floors}, note)


def _own_attrs(g):
    """The floor attributes of group g itself (the root's stand for /val only,
    so a group without its own is not given the root's)."""
    return {n: float(rdt.attr_value(g, n)) for n in FLOOR_ATTRS.values()
            if rdt.attr_value(g, n) is not None}


@dataclasses.dataclass
class Units:
    """How to bring standardised values back to the data's units."""
    mean: Optional[np.ndarray]
    std: Optional[np.ndarray]
    note: str


def read_units(spec, run_dir, n_rows, targets):
    """target_mean / target_std (float64, scalar or [O], on the group or the
    root) of the data the predictions were made from: spec is F.h5[:/group]
    (the group as predict picks it: the root if it has inputs, else /test,
    /val, /train). Used only when the group's targets are those of the
    predictions file (same values, or the same row count without targets)."""
    if not spec:
        return Units(None, None, "no data file")
    path, group = split_data(spec)
    found = locate(path, run_dir)
    if found is None:
        return Units(None, None, f"data file {path} not found (give --data)")
    with rdt.open_h5(found) as f:
        g = _group(f, group, ("/test", "/val", "/train"))
        if g is None:
            return Units(None, None, f"{path}: no data group")
        where = f"{path}:{g.name}"
        attrs = _attrs(g, ("target_mean", "target_std"))
        if len(attrs) < 2:
            return Units(None, None, f"{where} has no target_mean/target_std: values as stored")
        same = ("targets" in g and targets is not None and g["targets"].shape == targets.shape
                and np.array_equal(g["targets"][()], targets, equal_nan=True))
        if not same and not (targets is None and "targets" in g and len(g["targets"]) == n_rows):
            return Units(None, None, f"the predictions are not of {where} (other targets): "
                                     f"values as stored; give --data")
    mean, std = (np.atleast_1d(np.asarray(attrs[n], dtype=np.float64))
                 for n in ("target_mean", "target_std"))
    return Units(mean, std, f"original units (x * target_std + target_mean of {where})")


def train_std(cfg, run_dir, data_override=None):
    """The target_std of the run's training data (group, else root) when it is
    one value, or the same for every output (one target column, any horizon),
    else None: RMSE * target_std is then the RMSE in original units."""
    path, group = split_data(data_override or cfg.get("data", ""))
    found = locate(path, run_dir) if path else None
    if found is None:
        return None
    with rdt.open_h5(found) as f:
        g = _group(f, group, ("/train",))
        std = _attrs(g, ("target_std",)).get("target_std") if g is not None else None
    std = None if std is None else np.atleast_1d(np.asarray(std, dtype=np.float64))
    return float(std[0]) if std is not None and len(std) and np.all(std == std[0]) else None
