#!/usr/bin/python3
"""Generate the PyTorch golden fixtures that rnn_dist's C tests compare against.

Usage: scripts/make_fixtures.py OUTDIR        (make fixtures: OUTDIR = tests/fixtures)

Writes one HDF5 file per (cell, variant) case, <cell_tag>_<variant>.h5, with a
fixed seed per case: a random batch (padded steps hold random inputs and valid
random targets, so a model that leaks padding fails), PyTorch's initial
parameters, the forward outputs and masked mean loss, the gradients, and the
parameters after 3 steps of each optimizer. Also lr_schedules.h5: the lr of
epochs 1..30 under torch.optim.lr_scheduler for each case of LR_SCHEDULES.
tests/fixtures/README.md documents the format. Deterministic: one thread,
float32, fixed seeds.

Also stateful_<cell>.h5 (lstm, gru, rnn): word_language_model's training loop
over a token stream cut into columns, the state carried from step to step
(detached), for stateful training (write_stateful says what each holds).

--only cases|issue13|lr_schedules|stateful writes only the model cases, only
issue 13's files (optimizers, class weights, bidirectional models), only
lr_schedules.h5 or only the stateful files.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnn_dist_torch as rdt  # noqa: E402

CELL_TAGS = {  # tag: (cell, nonlinearity)
    "rnn_tanh": ("rnn", "tanh"),
    "rnn_relu": ("rnn", "relu"),
    "lstm": ("lstm", "tanh"),
    "gru": ("gru", "tanh"),
}

VARIANTS = {  # model config fields, plus batch, steps and lengths (None: all T)
    "tok_step_ce": dict(input="tokens", vocab_size=7, embed=5, hidden=6, layers=2, out=4,
                        loss="ce", target="step", batch=4, steps=5, lengths=[5, 3, 1, 4]),
    "dense_last_ce": dict(input="dense", features=3, hidden=5, layers=1, out=3,
                          loss="ce", target="last", batch=3, steps=6, lengths=[6, 2, 4]),
    "dense_step_mse": dict(input="dense", features=3, hidden=4, layers=2, out=2,
                           loss="mse", target="step", batch=3, steps=4, lengths=[4, 4, 2]),
    "dense_last_mse": dict(input="dense", features=2, hidden=8, layers=1, out=1,
                           loss="mse", target="last", batch=5, steps=3, lengths=None),
}

OPTIMIZERS = {  # group name: attributes of /steps/<name> (torch defaults otherwise)
    "adam": dict(optimizer="adam", lr=0.01, momentum=0.0, weight_decay=0.0, clip_grad_norm=0.0),
    "adamw": dict(optimizer="adamw", lr=0.01, momentum=0.0, weight_decay=0.1, clip_grad_norm=0.0),
    "sgd": dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=0.01, clip_grad_norm=0.0),
    "adam_clip": dict(optimizer="adam", lr=0.01, momentum=0.0, weight_decay=0.001, clip_grad_norm=0.05),
}
NUM_STEPS = 3


def make_optimizer(params, opt):
    torch = rdt.torch
    if opt["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=opt["lr"], weight_decay=opt["weight_decay"])
    if opt["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=opt["lr"], weight_decay=opt["weight_decay"])
    if opt["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(params, lr=opt["lr"], weight_decay=opt["weight_decay"])
    return torch.optim.SGD(params, lr=opt["lr"], momentum=opt["momentum"],
                           weight_decay=opt["weight_decay"], nesterov=bool(opt.get("nesterov", 0)))


def case_loss(outputs, batch, config, class_weights):
    """The masked mean loss; with class_weights, nn.CrossEntropyLoss(weight=w)'s
    weighted mean sum_i w[y_i] nll_i / sum_i w[y_i] over the valid targets."""
    if class_weights is None:
        return rdt.masked_loss(outputs, batch[1], batch[2], config)
    out, tgt = rdt.valid_targets(outputs, batch[1], batch[2], config.target)
    return rdt.F.cross_entropy(out, tgt.long(), weight=rdt.torch.from_numpy(class_weights))


def make_batch(spec, rng):
    """Random inputs and valid targets at EVERY step, padded ones included."""
    np = rdt.np
    b, t = spec["batch"], spec["steps"]
    if spec["input"] == "tokens":
        inputs = rng.integers(0, spec["vocab_size"], (b, t)).astype(np.int32)
    else:
        inputs = rng.standard_normal((b, t, spec["features"])).astype(np.float32)
    shape = (b, t) if spec["target"] == "step" else (b,)
    if spec["loss"] == "ce":
        targets = rng.integers(0, spec["out"], shape).astype(np.int32)
    else:
        targets = rng.standard_normal(shape + (spec["out"],)).astype(np.float32)
    lengths = np.array(spec["lengths"] or [t] * b, dtype=np.int32)
    return inputs, targets, lengths


def run_steps(model, init, batch, config, opt, class_weights=None):
    """NUM_STEPS optimizer steps from init: (losses, pre-clip grad norms, params)."""
    torch = rdt.torch
    model.load_state_dict(init)
    optimizer = make_optimizer(model.parameters(), opt)
    losses, norms = [], []
    for _ in range(NUM_STEPS):
        optimizer.zero_grad()
        loss = case_loss(model(batch[0], batch[2]), batch, config, class_weights)
        loss.backward()
        grads = [p.grad for p in model.parameters()]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        if opt["clip_grad_norm"] > 0:
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), opt["clip_grad_norm"])
        optimizer.step()
        losses.append(loss.item())
        norms.append(norm.item())
    return losses, norms, model.state_dict()


def write_case(path, tag, variant, seed, optimizers=OPTIMIZERS, class_weights=None, extra=None):
    """One fixture file; extra: model config fields over the variant's."""
    torch, np = rdt.torch, rdt.np
    cell, nonlin = CELL_TAGS[tag]
    spec = dict(VARIANTS[variant], **(extra or {}))
    fields = {k: v for k, v in spec.items() if k not in ("batch", "steps", "lengths")}
    config = rdt.ModelConfig(cell=cell, nonlinearity=nonlin, **fields)
    torch.manual_seed(seed)
    model = rdt.RnnDistModel(config)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    inputs, targets, lengths = make_batch(spec, np.random.default_rng(seed))
    batch = (torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(lengths))

    model.zero_grad()
    outputs = model(batch[0], batch[2])
    loss = case_loss(outputs, batch, config, class_weights)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}

    with rdt.open_h5(path, "w") as f:
        rdt.write_model_attrs(f, config)
        rdt.write_attrs(f, batch=spec["batch"], steps=spec["steps"],
                        has_lengths=int(spec["lengths"] is not None),
                        torch_version=torch.__version__, seed=seed)
        f.create_dataset("data/inputs", data=inputs)
        f.create_dataset("data/targets", data=targets)
        f.create_dataset("data/lengths", data=lengths)
        if class_weights is not None:
            f.create_dataset("data/class_weights", data=class_weights)
        rdt.write_params(f.create_group("init"), init)
        f.create_dataset("forward/outputs", data=outputs.detach().numpy())
        f.create_dataset("forward/loss", data=np.float64(loss.item()))
        rdt.write_params(f.create_group("grads"), grads)
        for name, opt in optimizers.items():
            losses, norms, params = run_steps(model, init, batch, config, opt, class_weights)
            if opt["clip_grad_norm"] > 0 and not all(n > opt["clip_grad_norm"] for n in norms):
                raise rdt.UserError(f"{path}: clipping at {opt['clip_grad_norm']} does not trigger "
                                    f"on every step (grad norms {norms}); change the case")
            g = f.create_group(f"steps/{name}")
            rdt.write_attrs(g, steps=NUM_STEPS, **opt)
            g.create_dataset("losses", data=np.array(losses, dtype=np.float64))
            g.create_dataset("grad_norms", data=np.array(norms, dtype=np.float64))
            rdt.write_params(g.create_group("params"), params)


