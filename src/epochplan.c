/* epochplan.c - rows of each step and their read-ahead (see epochplan.h). */
#include "epochplan.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"

void epochplan_share(size_t *lo, size_t *hi, size_t count, int rank, int ranks)
{
    *lo = count * (size_t)rank / (size_t)ranks;
    *hi = count * (size_t)(rank + 1) / (size_t)ranks;
}

void epochplan_init(EpochPlan *p, PlanSplit split, size_t n, int batch, int rank, int ranks,
                    size_t row_bytes)
{
    CHECK(batch > 0 && ranks > 0 && rank >= 0 && rank < ranks);
    memset(p, 0, sizeof *p);
    p->split = split;
    p->n = n;
    p->batch = (size_t)batch;
    p->rank = rank;
    p->ranks = ranks;
    if (split == PLAN_SPLIT_BATCH) {
        p->lo = 0;
        p->hi = n;
        p->steps = (int64_t)((n + p->batch - 1) / p->batch);
        p->order = xcalloc(n, sizeof(size_t));
    } else {
        epochplan_share(&p->lo, &p->hi, n, rank, ranks);
        p->steps = (int64_t)((p->hi - p->lo + p->batch - 1) / p->batch);
        p->step_rows = xcalloc(p->batch, sizeof(size_t));
    }
    epochplan_set_window(p, row_bytes, DATASET_WINDOW_BYTES);
    epochplan_begin(p, 0, 0, 0);
}

size_t epochplan_step_rows(const EpochPlan *p)
{
    return p->split == PLAN_SPLIT_BATCH ? (p->batch + (size_t)p->ranks - 1) / (size_t)p->ranks
                                        : p->batch;
}

void epochplan_set_window(EpochPlan *p, size_t row_bytes, size_t window_bytes)
{
    size_t per = epochplan_step_rows(p);
    size_t bytes = (row_bytes ? row_bytes : 1) * (per ? per : 1);
    p->window = (int64_t)(window_bytes / bytes);
    if (p->window < 1) p->window = 1;
    p->held_from = p->held_to = 0;
    p->next_held_to = 0;
}

/* order[0..n) = the order of epoch `epoch`: a permutation drawn from (seed,
 * epoch) when shuffle, else the identity. */
static void fill_order(size_t *order, size_t n, uint64_t seed, int64_t epoch, int shuffle)
{
    for (size_t i = 0; i < n; i++) order[i] = i;
    if (shuffle) rng_shuffle(order, n, seed, RNG_SHUFFLE, (uint32_t)epoch);
}

void epochplan_begin(EpochPlan *p, uint64_t seed, int64_t epoch, int shuffle)
{
    const int same_run = seed == p->seed && shuffle == p->shuffle;
    const int begun = p->begun_ahead && same_run && epoch == p->epoch;
    p->begun_ahead = 0;
    if (begun) return;
    const int ready = p->next_made && same_run && epoch == p->epoch + 1;
    p->held_from = 0;
    p->held_to = ready ? p->next_held_to : 0;
    p->next_made = 0;
    p->next_held_to = 0;
    p->seed = seed;
    p->epoch = epoch;
    p->shuffle = shuffle;
    if (p->split != PLAN_SPLIT_BATCH) return;
    if (!ready) {
        fill_order(p->order, p->n, seed, epoch, shuffle);
        return;
    }
    size_t *t = p->order;
    p->order = p->next_order;
    p->next_order = t;
}

/* The rows of step k of a PLAN_SPLIT_BATCH pass in `order`. */
static PlanBatch rows_in(const EpochPlan *p, const size_t *order, int64_t k)
{
    CHECK(p->split == PLAN_SPLIT_BATCH && k >= 0 && k < p->steps);
    size_t a = (size_t)k * p->batch;
    size_t count = p->n - a < p->batch ? p->n - a : p->batch, lo, hi;
    epochplan_share(&lo, &hi, count, p->rank, p->ranks);
    PlanBatch b = {order + a, count, order + a + lo, hi - lo};
    return b;
}

PlanBatch epochplan_rows(const EpochPlan *p, int64_t k)
{
    return rows_in(p, p->order, k);
}

PlanBatch epochplan_ahead(const EpochPlan *p, int64_t k)
{
    PlanBatch none = {NULL, 0, NULL, 0};
    return k < 0 || k >= p->steps ? none : epochplan_rows(p, k);
}

