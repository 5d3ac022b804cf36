#!/usr/bin/python3
"""Convert a PyTorch model into an rnn_dist init file.

Usage: scripts/from_pytorch.py MODEL.pt --out INIT.h5 [--nonlinearity tanh|relu]
                               [--loss ce|mse] [--target step|last]
                               [--rename OLD=NEW[,OLD=NEW...]]... [--force]

MODEL.pt holds a state_dict, a dict with key 'state_dict', or a whole pickled
module, of a model built like rnn_dist's: optional `embedding` (nn.Embedding),
`rnn` (nn.RNN / nn.LSTM / nn.GRU, batch_first; bidirectional when it has
the *_reverse parameters) and `fc` (nn.Linear). Any other parameter name, or
a missing one, is refused.
--rename OLD=NEW (repeatable, or a comma list) renames the modules of a model
built otherwise first: --rename lstm=rnn,decoder=fc turns lstm.weight_ih_l0
into rnn.weight_ih_l0 and decoder.weight into fc.weight (OLD may be a dotted
path, encoder.lstm=rnn; NEW is embedding, rnn or fc).

Writes /params/<name> float32 datasets and the model attributes inferred from
the shapes (cell from the gate count weight_ih_l0.shape[0] / hidden: 1 rnn,
4 lstm, 3 gru), so `rnn_dist train --init INIT.h5` starts from these weights.
Shapes cannot tell the nonlinearity of a plain RNN, the loss or the target:
they come from the options, else a pickled RnnDistModel (or nn.RNN: the
nonlinearity), else keys saved next to the state_dict
({'state_dict': ..., 'loss': 'mse', 'target': 'last'}, or the same keys in a
'config' dict there); the nonlinearity defaults to tanh, and a head of one
output means loss mse (classes need two or more). A loss or target still
unknown is refused (exit status 2) with the option to give: `predict`,
`eval` and to_pytorch.py need both.

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
    """(state_dict, facts, module) from a .pt file; facts holds what the file
    tells beyond shapes (a pickled RnnDistModel's ModelConfig, loss and target
    keys saved next to the state_dict); module is a pickled nn.Module or None."""
    torch = rdt.torch
    if not os.path.isfile(path):
        raise rdt.UserError(f"{path}: no such file")
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # unpickling can fail in many ways
        raise rdt.UserError(f"{path}: cannot load with torch.load ({type(e).__name__}: {e}); "
                            f"save model.state_dict() instead of the module") from None
    facts, module = {}, None
    if isinstance(obj, rdt.RnnDistModel):
        facts["config"] = obj.config
    if isinstance(obj, torch.nn.Module):
        module, obj = obj, obj.state_dict()
    elif isinstance(obj, dict) and "state_dict" in obj:
        facts.update(saved_hints(obj, path))
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise rdt.UserError(f"{path}: holds a {type(obj).__name__}, "
                            f"not a state_dict, a dict with 'state_dict' or a module")
    for name, value in obj.items():
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise rdt.UserError(f"{path}: entry {name!r} is not a floating-point tensor")
    return dict(obj), facts, module


BadInput = rdt.BadInput


HINTS = {"loss": rdt.LOSSES, "target": rdt.TARGETS}


def saved_hints(obj, path):
    """loss and target saved next to the state_dict: top-level keys, or keys
    of a 'config' dict there. A value that is not a valid choice is refused."""
    hints = {}
    config = obj.get("config")
    for source in (config if isinstance(config, dict) else {}, obj):
        for name, allowed in HINTS.items():
            if name in source:
                value = source[name]
                if value not in allowed:
                    raise BadInput(f"{path}: saved {name} {value!r} is not one of "
                                        f"{', '.join(allowed)}")
                hints[name] = value
    return hints


RENAME_TARGETS = ("embedding", "rnn", "fc")


def parse_renames(values):
    """[(old, new)] from --rename values (each OLD=NEW or a comma list of them)."""
    pairs = []
    for value in values or []:
        for item in value.split(","):
            old, sep, new = (part.strip() for part in item.partition("="))
            if not sep or not old or not new:
                raise BadInput(f"--rename {item!r}: expected OLD=NEW, e.g. --rename lstm=rnn,decoder=fc")
            if new not in RENAME_TARGETS:
                raise BadInput(f"--rename {item}: NEW must be one of {', '.join(RENAME_TARGETS)}")
            pairs.append((old, new))
    return pairs


def apply_renames(state, pairs, where):
    """state with the module prefixes renamed; every OLD must name parameters
    and no two names may end up the same (exit status 2)."""
    renamed = {}
    used = set()
    for name, value in state.items():
        for old, new in pairs:
            if name.startswith(old + "."):
                name = new + name[len(old):]
                used.add(old)
                break
        if name in renamed:
            raise BadInput(f"{where}: --rename makes two parameters {name}")
        renamed[name] = value
    for old, _ in pairs:
        if old not in used:
            raise BadInput(f"{where}: --rename {old}=...: no parameter starts with "
                                  f"'{old}.' (modules: {', '.join(module_names(state))})")
    return renamed


def module_names(state):
    """The module prefixes of a state_dict's names, in order."""
    return list(dict.fromkeys(n.rsplit(".", 1)[0] for n in state if "." in n))