# Issue 13's optimizers and class weights: one case each (file: (cell tag, variant,
# seed, optimizer groups, class weights)); attributes as OPTIMIZERS' plus nesterov.
ISSUE13_CASES = {
    "optim_rmsprop": ("lstm", "tok_step_ce", 2000, {
        "rmsprop": dict(optimizer="rmsprop", lr=0.01, momentum=0.0, weight_decay=0.0,
                        clip_grad_norm=0.0, nesterov=0),
        "rmsprop_wd": dict(optimizer="rmsprop", lr=0.01, momentum=0.0, weight_decay=0.01,
                           clip_grad_norm=0.0, nesterov=0)}, None),
    "sgd_nesterov": ("gru", "dense_last_ce", 2001, {
        "sgd_nesterov": dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=0.01,
                             clip_grad_norm=0.0, nesterov=1)}, None),
    "ce_class_weights": ("rnn_tanh", "tok_step_ce", 2002, {
        "adam": dict(OPTIMIZERS["adam"], nesterov=0),
        "sgd": dict(OPTIMIZERS["sgd"], nesterov=0)}, [0.5, 2.0, 1.0, 3.0]),
}


# Bidirectional models (file bidir_<cell tag>_<variant>.h5): every cell, 1 and 2
# layers, both heads, padded rows (the reverse direction must start at each
# row's last valid step, as on a packed sequence), Adam and SGD steps.
BIDIR_CASES = {
    (tag, variant): 3000 + 10 * i + j
    for i, tag in enumerate(("rnn_tanh", "lstm", "gru"))
    for j, variant in enumerate(("tok_step_ce", "dense_last_ce", "dense_step_mse"))
}
BIDIR_OPTIMIZERS = {name: OPTIMIZERS[name] for name in ("adam", "sgd")}


