#!/usr/bin/python3
"""PyTorch DDP reference for `make bench`: data-parallel training throughput.

Usage: scripts/bench_ddp.py [--ranks 2] [--seconds S] [--json]

Starts RANKS processes (torch.multiprocessing), each on ONE thread, joined by
DistributedDataParallel over the gloo backend on this machine, and times full
training steps (forward, masked loss, backward with DDP's bucketed
all-reduce, Adam) of the `lstm` case of bench_torch.py: dense input 64, LSTM
hidden 256 x 2 layers, T 50, 64 sequences PER PROCESS, target last, 10-class
cross-entropy. Prints the total sequences per second over all processes.
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


def worker(rank, ranks, seconds, port, queue):
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
    # every process runs the same number of steps: agree on it from rank 0's timing
    tdist.barrier()
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        step()
        done += 1
    n = torch.tensor([done])
    tdist.broadcast(n, 0)
    while done < int(n[0]):
        step()
        done += 1
    elapsed = time.perf_counter() - start
    tdist.barrier()
    if rank == 0:
        queue.put(ranks * done * BATCH / elapsed)
    tdist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description="PyTorch DDP (gloo) training throughput, lstm case")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", action="store_true", help='print {"ddp_lstm": seq_per_s}')
    args = ap.parse_args()
    rdt.require_torch()
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    port = 29500 + os.getpid() % 1000
    procs = [ctx.Process(target=worker, args=(r, args.ranks, args.seconds, port, queue))
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
