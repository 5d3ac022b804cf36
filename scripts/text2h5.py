#!/usr/bin/python3
"""Turn text files into an rnn_dist dataset for next-character prediction.

Usage: scripts/text2h5.py FILE... --out F.h5 [--level char|byte] [--seq-len T]
                          [--stride S] [--split 0.9] [--force]

The files are read in the order given and joined into one stream; a newline
is added after a file that does not end with one. The stream is a sequence
of tokens:
  --level char (default): the files must be UTF-8; a token is one Unicode
      character (code point), the vocabulary the sorted distinct characters;
  --level byte: any bytes; a token is one byte, the vocabulary the sorted
      distinct byte values.
Token id i is the i-th vocabulary entry. The stream is split in order FIRST
(train = the first --split of the tokens, val = the rest), then each part is
cut into sequences of T + 1 consecutive tokens starting every S tokens
(default S = T: not overlapping): inputs int32 [N, T] = the first T,
targets int32 [N, T] = the last T (the next token at every step). Groups
/train and /val (none with --split 1).

Root attributes: vocab (uint8 array: the UTF-8 of each id's character, or
each id's byte, concatenated in id order; char level: decoding it as UTF-8
gives a string whose i-th character is id i), vocab_size = num_classes (the
vocabulary size), level, seq_len, stride, source, description; each group
has vocab_size, num_classes and description. See docs/FORMAT.md, "Text".

F.h5 is written as F.h5.tmp.PID and renamed when complete; an existing F.h5
is refused unless --force is given, and an input file always (exit status 2).
Train with e.g.
    rnn_dist train --data F.h5 --cell lstm --hidden 128 --embed 32
and sample with
    rnn_dist generate --checkpoint RUN/best.h5 --prime "The " --length 200
"""

import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import outfile  # noqa: E402
import rnn_dist_torch as rdt  # noqa: E402


BadInput = rdt.BadInput


def read_stream(paths):
    """The files' bytes joined, a newline after a file that lacks one."""
    parts = []
    for path in paths:
        if not os.path.exists(path):
            raise BadInput(f"{path}: no such file")
        if not os.path.isfile(path):
            raise BadInput(f"{path}: not a regular file")
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            data += b"\n"
        parts.append((path, data))
    return parts


def tokenize(parts, level):
    """(token ids int32 array, vocabulary as bytes in id order) of the stream."""
    if level == "byte":
        stream = np.frombuffer(b"".join(d for _, d in parts), dtype=np.uint8)
        values, ids = np.unique(stream, return_inverse=True)
        return ids.astype(np.int32), bytes(values.tolist())
    text = []
    for path, data in parts:
        try:
            text.append(data.decode("utf-8"))
        except UnicodeDecodeError as e:
            line = data[:e.start].count(b"\n") + 1
            raise BadInput(f"{path}:{line}: not UTF-8 (byte 0x{data[e.start]:02x} at offset "
                                f"{e.start}); use --level byte for other encodings") from None
    text = "".join(text)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))
    return ids, "".join(vocab).encode("utf-8")


def sequences(ids, seq_len, stride):
    """inputs [N, T] and targets [N, T] of the windows of T + 1 tokens every stride."""
    starts = np.arange(0, len(ids) - seq_len, stride)
    idx = starts[:, None] + np.arange(seq_len + 1)[None, :]
    windows = ids[idx]
    return windows[:, :-1].copy(), windows[:, 1:].copy()


def main():
    parser = rdt.OneLineParser(
        description="Turn text files into an rnn_dist dataset for next-character (or "
                    "next-byte) prediction: /train and /val, per-step targets, the "
                    "vocabulary in the root attribute 'vocab'.")
    parser.add_argument("files", metavar="FILE", nargs="+",
                        help="text files, joined in this order (a newline after a file that lacks one)")
    parser.add_argument("--out", metavar="F.h5", required=True,
                        help="HDF5 dataset to write (an existing file only with --force)")
    outfile.add_force_option(parser)
    parser.add_argument("--level", choices=("char", "byte"), default="char",
                        help="a token is a UTF-8 character (char, default) or a byte (byte)")
    parser.add_argument("--seq-len", metavar="T", type=int, default=100,
                        help="steps per sequence (>= 1, default 100)")
    parser.add_argument("--stride", metavar="S", type=int, default=None,
                        help="a sequence starts every S tokens (>= 1, default T: not overlapping)")
    parser.add_argument("--split", metavar="F", type=float, default=0.9,
                        help="share of the tokens, from the start, for /train; the rest is /val; "
                             "0 < F <= 1, 1: no /val (default 0.9)")
    args = parser.parse_args()
    if args.seq_len < 1:
        raise BadInput(f"--seq-len must be >= 1, got {args.seq_len}")
    stride = args.seq_len if args.stride is None else args.stride
    if stride < 1:
        raise BadInput(f"--stride must be >= 1, got {stride}")
    if not 0.0 < args.split <= 1.0:
        raise BadInput(f"--split must be above 0 and at most 1, got {args.split}")
    out = outfile.OutFile(args.out, [("FILE", p) for p in args.files], force=args.force)

    parts = read_stream(args.files)
    names = ", ".join(os.path.basename(p) for p, _ in parts)
    ids, vocab = tokenize(parts, args.level)
    if len(ids) == 0:
        raise BadInput(f"{names}: no text (the files are empty)")
    n_train = int(round(len(ids) * args.split))
    groups = {"train": (0, n_train)}
    if n_train < len(ids):
        groups["val"] = (n_train, len(ids))
    for part, (lo, hi) in groups.items():
        if hi - lo < args.seq_len + 1:
            raise BadInput(
                f"{names}: text of {len(ids)} tokens too short: the {part} part has {hi - lo}, one "
                f"sequence needs {args.seq_len + 1} (--seq-len {args.seq_len} + 1); use more text, "
                f"a smaller --seq-len or another --split")
    size = len(vocab) if args.level == "byte" else len(vocab.decode("utf-8"))

    # v108: attributes over 64 KiB (a large character vocabulary) in dense storage
    with out.writing() as tmp, h5py.File(tmp, "w", libver="v108") as f:
        f.attrs["vocab"] = np.frombuffer(vocab, dtype=np.uint8)
        rdt.write_attrs(f, vocab_size=size, num_classes=size, level=args.level,
                        seq_len=args.seq_len, stride=stride, source=names,
                        description=f"{args.level}-level text of {names}: {len(ids)} tokens, "
                                    f"{size} distinct; next-{args.level} prediction")
        for part, (lo, hi) in groups.items():
            inputs, targets = sequences(ids[lo:hi], args.seq_len, stride)
            g = f.create_group(part)
            g.create_dataset("inputs", data=inputs)
            g.create_dataset("targets", data=targets)
            rdt.write_attrs(g, vocab_size=size, num_classes=size, description=(
                f"{args.level}-level text of {names}, tokens {lo}..{hi - 1} ({part} part): "
                f"sequences of {args.seq_len} every {stride}, targets = the next token"))
            print(f"{args.out}:/{part}: {len(inputs)} sequences of {args.seq_len} from tokens "
                  f"{lo}..{hi - 1}")
    print(f"{args.out}: vocabulary of {size} {args.level}s")


if __name__ == "__main__":
    rdt.run_cli(main)
