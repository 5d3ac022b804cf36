/* checkpoint.h - HDF5 checkpoints, readable with h5dump and h5py.
 *
 * Layout (format_version 1):
 *   /params/<name>                 float32, PyTorch names and shapes (model.h)
 *   /optim/exp_avg/<name>          Adam/AdamW first moment
 *   /optim/exp_avg_sq/<name>       Adam/AdamW second moment
 *   /optim/momentum_buffer/<name>  SGD with momentum
 *   /optim attrs: optimizer, step
 *   root attrs: format_version, model (cell, nonlinearity, input, vocab_size,
 *     embed, features, hidden, layers, out, loss, target, dropout,
 *     out_dropout), training state (TrainState fields), config (the
 *     effective options as text).
 * Files are written to a temporary name, flushed, fsynced and renamed, and
 * the directory fsynced, so a crash never leaves a partial file under the
 * real name.
 */
#ifndef RNN_CHECKPOINT_H
#define RNN_CHECKPOINT_H

#include <stdint.h>

#include "check.h"
#include "model.h"
#include "optim.h"

#define CHECKPOINT_FORMAT 1

/* Where training stands; saved with every checkpoint. */
typedef struct TrainState {
    int64_t epoch;          /* completed epochs */
    int64_t batch_in_epoch; /* batches done in the current epoch (0 at a boundary) */
    int64_t step;           /* optimizer steps taken */
    double best_metric;     /* best monitored value so far; NAN if none yet */
    int64_t best_epoch;     /* epoch (1-based) of best_metric, 0 if none */
    int64_t bad_epochs;     /* epochs since the last improvement */
    uint64_t seed;
    int64_t world_size;     /* ranks of the run that saved */
    /* sums of the current epoch so far, when stopped mid-epoch (max-steps) */
    double part_loss, part_count, part_correct, part_abs_err, part_norm_sum;
    int64_t part_steps, part_seqs;
} TrainState;

/* Write model parameters, optimizer state (o may be NULL), st and the
 * config text atomically to path. */
int checkpoint_save(const char *path, const Model *m, const Optim *o, const TrainState *st,
                    const char *config_text, Error *e);

/* Read the model spec stored in a checkpoint. */
int checkpoint_read_spec(ModelSpec *spec, const char *path, Error *e);

/* Load parameters, optimizer state and training state from path into a
 * model (and optimizer) created for the same spec; refuses a checkpoint of
 * another shape, naming the first mismatching field. o and st may be NULL. */
int checkpoint_load(Model *m, Optim *o, TrainState *st, const char *path, Error *e);

/* Load only /params/<name> (for --init: also files written by h5py from a
 * PyTorch state_dict). Every parameter of m must be present with its shape. */
int checkpoint_load_params(Model *m, const char *path, Error *e);

/* Names used in checkpoint attributes. */
const char *checkpoint_input_name(InputKind k);
const char *checkpoint_loss_name(LossKind k);
const char *checkpoint_target_name(TargetMode t);

#endif
