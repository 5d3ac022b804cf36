/* test_h5io.c - files opened for reading must be regular files: a FIFO (which
 * would block the open until a writer comes), a directory, a device or a
 * socket is refused at once with one line saying what it is, by
 * h5io_open_read and by h5io_probe, with the probe on or off; a regular
 * HDF5 file opens. An alarm fails the test if anything blocks.
 *
 * Reading sorted lists of rows (h5io_read_f32_rows, h5io_read_i32_rows):
 * every value read equals the one written, from float32 (contiguous and
 * chunked), float64 (converted) and int32 datasets, for every row, runs of
 * rows, rows spaced just under, at and just over the gap that is read
 * through (64 KiB of rows), runs longer than the staging buffer (256 KiB)
 * and random subsets, from row 0 and from a later row0; and the rows are
 * read in the spans the rule gives: the test stands in for HDF5's H5Dread
 * and counts its calls. A row past the end is refused; no rows read
 * nothing. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "testutil.h"
#include "h5io.h"

typedef TuDir Dir;

/* path is refused by every reader with "PATH: not a regular file (WHAT)". */
static void assert_refused(const char *path, const char *what)
{
    char want[400];
    snprintf(want, sizeof want, "%s: not a regular file (%s)", path, what);
    alarm(20); /* an open that blocks ends the test binary: a failure */
    for (int probe = 0; probe <= 1; probe++) {
        setenv("RNN_DIST_PROBE", probe ? "1" : "0", 1);
        Error e = {0, ""};
        hid_t f = -1;
        assert_int_equal(h5io_open_read(&f, path, &e), EXIT_USAGE);
        assert_string_equal(e.msg, want);
        assert_int_equal(h5io_probe(path, &e), EXIT_USAGE);
        assert_string_equal(e.msg, want);
        assert_int_equal(h5io_check_regular(path, &e), EXIT_USAGE);
        assert_string_equal(e.msg, want);
    }
    unsetenv("RNN_DIST_PROBE");
    alarm(0);
}

static void test_not_regular(void **state)
{
    const Dir *d = *state;
    char p[300];
    snprintf(p, sizeof p, "%s/fifo.h5", d->path);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_refused(p, "a FIFO");
    assert_refused(d->path, "a directory");
    assert_refused("/dev/null", "a character device");
    snprintf(p, sizeof p, "%s/sock", d->path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    assert_true(strlen(p) < sizeof addr.sun_path);
    memcpy(addr.sun_path, p, strlen(p) + 1);
    assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_refused(p, "a socket");
    close(s);
    /* a symbolic link is followed: to a FIFO it is refused as one */
    char link_path[300];
    snprintf(p, sizeof p, "%s/fifo.h5", d->path);
    snprintf(link_path, sizeof link_path, "%s/link.h5", d->path);
    assert_int_equal(symlink(p, link_path), 0);
    assert_refused(link_path, "a FIFO");
}

static void test_regular_and_missing(void **state)
{
    const Dir *d = *state;
    char p[300];
    snprintf(p, sizeof p, "%s/ok.h5", d->path);
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, p, &e), 0);
    assert_int_equal(h5io_write_attr_i64(f, "/", "x", 7), 0);
    assert_true(H5Fclose(f) >= 0);
    assert_int_equal(h5io_check_regular(p, &e), 0);
    assert_int_equal(h5io_open_read(&f, p, &e), 0);
    int64_t x = 0;
    assert_int_equal(h5io_read_attr_i64(&x, f, "/", "x"), 0);
    assert_int_equal(x, 7);
    H5Fclose(f);
    /* a missing file keeps its message */
    snprintf(p, sizeof p, "%s/missing.h5", d->path);
    assert_int_equal(h5io_open_read(&f, p, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "cannot open: No such file or directory"));
}

/* Reading rows. The file's datasets: f32 [NROWS, NCOL] float32 (contiguous),
 * f32c (the same, chunked with checksums), f64 (the same in float64) and i32
 * [NROWS] int32. In memory a row of the [., NCOL] ones is 12 bytes: gaps of
 * up to 65536 / 12 = 5461 rows are read through, a span covers under
 * 262144 / 12 = 21845 rows; an int32 row is 4 bytes: 16384 and 65536. */
#define NROWS 100000
#define NCOL 3
#define GAP12 5461
#define SPAN12 21845
#define GAP4 16384
#define SPAN4 65536

