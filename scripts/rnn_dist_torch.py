#!/usr/bin/python3
"""rnn_dist_torch - shared code of the rnn_dist scripts: the PyTorch twin of
rnn_dist's model, its masked losses, and readers/writers of its HDF5 files.

Not a command: the scripts next to it import it. From your own code:

    import sys; sys.path.insert(0, "/path/to/rnn_dist/scripts")
    import torch
    from rnn_dist_torch import ModelConfig, RnnDistModel
    model = RnnDistModel(ModelConfig(cell="lstm", input="dense", features=3,
                                     hidden=5, layers=1, out=3,
                                     loss="ce", target="last"))
    model.load_state_dict(torch.load("model.pt"))

The model is exactly rnn_dist's (src/model.h; README.md, "PyTorch interop"):
    [embedding = nn.Embedding(V, E)]      token input only
    rnn = nn.RNN/nn.LSTM/nn.GRU(In, H, num_layers=L, batch_first=True,
                                dropout=p, nonlinearity=...,
                                bidirectional=...)
    drop = nn.Dropout(out_dropout)        before the head
    fc = nn.Linear(D*H, O)                D = 2 when bidirectional, else 1
target "step" applies fc on every step (outputs [B, T, O]); "last" on the
output at step lengths[b]-1 of each sequence (outputs [B, O]); a
bidirectional model runs on the packed sequence (pack_padded_sequence), and
"last" reads the final state of each direction (h_n): the forward one at step
lengths[b]-1, the reverse one at step 0. Losses are
means over the valid targets only: step t of sequence b is valid iff
t < lengths[b]; with target "last" every sequence counts once. MSE averages
over every valid target element, as nn.MSELoss does.

HDF5 layout shared with the C code (checkpoints, init files, fixtures):
/params/<state_dict name> float32 datasets, and root attributes cell,
nonlinearity, input, vocab_size, embed, features, hidden, layers, out, loss,
target, dropout, out_dropout, bidirectional (integers int64, floats float64, strings UTF-8:
this module writes them variable-length, rnn_dist fixed-length; both read
either). The reference for every file (datasets, checkpoints with their
training state, predictions): docs/FORMAT.md.

The HDF5 and command-line helpers work without PyTorch (csv2h5.py and
plot_run.py need only numpy and h5py); the model needs torch.
"""

import argparse
import dataclasses
import os
import re
import sys
from typing import Optional

import h5py
import numpy as np

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
    _ModuleBase = nn.Module
except ImportError:  # csv2h5.py and plot_run.py do not need PyTorch
    torch = nn = F = None
    _ModuleBase = object

CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
NONLINEARITIES = ("tanh", "relu")
INPUTS = ("tokens", "dense")
LOSSES = ("ce", "mse")
TARGETS = ("step", "last")


# ---------------------------------------------------------------------------
# command-line helpers

class UserError(Exception):
    """A bad input: reported as one line on stderr, exit status `status`."""
    status = 1