def write_issue13(outdir):
    """The ISSUE13_CASES and BIDIR_CASES files; returns their total size in bytes."""
    total = 0
    for name, (tag, variant, seed, optimizers, weights) in ISSUE13_CASES.items():
        path = os.path.join(outdir, f"{name}.h5")
        cw = None if weights is None else rdt.np.array(weights, dtype=rdt.np.float32)
        write_case(path, tag, variant, seed, optimizers, cw)
        total += os.path.getsize(path)
        print(f"wrote {path}")
    for (tag, variant), seed in BIDIR_CASES.items():
        path = os.path.join(outdir, f"bidir_{tag}_{variant}.h5")
        write_case(path, tag, variant, seed, BIDIR_OPTIMIZERS, extra=dict(bidirectional=1))
        total += os.path.getsize(path)
        print(f"wrote {path}")
    return total


# Stateful training (--stateful 1 --bptt): one file per cell, stateful_<cell>.h5.
STATEFUL = dict(lengths=[9, 7, 9, 4, 9, 8], steps=9, vocab=11, hidden=5, layers=2, embed=4,
                batch=3, bptt=4, lr=0.01, passes=2)
STATEFUL_SEEDS = {"lstm": 3000, "gru": 3001, "rnn": 3002}


def stateful_rows(rng, c):
    """A random token stream of S + 1 tokens (S = the sum of the lengths) cut
    into rows: row k holds tokens [p_k, p_k + len_k) as inputs and the next
    tokens [p_k + 1, p_k + len_k + 1) as targets, p_k = the sum of the lengths
    before k (so a row's last target is the next row's first input). Padded
    steps: input 0 (a valid id), target -1 (never read)."""
    np = rdt.np
    lengths = np.array(c["lengths"], dtype=np.int32)
    tokens = rng.integers(0, c["vocab"], int(lengths.sum()) + 1).astype(np.int32)
    inputs = np.zeros((len(lengths), c["steps"]), dtype=np.int32)
    targets = np.full((len(lengths), c["steps"]), -1, dtype=np.int32)
    p = 0
    for k, n in enumerate(lengths):
        inputs[k, :n] = tokens[p:p + n]
        targets[k, :n] = tokens[p + 1:p + n + 1]
        p += n
    return inputs, targets, lengths


