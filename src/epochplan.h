/* epochplan.h - which rows this rank computes at each step of a pass over a
 * dataset, and which rows it reads ahead: the one place that maps "epoch,
 * step k" to rows, for training, validation, eval and predict alike.
 *
 * Two ways to share a pass of n rows between R ranks:
 *   PLAN_SPLIT_BATCH (training): step k is the global batch of rows
 *     order[k*B, k*B + count), count = min(B, n - k*B), where order is the
 *     epoch's permutation (epochplan_begin); rank r computes its part
 *     [count*r/R, count*(r+1)/R) of it, so every rank takes the same steps
 *     and the ranks together compute each global batch once.
 *   PLAN_SPLIT_ROWS (validation, eval, predict): rank r holds the view rows
 *     [n*r/R, n*(r+1)/R) in order and computes them B at a time; ranks take
 *     different numbers of steps (nothing is reduced per step).
 * The same formula share(count, r, R) = [count*r/R, count*(r+1)/R) is the
 * one that dataset checks split by (epochplan_share).
 *
 * Read-ahead: a streamed dataset (dataset.h) holds only the rows it was
 * asked for. epochplan_batch loads, when step k is not held, this rank's
 * rows of steps k, k+1, ... up to the window (DATASET_WINDOW_BYTES, or what
 * datahold.h sets; at least one step, never past the pass) in one load; the
 * rows it hands out are then always held, so dataset_fill_batch never has
 * to read (Dataset.reloads stays 0: the unit test test_epochplan checks it
 * for every split). The next pass's
 * first window may be read before that pass begins (epochplan_read_next,
 * by batchfeed.c's helper at the end of a pass), so that training does not
 * wait for it at the pass's start.
 *
 * No MPI here: rank and ranks are plain numbers (the caller has a Dist).
 */
#ifndef RNN_EPOCHPLAN_H
#define RNN_EPOCHPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

typedef enum PlanSplit { PLAN_SPLIT_BATCH, PLAN_SPLIT_ROWS } PlanSplit;

typedef struct EpochPlan {
    PlanSplit split;
    size_t n;           /* rows of the pass (the dataset's view rows) */
    size_t batch;       /* B: rows of a global batch (SPLIT_BATCH) or of a step (SPLIT_ROWS) */
    int rank, ranks;
    size_t lo, hi;      /* SPLIT_ROWS: this rank's rows [lo, hi) */
    int64_t steps;      /* steps of a pass on this rank */
    size_t *order;      /* SPLIT_BATCH: [n] this pass's order of the rows, owned */
    size_t *step_rows;  /* SPLIT_ROWS: [batch] the rows of the current step, owned */
    int64_t window;     /* steps read ahead at a time (>= 1) */
    int64_t held_from, held_to; /* the steps [held_from, held_to) are read ahead */
    uint64_t seed;      /* the current pass: epochplan_begin's seed, epoch, shuffle */
    int64_t epoch;
    int shuffle;
    size_t *next_order; /* SPLIT_BATCH: [n] the next pass's order (epochplan_read_next), owned */
    int next_made;      /* next_order is epoch + 1's */
    int64_t next_held_to; /* its steps [0, next_held_to) are read ahead */
    int begun_ahead;    /* epochplan_begin_at began the current pass */
} EpochPlan;

/* The rows of one step. */
typedef struct PlanBatch {
    const size_t *all;  /* [count_all] the global batch (SPLIT_BATCH), or = mine */
    size_t count_all;
    const size_t *mine; /* [count] the rows this rank computes (view rows); may be 0 rows */
    size_t count;
} PlanBatch;

/* This rank's part [*lo, *hi) of `count` things shared by `ranks` ranks. */
void epochplan_share(size_t *lo, size_t *hi, size_t count, int rank, int ranks);

/* A plan for passes over n rows, `batch` rows a step, as rank `rank` of
 * `ranks`; row_bytes (dataset_row_bytes) sizes the read-ahead window of
 * DATASET_WINDOW_BYTES (epochplan_set_window changes it). The
 * order starts as the identity. Release with epochplan_free. */
