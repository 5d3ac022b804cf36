/* dataset_batch.c - time-major batches and targets from a dataset's rows (see dataset.h). */
#include "dataset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t dataset_slot(const Dataset *ds, size_t row)
{
    if (!ds->streamed) return row;
    uint32_t slot = ds->slot_index[row];
    return slot == UINT32_MAX ? SIZE_MAX : slot;
}

/* Fill slot[0..count) (NULL: only make them held) with where rows[0..count)
 * are in ds's row data; a streamed ds missing any reads them all first, a
 * reload (read-ahead should have loaded them). */
static void find_slots(size_t *slot, Dataset *ds, const size_t *rows, size_t count)
{
    int missing = 0;
    for (size_t i = 0; i < count && !missing; i++) {
        CHECK(rows[i] < ds->n);
        missing = dataset_slot(ds, rows[i]) == SIZE_MAX;
    }
    if (missing) {
        ds->reloads++;
        dataset_load(ds, rows, count);
    }
    for (size_t i = 0; slot && i < count; i++) slot[i] = dataset_slot(ds, rows[i]);
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
    bb->slot = xcalloc(B, sizeof(size_t));
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

/* dst[0..W) = src[0..W): the usual widths by copies of a constant size,
 * which the compiler turns into a few moves (a batch of 32 rows of 4 steps
 * of 8 floats, on an AMD EPYC of family 23: 583 cycles, a loop 767-1157). */
static inline void copy_floats(float *dst, const float *src, size_t W)
{
    switch (W) {
    case 1: memcpy(dst, src, sizeof(float)); return;
    case 2: memcpy(dst, src, 2 * sizeof(float)); return;
    case 4: memcpy(dst, src, 4 * sizeof(float)); return;
    case 8: memcpy(dst, src, 8 * sizeof(float)); return;
    case 16: memcpy(dst, src, 16 * sizeof(float)); return;
    default:
        for (size_t k = 0; k < W; k++) dst[k] = src[k];
    }
}

/* Column i of a time-major [Tb, B, W] block dst from a row-major [., W] src. */
static void put_floats(float *dst, const float *src, size_t B, size_t i, size_t W, size_t Tb)
{
    for (size_t t = 0; t < Tb; t++) copy_floats(dst + (t * B + i) * W, src + t * W, W);
}

/* Column i of a time-major [Tb, B] block dst from src [Tb]. */
static void put_ints(int32_t *dst, const int32_t *src, size_t B, size_t i, size_t Tb)
{
    for (size_t t = 0; t < Tb; t++) dst[t * B + i] = src[t];
}

void dataset_prefetch(const Dataset *ds, const size_t *rows, size_t count)
{
    const size_t T = (size_t)ds->T, F = (size_t)ds->F, O = (size_t)ds->O;
    const size_t per = ds->target == TARGET_STEP ? T : 1;
    for (size_t i = 0; i < count; i++) {
        if (rows[i] >= ds->n) continue;
        if (ds->has_lengths) __builtin_prefetch(ds->lengths + rows[i]);
        const size_t r = dataset_slot(ds, rows[i]);
        if (r == SIZE_MAX) continue;
        const char *in = ds->input == INPUT_TOKENS ? (const char *)(ds->tokens + r * T)
                                                   : (const char *)(ds->x + r * T * F);
        __builtin_prefetch(in);
        __builtin_prefetch(in + 64);
        if (!ds->has_targets) continue;
        __builtin_prefetch(ds->kind == LOSS_CE ? (const void *)(ds->y_class + r * per)
                                               : (const void *)(ds->y_value + r * per * O));
    }
}

void dataset_prefetch_slots(const Dataset *ds, const size_t *rows, size_t count)
{
    if (!ds->streamed) return;
    for (size_t i = 0; i < count; i++)
        if (rows[i] < ds->n) __builtin_prefetch(ds->slot_index + rows[i]);
}

/* Copy steps [0, Tb) of the row in `slot` to column i of bb's time-major
 * batch of B rows: the inputs, and per-step targets. */
static void put_row(BatchBuf *bb, size_t B, size_t i, const Dataset *ds, size_t slot, size_t Tb)
{
    const size_t T = (size_t)ds->T, F = (size_t)ds->F, O = (size_t)ds->O;
    if (ds->input == INPUT_TOKENS)
        put_ints(bb->tokens, ds->tokens + slot * T, B, i, Tb);
    else
        put_floats(bb->x, ds->x + slot * T * F, B, i, F, Tb);
    if (!ds->has_targets || ds->target != TARGET_STEP) return;
    if (ds->kind == LOSS_CE)
        put_ints(bb->y_class, ds->y_class + slot * T, B, i, Tb);
    else
        put_floats(bb->y_value, ds->y_value + slot * T * O, B, i, O, Tb);
}

void dataset_fill_batch(BatchBuf *bb, Dataset *ds, const size_t *rows, int count)
{
    CHECK(count > 0);
    const size_t B = (size_t)count, O = (size_t)ds->O;
    batchbuf_reserve(bb, ds, B, (size_t)ds->T);
    find_slots(bb->slot, ds, rows, B);
    int Tb = 1;
    for (size_t i = 0; i < B; i++) {
        bb->lengths[i] = ds->has_lengths ? ds->lengths[rows[i]] : ds->T; /* a line less */
        bb->sample[i] = (uint32_t)(ds->row0 + rows[i]);
        if (bb->lengths[i] > Tb) Tb = bb->lengths[i];
    }
    for (size_t i = 0; i < B; i++) put_row(bb, B, i, ds, bb->slot[i], (size_t)Tb);
    if (ds->has_targets && ds->target == TARGET_LAST) {
        for (size_t i = 0; i < B; i++) {
            size_t r = bb->slot[i];
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
    find_slots(NULL, ds, rows, (size_t)count);
    for (size_t i = 0; i < (size_t)count; i++) {
        size_t r = dataset_slot(ds, rows[i]);
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
    free(bb->slot);
    memset(bb, 0, sizeof *bb);
}