def batchify(rows, lengths, columns):
    """rnn_dist's stream of a dataset, as word_language_model's batchify lays
    it out: the rows' valid steps concatenated, the last S % columns elements
    dropped, column j = elements [j*nb, (j+1)*nb) in [:, j] of [nb, columns]."""
    flat = rdt.np.concatenate([row[:n] for row, n in zip(rows, lengths)])
    nb = len(flat) // columns
    return rdt.np.ascontiguousarray(flat[:nb * columns].reshape(columns, nb).T)


def run_stateful(model, src, tgt, c):
    """word_language_model's train loop over the columns src, tgt [nb, C]:
    c["passes"] passes, each from a zero state; step i takes offsets
    [i*bptt, min((i+1)*bptt, nb)) of every column, starts from the state the
    previous step ended with, detached (repackage_hidden), and takes one Adam
    step on the mean cross-entropy over its Ti*C targets (no clipping, no
    dropout). Returns (losses, gradients of the first step, final state)."""
    torch = rdt.torch
    optimizer = make_optimizer(model.parameters(), dict(optimizer="adam", lr=c["lr"],
                                                        weight_decay=0.0))
    nb, columns = src.shape
    shape = (c["layers"], columns, c["hidden"])
    losses, grads0, state = [], None, None
    for _ in range(c["passes"]):
        state = torch.zeros(shape)
        if model.config.cell == "lstm":
            state = (torch.zeros(shape), torch.zeros(shape))
        for i in range(0, nb, c["bptt"]):
            x = torch.from_numpy(src[i:i + c["bptt"]].T.copy()).long()  # [C, Ti]
            y = torch.from_numpy(tgt[i:i + c["bptt"]].T.copy()).long()
            state = (tuple(h.detach() for h in state) if isinstance(state, tuple)
                     else state.detach())
            optimizer.zero_grad()
            out, state = model.rnn(model.embedding(x), state)  # batch_first: [C, Ti, H]
            logits = model.fc(out)
            loss = rdt.F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            loss.backward()
            if grads0 is None:
                grads0 = {n: p.grad.clone() for n, p in model.named_parameters()}
            optimizer.step()
            losses.append(loss.item())
    return losses, grads0, state