void epochplan_init(EpochPlan *p, PlanSplit split, size_t n, int batch, int rank, int ranks,
                    size_t row_bytes);

/* The most rows this rank computes in one step: ceil(batch / ranks) when
 * training (SPLIT_BATCH), batch otherwise. */
size_t epochplan_step_rows(const EpochPlan *p);

/* Read ahead about window_bytes of rows at a time (at least one step) from
 * now on; rows are row_bytes each (dataset_row_bytes). Nothing is held. */
void epochplan_set_window(EpochPlan *p, size_t row_bytes, size_t window_bytes);

/* Start a pass: the order of epoch `epoch` (SPLIT_BATCH: a permutation
 * drawn from (seed, epoch) when shuffle, else the identity; SPLIT_ROWS
 * keeps the rows in order); nothing is read ahead yet, unless
 * epochplan_read_next made this pass's order and read its first window
 * (the same seed and shuffle, the epoch after the previous pass's): then
 * that order is taken and the window is held. When epochplan_begin_at
 * began this very pass (the same seed, epoch and shuffle) and no begin came
 * since, the pass goes on as it is: its order and what it holds stay. */
void epochplan_begin(EpochPlan *p, uint64_t seed, int64_t epoch, int shuffle);

/* epochplan_begin, then make ds hold step k's window (epochplan_try_batch):
 * the first pass of a run prepared before training starts, as held rows are
 * read then; the epochplan_begin that starts the pass finds it ready.
 * Returns 0, or a failed read's code (e set; nothing held). */
int epochplan_begin_at(EpochPlan *p, Dataset *ds, uint64_t seed, int64_t epoch, int shuffle,
                       int64_t k, Error *e);

/* Make the order of the pass after the current one (PLAN_SPLIT_BATCH;
 * epoch + 1, the same seed and shuffle; once a pass), for epochplan_begin
 * to take. It changes neither the current pass's order nor what
 * epochplan_rows gives, so another thread may call epochplan_rows
 * meanwhile. */
void epochplan_order_next(EpochPlan *p);

/* epochplan_order_next, then read this rank's rows of the next pass's first
 * window into a streamed ds, for epochplan_begin to find held. Another
 * thread may call epochplan_rows meanwhile (not epochplan_batch: ds then
 * holds the next pass's rows). Returns 0, or a failed read's code (e set;
 * nothing is read ahead then: the next pass reads its window, and reports
 * the failure, as it would have). */
int epochplan_read_next(EpochPlan *p, Dataset *ds, Error *e);

/* The rows of step k (0 <= k < p->steps) of the current pass, after making
 * ds hold them: when step k was not read ahead, this rank's rows of the
 * steps [k, k + window) are loaded (dataset_load). Steps are taken in
 * increasing order within a pass (a resumed pass may start at any k). The
 * rows stay valid until the next call. */
PlanBatch epochplan_batch(EpochPlan *p, Dataset *ds, int64_t k);

/* epochplan_batch into *b, but a failed read is returned (its code, e set;
 * nothing counts as read ahead then) rather than ending the job: for
 * batchfeed.c's helper thread. 0 on success. */
int epochplan_try_batch(PlanBatch *b, EpochPlan *p, Dataset *ds, int64_t k, Error *e);

/* The rows of step k of the current pass of a PLAN_SPLIT_BATCH plan, read
 * ahead or not (nothing is loaded): it only reads the order, so another
 * thread may call it while the plan does not change (batchfeed.h). */
PlanBatch epochplan_rows(const EpochPlan *p, int64_t k);

/* The rows of step k of the current pass of a PLAN_SPLIT_BATCH plan, as
 * epochplan_rows, or no rows when k is past the pass: for the steps after
 * the one being gathered, whose rows (and where they are held) are
 * prefetched while it computes. Thread-safe as epochplan_rows. */
PlanBatch epochplan_ahead(const EpochPlan *p, int64_t k);

/* Release what epochplan_init allocated (a zeroed plan too). */
void epochplan_free(EpochPlan *p);

#endif
