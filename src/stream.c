/* stream.c - the stream of stateful training: columns, steps, batches (see stream.h). */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "epochplan.h"

/* The view row holding stream element pos (< s->elements): the last k with
 * prefix[k] <= pos (lengths are >= 1, so prefix rises strictly). */
static size_t row_of(const Stream *s, size_t pos)
{
    size_t lo = 0, hi = s->rows; /* prefix[lo] <= pos < prefix[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->prefix[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* This rank's columns and the rows that hold their elements. */
static void plan_share(Stream *s)
{
    epochplan_share(&s->c0, &s->c1, s->columns, s->rank, s->ranks);
    s->row_lo = s->row_hi = 0;
    if (s->c0 == s->c1) return;
    s->row_lo = row_of(s, s->c0 * s->nb);
    s->row_hi = row_of(s, s->c1 * s->nb - 1) + 1;
}

int stream_plan(Stream *s, const Dataset *ds, int columns, int bptt, int rank, int ranks,
                Error *e)
{
    CHECK(columns > 0 && bptt > 0 && ranks > 0 && rank >= 0 && rank < ranks);
    memset(s, 0, sizeof *s);
    if (!ds->has_targets || ds->target != TARGET_STEP)
        return error_set(e, EXIT_USAGE,
                         "%s: %s: a stream (stateful training) needs a target at every step "
                         "(targets [N, T] or [N, T, O]), but %s",
                         ds->file, ds->group,
                         ds->has_targets ? "its targets are one per sequence" : "it has none");
    size_t *prefix = xcalloc(ds->n + 1, sizeof(size_t));
    for (size_t k = 0; k < ds->n; k++) prefix[k + 1] = prefix[k] + (size_t)ds->lengths[k];
    size_t S = prefix[ds->n], C = (size_t)columns;
    if (S / C < 1) {
        free(prefix);
        return error_set(e, EXIT_USAGE,
                         "%s: %s: its stream has %zu steps (the valid steps of its %zu rows), "
                         "fewer than the %d columns of a batch (batch-size): no column would "
                         "hold a step",
                         ds->file, ds->group, S, ds->n, columns);
    }
    s->rows = ds->n;
    s->elements = S;
    s->columns = C;
    s->bptt = (size_t)bptt;
    s->nb = S / C;
    s->steps = (int64_t)((s->nb + s->bptt - 1) / s->bptt);
    s->rank = rank;
    s->ranks = ranks;
    s->prefix = prefix;
    s->kind = ds->kind;
    s->O = ds->O;
    plan_share(s);
    return 0;
}

/* Make ds hold this rank's rows [row_lo, row_hi). */
static void load_rows(Stream *s)
{
    dataset_load_range(s->ds, s->row_lo, s->row_hi);
}

/* The batch buffers for bptt x (c1 - c0), with the sample ids set. */
static void alloc_batch(Stream *s)
{
    size_t B = s->c1 - s->c0;
    memset(&s->bb, 0, sizeof s->bb);
    if (B == 0) return;
    batchbuf_reserve(&s->bb, s->ds, B, s->bptt);
    for (size_t b = 0; b < B; b++) s->bb.sample[b] = (uint32_t)(s->c0 + b);
}

int stream_open(Stream *s, Dataset *ds, int columns, int bptt, int rank, int ranks, Error *e)
{
    int rc = stream_plan(s, ds, columns, bptt, rank, ranks, e);
    if (rc) return rc;
    CHECK(s->columns <= (size_t)UINT32_MAX); /* Batch.sample is 32 bits */
    s->ds = ds;
    load_rows(s);
    alloc_batch(s);
    return 0;
}

int stream_step_len(const Stream *s, int64_t i)
{
    CHECK(i >= 0 && i < s->steps);
    size_t off = (size_t)i * s->bptt, left = s->nb - off;
    return (int)(left < s->bptt ? left : s->bptt);
}

double stream_target_count(const Stream *s, int64_t i)
{
    double count = (double)stream_step_len(s, i) * (double)s->columns;
    return s->kind == LOSS_MSE ? count * s->O : count;
}

const Batch *stream_batch(Stream *s, int64_t i)
{
    CHECK(s->ds != NULL);
    const size_t B = s->c1 - s->c0, Ti = (size_t)stream_step_len(s, i);
    BatchBuf *bb = &s->bb;
    Batch b = {(int)B, (int)Ti, bb->x, bb->tokens, bb->lengths, bb->y_class, bb->y_value,
               bb->sample};
    bb->b = b;
    if (B == 0) return &bb->b;
    const int32_t *lengths = s->ds->lengths;
    for (size_t c = 0; c < B; c++) {
        bb->lengths[c] = (int32_t)Ti;
        size_t pos = (s->c0 + c) * s->nb + (size_t)i * s->bptt;
        size_t row = row_of(s, pos), step = pos - s->prefix[row];
        for (size_t t = 0; t < Ti; t++) {
            CHECK(row >= s->row_lo && row < s->row_hi);
            size_t slot = dataset_slot(s->ds, row);
            if (slot == SIZE_MAX) { /* another stream's rows replaced them */
                s->ds->reloads++;
                load_rows(s);
                slot = dataset_slot(s->ds, row);
            }
            batchbuf_put_step(bb, t * B + c, s->ds, slot, step);
            if (++step == (size_t)lengths[row]) {
                row++;
                step = 0;
            }
        }
    }
    return &bb->b;
}

void stream_free(Stream *s)
{
    free(s->prefix);
    batchbuf_free(&s->bb);
    memset(s, 0, sizeof *s);
}
