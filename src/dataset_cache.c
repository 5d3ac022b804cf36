/* dataset_cache.c - the rows a streamed dataset holds: reading them in few
 * large sorted reads, and finding them (see dataset.h). */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

int dataset_read_rows(Dataset *ds, const size_t *rows, size_t n, Error *e)
{
    if (n > ds->cap_cached) {
        free(ds->cached);
        ds->cap_cached = n;
        ds->cached = xcalloc(n, sizeof(size_t));
        dataset_rows_alloc(ds, n);
    }
    for (size_t i = 0; i < ds->n_cached; i++) ds->slot_index[ds->cached[i]] = UINT32_MAX;
    memcpy(ds->cached, rows, n * sizeof(size_t));
    for (size_t i = 0; i < n; i++) ds->slot_index[rows[i]] = (uint32_t)i;
    ds->n_cached = n;
    hid_t f = (hid_t)ds->file_id;
    int rc = ds->input == INPUT_TOKENS
                 ? h5io_read_i32_rows(ds->tokens, f, ds->inputs_path, ds->row0, rows, n,
                                      ds->file, e)
                 : h5io_read_f32_rows(ds->x, f, ds->inputs_path, ds->row0, rows, n, ds->file, e);
    if (!rc && ds->has_targets)
        rc = ds->kind == LOSS_CE ? h5io_read_i32_rows(ds->y_class, f, ds->targets_path, ds->row0,
                                                      rows, n, ds->file, e)
                                 : h5io_read_f32_rows(ds->y_value, f, ds->targets_path, ds->row0,
                                                      rows, n, ds->file, e);
    if (rc) {
        for (size_t i = 0; i < n; i++) ds->slot_index[rows[i]] = UINT32_MAX;
        ds->n_cached = 0;
    }
    return rc;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* out[0..m) = the distinct values of rows[0..n) (each < limit), ascending;
 * returns m. Many rows of a small range are marked in a bitmap and
 * collected (linear), few are sorted. */
static size_t sort_distinct(size_t *out, const size_t *rows, size_t n, size_t limit)
{
    size_t m = 0;
    if (n < limit / 64) {
        memcpy(out, rows, n * sizeof(size_t));
        qsort(out, n, sizeof(size_t), cmp_size);
        for (size_t i = 0; i < n; i++)
            if (m == 0 || out[i] != out[m - 1]) out[m++] = out[i];
        return m;
    }
    uint64_t *bits = xcalloc(limit / 64 + 1, sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) bits[rows[i] / 64] |= (uint64_t)1 << (rows[i] % 64);
    for (size_t w = 0; w <= limit / 64; w++)
        for (uint64_t b = bits[w]; b; b &= b - 1) out[m++] = w * 64 + (size_t)__builtin_ctzll(b);
    free(bits);
    return m;
}

/* Does the cache hold every row of rows[0..m)? */
static int all_cached(const Dataset *ds, const size_t *rows, size_t m)
{
    for (size_t i = 0; i < m; i++)
        if (ds->slot_index[rows[i]] == UINT32_MAX) return 0;
    return 1;
}

void dataset_load_range(Dataset *ds, size_t lo, size_t hi)
{
    if (!ds->streamed || hi <= lo) return;
    size_t *rows = xcalloc(hi - lo, sizeof(size_t));
    for (size_t i = lo; i < hi; i++) rows[i - lo] = i;
    dataset_load(ds, rows, hi - lo);
    free(rows);
}

int dataset_try_load(Dataset *ds, const size_t *rows, size_t n, Error *e)
{
    if (!ds->streamed || n == 0) return 0;
    for (size_t i = 0; i < n; i++) CHECK(rows[i] < ds->n);
    if (all_cached(ds, rows, n)) return 0;
    size_t *sorted = xcalloc(n, sizeof(size_t));
    size_t m = sort_distinct(sorted, rows, n, ds->n);
    const int rc = dataset_read_rows(ds, sorted, m, e);
    free(sorted);
    return rc;
}

void dataset_load(Dataset *ds, const size_t *rows, size_t n)
{
    Error e = {0, ""};
    if (dataset_try_load(ds, rows, n, &e)) check_fail(__FILE__, __LINE__, "read rows", e.msg);
}
