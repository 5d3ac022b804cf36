/* h5io_rows.c - reading rows of a dataset: a range, or a sorted list of rows
 * in few large reads (see h5io.h). */
#include "h5io.h"

#include <stdlib.h>
#include <string.h>

/* A gap of at most this many bytes of unwanted rows between two wanted ones
 * is read through rather than skipped: one read of a block costs HDF5 about
 * as much as copying this many bytes (measured: a single-block read of 8
 * rows takes ~10 us). */
#define ROWS_GAP_BYTES ((size_t)64 << 10)
/* A read through gaps goes via a staging buffer of at most this size (small
 * enough to come from the heap again each call, not from fresh pages). */
#define ROWS_STAGE_BYTES ((size_t)256 << 10)

/* An open dataset to read whole rows (first dimension) of. */
typedef struct RowSource {
    hid_t ds, fsp, memtype;
    int rank;
    hsize_t dims[H5IO_MAX_RANK];
    size_t row_bytes; /* bytes of one row in memory (memtype) */
} RowSource;

/* Read rows [first, first + count) of s into out. */
static int read_block(const RowSource *s, void *out, size_t first, size_t count)
{
    hsize_t start[H5IO_MAX_RANK] = {0}, cnt[H5IO_MAX_RANK];
    for (int i = 0; i < s->rank; i++) cnt[i] = s->dims[i];
    start[0] = first;
    cnt[0] = count;
    if (H5Sselect_hyperslab(s->fsp, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0) return -1;
    hid_t msp = H5Screate_simple(s->rank, cnt, NULL);
    herr_t rc = msp < 0 ? -1 : H5Dread(s->ds, s->memtype, msp, s->fsp, H5P_DEFAULT, out);
    if (msp >= 0) H5Sclose(msp);
    return rc < 0 ? -1 : 0;
}

/* Read the rows row0 + rows[i] (ascending, distinct) into out in spans: a
 * run of wanted rows with gaps of at most ROWS_GAP_BYTES is one read, direct
 * when it has no gap, else through a staging buffer. */
static int read_spans(const RowSource *s, char *out, size_t row0, const size_t *rows,
                      size_t nrows)
{
    const size_t rb = s->row_bytes ? s->row_bytes : 1;
    const size_t gap = ROWS_GAP_BYTES / rb;
    const size_t span_max = ROWS_STAGE_BYTES / rb > 1 ? ROWS_STAGE_BYTES / rb : 1;
    char *stage = NULL;
    int rc = 0;
    for (size_t i = 0; !rc && i < nrows;) {
        size_t j = i + 1;
        while (j < nrows && rows[j] - rows[j - 1] - 1 <= gap && rows[j] - rows[i] < span_max) j++;
        const size_t first = rows[i], count = rows[j - 1] - first + 1;
        if (count == j - i) {
            rc = read_block(s, out + i * rb, row0 + first, count);
        } else {
            if (!stage) stage = xcalloc(span_max, rb);
            rc = read_block(s, stage, row0 + first, count);
            for (size_t k = i; !rc && k < j; k++)
                memcpy(out + k * rb, stage + (rows[k] - first) * rb, rb);
        }
        i = j;
    }
    free(stage);
    return rc;
}

/* Read rows of dataset `name` into out: row0 + rows[i] for i < nrows when
 * rows is given (ascending, distinct), else rows [row0, row0 + nrows). */
static int read_rows(void *out, hid_t memtype, hid_t loc, const char *name, size_t row0,
                     const size_t *rows, size_t nrows, const char *file, Error *e)
{
    RowSource s = {H5Dopen2(loc, name, H5P_DEFAULT), -1, memtype, 0, {0}, 0};
    if (s.ds < 0) return error_set(e, EXIT_USAGE, "%s: cannot open dataset '%s'", file, name);
    s.fsp = H5Dget_space(s.ds);
    s.rank = H5Sget_simple_extent_ndims(s.fsp);
    int rc = 0;
    if (s.rank < 1 || s.rank > H5IO_MAX_RANK) {
        rc = error_set(e, EXIT_USAGE, "%s: dataset '%s' has rank %d", file, name, s.rank);
        goto done;
    }
    H5Sget_simple_extent_dims(s.fsp, s.dims, NULL);
    s.row_bytes = H5Tget_size(memtype);
    for (int i = 1; i < s.rank; i++) s.row_bytes *= (size_t)s.dims[i];
    size_t last = nrows ? row0 + (rows ? rows[nrows - 1] : nrows - 1) : 0;
    if (nrows && last >= s.dims[0]) {
        rc = error_set(e, EXIT_USAGE, "%s: dataset '%s' has %llu rows, needed %zu", file, name,
                       (unsigned long long)s.dims[0], last + 1);
        goto done;
    }
    if (nrows == 0) goto done;
    if (rows) {
        for (size_t i = 1; i < nrows; i++) CHECK(rows[i] > rows[i - 1]);
    }
    if (rows ? read_spans(&s, out, row0, rows, nrows) : read_block(&s, out, row0, nrows))
        rc = error_set(e, EXIT_USAGE, "%s: cannot read dataset '%s' (corrupt or unconvertible)",
                       file, name);
done:
    H5Sclose(s.fsp);
    H5Dclose(s.ds);
    return rc;
}

int h5io_read_f32(float *out, hid_t loc, const char *name, size_t row0, size_t nrows,
                  const char *file, Error *e)
{
    return read_rows(out, H5T_NATIVE_FLOAT, loc, name, row0, NULL, nrows, file, e);
}

int h5io_read_f32_rows(float *out, hid_t loc, const char *name, size_t row0, const size_t *rows,
                       size_t nrows, const char *file, Error *e)
{
    return read_rows(out, H5T_NATIVE_FLOAT, loc, name, row0, rows, nrows, file, e);
}

int h5io_read_i32(int32_t *out, hid_t loc, const char *name, size_t row0, size_t nrows,
                  const char *file, Error *e)
{
    return read_rows(out, H5T_NATIVE_INT32, loc, name, row0, NULL, nrows, file, e);
}

int h5io_read_i32_rows(int32_t *out, hid_t loc, const char *name, size_t row0,
                       const size_t *rows, size_t nrows, const char *file, Error *e)
{
    return read_rows(out, H5T_NATIVE_INT32, loc, name, row0, rows, nrows, file, e);
}
