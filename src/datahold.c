/* datahold.c - how much of its data a training rank keeps in memory (see
 * datahold.h). */
#include "datahold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memest.h"

/* Budget when no memory limit could be read (memest_limit gave none). */
#define DATAHOLD_UNKNOWN_BUDGET ((uint64_t)1 << 30)

DataHold datahold_plan(uint64_t room, const Dataset *train, const EpochPlan *plan,
                       const Dataset *val, int feed)
{
    DataHold h;
    memset(&h, 0, sizeof h);
    h.budget = room >= (UINT64_MAX >> 2) ? DATAHOLD_UNKNOWN_BUDGET : room / 2;
    h.window_bytes = DATASET_WINDOW_BYTES;
    h.feed_bytes = DATAHOLD_FEED_BYTES;
    uint64_t left = h.budget;
    const uint64_t rb = dataset_row_bytes(train), all = (uint64_t)train->n * rb;
    if (all <= left) {
        h.train_all = 1;
        h.held = all;
        left -= all;
    } else {
        /* a pass's share: every step's rows of this rank, with their index */
        const uint64_t share =
            (uint64_t)plan->steps * epochplan_step_rows(plan) * (rb + MEMEST_ROW_OVERHEAD);
        uint64_t win = share < left ? share : left;
        if (feed && win < share) {
            /* windows read while training: the ring covers the next's read */
            const uint64_t least = DATASET_WINDOW_BYTES / 2;
            h.feed_bytes = (size_t)(win / 3 > least ? win / 3 : least);
            win = win > h.feed_bytes ? win - h.feed_bytes : 0;
        }
        if (win > DATASET_WINDOW_BYTES) h.window_bytes = (size_t)win;
        h.epoch_share = h.window_bytes >= share;
        h.held = h.window_bytes + (feed ? h.feed_bytes : 0);
        left = left > h.held ? left - h.held : 0;
    }
    if (val && val->streamed) {
        size_t lo, hi;
        epochplan_share(&lo, &hi, val->n, plan->rank, plan->ranks);
        uint64_t vbytes = (uint64_t)(hi - lo) * (dataset_row_bytes(val) + sizeof(size_t));
        if (vbytes <= left) {
            h.val_share = 1;
            h.held += vbytes;
        }
    }
    return h;
}

int datahold_apply(const DataHold *h, Dataset *train, EpochPlan *plan, Dataset *val, int rank,
                   int ranks, Error *e)
{
    if (h->train_all) {
        if (dataset_hold_all(train, e)) return EXIT_USAGE;
    } else {
        epochplan_set_window(plan, dataset_row_bytes(train), h->window_bytes);
    }
    if (h->val_share && val) {
        size_t lo, hi;
        epochplan_share(&lo, &hi, val->n, rank, ranks);
        dataset_load_range(val, lo, hi);
    }
    return 0;
}

void datahold_describe(char *out, size_t len, const DataHold *h, const Dataset *train,
                       const Dataset *val)
{
    char size[32], whole[32];
    memest_format_size(whole, sizeof whole, (uint64_t)train->n * dataset_row_bytes(train));
    memest_format_size(size, sizeof size, h->window_bytes);
    int n;
    if (h->train_all)
        n = snprintf(out, len, "data: training rows held in memory (%s a rank)", whole);
    else if (h->epoch_share)
        n = snprintf(out, len, "data: each epoch's training rows read in one sorted pass "
                     "(%s of %s)", size, whole);
    else
        n = snprintf(out, len, "data: training rows read %s at a time, each read sorted "
                     "(of %s; more memory would hold more)", size, whole);
    if (n < 0 || (size_t)n >= len || !val) return;
    if (h->val_share || !val->streamed) {
        memest_format_size(size, sizeof size, (uint64_t)val->n * dataset_row_bytes(val));
        snprintf(out + n, len - (size_t)n, "; validation rows held (%s over all ranks)", size);
    } else {
        snprintf(out + n, len - (size_t)n, "; validation rows read as needed");
    }
}
