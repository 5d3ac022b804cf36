/* test_dataset.c - reading datasets: group resolution, row ranges, type
 * conversion (int64 / float64 files), the time-major batches with T trimmed
 * to the longest length, target counts, optional targets. Streamed views
 * (dense inputs with per-step values, tokens with per-sequence classes):
 * batches equal to the resident view's and to the values written, the rows
 * a load keeps or replaces and their slots, dataset_hold_all. The refusal of
 * bad files is tested end to end by run_integration.sh (make_bad_inputs.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

/* The larger file: /train float32 inputs [BN, BT, BF], per-step float
 * targets [BN, BT, BO], lengths; /seq token inputs [BN, BT] and per-sequence
 * classes [BN], no lengths. Each value is a formula of its row (below). The
 * views opened are rows [VIEW0, VIEW0 + VIEWN). */
#define BN 300
#define BT 5
#define BF 3
#define BO 2
#define BV 50
#define BC 4
#define VIEW0 7
#define VIEWN 280

static char big_path[64];

static float big_x(size_t row, size_t t, size_t k)
{
    return (float)(1000 * row + 10 * t + k);
}

static float big_y(size_t row, size_t t, size_t o)
{
    return -(float)(100 * row + 2 * t + o);
}

static int32_t big_len(size_t row)
{
    return (int32_t)(1 + row % BT);
}

static int32_t big_token(size_t row, size_t t)
{
    return (int32_t)((3 * row + t) % BV);
}

static int32_t big_class(size_t row)
{
    return (int32_t)(row % BC);
}

/* /train of the larger file, under f. */
static int write_big_train(hid_t f, Error *e)
{
    float *x = malloc(sizeof(float) * BN * BT * BF), *y = malloc(sizeof(float) * BN * BT * BO);
    int32_t len[BN];
    for (size_t r = 0; r < BN; r++) {
        len[r] = big_len(r);
        for (size_t t = 0; t < BT; t++) {
            for (size_t k = 0; k < BF; k++) x[(r * BT + t) * BF + k] = big_x(r, t, k);
            for (size_t o = 0; o < BO; o++) y[(r * BT + t) * BO + o] = big_y(r, t, o);
        }
    }
    size_t dx[3] = {BN, BT, BF}, dy[3] = {BN, BT, BO}, dl[1] = {BN};
    hid_t g = h5io_group(f, "/train");
    int rc = h5io_write_f32(g, "inputs", x, 3, dx, e) ||
             h5io_write_f32(g, "targets", y, 3, dy, e) ||
             h5io_write_i32(g, "lengths", len, 1, dl, e);
    H5Gclose(g);
    free(x), free(y);
    return rc;
}

/* /seq of the larger file, under f. */
static int write_big_seq(hid_t f, Error *e)
{
    int32_t tok[BN * BT], cls[BN];
    for (size_t r = 0; r < BN; r++) {
        cls[r] = big_class(r);
        for (size_t t = 0; t < BT; t++) tok[r * BT + t] = big_token(r, t);
    }
    size_t dx[2] = {BN, BT}, dy[1] = {BN};
    hid_t g = h5io_group(f, "/seq");
    int rc = h5io_write_i32(g, "inputs", tok, 2, dx, e) ||
             h5io_write_i32(g, "targets", cls, 1, dy, e) ||
             h5io_write_attr_i64(f, "/seq", "vocab_size", BV) ||
             h5io_write_attr_i64(f, "/seq", "num_classes", BC);
    H5Gclose(g);
    return rc;
}

/* Write the larger file at big_path. */
static int setup_big(void)
{
    snprintf(big_path, sizeof big_path, "/tmp/rnn_ds_big_XXXXXX");
    int fd = mkstemp(big_path);
    if (fd < 0) return -1;
    close(fd);
    hid_t f;
    Error e = {0, ""};
    if (h5io_create(&f, big_path, &e)) return -1;
    int rc = write_big_train(f, &e) || write_big_seq(f, &e);
    H5Fclose(f);
    return rc ? -1 : 0;
}

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
    return setup_big();
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path) | unlink(big_path);
}