/* Calls of H5Dread and elements their memory spaces held since the last
 * reset. This definition stands in for HDF5's: the test binary's objects
 * call it, and it forwards to the library's. */
static size_t dread_calls;
static unsigned long long dread_elems;

herr_t H5Dread(hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id,
               hid_t dxpl_id, void *buf)
{
    typedef herr_t (*ReadFn)(hid_t, hid_t, hid_t, hid_t, hid_t, void *);
    static ReadFn real;
    if (!real) real = (ReadFn)dlsym(RTLD_NEXT, "H5Dread");
    if (!real) abort();
    dread_calls++;
    hssize_t np = mem_space_id == H5S_ALL ? 0 : H5Sget_select_npoints(mem_space_id);
    if (np > 0) dread_elems += (unsigned long long)np;
    return real(dset_id, mem_type_id, mem_space_id, file_space_id, dxpl_id, buf);
}

static float f32_value(size_t row, size_t col)
{
    return (float)(10 * row + col);
}

static int32_t i32_value(size_t row)
{
    return (int32_t)(7 * row) - 3;
}

/* The f64 dataset, written with HDF5's own calls (h5io writes float32). */
static void write_f64(hid_t f, const double *xd)
{
    hsize_t hd[2] = {NROWS, NCOL};
    hid_t sp = H5Screate_simple(2, hd, NULL);
    hid_t ds = H5Dcreate2(f, "f64", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, xd) >= 0);
    H5Dclose(ds);
    H5Sclose(sp);
}

/* d/rows.h5 with the datasets above, opened for reading. */
static hid_t rows_file(const Dir *d)
{
    char p[300];
    snprintf(p, sizeof p, "%s/rows.h5", d->path);
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, p, &e), 0);
    float *x = malloc(sizeof(float) * NROWS * NCOL);
    double *xd = malloc(sizeof(double) * NROWS * NCOL);
    int32_t *y = malloc(sizeof(int32_t) * NROWS);
    for (size_t r = 0; r < NROWS; r++) {
        for (size_t c = 0; c < NCOL; c++) xd[r * NCOL + c] = x[r * NCOL + c] = f32_value(r, c);
        y[r] = i32_value(r);
    }
    size_t dx[2] = {NROWS, NCOL}, dy[1] = {NROWS};
    assert_int_equal(h5io_write_f32(f, "f32", x, 2, dx, &e), 0);
    assert_int_equal(h5io_write_f32_checked(f, "f32c", x, 2, dx, &e), 0);
    assert_int_equal(h5io_write_i32(f, "i32", y, 1, dy, &e), 0);
    write_f64(f, xd);
    assert_true(H5Fclose(f) >= 0);
    free(x), free(xd), free(y);
    assert_int_equal(h5io_open_read(&f, p, &e), 0);
    return f;
}

/* What reading one list of rows took: H5Dread calls for the f32 and the i32
 * dataset, and the rows the f32 reads brought in (gaps read through count). */
typedef struct Reads {
    size_t f32_calls, i32_calls;
    unsigned long long f32_rows;
} Reads;

/* Read the rows row0 + rows[i], i < n, of every dataset of f and check every
 * value against the one written. */
static Reads read_and_check(hid_t f, size_t row0, const size_t *rows, size_t n)
{
    static const char *const names[] = {"f32", "f32c", "f64"};
    float *out = malloc(sizeof(float) * NCOL * (n ? n : 1));
    int32_t *iout = malloc(sizeof(int32_t) * (n ? n : 1));
    Reads r = {0, 0, 0};
    Error e = {0, ""};
    for (int d = 0; d < 3; d++) {
        dread_calls = 0, dread_elems = 0;
        assert_int_equal(h5io_read_f32_rows(out, f, names[d], row0, rows, n, "rows.h5", &e), 0);
        if (d == 0) r.f32_calls = dread_calls, r.f32_rows = dread_elems / NCOL;
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < NCOL; c++)
                if (out[i * NCOL + c] != f32_value(row0 + rows[i], c))
                    fail_msg("%s: row %zu col %zu read %g", names[d], row0 + rows[i], c,
                             (double)out[i * NCOL + c]);
    }
    dread_calls = 0;
    assert_int_equal(h5io_read_i32_rows(iout, f, "i32", row0, rows, n, "rows.h5", &e), 0);
    r.i32_calls = dread_calls;
    for (size_t i = 0; i < n; i++)
        if (iout[i] != i32_value(row0 + rows[i]))
            fail_msg("i32: row %zu read %d", row0 + rows[i], iout[i]);
    free(out), free(iout);
    return r;
}

