#!/usr/bin/python3
"""Helpers of tests/run_answers.sh: make its data and checkpoint, and check
eval / predict / forecast output against numpy.

  answers.py data DIR                 sine.h5 (standardised, with statistics),
                                      sine_plain.h5 (the same numbers without),
                                      lin.h5 + linear.h5 (a hand-made checkpoint
                                      whose forecast is known exactly), tokcls.h5
                                      (token classes with padded rows)
  answers.py values PRED DATA EVAL.json PLAIN.json
  answers.py classes PRED DATA EVAL.json
  answers.py bpc EVAL.json
  answers.py forecast FC.h5 DATA K
Each check prints one line and exits 1 when it fails.
"""

import json
import math
import sys

import h5py
import numpy as np

MEAN, STD = 4.0, 2.0  # lin.h5: exact in float32


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def rel_close(a, b, tol):
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-300)


def make_sine(path, with_stats):
    rng = np.random.default_rng(5)
    t = np.arange(400)
    x = 10.0 + 3.0 * np.sin(0.3 * t) + 0.05 * rng.standard_normal(t.size)
    mean, std = x[:300].mean(), x[:300].std()
    u = (x - mean) / std
    W = 12
    win = np.stack([u[i:i + W] for i in range(len(u) - W)])
    nxt = u[W:]
    with h5py.File(path, "w") as f:
        for g, lo, hi in (("train", 0, 280), ("val", 280, len(nxt))):
            f[g + "/inputs"] = win[lo:hi, :, None].astype(np.float32)
            f[g + "/targets"] = nxt[lo:hi, None].astype(np.float32)
        if with_stats:
            for k, v in (("input_mean", mean), ("input_std", std), ("target_mean", mean),
                         ("target_std", std)):
                f.attrs[k] = np.array([v], dtype=np.float64)


def make_linear(d):
    """lin.h5: rows of u_t = p + q t (standardised units, all > 0), lengths
    2..T; linear.h5: an rnn (relu) with h1_t = u_t, h2_t = h1_{t-1} and the
    head 2 h1 - h2, so it extrapolates every line exactly."""
    N, T = 9, 6
    p = np.array([1, 2, 3, 1, 2, 3, 4, 5, 1], dtype=np.float32)
    q = np.array([0.5, 1, 2, 1, 0.5, 2, 1, 0.5, 1], dtype=np.float32)
    lengths = np.array([6, 6, 6, 2, 3, 4, 5, 6, 3], dtype=np.int32)
    u = p[:, None] + q[:, None] * np.arange(T, dtype=np.float32)[None, :]
    u[np.arange(T)[None, :] >= lengths[:, None]] = 0.0  # padding
    nxt = p + q * lengths
    with h5py.File(d + "/lin.h5", "w") as f:
        f["inputs"] = u[:, :, None]
        f["targets"] = nxt[:, None]
        f["lengths"] = lengths
        f["p"], f["q"] = p, q
        for k, v in (("input_mean", MEAN), ("input_std", STD), ("target_mean", MEAN),
                     ("target_std", STD)):
            f.attrs[k] = np.float64(v)
    with h5py.File(d + "/linear.h5", "w") as f:
        prm = {"rnn.weight_ih_l0": [[1.0], [0.0]], "rnn.weight_hh_l0": [[0, 0], [1, 0]],
               "rnn.bias_ih_l0": [0, 0], "rnn.bias_hh_l0": [0, 0],
               "fc.weight": [[2.0, -1.0]], "fc.bias": [0.0]}
        for k, v in prm.items():
            f["params/" + k] = np.array(v, dtype=np.float32)
        for k, v in (("cell", "rnn"), ("nonlinearity", "relu"), ("input", "dense"),
                     ("loss", "mse"), ("target", "last")):
            f.attrs[k] = v
        for k, v in (("format_version", 2), ("vocab_size", 0), ("embed", 0), ("features", 1),
                     ("hidden", 2), ("layers", 1), ("out", 1)):
            f.attrs[k] = np.int64(v)
        f.attrs["dropout"] = np.float64(0)
        f.attrs["out_dropout"] = np.float64(0)


def make_tokcls(path):
    """Tokens, a class per step: mostly the token mod 4, some rows padded."""
    rng = np.random.default_rng(7)
    N, T = 300, 8
    x = rng.integers(0, 12, (N, T)).astype(np.int32)
    y = (x % 4).astype(np.int32)
    noise = rng.random((N, T)) < 0.3
    y[noise] = rng.integers(0, 4, int(noise.sum()))
    lengths = rng.integers(3, T + 1, N).astype(np.int32)
    with h5py.File(path, "w") as f:
        for g, lo, hi in (("train", 0, 240), ("val", 240, N)):
            f[g + "/inputs"] = x[lo:hi]
            f[g + "/targets"] = y[lo:hi]
            f[g + "/lengths"] = lengths[lo:hi]
        f.attrs["vocab_size"] = np.int64(12)
        f.attrs["num_classes"] = np.int64(4)


def cmd_data(d):
    make_sine(d + "/sine.h5", True)
    make_sine(d + "/sine_plain.h5", False)
    make_linear(d)
    make_tokcls(d + "/tokcls.h5")
    print("data made")


def text(v):
    """A string attribute as str (rnn_dist writes fixed-length strings)."""
    return v.decode() if isinstance(v, bytes) else v


def load_json(path):
    with open(path) as f:
        return json.load(f)


