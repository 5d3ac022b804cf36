/* outfile.h - output files that never destroy anything: written under a
 * temporary name in the same directory and renamed into place when complete.
 *
 * Before anything is written, the output path is checked against the
 * command's inputs and what already exists there:
 *  - an output that is one of the command's own inputs (same device and
 *    inode, whatever the spelling of the path, hard links included) is
 *    refused, even with force;
 *  - an existing file is refused unless force is given, except an earlier
 *    output of the same kind (an HDF5 file whose root attribute
 *    `rnn_dist_output` equals `kind`), which is replaced;
 *  - a directory, FIFO or device at the path is refused;
 *  - a path whose directory does not exist or is not writable is refused.
 * Refusals are EXIT_USAGE with one line starting with the path and saying
 * how to proceed, e.g. "pred.h5 exists (an rnn_dist checkpoint); give
 * --force to replace it, or choose another file" (callers prefix their
 * command and option: "predict: --out pred.h5 exists ...").
 * The temporary file is `PATH.tmp.PID`; it is removed by outfile_abort and
 * renamed over PATH by outfile_commit, so no partial file ever carries the
 * real name, an interrupted command leaves the old file intact, and a
 * process that has the old file open keeps reading the old contents.
 */
#ifndef RNN_OUTFILE_H
#define RNN_OUTFILE_H

#include "check.h"

#define OUTFILE_PATH 4200

typedef struct OutFile {
    char path[OUTFILE_PATH]; /* the final name */
    char tmp[OUTFILE_PATH];  /* where to write until outfile_commit */
    int input;               /* refused as inputs[input] (same file), else -1:
                              * lets the caller name the input's option */
} OutFile;

/* Check `path` as the output of a command reading inputs[0..n_inputs)
 * (paths of files; NULL entries and missing files are skipped) and fill o.
 * kind: what the command writes ("predictions", ...), stored by the writer
 * as the root attribute rnn_dist_output so that a rerun may replace its own
 * earlier output; NULL: no existing file is replaced without force. Whether
 * an existing file is such an output is read with h5io_open_read (probed in
 * a child process); a file that cannot be opened is another file. force:
 * replace any other existing regular file (never an input).
 * Returns 0, or EXIT_USAGE with the reason in e. Writes nothing. */
int outfile_begin(OutFile *o, const char *path, const char *const *inputs, int n_inputs,
                  const char *kind, int force, Error *e);

/* The writer has closed o->tmp: fsync it, rename it to o->path, fsync the
 * directory. Returns 0, or EXIT_FAIL naming the path and errno: when the
 * rename failed the temporary file is removed and an old file at path
 * stays; when only the directory sync failed the new file is in place. */
int outfile_commit(OutFile *o, Error *e);

/* Give up: remove o->tmp if it exists. */
void outfile_abort(OutFile *o);

#endif