/* Runs of `run` consecutive rows starting every `every` rows, `runs` of
 * them (malloc'd; *n rows). */
static size_t *runs_of(size_t run, size_t every, size_t runs, size_t *n)
{
    size_t *rows = malloc(sizeof(size_t) * run * runs);
    *n = 0;
    for (size_t r = 0; r < runs; r++)
        for (size_t i = 0; i < run; i++) rows[(*n)++] = r * every + i;
    return rows;
}

/* Reads the rule gives for rows[0..n): a span starts at a wanted row and
 * takes the next ones while the gap before each is at most `gap` rows and
 * it stays under `span` rows. */
static size_t spans(const size_t *rows, size_t n, size_t gap, size_t span)
{
    size_t count = 0;
    for (size_t i = 0; i < n; count++) {
        size_t j = i + 1;
        while (j < n && rows[j] - rows[j - 1] - 1 <= gap && rows[j] - rows[i] < span) j++;
        i = j;
    }
    return count;
}

/* Every row, and runs of rows: a run without gaps is read direct (exactly
 * its rows), a span at most 21845 rows; runs apart by more than the gap are
 * separate reads, runs closer are read through. */
static void test_rows_every_row_and_runs(void **state)
{
    hid_t f = rows_file(*state);
    size_t n;
    size_t *rows = runs_of(NROWS, NROWS, 1, &n);
    Reads r = read_and_check(f, 0, rows, NROWS);
    assert_int_equal(r.f32_calls, 5); /* 4 x 21845 + 12620 */
    assert_int_equal(r.f32_rows, NROWS);
    assert_int_equal(r.i32_calls, 2); /* 65536 + 34464 */
    r = read_and_check(f, 123, rows, NROWS - 123);
    assert_int_equal(r.f32_calls, 5);
    assert_int_equal(r.f32_rows, NROWS - 123);
    free(rows);
    for (size_t row0 = 0; row0 <= 77; row0 += 77) {
        /* 9 runs of 3000 rows, 7000 apart: over the f32 gap, under the i32 one */
        rows = runs_of(3000, 10000, 9, &n);
        r = read_and_check(f, row0, rows, n);
        assert_int_equal(r.f32_calls, 9);
        assert_int_equal(r.f32_rows, 9 * 3000);
        assert_int_equal(r.i32_calls, 2); /* runs 0-6 (under 65536 rows), 7-8 */
        free(rows);
        /* 90 runs of 100 rows, 900 apart: read through, 22 runs a span */
        rows = runs_of(100, 1000, 90, &n);
        r = read_and_check(f, row0, rows, n);
        assert_int_equal(r.f32_calls, 5);
        assert_true(r.f32_rows > n);
        free(rows);
    }
    H5Fclose(f);
}

/* Every k-th row, gaps of k - 1 rows just under, at and just over the gap
 * read through: under SPAN12 rows a span, 5 rows a read, 4, then one read
 * a row (only the rows wanted). The same for the int32 rows' gap. */
static void test_rows_gap_boundary(void **state)
{
    hid_t f = rows_file(*state);
    const struct {
        size_t step, per_read;
        int f32;
    } c[] = {{GAP12, 5, 1}, {GAP12 + 1, 4, 1}, {GAP12 + 2, 1, 1},
             {GAP4, 4, 0},  {GAP4 + 1, 4, 0},  {GAP4 + 2, 1, 0}};
    for (size_t row0 = 0; row0 <= 123; row0 += 123)
        for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
            size_t n = (NROWS - 1 - row0) / c[k].step + 1;
            size_t *rows = runs_of(1, c[k].step, n, &n);
            Reads r = read_and_check(f, row0, rows, n);
            size_t want = (n + c[k].per_read - 1) / c[k].per_read;
            assert_int_equal(c[k].f32 ? r.f32_calls : r.i32_calls, want);
            if (c[k].f32 && c[k].per_read == 1) assert_int_equal(r.f32_rows, n);
            if (c[k].f32 && c[k].per_read > 1) assert_true(r.f32_rows > n);
            free(rows);
        }
    H5Fclose(f);
}