class BadInput(UserError):
    """A bad option or input file: one line, exit status 2 (as rnn_dist's)."""
    status = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line `prog: error: ... (see --help)`, exit 2."""

    def error(self, message):
        raise BadInput(f"{message} (see --help)")


def run_cli(main):
    """Run main(); report a UserError (or unreadable file) as `prog: error: msg`."""
    prog = os.path.basename(sys.argv[0])
    try:
        status = main()
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(e.status)
    except OSError as e:  # file system trouble not caught closer to the source
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"{prog}: error: {where}{e.strerror or e}", file=sys.stderr)
        sys.exit(1)
    sys.exit(status or 0)


def require_torch():
    """Fail with a clear message when PyTorch is missing."""
    if torch is None:
        raise UserError("PyTorch is not installed "
                        "(Debian: apt-get install python3-torch, or scripts/install-deps.sh --with-torch)")


# ---------------------------------------------------------------------------
# model configuration

@dataclasses.dataclass
class ModelConfig:
    """Everything that fixes rnn_dist's model. loss and target may be None
    when unknown (e.g. an init file converted without --loss/--target)."""
    cell: str
    hidden: int
    layers: int
    out: int
    input: str = "dense"
    features: int = 0
    vocab_size: int = 0
    embed: int = 0
    nonlinearity: str = "tanh"
    loss: Optional[str] = None
    target: Optional[str] = None
    dropout: float = 0.0
    out_dropout: float = 0.0
    bidirectional: int = 0

    @property
    def dirs(self):
        """Directions D: 2 when bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def input_size(self):
        """Input width of the first recurrent layer."""
        return self.embed if self.input == "tokens" else self.features

    def validate(self, where="model"):
        """Raise UserError unless the configuration is consistent."""
        def choice(name, allowed, optional=False):
            v = getattr(self, name)
            if v is None and optional:
                return
            if v not in allowed:
                raise UserError(f"{where}: {name} is {v!r}, expected one of {', '.join(allowed)}")
        choice("cell", tuple(CELL_GATES))
        choice("nonlinearity", NONLINEARITIES)
        choice("input", INPUTS)
        choice("loss", LOSSES, optional=True)
        choice("target", TARGETS, optional=True)
        if self.cell != "rnn" and self.nonlinearity != "tanh":
            raise UserError(f"{where}: nonlinearity {self.nonlinearity} applies only to cell rnn, not {self.cell}")
        positive = ["hidden", "layers", "out"]
        positive += ["vocab_size", "embed"] if self.input == "tokens" else ["features"]
        for name in positive:
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise UserError(f"{where}: {name} must be a positive integer for {self.input} input, got {v!r}")
        if self.bidirectional not in (0, 1):
            raise UserError(f"{where}: bidirectional must be 0 or 1, got {self.bidirectional!r}")
        for name in ("dropout", "out_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise UserError(f"{where}: {name} must be in [0, 1), got {getattr(self, name)}")

    def param_shapes(self):
        """{state_dict name: shape} in state_dict (and rnn_dist buffer) order."""
        g, h = CELL_GATES[self.cell], self.hidden
        shapes = {}
        if self.input == "tokens":
            shapes["embedding.weight"] = (self.vocab_size, self.embed)
        for k in range(self.layers):
            for suffix in ("", "_reverse")[:self.dirs]:
                shapes[f"rnn.weight_ih_l{k}{suffix}"] = (g * h, self.input_size if k == 0 else self.dirs * h)
                shapes[f"rnn.weight_hh_l{k}{suffix}"] = (g * h, h)
                shapes[f"rnn.bias_ih_l{k}{suffix}"] = (g * h,)
                shapes[f"rnn.bias_hh_l{k}{suffix}"] = (g * h,)
        shapes["fc.weight"] = (self.out, self.dirs * h)
        shapes["fc.bias"] = (self.out,)
        return shapes


def check_params(params, config, where):
    """Raise UserError unless params ({name: array or tensor}) has exactly the
    names and shapes of config's model."""
    expected = config.param_shapes()
    missing = [n for n in expected if n not in params]
    unknown = [n for n in params if n not in expected]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(unknown))
        raise UserError(f"{where}: parameter names do not match the {config.cell} model "
                        f"({'; '.join(parts)})")
    for name, shape in expected.items():
        got = tuple(params[name].shape)
        if got != shape:
            raise UserError(f"{where}: {name} has shape {list(got)}, expected {list(shape)}")


_LAYER_NAME = re.compile(r"rnn\.weight_ih_l(\d+)$")


def config_from_params(params, where, nonlinearity="tanh"):
    """Infer the model configuration from parameter shapes (a state_dict).
    loss and target stay None: shapes do not tell them."""
    for name in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "fc.weight"):
        if name not in params:
            found = ", ".join(list(params)[:8]) + (", ..." if len(params) > 8 else "")
            raise UserError(f"{where}: no parameter {name}; not an rnn_dist-style model "
                            f"(expected names embedding.weight, rnn.weight_ih_l0, ..., fc.weight, fc.bias; "
                            f"found {found or 'none'})")
    for name, p in params.items():
        if len(p.shape) not in (1, 2):
            raise UserError(f"{where}: {name} has shape {list(p.shape)}, expected a matrix or vector")
    w_ih, w_hh = params["rnn.weight_ih_l0"], params["rnn.weight_hh_l0"]
    if len(w_hh.shape) != 2 or len(w_ih.shape) != 2:
        raise UserError(f"{where}: rnn.weight_ih_l0 and rnn.weight_hh_l0 must be matrices")
    hidden = int(w_hh.shape[1])
    if hidden < 1:
        raise UserError(f"{where}: rnn.weight_hh_l0 has no columns (hidden size 0)")
    gates, rem = divmod(int(w_ih.shape[0]), hidden)
    cells = {g: c for c, g in CELL_GATES.items()}
    if rem or gates not in cells:
        raise UserError(f"{where}: rnn.weight_ih_l0 has {w_ih.shape[0]} rows for hidden {hidden}: "
                        f"not 1 (rnn), 3 (gru) or 4 (lstm) gates")
    layers = sum(1 for n in params if _LAYER_NAME.match(n))
    cfg = ModelConfig(cell=cells[gates], hidden=hidden, layers=layers,
                      out=int(params["fc.weight"].shape[0]),
                      nonlinearity=nonlinearity if cells[gates] == "rnn" else "tanh",
                      bidirectional=int("rnn.weight_ih_l0_reverse" in params))
    if "embedding.weight" in params:
        cfg.input = "tokens"
        cfg.vocab_size, cfg.embed = (int(d) for d in params["embedding.weight"].shape)
    else:
        cfg.features = int(w_ih.shape[1])
    if nonlinearity != "tanh" and cfg.cell != "rnn":
        raise UserError(f"{where}: nonlinearity {nonlinearity} applies only to a plain RNN; "
                        f"this model is {cfg.cell} ({gates} gates)")
    cfg.validate(where)
    check_params(params, cfg, where)
    return cfg


