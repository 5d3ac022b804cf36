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
}

void epochplan_begin(EpochPlan *p, uint64_t seed, int64_t epoch, int shuffle)
{
    p->held_from = p->held_to = 0;
    if (p->split != PLAN_SPLIT_BATCH) return;
    const size_t n = p->n;
    size_t *order = p->order;
    for (size_t i = 0; i < n; i++) order[i] = i;
    if (!shuffle || n < 2) return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(i + 1, seed, RNG_SHUFFLE, (uint32_t)epoch, (uint32_t)i,
                                     (uint32_t)(i >> 32));
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

PlanBatch epochplan_rows(const EpochPlan *p, int64_t k)
{
    CHECK(p->split == PLAN_SPLIT_BATCH && k >= 0 && k < p->steps);
    size_t a = (size_t)k * p->batch;
    size_t count = p->n - a < p->batch ? p->n - a : p->batch, lo, hi;
    epochplan_share(&lo, &hi, count, p->rank, p->ranks);
    PlanBatch b = {p->order + a, count, p->order + a + lo, hi - lo};
    return b;
}

void epochplan_prefetch(const EpochPlan *p, const Dataset *ds, int64_t k)
{
    if (k < 0 || k >= p->steps) return;
    PlanBatch b = epochplan_rows(p, k);
    dataset_prefetch(ds, b.mine, b.count);
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

/* Load this rank's rows of steps [k, min(k + window, steps)) into ds;
 * returns dataset_try_load's code (nothing held after a failure). */
static int read_ahead(EpochPlan *p, Dataset *ds, int64_t k, Error *e)
{
    int64_t end = p->steps - k < p->window ? p->steps : k + p->window;
    p->held_from = k;
    p->held_to = end;
    if (!ds->streamed) return 0;
    size_t cap = (size_t)(end - k) * p->batch, m = 0;
    size_t *want = xcalloc(cap ? cap : 1, sizeof(size_t));
    for (int64_t j = k; j < end; j++) {
        PlanBatch b = rows_of(p, j);
        memcpy(want + m, b.mine, b.count * sizeof(size_t));
        m += b.count;
    }
    const int rc = dataset_try_load(ds, want, m, e);
    free(want);
    if (rc) p->held_from = p->held_to = 0;
    return rc;
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

void epochplan_free(EpochPlan *p)
{
    free(p->order);
    free(p->step_rows);
    memset(p, 0, sizeof *p);
}
