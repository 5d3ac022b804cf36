#!/usr/bin/python3
"""PyTorch CPU reference for `make bench`: training-step throughput on ONE thread.

Usage: scripts/bench_torch.py [--json] [--seconds S]

Times full training steps (forward, masked loss, backward, Adam step) on a
fixed random batch, after a warm-up, for at least S seconds per case:
  lstm      dense input 64, LSTM hidden 256 x 2 layers, T 50, batch 64,
            target last, 10-class cross-entropy
  gru       the same with a GRU
  counting  tokens (vocab 10, embed 8), RNN hidden 16 x 1 layer, T 4,
            batch 32, per-step 10-class cross-entropy
Prints sequences per second for each case, or with --json one JSON object
{"lstm": seq_per_s, "gru": seq_per_s, "counting": seq_per_s}.
Uses torch.set_num_threads(1); run it with OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 as make bench does.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnn_dist_torch as rdt  # noqa: E402

CASES = {  # name: (model config, batch, steps)
    "lstm": (dict(cell="lstm", input="dense", features=64, hidden=256, layers=2, out=10,
                  loss="ce", target="last"), 64, 50),
    "gru": (dict(cell="gru", input="dense", features=64, hidden=256, layers=2, out=10,
                 loss="ce", target="last"), 64, 50),
    "counting": (dict(cell="rnn", input="tokens", vocab_size=10, embed=8, hidden=16, layers=1, out=10,
                      loss="ce", target="step"), 32, 4),
}
WARMUP_STEPS = 3


def make_step(model, optimizer, config, batch, steps):
    """A function running one training step of model on a fixed random batch."""
    torch = rdt.torch
    if config.input == "tokens":
        x = torch.randint(0, config.vocab_size, (batch, steps))
    else:
        x = torch.randn(batch, steps, config.features)
    y = torch.randint(0, config.out, (batch, steps) if config.target == "step" else (batch,))
    lengths = torch.full((batch,), steps, dtype=torch.long)

    def train_step():
        optimizer.zero_grad()
        rdt.masked_loss(model(x, lengths), y, lengths, config).backward()
        optimizer.step()

    return train_step


def bench_case(fields, batch, steps, seconds):
    """Sequences per second of full training steps on one random batch."""
    torch = rdt.torch
    config = rdt.ModelConfig(**fields)
    torch.manual_seed(0)
    model = rdt.RnnDistModel(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_step = make_step(model, optimizer, config, batch, steps)

    for _ in range(WARMUP_STEPS):
        train_step()
    done, start = 0, time.perf_counter()
    while True:
        train_step()
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done * batch / elapsed


def main():
    parser = argparse.ArgumentParser(
        description="PyTorch single-thread training throughput (sequences/s) for the cases "
                    "make bench compares rnn_dist against: lstm, gru, counting.")
    parser.add_argument("--json", action="store_true",
                        help='print only one JSON object {"lstm": ..., "gru": ..., "counting": ...}')
    parser.add_argument("--seconds", type=float, default=2.0, metavar="S",
                        help="minimum timed duration per case, after warm-up (default 2; >= 0.1)")
    args = parser.parse_args()
    if args.seconds < 0.1:
        parser.error(f"--seconds must be >= 0.1, got {args.seconds}")
    rdt.require_torch()
    rdt.torch.set_num_threads(1)
    results = {}
    for name, (fields, batch, steps) in CASES.items():
        results[name] = bench_case(fields, batch, steps, args.seconds)
        if not args.json:
            print(f"{name:9s} {results[name]:10.1f} seq/s  (PyTorch {rdt.torch.__version__}, 1 thread)",
                  flush=True)
    if args.json:
        print(json.dumps({k: round(v, 1) for k, v in results.items()}))


if __name__ == "__main__":
    rdt.run_cli(main)
