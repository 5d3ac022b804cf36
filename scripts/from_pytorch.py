#!/usr/bin/python3
"""Convert a PyTorch model into an rnn_dist init file.

Usage: scripts/from_pytorch.py MODEL.pt --out INIT.h5 [--nonlinearity tanh|relu]
                               [--loss ce|mse] [--target step|last] [--force]

MODEL.pt holds a state_dict, a dict with key 'state_dict', or a whole pickled
module, of a model built like rnn_dist's: optional `embedding` (nn.Embedding),
`rnn` (nn.RNN / nn.LSTM / nn.GRU, batch_first, unidirectional) and `fc`
(nn.Linear). Any other parameter name, or a missing one, is refused.

Writes /params/<name> float32 datasets and the model attributes inferred from
the shapes (cell from the gate count weight_ih_l0.shape[0] / hidden: 1 rnn,
4 lstm, 3 gru), so `rnn_dist train --init INIT.h5` starts from these weights.
Shapes cannot tell the nonlinearity of a plain RNN, the loss or the target:
they come from a pickled RnnDistModel or nn.RNN when available, else from the
options (nonlinearity default tanh; loss and target are left out unless given).

INIT.h5 is written as INIT.h5.tmp.PID and renamed when complete; an existing
INIT.h5 is refused unless --force is given, and MODEL.pt itself always (exit
status 2).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outfile  # noqa: E402
import rnn_dist_torch as rdt  # noqa: E402


def load_model_file(path):
    """(state_dict, facts) from a .pt file; facts holds what a pickled module
    tells beyond shapes (its ModelConfig, or an nn.RNN's nonlinearity)."""
    torch = rdt.torch
    if not os.path.isfile(path):
        raise rdt.UserError(f"{path}: no such file")
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # unpickling can fail in many ways
        raise rdt.UserError(f"{path}: cannot load with torch.load ({type(e).__name__}: {e}); "
                            f"save model.state_dict() instead of the module") from None
    facts = {}
    if isinstance(obj, rdt.RnnDistModel):
        facts["config"] = obj.config
    if isinstance(obj, torch.nn.Module):
        if isinstance(getattr(obj, "rnn", None), torch.nn.RNN):
            facts["nonlinearity"] = obj.rnn.nonlinearity
        obj = obj.state_dict()
    elif isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise rdt.UserError(f"{path}: holds a {type(obj).__name__}, "
                            f"not a state_dict, a dict with 'state_dict' or a module")
    for name, value in obj.items():
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise rdt.UserError(f"{path}: entry {name!r} is not a floating-point tensor")
    return dict(obj), facts


def resolve(name, option, known, default, where):
    """The option if given, else what the file tells, else default; refuse a conflict."""
    if option is not None and known is not None and option != known:
        raise rdt.UserError(f"{where}: --{name} {option} contradicts the model's {name} {known}")
    return option if option is not None else known if known is not None else default


def main():
    parser = argparse.ArgumentParser(
        description="Write a PyTorch state_dict (or module) as an rnn_dist init file: "
                    "/params/<name> float32 plus model attributes inferred from the shapes.")
    parser.add_argument("model", metavar="MODEL.pt",
                        help="torch.save'd state_dict, {'state_dict': ...} dict, or whole module")
    parser.add_argument("--out", metavar="INIT.h5", required=True,
                        help="HDF5 file to write (an existing file only with --force)")
    outfile.add_force_option(parser)
    parser.add_argument("--nonlinearity", choices=rdt.NONLINEARITIES,
                        help="of a plain RNN (default: from a pickled module, else tanh)")
    parser.add_argument("--loss", choices=rdt.LOSSES,
                        help="record the loss attribute (default: from a pickled RnnDistModel, else not written)")
    parser.add_argument("--target", choices=rdt.TARGETS,
                        help="record the target attribute (default: from a pickled RnnDistModel, else not written)")
    args = parser.parse_args()
    out = outfile.OutFile(args.out, [("MODEL.pt", args.model)], force=args.force)
    rdt.require_torch()

    state, facts = load_model_file(args.model)
    known = facts.get("config")
    nonlinearity = resolve("nonlinearity", args.nonlinearity,
                           known.nonlinearity if known else facts.get("nonlinearity"), "tanh", args.model)
    config = rdt.config_from_params(state, args.model, nonlinearity)
    if known is not None:  # keep what a pickled RnnDistModel knows (dropout rates too)
        config = known
    config.loss = resolve("loss", args.loss, config.loss, None, args.model)
    config.target = resolve("target", args.target, config.target, None, args.model)

    with out.writing() as tmp, rdt.open_h5(tmp, "w") as f:
        rdt.write_model_attrs(f, config)
        rdt.write_params(f.create_group("params"), {n: state[n] for n in config.param_shapes()})
    size = sum(p.numel() for p in state.values())
    source = f"vocab_size={config.vocab_size} embed={config.embed}" if config.input == "tokens" \
        else f"features={config.features}"
    guessed = " (assumed: shapes do not tell; see --nonlinearity)" \
        if config.cell == "rnn" and args.nonlinearity is None and "nonlinearity" not in facts and known is None else ""
    print(f"wrote {args.out}: cell={config.cell} nonlinearity={config.nonlinearity}{guessed} {source} "
          f"hidden={config.hidden} layers={config.layers} out={config.out} "
          f"loss={config.loss or '(not recorded)'} target={config.target or '(not recorded)'} "
          f"({size} parameters)")

if __name__ == "__main__":
    rdt.run_cli(main)