/* Spans longer than the staging buffer: 45,000 rows with a gap of one row
 * every ten are read through in 3 spans (0-21844, 21845-43688, 43690-),
 * and a run of 30,000 rows in 2 direct reads. */
static void test_rows_longer_than_stage(void **state)
{
    hid_t f = rows_file(*state);
    size_t *rows = malloc(sizeof(size_t) * 50000), n = 0;
    for (size_t i = 0; i < 50000; i++)
        if (i % 10 != 9) rows[n++] = i;
    for (size_t row0 = 0; row0 <= 123; row0 += 123) {
        Reads r = read_and_check(f, row0, rows, n);
        assert_int_equal(r.f32_calls, 3);
        assert_int_equal(r.f32_rows, 21845 + 21844 + 6309);
    }
    for (size_t i = 0; i < 30000; i++) rows[i] = 5000 + i;
    Reads r = read_and_check(f, 9, rows, 30000);
    assert_int_equal(r.f32_calls, 2);
    assert_int_equal(r.f32_rows, 30000);
    free(rows);
    H5Fclose(f);
}

/* A fixed-seed generator (xorshift64). */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random subsets of rows, dense to sparse, from row 0 and row 999: every
 * value, and the reads the rule gives. */
static void test_rows_random_subsets(void **state)
{
    hid_t f = rows_file(*state);
    size_t *rows = malloc(sizeof(size_t) * NROWS);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    const uint64_t one_in[] = {2, 50, 3000, 30000};
    for (size_t row0 = 0; row0 <= 999; row0 += 999)
        for (size_t k = 0; k < sizeof one_in / sizeof one_in[0]; k++) {
            size_t n = 0;
            for (size_t i = 0; i < NROWS - row0; i++)
                if (next_rand(&seed) % one_in[k] == 0) rows[n++] = i;
            assert_true(n > 0);
            Reads r = read_and_check(f, row0, rows, n);
            assert_int_equal(r.f32_calls, spans(rows, n, GAP12, SPAN12));
            assert_int_equal(r.i32_calls, spans(rows, n, GAP4, SPAN4));
        }
    free(rows);
    H5Fclose(f);
}

/* A row past the end is refused before anything is read, naming the rows;
 * the last row is not; nrows = 0 reads nothing (whatever rows holds). */
static void test_rows_refused_and_empty(void **state)
{
    hid_t f = rows_file(*state);
    Error e = {0, ""};
    float out[2 * NCOL] = {-1, -1, -1, -1, -1, -1};
    int32_t iout[2] = {-1, -1};
    size_t past[2] = {0, NROWS - 5};
    dread_calls = 0;
    assert_int_equal(h5io_read_f32_rows(out, f, "f32", 5, past, 2, "rows.h5", &e), EXIT_USAGE);
    assert_string_equal(e.msg, "rows.h5: dataset 'f32' has 100000 rows, needed 100001");
    size_t far[2] = {3, NROWS + 9};
    assert_int_equal(h5io_read_i32_rows(iout, f, "i32", 0, far, 2, "rows.h5", &e), EXIT_USAGE);
    assert_string_equal(e.msg, "rows.h5: dataset 'i32' has 100000 rows, needed 100010");
    assert_int_equal(dread_calls, 0);
    assert_true(out[0] == -1 && iout[0] == -1);
    size_t last[1] = {NROWS - 6};
    assert_int_equal(h5io_read_f32_rows(out, f, "f32", 5, last, 1, "rows.h5", &e), 0);
    assert_true(out[2] == f32_value(NROWS - 1, 2));
    dread_calls = 0;
    out[0] = -1;
    assert_int_equal(h5io_read_f32_rows(out, f, "f32", 0, far, 0, "rows.h5", &e), 0);
    assert_int_equal(h5io_read_i32_rows(iout, f, "i32", NROWS + 1, far, 0, "rows.h5", &e), 0);
    assert_int_equal(h5io_read_f32_rows(out, f, "f64", 0, NULL, 0, "rows.h5", &e), 0);
    assert_int_equal(dread_calls, 0);
    assert_true(out[0] == -1 && iout[0] == -1);
    H5Fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_regular, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_regular_and_missing, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_rows_every_row_and_runs, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_rows_gap_boundary, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_rows_longer_than_stage, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_rows_random_subsets, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_rows_refused_and_empty, tu_dir_setup,
                                        tu_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