# ---------------------------------------------------------------------------
# HDF5 helpers

def open_h5(path, mode="r"):
    """h5py.File(path, mode), with one-line errors for missing or non-HDF5 files."""
    if mode == "r" and not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    if mode == "w" and not os.path.isdir(os.path.dirname(path) or "."):
        raise UserError(f"{path}: directory {os.path.dirname(path)} does not exist")
    try:
        return h5py.File(path, mode)
    except OSError as e:
        raise UserError(f"{path}: cannot open as HDF5 ({e})") from None


def attr_value(obj, name):
    """An attribute as a Python str / int / float (None when absent)."""
    if name not in obj.attrs:
        return None
    v = obj.attrs[name]
    if isinstance(v, np.ndarray):
        if v.size != 1:
            return v
        v = v.reshape(()).item() if v.dtype.kind != "O" else v.reshape(-1)[0]
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace").rstrip("\0")
    if isinstance(v, np.generic):
        return v.item()
    return v


def _write_attr(obj, name, value):
    if isinstance(value, str):
        obj.attrs[name] = str(value)            # h5py: variable-length UTF-8
    elif isinstance(value, (bool, int, np.integer)):
        obj.attrs[name] = np.int64(value)
    else:
        obj.attrs[name] = np.float64(value)


def write_attrs(obj, **attrs):
    """Write attributes with rnn_dist's types: int64, float64, vlen UTF-8 str."""
    for name, value in attrs.items():
        _write_attr(obj, name, value)


_INT_FIELDS = ("vocab_size", "embed", "features", "hidden", "layers", "out", "bidirectional")
_LATER_FIELDS = ("bidirectional",)  # missing in older checkpoints: the default
_STR_FIELDS = ("cell", "nonlinearity", "input", "loss", "target")
_FLOAT_FIELDS = ("dropout", "out_dropout")


def write_model_attrs(obj, config):
    """The model attributes of a checkpoint (loss/target skipped when None)."""
    for f in _STR_FIELDS + _INT_FIELDS + _FLOAT_FIELDS:
        value = getattr(config, f)
        if value is not None:
            _write_attr(obj, f, value)


def read_model_config(f, where):
    """ModelConfig from the root attributes of a checkpoint (file object f)."""
    values = {}
    for name in _STR_FIELDS + _INT_FIELDS + _FLOAT_FIELDS:
        v = attr_value(f, name)
        if v is None:
            if name in _LATER_FIELDS:
                continue
            if name in ("cell", "hidden", "layers", "out", "input"):
                raise UserError(f"{where}: attribute '{name}' missing; not an rnn_dist checkpoint")
            continue
        if name in _STR_FIELDS and not isinstance(v, str):
            raise UserError(f"{where}: attribute '{name}' must be a string, got {v!r}")
        if name in _INT_FIELDS and (not isinstance(v, int) or isinstance(v, bool)):
            raise UserError(f"{where}: attribute '{name}' must be an integer, got {v!r}")
        if name in _FLOAT_FIELDS:
            if not isinstance(v, (int, float)):
                raise UserError(f"{where}: attribute '{name}' must be a number, got {v!r}")
            v = float(v)
        values[name] = v
    if values["cell"] != "rnn":
        values["nonlinearity"] = "tanh"  # meaningless for lstm/gru: do not refuse a file over it
    cfg = ModelConfig(**values)
    cfg.validate(where)
    return cfg


