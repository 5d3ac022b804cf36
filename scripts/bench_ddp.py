#!/usr/bin/python3
"""PyTorch DDP reference for `make bench`: data-parallel training throughput.

Usage: scripts/bench_ddp.py [--ranks 2] [--seconds S] [--windows W] [--json]

Starts RANKS processes (torch.multiprocessing), each on ONE thread, joined by
DistributedDataParallel over the gloo backend on this machine, and times full
training steps (forward, masked loss, backward with DDP's bucketed
all-reduce, Adam) of the `lstm` case of bench_torch.py: dense input 64, LSTM
hidden 256 x 2 layers, T 50, 64 sequences PER PROCESS, target last, 10-class
cross-entropy. Prints the total sequences per second over all processes, in
the best of WINDOWS windows of S seconds.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_torch  # noqa: E402
import rnn_dist_torch as rdt  # noqa: E402

FIELDS, BATCH, STEPS = bench_torch.CASES["lstm"]
WARMUP = bench_torch.WARMUP_STEPS


def worker(rank, ranks, seconds, windows, port, queue):
    torch = rdt.torch
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    tdist.init_process_group("gloo", rank=rank, world_size=ranks)
    config = rdt.ModelConfig(**FIELDS)
    torch.manual_seed(0)
    model = DistributedDataParallel(rdt.RnnDistModel(config))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch.manual_seed(1 + rank)
    step = bench_torch.make_step(model, optimizer, config, BATCH, STEPS)

    for _ in range(WARMUP):
        step()
    # Every process must run the same number of steps (each step is a
    # collective), so the count is fixed up front: rank 0 times a few steps and
    # broadcasts how many fill `seconds`. Best of `windows` timed windows.
    tdist.barrier()
    start = time.perf_counter()
    for _ in range(3):
        step()
    n = torch.tensor([max(1, int(seconds / ((time.perf_counter() - start) / 3)))])
    tdist.broadcast(n, 0)
    best = 0.0
    for _ in range(windows):
        tdist.barrier()
        start = time.perf_counter()
        for _ in range(int(n[0])):
            step()
        tdist.barrier()
        best = max(best, ranks * int(n[0]) * BATCH / (time.perf_counter() - start))
    if rank == 0:
        queue.put(best)
    tdist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description="PyTorch DDP (gloo) training throughput, lstm case")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0, help="length of one timing window")
    ap.add_argument("--windows", type=int, default=3, help="timing windows; the best is printed")
    ap.add_argument("--json", action="store_true", help='print {"ddp_lstm": seq_per_s}')
    args = ap.parse_args()
    rdt.require_torch()
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    port = 29500 + os.getpid() % 1000
    procs = [ctx.Process(target=worker, args=(r, args.ranks, args.seconds, args.windows, port, queue))
             for r in range(args.ranks)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        sys.exit("bench_ddp: a worker failed")
    rate = queue.get()
    if args.json:
        print(json.dumps({"ddp_lstm": round(rate, 1)}))
    else:
        print(f"ddp lstm {args.ranks} processes: {rate:.1f} seq/s (PyTorch {rdt.torch.__version__})")


if __name__ == "__main__":
    rdt.run_cli(main)
