/* checkpoint.h - HDF5 checkpoints, readable with h5dump and h5py.
 *
 * Layout (format_version 2):
 *   /params/<name>                 float32, PyTorch names and shapes (model.h)
 *   /optim/exp_avg/<name>          Adam/AdamW first moment
 *   /optim/exp_avg_sq/<name>       Adam/AdamW second moment
 *   /optim/momentum_buffer/<name>  SGD with momentum
 *   /optim attrs: optimizer, step
 *   root attrs: format_version, model (cell, nonlinearity, input, vocab_size,
 *     embed, features, hidden, layers, out, loss, target, dropout,
 *     out_dropout: the table in checkpoint_attrs.c; enums by their names in
 *     types.h), training state (the TrainState fields of trainstate.c's
 *     table: epoch ... part_skipped, run_id as 16 hex digits,
 *     data_file/data_rows/data_bytes/data_fingerprint and the same for
 *     val_), config (the effective options as text), complete = 1 (written
 *     last).
 * Files are written to a temporary name, flushed, fsynced and renamed, and
 * the directory fsynced, so a crash never leaves a partial file under the
 * real name.
 * Damage is detected on load: every dataset carries HDF5's Fletcher-32
 * checksum, the metadata (attributes included) is checksummed by HDF5's
 * newest file format, and `complete` marks a finished write; so a truncated
 * or bit-flipped file is refused instead of resuming from wrong numbers.
 */
#ifndef RNN_CHECKPOINT_H
#define RNN_CHECKPOINT_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "h5io.h"
#include "model.h"
#include "optim.h"
#include "trainstate.h"

#define CHECKPOINT_FORMAT 2

/* Stateful training's carried state, saved with a checkpoint written
 * mid-epoch: /state/carry float32 [L, S, C, H] (stateful.h). */
typedef struct CheckpointCarry {
    const float *data;
    size_t dims[4];
} CheckpointCarry;

/* Write model parameters, optimizer state (o may be NULL), st, the config
 * text and the carried state (carry may be NULL: none) atomically to path. */
int checkpoint_save(const char *path, const Model *m, const Optim *o, const TrainState *st,
                    const char *config_text, const CheckpointCarry *carry, Error *e);

/* Read /state/carry of an open checkpoint into data, which must have the
 * shape dims [L, S, C, H]. EXIT_USAGE with e naming the file when it is
 * missing (a checkpoint of a run that was not stateful, or written at an
 * epoch's end) or of another shape. */
int checkpoint_read_carry_in(float *data, const size_t dims[4], const H5Input *in, Error *e);

/* Check a checkpoint's integrity without loading it: format_version, the
 * completeness marker, and every dataset read back under its checksum.
 * Returns 0, or EXIT_USAGE with "PATH: damaged checkpoint: WHAT" (or the
 * format version it has) in e. */
int checkpoint_verify(const char *path, Error *e);

/* The same check of an open input (one whose reads are still to come, so
 * one probe and one open serve the check and the reads). */
int checkpoint_verify_in(const H5Input *in, Error *e);

/* Open path into *in (h5io_input_open) and check it (checkpoint_verify),
 * leaving it open on success for the *_in readers below; the caller closes
 * it (h5io_input_close). On failure *in is closed and e says, as
 * checkpoint_verify does, "PATH: damaged checkpoint: WHAT" for a file that
 * exists but cannot be opened. */
int checkpoint_open_verified(H5Input *in, const char *path, Error *e);

/* (checkpoint_find.c) The checkpoint `--resume auto` continues from: among run_dir's last.h5,
 * ckpt-epochNNNN.h5 and best.h5, those that pass checkpoint_verify and
 * belong to the newest run (the run_id of the most recently written one),
 * the one with the most optimizer steps (last.h5 first on a tie). Each
 * damaged file is reported on warn as one "rnn_dist: warning: ..." line and
 * skipped.
 * Returns 0 with *chosen the one picked, open and checked as by
 * checkpoint_open_verified (the caller closes it: h5io_input_close), or
 * closed with chosen->path "" when run_dir holds no checkpoint; EXIT_USAGE
 * (chosen closed) when there are checkpoints but none is intact. */
int checkpoint_find_resume(H5Input *chosen, const char *run_dir, FILE *warn, Error *e);

/* The run id stored in a checkpoint (0 for one written before run ids, or
 * when it cannot be read). */
uint64_t checkpoint_run_id(const char *path);

/* Read a checkpoint's training state and stored config text (malloc'd, the
 * caller frees; "" when absent) without loading the model: what resume
 * compares before it builds anything. Refuses a damaged file. */
int checkpoint_read_state(TrainState *st, char **config_text, const char *path, Error *e);
/* The same of an input opened by checkpoint_open_verified (not checked again). */
int checkpoint_read_state_in(TrainState *st, char **config_text, const H5Input *in, Error *e);

/* Read the model spec stored in a checkpoint. */
int checkpoint_read_spec(ModelSpec *spec, const char *path, Error *e);
int checkpoint_read_spec_in(ModelSpec *spec, const H5Input *in, Error *e);

/* Load parameters, optimizer state and training state from path into a
 * model (and optimizer) created for the same spec. Refuses a damaged file
 * (checkpoint_verify) and a checkpoint of another model, naming the first
 * mismatching field and both values. o and st may be NULL. */
int checkpoint_load(Model *m, Optim *o, TrainState *st, const char *path, Error *e);
/* The same of an input opened by checkpoint_open_verified (not checked again). */
int checkpoint_load_in(Model *m, Optim *o, TrainState *st, const H5Input *in, Error *e);

/* Does /params hold every parameter of spec as a float tensor of its shape?
 * Checked before a model is allocated (inspect): the attributes alone may
 * declare a model far too large for memory. 0, or EXIT_USAGE naming the
 * first missing or misshapen tensor. */
int checkpoint_check_params(const ModelSpec *spec, const char *path, Error *e);
int checkpoint_check_params_in(const ModelSpec *spec, const H5Input *in, Error *e);

/* Load only /params/<name> (for --init: also files written by h5py from a
 * PyTorch state_dict). Every parameter of m must be present with its shape. */
int checkpoint_load_params(Model *m, const char *path, Error *e);
int checkpoint_load_params_in(Model *m, const H5Input *in, Error *e);

#endif
