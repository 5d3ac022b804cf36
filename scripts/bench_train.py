#!/usr/bin/python3
"""`make bench`: the real `rnn_dist train` command against PyTorch's training loop.

Usage: scripts/bench_train.py RNN_DIST [--rows N] [--epochs E] [--torch-epochs E]

Writes a dataset of N rows (default 64,000: dense input of 8 features, T 4,
a class of 10 at every step; about 10 MB) to a temporary directory, then
  - runs `RNN_DIST train` on it, shuffled (the default): the seed-sized
    model of the tutorials (RNN 16, batch 32, Adam), one rank, one thread;
    reports the median of the epochs' sequences per second (the first epoch
    left out) and the share of training time rnn_dist spent reading and
    batching rows (its "data:" line); then the same bound to one core, as
    under mpirun's default binding (no helper thread gathers the batches
    then: the trainer gathers its own);
  - when python3-torch is importable, trains the same model in PyTorch the way
    its tutorials do: the data in tensors, each epoch a torch.randperm order,
    each step a batch indexed from it; the same measure.
Prints one Markdown table. Needs python3-h5py and python3-numpy.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnn_dist_torch as rdt  # noqa: E402

T, F, CLASSES, HIDDEN, BATCH = 4, 8, 10, 16, 32


def make_data(path, rows):
    """rows sequences [rows, T, F]; the target of a step is a class of its input."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, T, F)).astype(np.float32)
    y = (np.argmax(x, axis=2) + (x[:, :, 0] > 0) * 2) % CLASSES
    with h5py.File(path, "w") as f:
        f["inputs"] = x
        f["targets"] = y.astype(np.int32)
        f.attrs["num_classes"] = CLASSES
    return x, y


def one_core():
    """Bind this (child) process to the first CPU it may run on."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def run_rnn_dist(binary, data, run_dir, epochs, extra=(), bound=False):
    """(median seq/s of epochs 2.., data share %, the data line) of `rnn_dist train`;
    bound: on one core, where it must say that no helper gathers its batches."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    cmd = [binary, "train", "--data", data, "--hidden", str(HIDDEN), "--batch-size", str(BATCH),
           "--epochs", str(epochs), "--run-dir", run_dir, *extra]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True,
                         preexec_fn=one_core if bound else None).stdout
    rates = [float(m) for m in re.findall(r"^epoch \d+/\d+ .* (\d+) seq/s", out, re.M)]
    share = re.search(r"^data: ([0-9.]+)% of training time", out, re.M)
    held = re.search(r"^data: (?!\d)(.*)$", out, re.M)
    if len(rates) < 2 or not share or (bound and held and "helper" in held.group(1)):
        raise SystemExit(f"bench_train: unexpected output of {' '.join(cmd)}:\n{out}")
    return statistics.median(rates[1:]), float(share.group(1)), held.group(1) if held else ""


def run_torch(x, y, epochs):
    """Median seq/s of epochs 2.. of the PyTorch tutorial loop on the same data and model."""
    torch = rdt.torch
    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = rdt.ModelConfig(cell="rnn", input="dense", features=F, hidden=HIDDEN, layers=1,
                             out=CLASSES, loss="ce", target="step")
    model = rdt.RnnDistModel(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    rows = xs.shape[0]
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(rows)
        for a in range(0, rows, BATCH):
            idx = order[a:a + BATCH]
            lengths = torch.full((idx.shape[0],), T, dtype=torch.long)
            optimizer.zero_grad()
            rdt.masked_loss(model(xs[idx], lengths), ys[idx], lengths, config).backward()
            optimizer.step()
        rates.append(rows / (time.perf_counter() - start))
    return statistics.median(rates[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rnn_dist", help="the rnn_dist binary")
    parser.add_argument("--rows", type=int, default=64000, help="rows of the dataset (64000)")
    parser.add_argument("--epochs", type=int, default=6, help="epochs of rnn_dist (6; >= 2)")
    parser.add_argument("--torch-epochs", type=int, default=3, help="epochs of PyTorch (3; >= 2)")
    parser.add_argument("--stream-rows", type=int, default=640000,
                        help="rows of the file larger than the memory budget (640000; 0: none)")
    parser.add_argument("--stream-memory", default="100M",
                        help="--max-memory of that run (100M: its rows are read in windows)")
    args = parser.parse_args()
    if args.rows < BATCH or args.epochs < 2 or args.torch_epochs < 2:
        parser.error("need --rows >= 32 and at least 2 epochs of each")
    if args.stream_rows and args.stream_rows < BATCH:
        parser.error("need --stream-rows 0 or >= 32")
    with tempfile.TemporaryDirectory(prefix="rnn_dist_bench_") as tmp:
        data = os.path.join(tmp, "seed.h5")
        x, y = make_data(data, args.rows)
        size = os.path.getsize(data) / 1e6
        ours, share, held = run_rnn_dist(args.rnn_dist, data, os.path.join(tmp, "run"),
                                         args.epochs)
        alone = run_rnn_dist(args.rnn_dist, data, os.path.join(tmp, "run_one_core"),
                             args.epochs, bound=True)
        streamed = None
        if args.stream_rows:
            big = os.path.join(tmp, "big.h5")
            make_data(big, args.stream_rows)
            big_size = os.path.getsize(big) / 1e6
            os.remove(data)
            streamed = run_rnn_dist(args.rnn_dist, big, os.path.join(tmp, "run_big"),
                                    args.epochs, ("--max-memory", args.stream_memory))
    ref = None
    try:
        rdt.require_torch()
        ref = run_torch(x, y, args.torch_epochs)
    except rdt.UserError:
        pass
    print(f"rnn_dist train, shuffled: dense I{F}, RNN {HIDDEN}, T {T}, batch {BATCH}, "
          f"{args.rows} rows ({size:.1f} MB), 1 rank, 1 compute thread; {held}")
    if streamed:
        print(f"the same on {args.stream_rows} rows ({big_size:.1f} MB) under --max-memory "
              f"{args.stream_memory}; {streamed[2]}")
    print()
    print("| case | rnn_dist seq/s | data loading, % of training time | PyTorch seq/s | ratio |")
    print("|---|---|---|---|---|")
    rows = [(f"train seed-sized, {args.rows} rows", ours, share),
            ("the same bound to one core (as under mpirun: no helper)", alone[0], alone[1])]
    if streamed:
        rows.append((f"train seed-sized, {args.stream_rows} rows read in windows",
                     streamed[0], streamed[1]))
    for name, rate, part in rows:
        print(f"| {name} | {rate:.0f} | {part:.1f}% | {'n/a' if ref is None else f'{ref:.0f}'} | "
              f"{'n/a' if ref is None else f'{rate / ref:.1f}x'} |")
    if streamed and ref is not None:
        print(f"(PyTorch's rate is of the {args.rows} rows, held as tensors: its loop does not "
              "depend on the rows' number)")


if __name__ == "__main__":
    rdt.run_cli(main)