def suggest_renames(state, where):
    """Refuse a model whose modules are not embedding/rnn/fc, suggesting the
    --rename that would fit (a module with weight_ih_l0 is the rnn, one with a
    weight only the embedding, one with weight and bias the fc head)."""
    if "rnn.weight_ih_l0" in state:
        return
    guess = []
    for module in module_names(state):
        keys = {n[len(module) + 1:] for n in state if n.startswith(module + ".")}
        new = "rnn" if "weight_ih_l0" in keys else "fc" if keys == {"weight", "bias"} \
            else "embedding" if keys == {"weight"} else None
        if new and new != module:
            guess.append(f"{module}={new}")
    hint = f"give --rename {','.join(guess)}" if guess else "give --rename OLD=NEW for each"
    raise BadInput(f"{where}: modules are named {', '.join(module_names(state)) or 'nothing'}, "
                          f"not embedding/rnn/fc; {hint}")


def module_nonlinearity(module, pairs):
    """The nonlinearity of a pickled module's nn.RNN (renamed to rnn), or None."""
    if module is None:
        return None
    path = next((old for old, new in pairs if new == "rnn"), "rnn")
    rnn = module
    for part in path.split("."):
        rnn = getattr(rnn, part, None)
    return rnn.nonlinearity if isinstance(rnn, rdt.torch.nn.RNN) else None


def resolve(name, option, known, default, where):
    """The option if given, else what the file tells, else default; refuse a conflict."""
    if option is not None and known is not None and option != known:
        raise BadInput(f"{where}: --{name} {option} contradicts the model's {name} {known}")
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
                        help="record the loss attribute (default: from a pickled RnnDistModel or a "
                             "'loss' key saved next to the state_dict; mse when the head has one output)")
    parser.add_argument("--target", choices=rdt.TARGETS,
                        help="record the target attribute (default: from a pickled RnnDistModel or a "
                             "'target' key saved next to the state_dict)")
    parser.add_argument("--rename", action="append", metavar="OLD=NEW[,OLD=NEW...]",
                        help="rename the module OLD of the state_dict to NEW (embedding, rnn or "
                             "fc) first, e.g. --rename lstm=rnn,decoder=fc (repeatable)")
    args = parser.parse_args()
    out = outfile.OutFile(args.out, [("MODEL.pt", args.model)], force=args.force)
    renames = parse_renames(args.rename)
    rdt.require_torch()

    state, facts, module = load_model_file(args.model)
    state = apply_renames(state, renames, args.model)
    suggest_renames(state, args.model)
    known = facts.get("config")
    found_nl = module_nonlinearity(module, renames)
    nonlinearity = resolve("nonlinearity", args.nonlinearity,
                           known.nonlinearity if known else found_nl, "tanh", args.model)
    config = rdt.config_from_params(state, args.model, nonlinearity)
    if known is not None:  # keep what a pickled RnnDistModel knows (dropout rates too)
        config = known
    config.loss = resolve("loss", args.loss, config.loss or facts.get("loss"),
                          "mse" if config.out == 1 else None, args.model)
    config.target = resolve("target", args.target, config.target or facts.get("target"), None,
                            args.model)
    missing = [f"--{n} {'|'.join(HINTS[n])}" for n in HINTS if getattr(config, n) is None]
    if missing:
        raise BadInput(f"{args.model}: the {' and '.join(m.split()[0][2:] for m in missing)} "
                              f"cannot be told from the file (out={config.out}); give "
                              f"{' and '.join(missing)}")

    with out.writing() as tmp, rdt.open_h5(tmp, "w") as f:
        rdt.write_model_attrs(f, config)
        rdt.write_params(f.create_group("params"), {n: state[n] for n in config.param_shapes()})
    size = sum(p.numel() for p in state.values())
    source = f"vocab_size={config.vocab_size} embed={config.embed}" if config.input == "tokens" \
        else f"features={config.features}"
    guessed = " (assumed: shapes do not tell; see --nonlinearity)" \
        if config.cell == "rnn" and args.nonlinearity is None and found_nl is None and known is None else ""
    print(f"wrote {args.out}: cell={config.cell} nonlinearity={config.nonlinearity}{guessed} {source} "
          f"hidden={config.hidden} layers={config.layers} out={config.out} "
          f"loss={config.loss or '(not recorded)'} target={config.target or '(not recorded)'} "
          f"({size} parameters)")

if __name__ == "__main__":
    rdt.run_cli(main)