def write_stateful(path, cell, seed):
    """stateful_<cell>.h5, the reference of stateful training (word_language_model):
      root attributes: the model's (write_model_attrs: tokens, vocab_size 11,
        embed 4, hidden 5, layers 2, out 11, loss ce, target step, no dropout),
        batch (columns C = 3), bptt (4), lr (0.01), optimizer ("adam"), seed,
        passes (2), steps_per_pass (ceil(nb / bptt) = 4), steps (optimizer
        steps in all = passes * steps_per_pass = 8), elements (S = 46: valid
        steps of all rows), nb (S // C = 15: elements per column), torch_version;
      /data: the dataset (rnn_dist's schema; attributes vocab_size,
        num_classes): inputs int32 [6, 9], targets int32 [6, 9] (the next
        token; -1 at padded steps), lengths int32 [6];
      /stream/inputs, /stream/targets int32 [nb, C]: the stream batchified
        (column j = [:, j] = elements [j*nb, (j+1)*nb); the last S % C dropped);
      /init/<name>: the initial parameters (state_dict names, float32);
      /losses float64 [steps]: the loss of each step, both passes in order;
      /grads_step0/<name>: the gradients of the first step;
      /params_after/<name>: the parameters after the last step;
      /state_final/h float32 [layers, C, hidden]: the state carried out of the
        last step (column j at [:, j, :]); /state_final/c the same for lstm."""
    torch, np = rdt.torch, rdt.np
    c = STATEFUL
    config = rdt.ModelConfig(cell=cell, input="tokens", vocab_size=c["vocab"], embed=c["embed"],
                             hidden=c["hidden"], layers=c["layers"], out=c["vocab"],
                             loss="ce", target="step")
    torch.manual_seed(seed)
    model = rdt.RnnDistModel(config)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    inputs, targets, lengths = stateful_rows(np.random.default_rng(seed), c)
    src = batchify(inputs, lengths, c["batch"])
    tgt = batchify(targets, lengths, c["batch"])
    losses, grads0, state = run_stateful(model, src, tgt, c)
    nb = src.shape[0]
    per_pass = -(-nb // c["bptt"])
    with rdt.open_h5(path, "w") as f:
        rdt.write_model_attrs(f, config)
        rdt.write_attrs(f, batch=c["batch"], bptt=c["bptt"], lr=c["lr"], optimizer="adam",
                        seed=seed, passes=c["passes"], steps_per_pass=per_pass,
                        steps=len(losses), elements=int(lengths.sum()), nb=nb,
                        torch_version=torch.__version__)
        g = f.create_group("data")
        rdt.write_attrs(g, vocab_size=c["vocab"], num_classes=c["vocab"])
        g.create_dataset("inputs", data=inputs)
        g.create_dataset("targets", data=targets)
        g.create_dataset("lengths", data=lengths)
        f.create_dataset("stream/inputs", data=src)
        f.create_dataset("stream/targets", data=tgt)
        rdt.write_params(f.create_group("init"), init)
        f.create_dataset("losses", data=np.array(losses, dtype=np.float64))
        rdt.write_params(f.create_group("grads_step0"), grads0)
        rdt.write_params(f.create_group("params_after"), model.state_dict())
        h, cs = state if isinstance(state, tuple) else (state, None)
        rdt.write_params(f.create_group("state_final"),
                         {"h": h} if cs is None else {"h": h, "c": cs})
    print(f"wrote {path}")
    return os.path.getsize(path)


LR_EPOCHS = 30
# the plateau's monitored values: falls, stalls (0.7 -> 0.69995 is within the
# relative threshold 1e-4: no improvement), falls again, then stalls for good;
# the accuracies of the warmup epochs are high, and must not be fed to the plateau
_PLATEAU_LOSS = [1.0, 0.8, 0.7, 0.69995, 0.7, 0.71, 0.6, 0.6, 0.61, 0.62, 0.5, 0.55,
                 0.56, 0.57, 0.58, 0.45, 0.46, 0.47, 0.48, 0.49, 0.5, 0.5, 0.5, 0.5,
                 0.44, 0.5, 0.5, 0.5, 0.5, 0.5]
_PLATEAU_ACC = [0.5, 0.55, 0.6, 0.3, 0.35, 0.34, 0.4, 0.4, 0.39, 0.5, 0.5, 0.5,
                0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6,
                0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
LR_SCHEDULES = {  # group name: the train options of rnn_dist (defaults otherwise)
    "step": dict(lr_schedule="step", lr=0.1, lr_step=7, lr_gamma=0.5),
    "step_warmup": dict(lr_schedule="step", lr=0.1, lr_step=4, lr_gamma=0.3, warmup_epochs=3),
    "cosine": dict(lr_schedule="cosine", lr=0.05, lr_min=0.001),
    "cosine_warmup": dict(lr_schedule="cosine", lr=0.05, warmup_epochs=5),
    "plateau": dict(lr_schedule="plateau", lr=0.1, lr_factor=0.5, lr_patience=2, lr_min=0.01,
                    monitor="val_loss", monitored=_PLATEAU_LOSS),
    "plateau_max_warmup": dict(lr_schedule="plateau", lr=0.02, lr_factor=0.3, lr_patience=1,
                               lr_min=0.0005, warmup_epochs=3, monitor="val_acc",
                               monitored=_PLATEAU_ACC),
}
_LR_DEFAULTS = dict(lr_step=10, lr_gamma=0.1, warmup_epochs=0, lr_min=0.0, lr_factor=0.1,
                    lr_patience=10, monitor="val_loss")


def schedule_lrs(case):
    """The lr of epochs 1..LR_EPOCHS: LambdaLR (lr * e / w) for the warmup epochs
    e <= w, then a fresh optimizer at lr and the case's torch scheduler, stepped
    once per epoch (plateau: fed the monitored value of each epoch after the
    warmup, its lr used from the next epoch)."""
    torch = rdt.torch
    c = dict(_LR_DEFAULTS, **case)
    lr, w = c["lr"], c["warmup_epochs"]
    sched = torch.optim.lr_scheduler
    lrs = []
    if w > 0:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        warm = sched.LambdaLR(opt, lambda t: (t + 1) / w)
        for _ in range(w):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            warm.step()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    kind = c["lr_schedule"]
    if kind == "step":
        s = sched.StepLR(opt, step_size=c["lr_step"], gamma=c["lr_gamma"])
    elif kind == "cosine":
        s = sched.CosineAnnealingLR(opt, T_max=LR_EPOCHS - w, eta_min=c["lr_min"])
    else:
        s = sched.ReduceLROnPlateau(opt, mode="max" if c["monitor"] == "val_acc" else "min",
                                    factor=c["lr_factor"], patience=c["lr_patience"],
                                    threshold=1e-4, threshold_mode="rel", cooldown=0,
                                    min_lr=c["lr_min"])
    for e in range(w + 1, LR_EPOCHS + 1):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if kind == "plateau":
            s.step(c["monitored"][e - 1])
        else:
            s.step()
    return c, lrs


def write_lr_schedules(path):
    np = rdt.np
    with rdt.open_h5(path, "w") as f:
        rdt.write_attrs(f, epochs=LR_EPOCHS, torch_version=rdt.torch.__version__)
        for name, case in LR_SCHEDULES.items():
            c, lrs = schedule_lrs(case)
            g = f.create_group(name)
            rdt.write_attrs(g, **{k: v for k, v in c.items() if k != "monitored"})
            g.attrs["lrs"] = np.array(lrs, dtype=np.float64)
            if "monitored" in c:
                g.attrs["monitored"] = np.array(c["monitored"], dtype=np.float64)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(
        description="Generate PyTorch golden fixtures for rnn_dist's C tests "
                    "(one <cell_tag>_<variant>.h5 per case; format in tests/fixtures/README.md).")
    parser.add_argument("outdir", metavar="OUTDIR",
                        help="directory for the .h5 files (created if missing), e.g. tests/fixtures")
    parser.add_argument("--only", choices=("cases", "issue13", "lr_schedules", "stateful"),
                        help="write only the 16 cell/variant cases, only issue 13's optimizer, "
                             "class-weight and bidirectional files, only lr_schedules.h5, or "
                             "only the stateful_<cell>.h5 files (default: all)")
    args = parser.parse_args()
    rdt.require_torch()
    if os.path.exists(args.outdir) and not os.path.isdir(args.outdir):
        raise rdt.UserError(f"{args.outdir}: exists and is not a directory")
    os.makedirs(args.outdir, exist_ok=True)
    rdt.torch.set_num_threads(1)
    rdt.torch.use_deterministic_algorithms(True)
    rdt.torch.set_default_dtype(rdt.torch.float32)
    if args.only in (None, "lr_schedules"):
        write_lr_schedules(os.path.join(args.outdir, "lr_schedules.h5"))
    total = 0
    if args.only in (None, "stateful"):
        for cell, seed in STATEFUL_SEEDS.items():
            total += write_stateful(os.path.join(args.outdir, f"stateful_{cell}.h5"), cell, seed)
    if args.only in (None, "issue13"):
        total += write_issue13(args.outdir)
    if args.only is not None and args.only != "cases":
        return
    for i, tag in enumerate(CELL_TAGS):
        for j, variant in enumerate(VARIANTS):
            path = os.path.join(args.outdir, f"{tag}_{variant}.h5")
            write_case(path, tag, variant, seed=1000 + 10 * i + j)
            total += os.path.getsize(path)
            print(f"wrote {path}")
    print(f"{len(CELL_TAGS) * len(VARIANTS)} fixtures, {total / 1024:.0f} KiB")


if __name__ == "__main__":
    rdt.run_cli(main)