def write_params(group, params):
    """Write {name: tensor or array} as float32 datasets of an h5py group."""
    for name, value in params.items():
        if torch is not None and isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        group.create_dataset(name, data=np.asarray(value, dtype=np.float32))


def read_params(f, where, group="params"):
    """{name: float32 array} from the datasets of group `group` of file f."""
    if group not in f or not isinstance(f[group], h5py.Group):
        raise UserError(f"{where}: no /{group} group")
    params = {}
    for name, ds in f[group].items():
        if not isinstance(ds, h5py.Dataset) or ds.dtype.kind != "f":
            raise UserError(f"{where}: /{group}/{name} is not a float dataset")
        params[name] = np.asarray(ds[()], dtype=np.float32)
    return params


def load_checkpoint(path):
    """(ModelConfig, {name: float32 array}) of an rnn_dist checkpoint; names
    and shapes are checked against the configuration."""
    with open_h5(path) as f:
        cfg = read_model_config(f, path)
        params = read_params(f, path)
    check_params(params, cfg, path)
    return cfg, params


# ---------------------------------------------------------------------------
# datasets (the schema of docs/FORMAT.md, "Datasets")

@dataclasses.dataclass
class Dataset:
    where: str                  # "file.h5:/val"
    inputs: np.ndarray          # float32 [N, T, F] or int32 [N, T]
    targets: np.ndarray         # int32 [N, T] / [N] or float32 [N, T, O] / [N, O]
    lengths: np.ndarray         # int32 [N] (all T when the file has none)


def _first_bad(where, name, bad, what):
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    raise UserError(f"{where}/{name}: {what} at index {list(idx)}")


def read_dataset(path, config, group=None):
    """Read one dataset group (group, or the first of /val, /test and the
    root holding `inputs`) and check it against the schema and config."""
    with open_h5(path) as f:
        if group is None:
            group = next((g for g in ("val", "test", "/") if g in f and "inputs" in f[g]), None)
            if group is None:
                raise UserError(f"{path}: no dataset (inputs) in /val, /test or the root")
        elif group not in f or not isinstance(f[group], h5py.Group):
            raise UserError(f"{path}: no group {group}")
        g = f[group]
        where = f"{path}:{g.name.rstrip('/')}"
        for name in ("inputs", "targets"):
            if name not in g:
                raise UserError(f"{where}: member '{name}' missing")
        inputs, targets = g["inputs"][()], g["targets"][()]
        lengths = g["lengths"][()] if "lengths" in g else None
    n = inputs.shape[0] if inputs.ndim else 0
    if config.input == "tokens":
        if inputs.dtype.kind not in "iu" or inputs.ndim != 2:
            raise UserError(f"{where}/inputs: token model needs int32 [N, T], got {inputs.dtype} {list(inputs.shape)}")
        bad = (inputs < 0) | (inputs >= config.vocab_size)
        if bad.any():
            _first_bad(where, "inputs", bad, f"token id outside 0..{config.vocab_size - 1}")
    else:
        if inputs.dtype.kind != "f" or inputs.ndim != 3 or inputs.shape[2] != config.features:
            raise UserError(f"{where}/inputs: model needs float32 [N, T, {config.features}], "
                            f"got {inputs.dtype} {list(inputs.shape)}")
        if not np.isfinite(inputs).all():
            _first_bad(where, "inputs", ~np.isfinite(inputs), "NaN or Inf")
    if n < 1 or inputs.shape[1] < 1:
        raise UserError(f"{where}/inputs: empty")
    steps = inputs.shape[1]
    if lengths is None:
        lengths = np.full(n, steps, dtype=np.int32)
    elif lengths.dtype.kind not in "iu" or lengths.shape != (n,):
        raise UserError(f"{where}/lengths: expected int32 [{n}], got {lengths.dtype} {list(lengths.shape)}")
    bad = (lengths < 1) | (lengths > steps)
    if bad.any():
        _first_bad(where, "lengths", bad, f"length outside 1..{steps}")
    want = [n, steps] if config.target == "step" else [n]
    if config.loss == "ce":
        if targets.dtype.kind not in "iu" or list(targets.shape) != want:
            raise UserError(f"{where}/targets: classification model needs int32 {want}, "
                            f"got {targets.dtype} {list(targets.shape)}")
        bad = (targets < 0) | (targets >= config.out)
        if bad.any():
            _first_bad(where, "targets", bad, f"class id outside 0..{config.out - 1}")
    else:
        want.append(config.out)
        if targets.dtype.kind != "f" or list(targets.shape) != want:
            raise UserError(f"{where}/targets: regression model needs float32 {want}, "
                            f"got {targets.dtype} {list(targets.shape)}")
        if not np.isfinite(targets).all():
            _first_bad(where, "targets", ~np.isfinite(targets), "NaN or Inf")
    return Dataset(where, inputs.astype(np.int64 if config.input == "tokens" else np.float32),
                   targets.astype(np.int64 if config.loss == "ce" else np.float32),
                   lengths.astype(np.int64))


