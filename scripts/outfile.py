"""Output files of the scripts that never destroy anything (src/outfile.h in Python).

    parser.add_argument("--out", ...)
    outfile.add_force_option(parser)
    ...
    out = outfile.OutFile(args.out, [("IN.csv", args.csv)], force=args.force)  # refuses now
    ... read the inputs, compute ...
    with out.writing() as tmp:
        ... write the file tmp (closed by the end of the block) ...

Before anything is written:
  - an output that is one of the command's inputs (the same path however
    spelt, or the same device and inode: a hard or symbolic link) is refused,
    even with --force;
  - an existing file is refused unless --force is given, except an earlier
    output of the same `kind` (an HDF5 root attribute, or a PNG text chunk,
    rnn_dist_output = kind), which is replaced;
  - a directory, FIFO or device at the path, or a missing or read-only
    directory, is refused.
A refusal raises Refused: one line, exit status 2 (through
rnn_dist_torch.run_cli). The data go to OUT.tmp.PID in the same directory,
which os.replace renames over OUT once the body has finished: an error or
Ctrl-C removes the temporary file and leaves an old OUT whole.
"""

import contextlib
import os
import stat
import struct

import h5py

import rnn_dist_torch as rdt

ATTR = "rnn_dist_output"


class Refused(rdt.UserError):
    """An output refused before anything was written: exit status 2."""
    status = 2


def add_force_option(parser, what="--out"):
    """Add --force (args.force) to an argparse parser."""
    parser.add_argument("--force", action="store_true",
                        help=f"replace an existing {what} file (never one of the inputs)")


def _special(mode):
    """What a non-regular file is, for messages."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _png_text(path):
    """The tEXt chunks of a PNG file as {key: value}; None when it is not a PNG."""
    chunks = {}
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
        while True:
            head = f.read(8)
            if len(head) < 8:
                return chunks
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IEND" or length > (1 << 24):
                return chunks
            data = f.read(length)
            f.seek(4, os.SEEK_CUR)  # CRC
            if kind == b"tEXt" and b"\0" in data:
                key, value = data.split(b"\0", 1)
                chunks[key.decode("latin-1")] = value.decode("latin-1")


def describe(path):
    """(what the existing regular file at path is, its rnn_dist_output or None)."""
    text = _png_text(path)
    if text is not None:
        kind = text.get(ATTR)
        return (f"an rnn_dist {kind} image" if kind else "a PNG image"), kind
    try:
        with h5py.File(path, "r") as f:
            kind = rdt.attr_value(f, ATTR)
            if kind:
                return f"an rnn_dist {kind} file", kind
            if "format_version" in f.attrs:
                return "an rnn_dist checkpoint", None
            if "params" in f:
                return "an rnn_dist parameter file", None
            if "inputs" in f or "train/inputs" in f:
                return "a dataset", None
            return "an HDF5 file", None
    except (OSError, ValueError, KeyError):
        return "a file", None


class OutFile:
    """A checked output: refused at construction (see the module's doc), or
    written under self.tmp by the body of `with self.writing() as tmp:` and
    renamed over self.path when it ends normally.

    inputs: (label, path) pairs of the command's inputs (None paths skipped);
    kind: stored by the writer as rnn_dist_output so that a rerun may replace
    its own earlier output (None: an existing file needs force)."""

    def __init__(self, path, inputs=(), kind=None, force=False, option="--out"):
        _check(path, inputs, kind, force, option)
        self.path = path
        self.kind = kind
        self.tmp = f"{path}.tmp.{os.getpid()}"

    def commit(self):
        """Sync the temporary file, rename it over path, sync the directory."""
        _fsync(self.tmp)
        os.replace(self.tmp, self.path)
        with contextlib.suppress(OSError):  # some file systems cannot sync a directory
            _fsync(os.path.dirname(self.path) or ".", os.O_RDONLY | os.O_DIRECTORY)

    def abort(self):
        """Remove the temporary file if it exists."""
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.tmp)

    @contextlib.contextmanager
    def writing(self):
        """Yield the temporary name; commit when the body ends normally, else abort."""
        try:
            yield self.tmp
            self.commit()
        except BaseException:
            self.abort()
            raise


def _check(path, inputs, kind, force, option):
    """Raise Refused when path may not be this command's output."""
    if not path:
        raise Refused(f"{option}: the output path is empty")
    where = f"{option} {path}"
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        reason = "is not a directory" if os.path.exists(directory) else "does not exist"
        raise Refused(f"{where}: directory {directory} {reason}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise Refused(f"{where}: directory {directory} is not writable")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    for label, name in inputs:
        if name is None:
            continue
        same = os.path.realpath(name) == os.path.realpath(path)
        if not same and st is not None:
            try:
                other = os.stat(name)
                same = (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino)
            except OSError:
                pass
        if same:
            raise Refused(f"{where} is one of this command's inputs ({label}); choose another file")
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise Refused(f"{where} is a directory; name a file to write")
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{where} is not a regular file ({_special(st.st_mode)}); choose another file")
        if not force:
            what, earlier = describe(path)
            if kind is None or earlier != kind:
                raise Refused(f"{where} exists ({what}); give --force to replace it, "
                              f"or choose another file")


def _fsync(path, flags=os.O_RDONLY):
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
