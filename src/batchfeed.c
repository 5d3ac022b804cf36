/* batchfeed.c - the coming steps' batches gathered by a helper thread (see
 * batchfeed.h).
 *
 * Steps are counted from k0. The helper claims step j by moving `claimed`
 * from j to j + 1, fills slot j % depth and then sets `produced` to j + 1;
 * it may fill step j while j < consumed + depth (the trainer uses step
 * `consumed` while it computes, and the slots of the steps after it are
 * free). The trainer never waits: when step j is not produced yet it moves
 * `claimed` from j to j + 1 itself, so the helper skips j, or, when the
 * helper has claimed j but not finished it (descheduled, or the pass just
 * started), it gathers step j into its own buffer all the same and leaves
 * the helper's copy unread. The helper sleeps only when the ring is full:
 * under the mutex it raises its flag, then looks at `consumed`, and waits;
 * the trainer moves `consumed`, then looks at the flag, and clears it and
 * signals under the mutex. All of it is sequentially consistent, so one of
 * the two sees the other's move and no wakeup is lost; a sleeping helper is
 * woken once, when half the ring is free (a sixteenth for a streamed
 * view), so a step costs no system call while the helper keeps ahead.
 *
 * A streamed view (its rows read a window at a time) is the helper's alone
 * while the feed runs: it reads the windows (epochplan_try_batch) as well as
 * gathering, and the trainer waits for a step the helper has not finished,
 * under the mutex as the helper does: it raises its flag, looks at
 * `produced`, and waits; the helper moves `produced`, then looks at the
 * flag, and clears it and signals. */
#include "batchfeed.h"

#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define FEED_MIN_DEPTH 2
#define FEED_MAX_DEPTH 256
/* A streamed view's ring covers a window's read (its bytes: batchfeed.h). */
#define FEED_MAX_DEPTH_STREAMED 8192

struct BatchFeed {
    EpochPlan *p;               /* the helper moves a streamed view's window */
    Dataset *ds;
    int streamed;               /* ds is read a window at a time, by the helper */
    int next_pass;              /* the helper prepares the next pass */
    int next_made;              /* helper: it made the next pass's order */
    int64_t k0, steps;          /* the steps [k0, steps) of the pass */
    int64_t depth;              /* batches in the ring */
    BatchBuf *ring;             /* [depth] */
    int64_t taken;              /* trainer: steps taken so far */
    int64_t seen;               /* trainer: `produced` when it last looked */
    /* each on its own cache line: a line one thread writes every step must
     * not be read by the other every step */
    BatchBuf own;               /* trainer: a step it gathered itself */
    int64_t own_steps;          /* trainer: how many it gathered itself */
    int64_t waits;              /* trainer: steps it waited for (streamed) */
    alignas(64) _Atomic int64_t produced;
    alignas(64) _Atomic int64_t claimed;
    alignas(64) _Atomic int64_t consumed;
    alignas(64) _Atomic int helper_sleeps;
    alignas(64) _Atomic int trainer_waits;
    alignas(64) _Atomic int stop;
    _Atomic int cancel;         /* stopped before the pass's last step was taken */
    _Atomic int failed;         /* helper: a read failed (err), it has ended */
    Error err;                  /* written by the helper before `failed` */
    pthread_mutex_t mu;
    pthread_cond_t space;
    pthread_cond_t ready;
    pthread_t helper;
};

int batchfeed_useful(int local_ranks)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof set, &set) == 0 &&
           CPU_COUNT(&set) >= 2 * (local_ranks > 1 ? local_ranks : 1);
}

/* Helper: wait until step j may be filled (or the feed stops: returns 0);
 * *until caches the first step it may not fill yet, as last seen. */
