/* datahold.h - how much of its data a training rank keeps in memory.
 *
 * For a small model, reading rows is the costliest part of a step: each
 * shuffled epoch wants the rows in a new random order. So a rank holds as
 * much as its memory budget allows, in this order:
 *   1. the whole training view, read once at start (dataset_hold_all);
 *   2. else the training rows it reads ahead at a time (epochplan.h's
 *      window) as large as the budget allows: when a whole epoch's share
 *      fits, a rank reads each epoch's rows in one sorted pass (at least
 *      DATASET_WINDOW_BYTES a window);
 *   3. then its share of the validation rows, read once, when they fit in
 *      what is left.
 * With a helper thread (batchfeed.h), its ring of batches: 1 MiB; when the
 * windows are read while training (more than one a pass), a third of the
 * window's room and at least half of DATASET_WINDOW_BYTES, so that the
 * steps in the ring cover the helper's read of the next window.
 * The budget is half of the room memest_check_train leaves under the
 * memory limit (--max-memory, or the host's memory shared by its ranks);
 * 1 GiB when no limit could be read. Nothing here changes a result: rows
 * come from memory or from the file, in the same order. Ranks may differ
 * (each host has its own limit); no agreement is needed.
 */
#ifndef RNN_DATAHOLD_H
#define RNN_DATAHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "dataset.h"
#include "epochplan.h"

typedef struct DataHold {
    uint64_t budget;      /* bytes the plan could spend beyond the run's estimate */
    int train_all;        /* 1: the training view is held whole */
    size_t window_bytes;  /* else: training rows read ahead at a time (bytes) */
    int epoch_share;      /* the window holds a whole epoch's share of this rank */
    int val_share;        /* 1: this rank's validation rows are held */
    uint64_t held;        /* bytes of rows the plan holds beyond the run's estimate */
    size_t feed_bytes;    /* a helper's ring of batches (batchfeed_start) */
} DataHold;

/* The ring of a feed of resident data, and the least of any. */
#define DATAHOLD_FEED_BYTES ((size_t)1 << 20)

/* The plan for a rank with `room` bytes under its limit (memest_check_train)
 * that trains on `train` split by `plan` (PLAN_SPLIT_BATCH, its batch and
 * ranks) and validates on its share of `val` (NULL: none); feed: a helper
 * thread will gather the batches. */
DataHold datahold_plan(uint64_t room, const Dataset *train, const EpochPlan *plan,
                       const Dataset *val, int feed);

/* Carry out h: read the training view whole, or set the plan's window; read
 * this rank's validation share (rank, ranks) once. Returns 0 or EXIT_USAGE
 * with e filled when a file cannot be read. */
int datahold_apply(const DataHold *h, Dataset *train, EpochPlan *plan, Dataset *val, int rank,
                   int ranks, Error *e);

/* One line for the run's start (no newline): where the rows come from,
 * e.g. "data: training rows held in memory (9.2 MiB a rank); validation rows
 * held (1 MiB)". */
void datahold_describe(char *out, size_t len, const DataHold *h, const Dataset *train,
                       const Dataset *val);

#endif
