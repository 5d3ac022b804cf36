#!/usr/bin/python3
"""Convert an rnn_dist checkpoint into a PyTorch state_dict.

Usage: scripts/to_pytorch.py CKPT.h5 --out MODEL.pt [--check DATA.h5 [--group G]] [--force]

Reads /params/<name> and the model attributes of CKPT.h5 (a checkpoint such as
run-dir/best.h5), saves the state_dict with torch.save, and prints the Python
code that builds the matching module (RnnDistModel from scripts/rnn_dist_torch.py)
and loads it. With --check, also runs the PyTorch model on a dataset (the /val,
/test or root group of DATA.h5, or --group) and prints loss and accuracy, or
RMSE and MAE, in the same `name value` lines as `rnn_dist eval`.

MODEL.pt is written as MODEL.pt.tmp.PID and renamed when complete; an
existing MODEL.pt is refused unless --force is given, and CKPT.h5 or DATA.h5
themselves always (exit status 2).
"""

import argparse
import math
import os
import sys

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPTS)
import outfile  # noqa: E402
import rnn_dist_torch as rdt  # noqa: E402


def evaluate(model, config, data, batch_size=256):
    """`rnn_dist eval`-style metrics of model on a Dataset."""
    torch = rdt.torch
    model.eval()
    totals = {}
    with torch.no_grad():
        for start in range(0, len(data.lengths), batch_size):
            part = slice(start, start + batch_size)
            x, y, lengths = (torch.from_numpy(a[part]) for a in (data.inputs, data.targets, data.lengths))
            sums = rdt.loss_sums(model(x, lengths), y, lengths, config)
            for k, v in sums.items():
                totals[k] = totals.get(k, 0.0) + v
    n = totals["count"]
    metrics = {"loss": totals["loss"] / n}
    if config.loss == "ce":
        metrics["acc"] = totals["correct"] / n
    else:
        metrics["rmse"] = math.sqrt(totals["loss"] / n)
        metrics["mae"] = totals["abs_err"] / n
    metrics["n"] = int(n)
    return metrics


def main():
    parser = argparse.ArgumentParser(
        description="Save an rnn_dist checkpoint's parameters as a PyTorch state_dict and print "
                    "the code that builds the matching module.")
    parser.add_argument("checkpoint", metavar="CKPT.h5", help="rnn_dist checkpoint (/params/<name> + model attributes)")
    parser.add_argument("--out", metavar="MODEL.pt", required=True,
                        help="where to torch.save the state_dict (an existing file only with --force)")
    outfile.add_force_option(parser)
    parser.add_argument("--check", metavar="DATA.h5",
                        help="also evaluate the PyTorch model on this dataset and print loss/metrics")
    parser.add_argument("--group", metavar="G",
                        help="dataset group for --check (default: the first of /val, /test, root)")
    args = parser.parse_args()
    if args.group and not args.check:
        parser.error("--group needs --check")
    out = outfile.OutFile(args.out, [("CKPT.h5", args.checkpoint), ("--check", args.check)],
                          force=args.force)
    rdt.require_torch()
    torch = rdt.torch

    config, params = rdt.load_checkpoint(args.checkpoint)
    for name in ("loss", "target"):
        if getattr(config, name) is None:
            raise rdt.UserError(f"{args.checkpoint}: attribute '{name}' missing "
                                f"(a file from from_pytorch.py without --{name}?); cannot build the model")
    model = rdt.RnnDistModel(config)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    data = rdt.read_dataset(args.check, config, args.group) if args.check else None
    try:
        with out.writing() as tmp:
            torch.save(model.state_dict(), tmp)
    except (OSError, RuntimeError) as e:  # torch reports a missing directory as RuntimeError
        raise rdt.UserError(f"{args.out}: cannot write ({e})") from None

    print(f"# {args.checkpoint} -> {args.out} "
          f"({sum(p.size for p in params.values())} parameters). To use it:")
    print("import sys")
    print(f"sys.path.insert(0, {SCRIPTS!r})  # where rnn_dist_torch.py lives")
    print("import torch")
    print("from rnn_dist_torch import ModelConfig, RnnDistModel")
    print(f"model = RnnDistModel({config!r})")
    print(f"model.load_state_dict(torch.load({os.path.abspath(args.out)!r}))")
    print("model.eval()  # outputs = model(inputs, lengths)")
    if data is not None:
        print(f"# --check {data.where} ({len(data.lengths)} sequences):")
        for name, value in evaluate(model, config, data).items():
            print(f"{name} {value:.6g}" if isinstance(value, float) else f"{name} {value}")


if __name__ == "__main__":
    rdt.run_cli(main)
