/* dataset_batch.c - time-major batches and targets from a dataset's rows (see dataset.h). */
#include "dataset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Slot of view row `row` in the row data, or SIZE_MAX when not held. */
static size_t slot_of(const Dataset *ds, size_t row)
{
    if (!ds->streamed) return row;
    size_t lo = 0, hi = ds->n_cached;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ds->cached[mid] < row)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ds->n_cached && ds->cached[lo] == row ? lo : SIZE_MAX;
}

/* Make ds hold rows[0..count): a streamed dataset reads them when any is
 * missing, counted as a reload (read-ahead should have loaded them). */
static void hold_rows(Dataset *ds, const size_t *rows, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        CHECK(rows[i] < ds->n);
        if (slot_of(ds, rows[i]) == SIZE_MAX) {
            ds->reloads++;
            dataset_load(ds, rows, count);
            return;
        }
    }
}

void batchbuf_reserve(BatchBuf *bb, const Dataset *ds, size_t rows, size_t steps)
{
    const size_t B = rows, TB = rows * steps;
    if (B <= bb->cap_rows && TB <= bb->cap_tb) return;
    batchbuf_free(bb);
    bb->cap_rows = B;
    bb->cap_tb = TB;
    bb->lengths = xcalloc(B, sizeof(int32_t));
    bb->sample = xcalloc(B, sizeof(uint32_t));
    if (ds->input == INPUT_TOKENS)
        bb->tokens = xcalloc(TB, sizeof(int32_t));
    else
        bb->x = xalloc_floats(TB * (size_t)ds->F);
    if (ds->has_targets && ds->kind == LOSS_CE)
        bb->y_class = xcalloc(TB, sizeof(int32_t));
    else if (ds->has_targets)
        bb->y_value = xalloc_floats(TB * (size_t)ds->O);
}

void batchbuf_put_step(BatchBuf *bb, size_t dst, const Dataset *ds, size_t slot, size_t t)
{
    const size_t T = (size_t)ds->T, F = (size_t)ds->F, O = (size_t)ds->O, at = slot * T + t;
    if (ds->input == INPUT_TOKENS)
        bb->tokens[dst] = ds->tokens[at];
    else
        memcpy(bb->x + dst * F, ds->x + at * F, sizeof(float) * F);
    if (!ds->has_targets || ds->target != TARGET_STEP) return;
    if (ds->kind == LOSS_CE)
        bb->y_class[dst] = ds->y_class[at];
    else
        memcpy(bb->y_value + dst * O, ds->y_value + at * O, sizeof(float) * O);
}

void dataset_fill_batch(BatchBuf *bb, Dataset *ds, const size_t *rows, int count)
{
    CHECK(count > 0);
    const size_t B = (size_t)count, O = (size_t)ds->O;
    batchbuf_reserve(bb, ds, B, (size_t)ds->T);
    hold_rows(ds, rows, B);
    int Tb = 1;
    for (size_t i = 0; i < B; i++) {
        bb->lengths[i] = ds->lengths[rows[i]];
        bb->sample[i] = (uint32_t)(ds->row0 + rows[i]);
        if (bb->lengths[i] > Tb) Tb = bb->lengths[i];
    }
    for (size_t t = 0; t < (size_t)Tb; t++)
        for (size_t i = 0; i < B; i++)
            batchbuf_put_step(bb, t * B + i, ds, slot_of(ds, rows[i]), t);
    if (ds->has_targets && ds->target == TARGET_LAST) {
        for (size_t i = 0; i < B; i++) {
            size_t r = slot_of(ds, rows[i]);
            if (ds->kind == LOSS_CE)
                bb->y_class[i] = ds->y_class[r];
            else
                memcpy(bb->y_value + i * O, ds->y_value + r * O, sizeof(float) * O);
        }
    }
    Batch b = {count, Tb, bb->x, bb->tokens, bb->lengths, bb->y_class, bb->y_value, bb->sample};
    bb->b = b;
}

void dataset_copy_targets(int32_t *classes, float *values, Dataset *ds, const size_t *rows,
                          int count)
{
    CHECK(count > 0 && ds->has_targets);
    const size_t per = ds->target == TARGET_STEP ? (size_t)ds->T : 1, O = (size_t)ds->O;
    hold_rows(ds, rows, (size_t)count);
    for (size_t i = 0; i < (size_t)count; i++) {
        size_t r = slot_of(ds, rows[i]);
        if (ds->kind == LOSS_CE)
            memcpy(classes + i * per, ds->y_class + r * per, sizeof(int32_t) * per);
        else
            memcpy(values + i * per * O, ds->y_value + r * per * O, sizeof(float) * per * O);
    }
}

void batchbuf_free(BatchBuf *bb)
{
    free(bb->x);
    free(bb->tokens);
    free(bb->lengths);
    free(bb->y_class);
    free(bb->y_value);
    free(bb->sample);
    memset(bb, 0, sizeof *bb);
}