/* The rows of step k, computed without reading anything. */
static PlanBatch rows_of(EpochPlan *p, int64_t k)
{
    PlanBatch b;
    if (p->split == PLAN_SPLIT_BATCH) return epochplan_rows(p, k);
    size_t a = (size_t)k * p->batch;
    size_t first = p->lo + a, count = p->hi - first < p->batch ? p->hi - first : p->batch;
    for (size_t i = 0; i < count; i++) p->step_rows[i] = first + i;
    b.all = b.mine = p->step_rows;
    b.count_all = b.count = count;
    return b;
}

/* Load this rank's rows of steps [k, end) into ds: of the pass in `order`
 * (PLAN_SPLIT_BATCH), or of the current pass (NULL); returns
 * dataset_try_load's code. */
static int load_steps(EpochPlan *p, Dataset *ds, const size_t *order, int64_t k, int64_t end,
                      Error *e)
{
    size_t cap = (size_t)(end - k) * p->batch, m = 0;
    size_t *want = xcalloc(cap ? cap : 1, sizeof(size_t));
    for (int64_t j = k; j < end; j++) {
        PlanBatch b = order ? rows_in(p, order, j) : rows_of(p, j);
        memcpy(want + m, b.mine, b.count * sizeof(size_t));
        m += b.count;
    }
    const int rc = dataset_try_load(ds, want, m, e);
    free(want);
    return rc;
}

/* Load this rank's rows of steps [k, min(k + window, steps)) into ds;
 * returns dataset_try_load's code (nothing held after a failure). */
static int read_ahead(EpochPlan *p, Dataset *ds, int64_t k, Error *e)
{
    int64_t end = p->steps - k < p->window ? p->steps : k + p->window;
    p->held_from = k;
    p->held_to = end;
    p->next_held_to = 0; /* ds holds other rows now */
    if (!ds->streamed) return 0;
    const int rc = load_steps(p, ds, NULL, k, end, e);
    if (rc) p->held_from = p->held_to = 0;
    return rc;
}

void epochplan_order_next(EpochPlan *p)
{
    CHECK(p->split == PLAN_SPLIT_BATCH);
    if (p->next_made) return;
    if (!p->next_order) p->next_order = xcalloc(p->n ? p->n : 1, sizeof(size_t));
    fill_order(p->next_order, p->n, p->seed, p->epoch + 1, p->shuffle);
    p->next_held_to = 0;
    p->next_made = 1;
}

int epochplan_read_next(EpochPlan *p, Dataset *ds, Error *e)
{
    epochplan_order_next(p);
    const int64_t end = p->steps < p->window ? p->steps : p->window;
    if (p->next_held_to == end) return 0;
    if (ds->streamed && end > 0) {
        p->held_from = p->held_to = 0; /* ds is about to hold other rows */
        if (load_steps(p, ds, p->next_order, 0, end, e)) return e->code;
    }
    p->next_held_to = end;
    return 0;
}

int epochplan_try_batch(PlanBatch *b, EpochPlan *p, Dataset *ds, int64_t k, Error *e)
{
    CHECK(k >= 0 && k < p->steps);
    if ((k < p->held_from || k >= p->held_to) && read_ahead(p, ds, k, e)) return e->code;
    *b = rows_of(p, k);
    return 0;
}

PlanBatch epochplan_batch(EpochPlan *p, Dataset *ds, int64_t k)
{
    PlanBatch b;
    Error e = {0, ""};
    if (epochplan_try_batch(&b, p, ds, k, &e)) check_fail(__FILE__, __LINE__, "read rows", e.msg);
    return b;
}

int epochplan_begin_at(EpochPlan *p, Dataset *ds, uint64_t seed, int64_t epoch, int shuffle,
                       int64_t k, Error *e)
{
    epochplan_begin(p, seed, epoch, shuffle);
    PlanBatch b;
    if (k < p->steps && epochplan_try_batch(&b, p, ds, k, e)) return e->code;
    p->begun_ahead = 1;
    return 0;
}

void epochplan_free(EpochPlan *p)
{
    free(p->order);
    free(p->next_order);
    free(p->step_rows);
    memset(p, 0, sizeof *p);
}
