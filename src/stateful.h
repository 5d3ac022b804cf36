/* stateful.h - a run's stateful training (`--stateful 1 --bptt T`): its
 * training and validation streams (stream.h) and the hidden state each
 * rank carries for its columns from one step to the next.
 *
 * The carried state. Rank r holds the state of its columns [c0, c1) in the
 * model's layout (model_forward_state): [L, S, c1-c0, H], S = 2 for LSTM (h,
 * then c), else 1. It is zero at the start of every pass (epoch), each step
 * of training starts from it and leaves the state after its last time step
 * in its place (detached: no gradient crosses a step), as word_language_model's
 * repackage_hidden. The global layout [L, S, C, H] (column j of the stream at
 * index j) is the same whatever the rank count: a checkpoint written
 * mid-epoch stores it as /state/carry, and a resume on any rank count takes
 * its columns from there.
 *
 * Validation runs over the validation stream the same way: the same number
 * of columns C (batch-size), split over the ranks, bptt steps at a time from
 * a zero state, every target counted once; the sums are exact over all ranks.
 */
#ifndef RNN_STATEFUL_H
#define RNN_STATEFUL_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "dataset.h"
#include "dist.h"
#include "model.h"
#include "stream.h"

typedef struct Stateful {
    int on;              /* 0: not a stateful run (everything else unused) */
    Stream train, val;   /* val is opened only with validation data */
    int has_val;
    size_t n, vn;        /* floats of carry (next) and of vcarry */
    float *carry;        /* [L, S, c1-c0, H] the training columns' state, owned */
    float *next;         /* [n] the state after the last step, until stateful_advance */
    float *vcarry;       /* [L, S, vc1-vc0, H] validation's state, owned */
    ModelSpec spec;
} Stateful;

/* Open the streams of train (and val, when not NULL) with `columns` columns
 * and bptt time steps a step, as rank `rank` of `ranks`, for a model of
 * spec (unidirectional), and a zero carried state. Refusals (EXIT_USAGE, e
 * filled, the same on every rank: they follow from the data's lengths) as
 * stream_open's, naming the dataset. Release with stateful_free. */
int stateful_open(Stateful *sf, Dataset *train, Dataset *val, const ModelSpec *spec,
                  int columns, int bptt, int rank, int ranks, Error *e);

/* Zero the training state: a pass starts. */
void stateful_reset(Stateful *sf);

/* This rank's batch of training step i, or NULL when it holds no column. */
const Batch *stateful_batch(Stateful *sf, int64_t i);

/* Keep the state after the step just computed (model_state_final of m
 * into sf->next; nothing on a rank without columns). */
void stateful_keep(Stateful *sf, const Model *m);

/* The kept state becomes the one the next step starts from. */
void stateful_advance(Stateful *sf);

/* The validation stream's loss sums over all ranks (zero state, bptt steps
 * at a time, in inference mode). Collective. */
LossSums stateful_validate(Stateful *sf, Model *m, const Dist *d);

/* The global shape [L, S, C, H] of the carried state. */
void stateful_dims(size_t dims[4], const Stateful *sf);

/* The global carried state [L, S, C, H] on every rank (each contributes its
 * columns). global: [dims' product] floats. Collective. */
void stateful_gather(float *global, const Stateful *sf, const Dist *d);

/* Take this rank's columns of a global state [L, S, C, H] as the state the
 * next step starts from. */
void stateful_scatter(Stateful *sf, const float *global);

/* Release what stateful_open allocated (a zeroed Stateful too). */
void stateful_free(Stateful *sf);

#endif