static int wait_space(BatchFeed *f, int64_t j, int64_t *until)
{
    if (j < *until) return !atomic_load(&f->stop);
    *until = atomic_load(&f->consumed) + f->depth;
    if (j < *until) return !atomic_load(&f->stop);
    if (f->next_pass && !f->next_made) {
        /* the ring is full: time to make the next pass's order */
        epochplan_order_next(f->p);
        f->next_made = 1;
        *until = atomic_load(&f->consumed) + f->depth;
        if (j < *until) return !atomic_load(&f->stop);
    }
    pthread_mutex_lock(&f->mu);
    for (;;) {
        /* the flag first, then the look: a trainer that moved `consumed` too
         * late for the look sees the flag (the trainer clears it to wake us) */
        atomic_store(&f->helper_sleeps, 1);
        if (j < (*until = atomic_load(&f->consumed) + f->depth) || atomic_load(&f->stop)) break;
        pthread_cond_wait(&f->space, &f->mu);
    }
    atomic_store(&f->helper_sleeps, 0);
    pthread_mutex_unlock(&f->mu);
    return !atomic_load(&f->stop);
}

/* Helper, after moving `produced` or raising `failed`: wake the trainer if
 * it waits. */
static void wake_trainer(BatchFeed *f)
{
    if (!atomic_load(&f->trainer_waits)) return;
    pthread_mutex_lock(&f->mu);
    if (atomic_exchange(&f->trainer_waits, 0)) pthread_cond_signal(&f->ready);
    pthread_mutex_unlock(&f->mu);
}

static void *helper_run(void *arg)
{
    BatchFeed *f = arg;
    Dataset *ds = f->ds;
    int64_t until = 0, j = 0;
    while (f->k0 + j < f->steps && wait_space(f, j, &until)) {
        int64_t c = j;
        if (!atomic_compare_exchange_strong(&f->claimed, &c, j + 1)) {
            j = c; /* the trainer took the steps up to c itself */
            continue;
        }
        PlanBatch b;
        if (!f->streamed) {
            b = epochplan_rows(f->p, f->k0 + j);
            const PlanBatch ahead = epochplan_ahead(f->p, f->k0 + j + 1);
            dataset_prefetch(ds, ahead.mine, ahead.count);
        } else if (epochplan_try_batch(&b, f->p, ds, f->k0 + j, &f->err)) {
            /* the window the step starts could not be read: the trainer's
             * to report, on its thread */
            atomic_store(&f->failed, 1);
            wake_trainer(f);
            break;
        }
        if (b.count > 0) dataset_fill_batch(&f->ring[j % f->depth], ds, b.mine, (int)b.count);
        atomic_store(&f->produced, ++j);
        wake_trainer(f);
    }
    /* the pass is gathered, or the trainer took its last steps itself (it
     * writes `cancel` before `stop`) */
    const int whole = !atomic_load(&f->cancel) && (f->k0 + j >= f->steps || atomic_load(&f->stop));
    if (f->next_pass && whole && !atomic_load(&f->failed)) {
        /* the next pass's first window (and its order, unless the ring was
         * full once before), while the trainer computes the ring's steps (a
         * failed read is the next pass's to read again and report) */
        Error e = {0, ""};
        (void)epochplan_read_next(f->p, ds, &e);
    }
    return NULL;
}

BatchFeed *batchfeed_start(EpochPlan *p, Dataset *ds, int64_t k0, size_t ring_bytes,
                           int next_pass)
{
    CHECK(p->split == PLAN_SPLIT_BATCH && k0 >= 0 && k0 <= p->steps);
    const size_t bytes = (sizeof(BatchFeed) + 63) / 64 * 64;
    BatchFeed *f = aligned_alloc(64, bytes); /* its cache lines as laid out */
    CHECK_MSG(f != NULL, "out of memory");
    memset(f, 0, bytes);
    const size_t per = epochplan_step_rows(p);
    const size_t batch_bytes = (per ? per : 1) * (dataset_row_bytes(ds) + 16);
    const int64_t depth = (int64_t)(ring_bytes / batch_bytes);
    const int64_t most = ds->streamed ? FEED_MAX_DEPTH_STREAMED : FEED_MAX_DEPTH;
    f->depth = depth < FEED_MIN_DEPTH ? FEED_MIN_DEPTH : depth > most ? most : depth;
    f->p = p;
    f->ds = ds;
    f->streamed = ds->streamed;
    f->next_pass = next_pass;
    f->k0 = k0;
    f->steps = p->steps;
    f->ring = xcalloc((size_t)f->depth, sizeof *f->ring);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->space, NULL);
    pthread_cond_init(&f->ready, NULL);
    CHECK_MSG(pthread_create(&f->helper, NULL, helper_run, f) == 0,
              "cannot start the batch helper thread");
    return f;
}