static void test_resolve(void **state)
{
    (void)state;
    char file[1024], group[256], spec[1100];
    Error e;
    assert_int_equal(
        dataset_resolve(file, sizeof file, group, sizeof group, path, ROLE_TRAIN, &e), 0);
    assert_string_equal(file, path);
    assert_string_equal(group, "/train");
    assert_int_equal(
        dataset_resolve(file, sizeof file, group, sizeof group, path, ROLE_VAL, &e), 0);
    assert_string_equal(group, "/val");
    assert_int_equal(
        dataset_resolve(file, sizeof file, group, sizeof group, path, ROLE_EVAL, &e), 0);
    assert_string_equal(group, "/val"); /* no /test: then /val */
    snprintf(spec, sizeof spec, "%s:val/", path);
    assert_int_equal(
        dataset_resolve(file, sizeof file, group, sizeof group, spec, ROLE_TRAIN, &e), 0);
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

/* The targets a mean is taken over: the lengths' sum for per-step targets,
 * T a row without lengths (none read then: the array is absent here), one
 * a row for per-sequence targets; O of them each for MSE. */
static void test_target_count(void **state)
{
    (void)state;
    Dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = 3;
    ds.T = 4;
    ds.O = 2;
    ds.kind = LOSS_CE;
    ds.target = TARGET_STEP;
    size_t rows[] = {2, 2, 0};
    assert_true(dataset_target_count(&ds, NULL, 0) == 3 * 4);
    assert_true(dataset_target_count(&ds, rows, 2) == 2 * 4);
    int32_t lengths[] = {1, 2, 3};
    ds.has_lengths = 1;
    ds.lengths = lengths;
    assert_true(dataset_target_count(&ds, NULL, 0) == 1 + 2 + 3);
    assert_true(dataset_target_count(&ds, rows, 3) == 3 + 3 + 1);
    ds.kind = LOSS_MSE;
    assert_true(dataset_target_count(&ds, rows, 3) == 2 * (3 + 3 + 1));
    ds.target = TARGET_LAST;
    assert_true(dataset_target_count(&ds, rows, 3) == 2 * 3);
    ds.kind = LOSS_CE;
    assert_true(dataset_target_count(&ds, NULL, 0) == 3);
}

/* A batch holds each row's inputs and per-step values, whatever their width
 * (dataset_batch.c copies the usual widths by constant-size copies). */
static void test_fill_widths(void **state)
{
    (void)state;
    const size_t widths[] = {1, 2, 3, 4, 5, 8, 9, 16, 17}, n = 5, T = 3;
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        const size_t W = widths[w];
        Dataset ds;
        memset(&ds, 0, sizeof ds);
        ds.input = INPUT_DENSE;
        ds.kind = LOSS_MSE;
        ds.target = TARGET_STEP;
        ds.has_targets = 1;
        ds.n = ds.total_rows = n;
        ds.T = (int)T;
        ds.F = ds.O = (int)W;
        int32_t lengths[] = {3, 3, 2, 3, 1};
        ds.lengths = lengths;
        ds.has_lengths = 1;
        ds.x = xalloc_floats(n * T * W);
        ds.y_value = xalloc_floats(n * T * W);
        for (size_t i = 0; i < n * T * W; i++) {
            ds.x[i] = (float)i;
            ds.y_value[i] = -(float)i;
        }
        size_t rows[] = {4, 1, 3};
        BatchBuf bb;
        memset(&bb, 0, sizeof bb);
        dataset_fill_batch(&bb, &ds, rows, 3);
        assert_int_equal(bb.b.T, 3);
        for (size_t t = 0; t < T; t++)
            for (size_t b = 0; b < 3; b++)
                for (size_t k = 0; k < W; k++) {
                    const size_t at = (t * 3 + b) * W + k, src = (rows[b] * T + t) * W + k;
                    assert_true(bb.b.x[at] == (float)src);
                    assert_true(bb.b.y_value[at] == -(float)src);
                }
        batchbuf_free(&bb);
        free(ds.x);
        free(ds.y_value);
    }
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

/* Every entry of a batch of the larger file is its formula of the row it
 * came from (sample), T the longest length. */
static void assert_batch_values(const Batch *b, const Dataset *ds)
{
    const size_t B = (size_t)b->B, T = (size_t)b->T;
    int32_t longest = 0;
    for (size_t i = 0; i < B; i++) {
        size_t row = b->sample[i];
        assert_int_equal(b->lengths[i], ds->input == INPUT_TOKENS ? BT : big_len(row));
        if (b->lengths[i] > longest) longest = b->lengths[i];
        if (ds->input == INPUT_TOKENS) assert_int_equal(b->y_class[i], big_class(row));
        for (size_t t = 0; t < T; t++) {
            if (ds->input == INPUT_TOKENS) {
                assert_int_equal(b->tokens[t * B + i], big_token(row, t));
                continue;
            }
            for (size_t k = 0; k < BF; k++)
                assert_true(b->x[(t * B + i) * BF + k] == big_x(row, t, k));
            for (size_t o = 0; o < BO; o++)
                assert_true(b->y_value[(t * B + i) * BO + o] == big_y(row, t, o));
        }
    }
    assert_int_equal(b->T, longest);
}

/* Batches a and b of ds's kind are equal field by field. */
static void assert_batch_equal(const Batch *a, const Batch *b, const Dataset *ds)
{
    assert_int_equal(a->B, b->B);
    assert_int_equal(a->T, b->T);
    const size_t B = (size_t)a->B, T = (size_t)a->T, F = (size_t)ds->F, O = (size_t)ds->O;
    const size_t per = ds->target == TARGET_STEP ? T : 1;
    assert_memory_equal(a->lengths, b->lengths, B * sizeof(int32_t));
    assert_memory_equal(a->sample, b->sample, B * sizeof(uint32_t));
    if (ds->input == INPUT_TOKENS)
        assert_memory_equal(a->tokens, b->tokens, T * B * sizeof(int32_t));
    else
        assert_memory_equal(a->x, b->x, T * B * F * sizeof(float));
    if (ds->kind == LOSS_CE)
        assert_memory_equal(a->y_class, b->y_class, per * B * sizeof(int32_t));
    else
        assert_memory_equal(a->y_value, b->y_value, per * B * O * sizeof(float));
}

/* The view of `group` of the larger file, resident (*rs) and streamed (*ss). */
static void open_both(Dataset *rs, Dataset *ss, const char *group)
{
    Error e = {0, ""};
    assert_int_equal(dataset_open(rs, big_path, group, VIEW0, VIEWN, 1, &e), 0);
    assert_int_equal(dataset_open_streamed(ss, big_path, group, VIEW0, VIEWN, 1, 0, VIEWN, &e),
                     0);
    assert_int_equal(ss->streamed, 1);
    assert_int_equal(ss->n_cached, 0);
}

/* Fill the batch of rows[0..count) from rs and from ss: equal, and right. */
static void compare_batch(Dataset *rs, Dataset *ss, const size_t *rows, int count)
{
    BatchBuf a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    dataset_fill_batch(&a, rs, rows, count);
    dataset_fill_batch(&b, ss, rows, count);
    assert_batch_equal(&a.b, &b.b, rs);
    assert_batch_values(&b.b, ss);
    batchbuf_free(&a);
    batchbuf_free(&b);
}

/* A shuffled list with repeats (400 draws of 280 rows), loaded into a
 * streamed view: its batches equal the resident view's without a read; a
 * batch with a row not held reads it (one reload) and is right too. */
static void test_streamed_equals_resident(void **state)
{
    (void)state;
    const char *groups[] = {"/train", "/seq"};
    uint64_t s = 88172645463325252u;
    for (int g = 0; g < 2; g++) {
        Dataset rs, ss;
        open_both(&rs, &ss, groups[g]);
        size_t list[400];
        for (size_t i = 0; i < 400; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            list[i] = (size_t)(s % VIEWN);
        }
        dataset_load(&ss, list, 400);
        for (size_t i = 0; i < 400; i += 50) compare_batch(&rs, &ss, list + i, 50);
        assert_int_equal(ss.reloads, 0);
        size_t miss[2] = {list[0], 0};
        while (dataset_slot(&ss, miss[1]) != SIZE_MAX) miss[1]++;
        assert_true(miss[1] < VIEWN);
        compare_batch(&rs, &ss, miss, 2);
        assert_int_equal(ss.reloads, 1);
        dataset_close(&ss);
        dataset_close(&rs);
    }
}

/* ds holds exactly the view rows want[0..n) (ascending), each in its slot
 * with its values; every other row has no slot. */
static void assert_holds(const Dataset *ds, const size_t *want, size_t n)
{
    assert_int_equal(ds->n_cached, n);
    assert_memory_equal(ds->cached, want, n * sizeof(size_t));
    size_t next = 0;
    for (size_t r = 0; r < ds->n; r++) {
        size_t slot = dataset_slot(ds, r);
        if (next < n && want[next] == r) {
            assert_int_equal(slot, next++);
            assert_true(ds->x[slot * BT * BF + 1] == big_x(VIEW0 + r, 0, 1));
        } else {
            assert_int_equal(slot, SIZE_MAX);
        }
    }
}

/* A load of rows already held reads nothing; one row more replaces the
 * cache by the new list's distinct rows: a list of 3 (under VIEWN / 64) is
 * sorted by qsort, one of 5 through the bitmap. */
static void test_load_keeps_or_replaces(void **state)
{
    (void)state;
    Dataset rs, ss;
    open_both(&rs, &ss, "/train");
    size_t first[300], held[150];
    for (size_t i = 0; i < 300; i++) first[i] = i * 7 % 150; /* 0..149 twice, shuffled */
    for (size_t i = 0; i < 150; i++) held[i] = i;
    dataset_load(&ss, first, 300);
    assert_holds(&ss, held, 150);
    const float mark = -12345.0f;
    ss.x[0] = mark; /* a read of row 0 again would overwrite it */
    size_t subset[5] = {149, 3, 3, 77, 0};
    dataset_load(&ss, subset, 5);
    assert_int_equal(ss.n_cached, 150);
    assert_memory_equal(ss.cached, held, sizeof held);
    assert_true(ss.x[0] == mark);
    size_t few[3] = {200, 5, 200}, few_rows[2] = {5, 200};
    dataset_load(&ss, few, 3);
    assert_holds(&ss, few_rows, 2);
    size_t more[5] = {200, 9, 5, 200, 9}, more_rows[3] = {5, 9, 200};
    dataset_load(&ss, more, 5);
    assert_holds(&ss, more_rows, 3);
    assert_int_equal(ss.reloads, 0);
    dataset_close(&ss);
    dataset_close(&rs);
}

/* Files HDF5 has open in this process. */
static ssize_t open_files(void)
{
    return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
}

/* hold_all makes a streamed view resident: equal to dataset_open's, each
 * row in its own slot, the file closed; on a resident view it does
 * nothing. */
static void test_hold_all(void **state)
{
    (void)state;
    const char *groups[] = {"/train", "/seq"};
    for (int g = 0; g < 2; g++) {
        Dataset rs, ss;
        Error e = {0, ""};
        open_both(&rs, &ss, groups[g]);
        size_t some[3] = {4, 100, 4};
        dataset_load(&ss, some, 3);
        assert_int_equal(open_files(), 1);
        assert_int_equal(dataset_hold_all(&ss, &e), 0);
        assert_int_equal(ss.streamed, 0);
        assert_int_equal(open_files(), 0);
        const size_t n = VIEWN, T = BT, per = ss.target == TARGET_STEP ? T : 1;
        for (size_t r = 0; r < n; r++) assert_int_equal(dataset_slot(&ss, r), r);
        assert_memory_equal(ss.lengths, rs.lengths, n * sizeof(int32_t));
        if (ss.input == INPUT_TOKENS)
            assert_memory_equal(ss.tokens, rs.tokens, n * T * sizeof(int32_t));
        else
            assert_memory_equal(ss.x, rs.x, n * T * BF * sizeof(float));
        if (ss.kind == LOSS_CE)
            assert_memory_equal(ss.y_class, rs.y_class, n * per * sizeof(int32_t));
        else
            assert_memory_equal(ss.y_value, rs.y_value, n * per * BO * sizeof(float));
        size_t rows[4] = {249, 0, 17, 0};
        compare_batch(&rs, &ss, rows, 4);
        dataset_close(&ss);
        const void *x = rs.x, *tokens = rs.tokens;
        assert_int_equal(dataset_hold_all(&rs, &e), 0);
        assert_int_equal(rs.streamed, 0);
        assert_ptr_equal(rs.x, x);
        assert_ptr_equal(rs.tokens, tokens);
        compare_batch(&rs, &rs, rows, 4);
        dataset_close(&rs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_open_and_batch),
        cmocka_unit_test(test_target_count),
        cmocka_unit_test(test_fill_widths),
        cmocka_unit_test(test_targets_optional),
        cmocka_unit_test(test_streamed_equals_resident),
        cmocka_unit_test(test_load_keeps_or_replaces),
        cmocka_unit_test(test_hold_all),
    };
    return cmocka_run_group_tests_name("dataset", tests, setup, teardown);
}
