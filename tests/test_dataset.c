/* test_dataset.c - reading datasets: group resolution, row ranges, type
 * conversion (int64 / float64 files), the time-major batches with T trimmed
 * to the longest length, target counts, optional targets. The refusal of bad
 * files is tested end to end by run_integration.sh (make_bad_inputs.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dataset.h"
#include "h5io.h"

#define NR 5
#define NT 4
#define NF 2

static char path[64];

/* A file with /train (float64 inputs, int64 per-step classes, lengths) and
 * /val, plus attributes on the root. */
static int setup(void **state)
{
    (void)state;
    h5io_init();
    snprintf(path, sizeof path, "/tmp/rnn_ds_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    double x[NR][NT][NF];
    long long y[NR][NT];
    int len[NR] = {4, 2, 3, 1, 2};
    for (int i = 0; i < NR; i++)
        for (int t = 0; t < NT; t++) {
            for (int k = 0; k < NF; k++) x[i][t][k] = 100 * i + 10 * t + k;
            y[i][t] = (i + t) % 3;
        }
    hsize_t dx[3] = {NR, NT, NF}, dy[2] = {NR, NT}, dl[1] = {NR};
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const char *groups[] = {"/train", "/val"};
    for (int g = 0; g < 2; g++) {
        char name[64];
        hid_t sp = H5Screate_simple(3, dx, NULL);
        snprintf(name, sizeof name, "%s/inputs", groups[g]);
        hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
        H5Dclose(d);
        H5Sclose(sp);
        sp = H5Screate_simple(2, dy, NULL);
        snprintf(name, sizeof name, "%s/targets", groups[g]);
        d = H5Dcreate2(f, name, H5T_STD_I64LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, y);
        H5Dclose(d);
        H5Sclose(sp);
        sp = H5Screate_simple(1, dl, NULL);
        snprintf(name, sizeof name, "%s/lengths", groups[g]);
        d = H5Dcreate2(f, name, H5T_STD_I32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, len);
        H5Dclose(d);
        H5Sclose(sp);
    }
    H5Pclose(lcpl);
    h5io_write_attr_i64(f, "/", "num_classes", 3);
    h5io_write_attr_str(f, "/train", "description", "a test set");
    H5Fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path);
}

static void test_resolve(void **state)
{
    (void)state;
    char file[1024], group[256], spec[1100];
    Error e;
    assert_int_equal(dataset_resolve(file, sizeof file, group, sizeof group, path, ROLE_TRAIN, &e), 0);
    assert_string_equal(file, path);
    assert_string_equal(group, "/train");
    assert_int_equal(dataset_resolve(file, sizeof file, group, sizeof group, path, ROLE_VAL, &e), 0);
    assert_string_equal(group, "/val");
    assert_int_equal(dataset_resolve(file, sizeof file, group, sizeof group, path, ROLE_EVAL, &e), 0);
    assert_string_equal(group, "/val"); /* no /test: then /val */
    snprintf(spec, sizeof spec, "%s:val/", path);
    assert_int_equal(dataset_resolve(file, sizeof file, group, sizeof group, spec, ROLE_TRAIN, &e), 0);
    assert_string_equal(group, "/val");
    assert_int_equal(dataset_resolve(file, sizeof file, group, sizeof group, "/nonexistent.h5",
                                     ROLE_TRAIN, &e),
                     EXIT_USAGE);
    assert_non_null(strstr(e.msg, "/nonexistent.h5: cannot open"));
}

static void test_open_and_batch(void **state)
{
    (void)state;
    Dataset ds;
    Error e;
    assert_int_equal(dataset_open(&ds, path, "/train", 1, 3, 1, &e), 0); /* rows 1..3 */
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.total_rows, NR);
    assert_int_equal(ds.input, INPUT_DENSE);
    assert_int_equal(ds.kind, LOSS_CE);
    assert_int_equal(ds.target, TARGET_STEP);
    assert_int_equal(ds.O, 3);
    assert_string_equal(ds.description, "a test set");
    assert_true(dataset_target_count(&ds, NULL, 0) == 2 + 3 + 1);
    /* view rows 2 and 0 = file rows 3 and 1, lengths 1 and 2: NT trims to 2 */
    size_t rows[2] = {2, 0};
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    dataset_fill_batch(&bb, &ds, rows, 2);
    assert_int_equal(bb.b.B, 2);
    assert_int_equal(bb.b.T, 2);
    assert_int_equal(bb.b.sample[0], 3);
    assert_int_equal(bb.b.sample[1], 1);
    assert_int_equal(bb.b.lengths[0], 1);
    assert_int_equal(bb.b.lengths[1], 2);
    /* x[t, b, k] = 100 * file_row + 10 t + k */
    for (int t = 0; t < 2; t++)
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < NF; k++) {
                int row = b == 0 ? 3 : 1;
                assert_true(bb.b.x[(t * 2 + b) * NF + k] == (float)(100 * row + 10 * t + k));
            }
    assert_int_equal(bb.b.y_class[1 * 2 + 1], (1 + 1) % 3); /* t = 1, b = 1 (row 1) */
    batchbuf_free(&bb);
    dataset_close(&ds);
    /* a range past the end is refused */
    assert_int_equal(dataset_open(&ds, path, "/train", 4, 3, 1, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "cannot take rows 4..6"));
}

static void test_targets_optional(void **state)
{
    (void)state;
    Dataset ds;
    Error e;
    assert_int_equal(dataset_open(&ds, path, "/val", 0, 0, 0, &e), 0);
    assert_int_equal(ds.has_targets, 1); /* present: read */
    dataset_close(&ds);
    assert_int_equal(dataset_open(&ds, path, "/nogroup", 0, 0, 0, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "group '/nogroup' is missing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_open_and_batch),
        cmocka_unit_test(test_targets_optional),
    };
    return cmocka_run_group_tests_name("dataset", tests, setup, teardown);
}