/* Trainer, streamed view: wait until the helper has produced step j (the
 * helper stops before it only when the trainer stops it, or when a read
 * fails: the job then ends here, on the trainer's thread, as a failed read
 * of epochplan_batch would). */
static void wait_produced(BatchFeed *f, int64_t j)
{
    f->waits++;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        /* the flag first, then the look (as wait_space) */
        atomic_store(&f->trainer_waits, 1);
        if ((f->seen = atomic_load(&f->produced)) > j || atomic_load(&f->failed)) break;
        pthread_cond_wait(&f->ready, &f->mu);
    }
    atomic_store(&f->trainer_waits, 0);
    pthread_mutex_unlock(&f->mu);
    if (f->seen <= j) check_fail(__FILE__, __LINE__, "read rows (batch helper)", f->err.msg);
}

const Batch *batchfeed_next(BatchFeed *f, int64_t k, PlanBatch *rows)
{
    const int64_t j = k - f->k0;
    CHECK(j == f->taken && k < f->steps);
    /* the previous step's slot is free: wake the helper once half the ring is
     * (a streamed view's ring, once a sixteenth is: kept full, it covers the
     * next window's read) */
    atomic_store(&f->consumed, j);
    if (atomic_load(&f->helper_sleeps) &&
        j + f->depth - atomic_load(&f->produced) >= f->depth / (f->streamed ? 16 : 2)) {
        pthread_mutex_lock(&f->mu);
        if (atomic_exchange(&f->helper_sleeps, 0)) pthread_cond_signal(&f->space);
        pthread_mutex_unlock(&f->mu);
    }
    f->taken = j + 1;
    *rows = epochplan_rows(f->p, k);
    if (rows->count == 0) return NULL;
    if (f->seen <= j) f->seen = atomic_load(&f->produced);
    if (f->seen > j) return &f->ring[j % f->depth].b;
    if (f->streamed) {
        wait_produced(f, j);
        return &f->ring[j % f->depth].b;
    }
    /* not ready: take the step from the helper (or, if it is at it, copy it
     * all the same) rather than wait */
    int64_t c = j;
    if (!atomic_compare_exchange_strong(&f->claimed, &c, j + 1) &&
        (f->seen = atomic_load(&f->produced)) > j)
        return &f->ring[j % f->depth].b;
    dataset_fill_batch(&f->own, f->ds, rows->mine, (int)rows->count); /* resident */
    f->own_steps++;
    return &f->own.b;
}

void batchfeed_stop(BatchFeed *f)
{
    if (!f) return;
    /* the pass ends here: the next pass's window is still wanted */
    atomic_store(&f->cancel, f->taken < f->steps - f->k0);
    atomic_store(&f->stop, 1);
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->helper_sleeps, 0);
    pthread_cond_signal(&f->space);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->helper, NULL);
    for (int64_t i = 0; i < f->depth; i++) batchbuf_free(&f->ring[i]);
    free(f->ring);
    batchbuf_free(&f->own);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->space);
    pthread_cond_destroy(&f->ready);
    free(f);
}

int64_t batchfeed_own_steps(const BatchFeed *f)
{
    return f->own_steps;
}

int64_t batchfeed_waits(const BatchFeed *f)
{
    return f->waits;
}