def cmd_values(pred, data, ev, plain):
    e, ep = load_json(ev), load_json(plain)
    with h5py.File(pred, "r") as f, h5py.File(data, "r") as g:
        out = f["outputs"][()].astype(np.float64)
        prd, tgt = f["predictions"][()], f["targets"][()]
        units = text(f.attrs["units"])
        y = g["val/targets"][()].astype(np.float64)
        mean, std = g.attrs["target_mean"][0], g.attrs["target_std"][0]
    if units != "original":
        fail("units = %r" % units)
    if not np.array_equal(prd, (out * std + mean).astype(np.float32)):
        fail("predictions are not outputs * std + mean")
    if not np.array_equal(tgt, (y * std + mean).astype(np.float32)):
        fail("targets are not stored * std + mean")
    err = (out - y) * std
    rmse, mae = math.sqrt(np.mean(err ** 2)), np.mean(np.abs(err))
    rmse_n, mae_n = math.sqrt(np.mean((out - y) ** 2)), np.mean(np.abs(out - y))
    for name, want, got in (("rmse", rmse, e["rmse"]), ("mae", mae, e["mae"]),
                            ("rmse_normalized", rmse_n, e["rmse_normalized"]),
                            ("mae_normalized", mae_n, e["mae_normalized"])):
        if not rel_close(want, got, 1e-8):
            fail("%s %r, numpy %r" % (name, got, want))
    if e["rmse_normalized"] != ep["rmse"] or e["mae_normalized"] != ep["mae"]:
        fail("normalized %r %r differ from the plain file's %r %r" % (
            e["rmse_normalized"], e["mae_normalized"], ep["rmse"], ep["mae"]))
    if "rmse_normalized" in ep or not rel_close(rmse, std * ep["rmse"], 1e-7):
        fail("plain file: %r" % ep)
    print("values: rmse %.6g mae %.6g (original units) = numpy" % (rmse, mae))


def cmd_classes(pred, data, ev):
    e = load_json(ev)
    with h5py.File(pred, "r") as f, h5py.File(data, "r") as g:
        out, prob = f["outputs"][()], f["probabilities"][()]
        prd, lengths = f["predictions"][()], f["lengths"][()]
        y = g["val/targets"][()]
    valid = np.arange(out.shape[1])[None, :] < lengths[:, None]
    if not np.all(np.isnan(prob[~valid])) or not np.all(prd[~valid] == -1):
        fail("padded steps are not NaN / -1")
    p, o = prob[valid].astype(np.float64), out[valid].astype(np.float64)
    if np.max(np.abs(p.sum(axis=1) - 1)) > 1e-6:
        fail("probabilities do not sum to 1")
    if not np.array_equal(p.argmax(axis=1), prd[valid]):
        fail("argmax of probabilities differs from predictions")
    sm = np.exp(o - o.max(axis=1, keepdims=True))
    sm /= sm.sum(axis=1, keepdims=True)
    if np.max(np.abs(sm - p)) > 1e-6:
        fail("probabilities are not the softmax of outputs")
    C = out.shape[-1]
    conf = np.zeros((C, C), dtype=np.int64)
    np.add.at(conf, (y[valid], prd[valid]), 1)
    if e["confusion"] != conf.tolist():
        fail("confusion %r, numpy %r" % (e["confusion"], conf.tolist()))
    tp = np.diag(conf).astype(np.float64)
    fp, fn = conf.sum(axis=0) - tp, conf.sum(axis=1) - tp
    seen = tp + fp + fn > 0
    f1 = np.mean(2 * tp[seen] / (2 * tp[seen] + fp[seen] + fn[seen]))
    if not rel_close(f1, e["f1_macro"], 1e-8):
        fail("f1_macro %r, numpy %r" % (e["f1_macro"], f1))
    if not rel_close(np.trace(conf) / conf.sum(), e["acc"], 1e-8) or e["n"] != conf.sum():
        fail("acc / n disagree with the confusion matrix")
    print("classes: f1_macro %.6g, confusion %dx%d, probabilities = numpy" % (f1, C, C))


def cmd_bpc(ev):
    e = load_json(ev)
    loss = e["loss"]
    if not rel_close(e["bpc"], loss / math.log(2), 1e-8):
        fail("bpc %r, loss / ln 2 = %r" % (e["bpc"], loss / math.log(2)))
    if not rel_close(e["perplexity"], math.exp(loss), 1e-8):
        fail("perplexity %r, exp(loss) = %r" % (e["perplexity"], math.exp(loss)))
    print("bpc %.6g perplexity %.6g from loss %.6g" % (e["bpc"], e["perplexity"], loss))


def cmd_forecast(fc, data, k):
    k = int(k)
    with h5py.File(fc, "r") as f, h5py.File(data, "r") as g:
        got = f["forecast"][()]
        attrs = {k: text(v) for k, v in f.attrs.items()}
        p, q, lengths = g["p"][()], g["q"][()], g["lengths"][()]
    # standardised: u = p + q t; step j past the end is t = length + j
    t = lengths[:, None] + np.arange(k)[None, :]
    want = ((p[:, None] + q[:, None] * t) * STD + MEAN).astype(np.float32)[:, :, None]
    if got.dtype != np.float32 or got.shape != want.shape or not np.array_equal(got, want):
        fail("forecast %r, expected %r" % (got[:, :, 0].tolist(), want[:, :, 0].tolist()))
    if attrs.get("rnn_dist_output") != "forecast" or attrs.get("steps") != k or \
            attrs.get("units") != "original":
        fail("attributes %r" % attrs)
    print("forecast of %d rows x %d steps exact" % (got.shape[0], k))


if __name__ == "__main__":
    cmds = {"data": cmd_data, "values": cmd_values, "classes": cmd_classes, "bpc": cmd_bpc,
            "forecast": cmd_forecast}
    cmds[sys.argv[1]](*sys.argv[2:])