# ---------------------------------------------------------------------------
# the model

class RnnDistModel(_ModuleBase):
    """rnn_dist's model as a PyTorch module (see the module docstring)."""

    def __init__(self, config):
        require_torch()
        super().__init__()
        config.validate()
        if config.target is None:
            raise UserError("model: target (step|last) unknown")
        self.config = config
        self.embedding = (nn.Embedding(config.vocab_size, config.embed)
                          if config.input == "tokens" else None)
        kwargs = dict(num_layers=config.layers, batch_first=True,
                      dropout=config.dropout if config.layers > 1 else 0.0,
                      bidirectional=bool(config.bidirectional))
        if config.cell == "rnn":
            kwargs["nonlinearity"] = config.nonlinearity
        cell = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.cell]
        self.rnn = cell(config.input_size, config.hidden, **kwargs)
        self.drop = nn.Dropout(config.out_dropout)
        self.fc = nn.Linear(config.dirs * config.hidden, config.out)

    def forward(self, inputs, lengths=None):
        """inputs: token ids [B, T] or features [B, T, F]; lengths [B] (default T).
        Returns fc outputs [B, T, O] (target step) or [B, O] (target last)."""
        x = self.embedding(inputs.long()) if self.embedding is not None else inputs
        steps = x.shape[1]
        if lengths is None:
            lengths = torch.full((x.shape[0],), steps, dtype=torch.long)
        if self.config.bidirectional:
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths.long().cpu(), batch_first=True,
                                                       enforce_sorted=False)
            h, _ = self.rnn(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=steps)
        else:
            h, _ = self.rnn(x)
        if self.config.target == "last":
            rows = torch.arange(h.shape[0])
            h_last = h[rows, lengths.long() - 1]
            if self.config.bidirectional:  # h_n: forward at the last valid step, reverse at 0
                hid = self.config.hidden
                h_last = torch.cat([h_last[:, :hid], h[rows, 0, hid:]], dim=1)
            h = h_last
        return self.fc(self.drop(h))


def valid_targets(outputs, targets, lengths, target):
    """(outputs [n, O], targets [n] or [n, O]) restricted to valid targets."""
    if target == "last":
        return outputs, targets
    steps = outputs.shape[1]
    if lengths is None:
        mask = torch.ones(outputs.shape[:2], dtype=torch.bool)
    else:
        mask = torch.arange(steps)[None, :] < lengths.long()[:, None]
    return outputs[mask], targets[mask]


def masked_loss(outputs, targets, lengths, config):
    """Mean loss over the valid targets, as rnn_dist computes it."""
    out, tgt = valid_targets(outputs, targets, lengths, config.target)
    if config.loss == "ce":
        return F.cross_entropy(out, tgt.long())
    return F.mse_loss(out, tgt)


def loss_sums(outputs, targets, lengths, config):
    """Sums over the valid targets, as floats: loss (cross-entropy, or squared
    error), count (targets for CE, target elements for MSE), correct (CE),
    abs_err (MSE)."""
    out, tgt = valid_targets(outputs.detach(), targets, lengths, config.target)
    if config.loss == "ce":
        return {"loss": F.cross_entropy(out.double(), tgt.long(), reduction="sum").item(),
                "count": float(tgt.numel()),
                "correct": (out.argmax(dim=1) == tgt).sum().item()}
    err = out.double() - tgt.double()
    return {"loss": (err * err).sum().item(), "count": float(err.numel()),
            "abs_err": err.abs().sum().item()}


if __name__ == "__main__":
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).print_help()
