/* checkpoint_attrs.h - the root attributes of a checkpoint that describe
 * the model (ModelSpec) and where training stands (TrainState), each read,
 * written and compared from one table of fields. Internal to the checkpoint
 * module (checkpoint.c); the layout is in checkpoint.h.
 */
#ifndef RNN_CHECKPOINT_ATTRS_H
#define RNN_CHECKPOINT_ATTRS_H

#include <stdint.h>

#include "check.h"
#include "h5io.h"
#include "model.h"
#include "trainstate.h"

/* Write format_version and the model attributes (cell ... out_dropout) to
 * the root of f. 0, or non-zero on an HDF5 failure. */
int checkpoint_attrs_write_spec(hid_t f, const ModelSpec *s);

/* Read the model attributes of f into *s: each must be present and in range
 * (dropouts may be absent: 0). 0, or EXIT_USAGE naming path and the first
 * missing or bad attribute. */
int checkpoint_attrs_read_spec(ModelSpec *s, hid_t f, const char *path, Error *e);

/* 0 when checkpoint spec `stored` is this run's spec `run`; else EXIT_USAGE
 * naming path and the first field that differs, with both values. Fields
 * that do not apply to this run's model (nonlinearity of an LSTM, vocab_size
 * of a dense input, ...) and the dropouts are not compared. */
int checkpoint_attrs_spec_mismatch(const ModelSpec *run, const ModelSpec *stored,
                                   const char *path, Error *e);

/* Write every TrainState field (trainstate_fields) to the root of f. 0, or
 * non-zero on an HDF5 failure. */
int checkpoint_attrs_write_state(hid_t f, const TrainState *st);

/* Read st from f: every required field must be present (else EXIT_USAGE),
 * optional ones absent from older checkpoints take their `missing` value;
 * a negative epoch, step or batch is refused. */
int checkpoint_attrs_read_state(TrainState *st, hid_t f, const char *path, Error *e);

/* The run id of f; 0 when it has none (written before run ids). */
uint64_t checkpoint_attrs_run_id(hid_t f);

#endif
