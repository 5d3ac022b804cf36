/* batchfeed.h - the coming steps' batches gathered by a helper thread while
 * the current step computes, so training does not wait on its data.
 *
 * Gathering a step's rows into a time-major batch (dataset_fill_batch) is
 * mostly cache misses: the rows of a shuffled epoch are scattered over the
 * whole dataset. For a small model it is a tenth of the step. A feed runs
 * it on another core, a ring of batches ahead of the step that uses them:
 * the trainer takes batch k ready-made, and never waits: when the helper is
 * behind (each pass's first step, a helper without a free core) it gathers
 * the step itself, as it would without a feed. The batches are the ones
 * dataset_fill_batch gives (the same function fills them), so nothing about
 * a result changes.
 *
 * Data held in memory (resident, datahold.h): the helper reads the rows and
 * the epoch's order and writes only its own ring. A streamed view (read a
 * window at a time): the helper also reads the windows from the file
 * (epochplan_try_batch; the trainer calls no HDF5 while a feed runs), so a
 * window is read while the steps of the ring compute; the trainer then
 * waits for a step the helper has not finished (it cannot gather rows the
 * helper is reading), and the ring should hold batches enough to cover a
 * window's read (datahold.h sizes it). The helper calls no MPI and never
 * ends the run: a read that fails ends the helper, and the trainer, when it
 * comes to a step not read, ends the run from its own thread (check_fail,
 * with the read's message), where MPI may be called. It sleeps when the ring
 * is full and is woken when half of it is free (a sixteenth for a streamed
 * view), so a step costs no system call while the helper keeps ahead.
 */
#ifndef RNN_BATCHFEED_H
#define RNN_BATCHFEED_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "epochplan.h"

typedef struct BatchFeed BatchFeed;

/* Can a feed help here: may this process run on two CPUs for each of the
 * `local_ranks` ranks of its host (its affinity: mpirun binds a rank to one
 * core by default; a process run alone is not bound)? Where the ranks fill
 * the cores, a helper would take time from the other ranks' steps
 * (measured: 2 ranks on 2 cores, 3-8% slower with helpers). */
int batchfeed_useful(int local_ranks);

/* Start a helper gathering this rank's batches of the steps [k0, p->steps)
 * of p's current pass (PLAN_SPLIT_BATCH, after epochplan_begin) from ds, at
 * most `ring_bytes` of batches ahead (2 to 256 batches; a streamed ds up to
 * 8192). With next_pass (another pass follows: epoch + 1, the same seed and
 * shuffle), the helper makes the next pass's order the first time the ring
 * is full (epochplan_order_next) and, once it has gathered the pass's last
 * step, reads the next pass's first window (epochplan_read_next), while
 * the trainer computes the steps still in the ring. Until batchfeed_stop
 * the caller only reads p (epochplan_rows) and leaves ds to the helper
 * (which moves a streamed ds's window in p). */
BatchFeed *batchfeed_start(EpochPlan *p, Dataset *ds, int64_t k0, size_t ring_bytes,
                           int next_pass);

/* The batch of step k, the step after the previous call's (k0 first):
 * the helper's, or gathered here when the helper has not finished it (no
 * wait; a streamed ds: waits for the helper); *rows gets the step's rows
 * (epochplan_rows). Returns NULL when this rank has no rows in step k.
 * Valid until the next call or batchfeed_stop. */
const Batch *batchfeed_next(BatchFeed *f, int64_t k, PlanBatch *rows);

/* How many steps so far batchfeed_next gathered itself (the helper behind). */
int64_t batchfeed_own_steps(const BatchFeed *f);

/* How many steps so far batchfeed_next waited for (a streamed ds). */
int64_t batchfeed_waits(const BatchFeed *f);

/* Stop the helper (wherever it is in the pass; after the pass's last step,
 * once it has read the next pass's first window) and release the feed;
 * NULL is a no-op. */
void batchfeed_stop(BatchFeed *f);

#endif
