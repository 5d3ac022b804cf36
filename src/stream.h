/* stream.h - the data of stateful training (`--stateful 1 --bptt T`): one
 * long stream cut into columns, as PyTorch's word_language_model batchifies
 * a corpus, and the time-major batches of each step of a pass over it.
 *
 * The stream. A dataset view (dataset.h) with per-step targets ([N, T] or
 * [N, T, O]) is read as ONE sequence: its rows in file order, each row's
 * valid steps (lengths[k], T when the file has none) concatenated, padding
 * left out. Its S = sum of the lengths elements are numbered s = 0 .. S-1;
 * element s is (input step, target step) of the row and step it came from:
 * row k holds the elements [prefix[k], prefix[k+1]) with prefix[k] = the sum
 * of the lengths of the view rows before k.
 *
 * Columns. C = the global batch size (`batch-size`) columns of
 * nb = floor(S / C) elements each; column j holds the elements
 * [j*nb, (j+1)*nb); the last S - C*nb elements are dropped, as
 * word_language_model's batchify drops them. nb < 1 (S < C) is refused.
 *
 * Steps. Step i of a pass (0 <= i < steps, steps = ceil(nb / bptt)) covers
 * the column offsets [i*bptt, i*bptt + Ti), Ti = min(bptt, nb - i*bptt), in
 * every column: the element of column j at time t (0 <= t < Ti) is
 * j*nb + i*bptt + t. Every column of a step has the same length Ti; only the
 * last step of a pass may be shorter than bptt. The hidden state of column j
 * after step i is the state column j starts step i+1 with (the caller
 * carries it, detached, and zeroes it at the start of a pass); any step can
 * be asked for in any order, so a pass resumed mid-stream starts at its step.
 *
 * Ranks. Rank r of R computes the columns [c0, c1) = epochplan_share(C, r,
 * R), the same columns at every step, so the state of column j lives on one
 * rank (at batch index j - c0). Batch.sample[b] is the GLOBAL column
 * c0 + b: it keys the dropout masks, which so do not depend on the rank
 * count, and neither do the losses: a step's loss is the mean over its
 * Ti * C targets of all ranks (stream_target_count). When C < R some ranks
 * hold no column (c0 == c1): their batches have B = 0 and they compute
 * nothing, but they take every step like the others (every step's
 * gradient all-reduce needs every rank).
 *
 * Reading and memory. The rank's elements [c0*nb, c1*nb) are contiguous in
 * the stream, so they lie in the contiguous view rows [row_lo, row_hi); a
 * streamed Dataset is made to hold exactly those rows, read once
 * (dataset_load: one hyperslab selection per member) when the stream is
 * opened: about 1/R of the data's rows (at most two rows more), padded to
 * T steps as the file stores them, plus 8 bytes per view row of prefix sums
 * and one batch of bptt x (c1 - c0). The rows are never read again while
 * the Dataset keeps them; were its cache replaced in between (another user
 * of the same Dataset), stream_batch reads them again and counts it in
 * ds->reloads. A resident Dataset holds every row and is only indexed.
 *
 * No MPI here: rank and ranks are plain numbers (the caller has a Dist).
 */
#ifndef RNN_STREAM_H
#define RNN_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "dataset.h"
#include "types.h"

typedef struct Stream {
    /* the plan (stream_plan) */
    size_t rows;          /* view rows of the dataset */
    size_t elements;      /* S: valid steps of all rows */
    size_t columns;       /* C: the global batch */
    size_t bptt;          /* steps of time per step of training (the last may be shorter) */
    size_t nb;            /* elements per column: S / C (>= 1) */
    int64_t steps;        /* steps of a pass: ceil(nb / bptt), the same on every rank */
    int rank, ranks;
    size_t c0, c1;        /* this rank's columns [c0, c1); c0 == c1 when it has none */
    size_t row_lo, row_hi; /* the view rows holding elements [c0*nb, c1*nb); empty with the
                            * columns */
    size_t *prefix;       /* [rows + 1] prefix sums of the lengths, owned */
    LossKind kind;        /* the targets: classes (ce) or values (mse) */
    int O;                /* values per target (mse); classes (ce) */
    /* the batches (stream_open) */
    Dataset *ds;          /* the data, the caller's (it must outlive the stream) */
    BatchBuf bb;          /* the buffers of the current batch [bptt, c1 - c0], owned */
} Stream;

/* The plan of a stream over the view ds (its lengths only: nothing is read)
 * with `columns` columns (the global batch, >= 1) and `bptt` steps of time a
 * step (>= 1), as rank `rank` of `ranks`: fills s's plan fields and prefix
 * (release with stream_free). Refused with EXIT_USAGE and one line naming the
 * file and group when ds has no per-step targets, or when its stream has
 * fewer elements than columns (nb < 1); s is then zeroed and holds nothing. */
int stream_plan(Stream *s, const Dataset *ds, int columns, int bptt, int rank, int ranks,
                Error *e);

/* stream_plan, then make ds hold this rank's rows [row_lo, row_hi) (a
 * streamed Dataset reads them now, one dataset_load; resident: nothing) and
 * allocate the batch buffers; stream_batch then allocates nothing. ds stays
 * the caller's and must outlive s. Refusals as stream_plan. */
int stream_open(Stream *s, Dataset *ds, int columns, int bptt, int rank, int ranks, Error *e);

/* Ti: the time steps of step i of a pass, 0 <= i < s->steps (bptt, or fewer
 * on the last step). Any rank may ask, with or without columns. */
int stream_step_len(const Stream *s, int64_t i);

/* The global count of the targets of step i over all ranks, Ti * C (times O
 * for value targets): the denominator of the step's mean loss. */
double stream_target_count(const Stream *s, int64_t i);

/* The batch of step i (0 <= i < s->steps) of this rank, time-major, viewing
 * s's buffers (valid until the next call or stream_free):
 *   B = c1 - c0 (0 when the rank has no column: then only B and T are set),
 *   T = Ti; tokens [Ti, B] or x [Ti, B, F]; y_class [Ti, B] (ce) or
 *   y_value [Ti, B, O] (mse): batch index b at time t is stream element
 *   (c0 + b)*nb + i*bptt + t; lengths [B] all Ti; sample [B] = c0 + b.
 * s must come from stream_open. */
const Batch *stream_batch(Stream *s, int64_t i);

/* Release what stream_plan / stream_open allocated (a zeroed Stream too);
 * the Dataset is left as it is. */
void stream_free(Stream *s);

#endif
