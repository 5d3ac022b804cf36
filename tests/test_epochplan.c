/* test_epochplan.c - the epoch plan: the rank split covers every row once,
 * the global batches of training cover the epoch's permutation, and the
 * read-ahead predicts exactly the rows each step uses (a streamed dataset
 * never has to reload a batch: Dataset.reloads stays 0), for both splits,
 * several rank counts and batch sizes, and a pass resumed mid-way; the
 * window set in bytes (epochplan_set_window) becomes steps, a window of the
 * whole pass reads the pass's rows once, and the next pass's order and
 * first window made ahead are taken by that pass only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataset.h"
#include "epochplan.h"
#include "h5io.h"
#include "testutil.h"

/* Rows big enough that a read-ahead window (DATASET_WINDOW_BYTES) holds
 * only part of a pass: 32 KiB a row, 256 rows a window. */
#define NROWS 700
#define NT 32
#define NF 256

static void share_covers_each_once(void **state)
{
    (void)state;
    const size_t counts[] = {0, 1, 5, 7, 64, 1001};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (int ranks = 1; ranks <= 9; ranks++) {
            size_t next = 0;
            for (int r = 0; r < ranks; r++) {
                size_t lo, hi;
                epochplan_share(&lo, &hi, counts[c], r, ranks);
                assert_int_equal(lo, next);
                assert_true(hi >= lo && hi - lo <= counts[c] / (size_t)ranks + 1);
                next = hi;
            }
            assert_int_equal(next, counts[c]);
        }
}

/* Training: each global batch is split over the ranks with nothing lost or
 * repeated, and the batches of an epoch are a permutation of the rows that
 * depends on (seed, epoch). */
static void batches_cover_the_epoch(void **state)
{
    (void)state;
    const size_t n = 103;
    int *seen = calloc(n, sizeof(int));
    size_t first[2] = {0, 0};
    for (int epoch = 1; epoch <= 2; epoch++) {
        memset(seen, 0, n * sizeof(int));
        for (int ranks = 1; ranks <= 4; ranks++)
            for (int r = 0; r < ranks; r++) {
                EpochPlan p;
                epochplan_init(&p, PLAN_SPLIT_BATCH, n, 10, r, ranks, 4);
                assert_int_equal(p.steps, 11);
                epochplan_begin(&p, 42, epoch, 1);
                if (ranks == 1) first[epoch - 1] = p.order[0];
                Dataset resident;
                memset(&resident, 0, sizeof resident);
                for (int64_t k = 0; k < p.steps; k++) {
                    PlanBatch b = epochplan_batch(&p, &resident, k);
                    assert_int_equal(b.count_all, k < 10 ? 10 : 3);
                    assert_ptr_equal(b.all, p.order + k * 10);
                    assert_true(b.mine >= b.all && b.mine + b.count <= b.all + b.count_all);
                    for (size_t i = 0; i < b.count; i++) seen[b.mine[i]] += 1;
                    /* the rows a step prefetches for the next are that step's */
                    PlanBatch a = epochplan_ahead(&p, k);
                    assert_ptr_equal(a.mine, b.mine);
                    assert_int_equal(a.count, b.count);
                }
                /* nothing past the pass */
                assert_int_equal(epochplan_ahead(&p, p.steps).count, 0);
                assert_int_equal(epochplan_ahead(&p, -1).count, 0);
                epochplan_free(&p);
            }
        /* every row once per rank count (1 + 2 + 3 + 4 ranks: 4 passes) */
        for (size_t i = 0; i < n; i++) assert_int_equal(seen[i], 4);
    }
    free(seen);
    /* another epoch, another order (one chance in 103 to start alike) */
    assert_int_not_equal(first[0], first[1]);
}

static void write_file(const char *path)
{
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, path, &e), 0);
    float *x = malloc(sizeof(float) * NROWS * NT * NF), *y = malloc(sizeof(float) * NROWS);
    for (size_t i = 0; i < (size_t)NROWS * NT * NF; i++) x[i] = (float)(i % 1000) / 1000.0f;
    for (size_t i = 0; i < NROWS; i++) y[i] = (float)i;
    size_t dx[3] = {NROWS, NT, NF}, dy[2] = {NROWS, 1};
    assert_int_equal(h5io_write_f32(f, "inputs", x, 3, dx, &e), 0);
    assert_int_equal(h5io_write_f32(f, "targets", y, 2, dy, &e), 0);
    H5Fclose(f);
    free(x);
    free(y);
}

/* path = dir's big.h5, written by write_file. */
static void big_file(char *path, size_t len, const TuDir *dir)
{
    snprintf(path, len, "%s/big.h5", dir->path);
    write_file(path);
}

/* Every step of one pass: the batch holds the rows the plan named (each
 * row's target is its index), and nothing had to be reloaded. */
static void run_pass(Dataset *ds, EpochPlan *p, int64_t from)
{
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    for (int64_t k = from; k < p->steps; k++) {
        PlanBatch b = epochplan_batch(p, ds, k);
        if (b.count == 0) continue;
        dataset_fill_batch(&bb, ds, b.mine, (int)b.count);
        for (size_t i = 0; i < b.count; i++)
            assert_true(bb.b.y_value[i] == (float)(ds->row0 + b.mine[i]));
    }
    batchbuf_free(&bb);
    assert_int_equal(ds->reloads, 0);
}

static void read_ahead_never_misses(void **state)
{
    char path[300];
    big_file(path, sizeof path, *state);
    const int batches[] = {1, 7, 64, 300};
    const size_t row0 = 50, n = NROWS - 50;
    for (int split = 0; split < 2; split++)
        for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++)
            for (int ranks = 1; ranks <= 3; ranks++)
                for (int r = 0; r < ranks; r++) {
                    Dataset ds;
                    Error e = {0, ""};
                    assert_int_equal(dataset_open_streamed(&ds, path, "/", row0, n, 1, 0, 0, &e),
                                     0);
                    EpochPlan p;
                    epochplan_init(&p, split ? PLAN_SPLIT_ROWS : PLAN_SPLIT_BATCH, n,
                                   batches[bi], r, ranks, dataset_row_bytes(&ds));
                    if (ranks == 1 && batches[bi] < 64) assert_true(p.window < p.steps);
                    epochplan_begin(&p, 7, 1, !split);
                    run_pass(&ds, &p, 0);
                    /* a resumed pass starts mid-way, in another epoch */
                    epochplan_begin(&p, 7, 2, !split);
                    run_pass(&ds, &p, p.steps / 2);
                    epochplan_free(&p);
                    dataset_close(&ds);
                }
}

/* The counter the test above relies on does count: rows that were not read
 * ahead are a reload. */
static void a_miss_is_counted(void **state)
{
    char path[300];
    big_file(path, sizeof path, *state);
    Dataset ds;
    Error e = {0, ""};
    assert_int_equal(dataset_open_streamed(&ds, path, "/", 0, NROWS, 1, 0, 0, &e), 0);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_ROWS, NROWS, 10, 0, 1, dataset_row_bytes(&ds));
    PlanBatch b = epochplan_batch(&p, &ds, 0);
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    dataset_fill_batch(&bb, &ds, b.mine, (int)b.count);
    assert_int_equal(ds.reloads, 0);
    size_t far[2] = {NROWS - 2, NROWS - 1};
    dataset_fill_batch(&bb, &ds, far, 2);
    assert_int_equal(ds.reloads, 1);
    batchbuf_free(&bb);
    epochplan_free(&p);
    dataset_close(&ds);
}

/* epochplan_set_window: the window in steps is window_bytes over the bytes
 * a step reads on this rank (row_bytes times ceil(batch / ranks) for
 * SPLIT_BATCH, times batch for SPLIT_ROWS), at least 1; what was held is
 * forgotten. */
static void window_in_steps(void **state)
{
    (void)state;
    const struct {
        PlanSplit split;
        size_t bytes;
        int64_t steps;
    } c[] = {{PLAN_SPLIT_BATCH, 4000, 10}, {PLAN_SPLIT_BATCH, 4399, 10},
             {PLAN_SPLIT_BATCH, 4400, 11}, {PLAN_SPLIT_BATCH, 399, 1},
             {PLAN_SPLIT_BATCH, 0, 1},     {PLAN_SPLIT_ROWS, 4000, 4},
             {PLAN_SPLIT_ROWS, 4999, 4},   {PLAN_SPLIT_ROWS, 999, 1}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        EpochPlan p; /* 10 rows a step, 3 ranks: 4 rows a step (SPLIT_BATCH) */
        epochplan_init(&p, c[i].split, 1000, 10, 2, 3, 100);
        assert_int_equal(p.window, DATASET_WINDOW_BYTES / (c[i].split ? 1000 : 400));
        Dataset resident;
        memset(&resident, 0, sizeof resident);
        epochplan_batch(&p, &resident, 0);
        assert_true(p.held_to > 0);
        epochplan_set_window(&p, 100, c[i].bytes);
        assert_int_equal(p.window, c[i].steps);
        assert_int_equal(p.held_from, 0);
        assert_int_equal(p.held_to, 0);
        epochplan_free(&p);
    }
}

/* Rows this rank computes in a pass of p (nothing read: a resident view). */
static size_t rows_of_pass(EpochPlan *p)
{
    Dataset resident;
    memset(&resident, 0, sizeof resident);
    size_t n = 0;
    for (int64_t k = 0; k < p->steps; k++) n += epochplan_batch(p, &resident, k).count;
    return n;
}

/* A window covering the whole pass reads this rank's rows once (rank 1 of
 * 2, 30 rows a step: the default window holds part of the pass): after the
 * first step the held range is the whole pass and the cache holds all the
 * rank's rows; they are marked in memory (target -1 - row), and every later
 * batch still has the marks: nothing was read again, nothing reloaded. */
static void whole_pass_window_reads_once(void **state)
{
    char path[300];
    big_file(path, sizeof path, *state);
    for (int split = 0; split < 2; split++) {
        Dataset ds;
        Error e = {0, ""};
        assert_int_equal(dataset_open_streamed(&ds, path, "/", 5, NROWS - 5, 1, 0, 0, &e), 0);
        const size_t rb = dataset_row_bytes(&ds), per = split ? 30 : 15;
        EpochPlan p;
        epochplan_init(&p, split ? PLAN_SPLIT_ROWS : PLAN_SPLIT_BATCH, ds.n, 30, 1, 2, rb);
        assert_true(p.window < p.steps);
        epochplan_set_window(&p, rb, (size_t)p.steps * per * rb);
        assert_int_equal(p.window, p.steps);
        epochplan_begin(&p, 3, 1, !split);
        const size_t mine = rows_of_pass(&p);
        epochplan_begin(&p, 3, 1, !split);
        BatchBuf bb;
        memset(&bb, 0, sizeof bb);
        for (int64_t k = 0; k < p.steps; k++) {
            PlanBatch b = epochplan_batch(&p, &ds, k);
            assert_int_equal(p.held_from, 0);
            assert_int_equal(p.held_to, p.steps);
            if (k == 0) {
                assert_int_equal(ds.n_cached, mine);
                for (size_t s = 0; s < ds.n_cached; s++)
                    ds.y_value[s] = -1.0f - (float)(ds.row0 + ds.cached[s]);
            }
            dataset_fill_batch(&bb, &ds, b.mine, (int)b.count);
            for (size_t i = 0; i < b.count; i++)
                assert_true(bb.b.y_value[i] == -1.0f - (float)(ds.row0 + b.mine[i]));
        }
        assert_int_equal(ds.reloads, 0);
        batchbuf_free(&bb);
        epochplan_free(&p);
        dataset_close(&ds);
    }
}

/* Mark every row ds holds in memory (its target becomes -1 - row), so that
 * a batch shows which of its rows were never read again. */
static void mark_held(Dataset *ds)
{
    for (size_t s = 0; s < ds->n_cached; s++)
        ds->y_value[s] = -1.0f - (float)(ds->row0 + ds->cached[s]);
}

/* The steps [from, steps) of p's pass: the batches of the steps before
 * marked_to carry mark_held's marks, the others the file's values; nothing
 * is reloaded. */
static void check_marks(Dataset *ds, EpochPlan *p, int64_t from, int64_t marked_to)
{
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    for (int64_t k = from; k < p->steps; k++) {
        PlanBatch b = epochplan_batch(p, ds, k);
        dataset_fill_batch(&bb, ds, b.mine, (int)b.count);
        for (size_t i = 0; i < b.count; i++) {
            const float row = (float)(ds->row0 + b.mine[i]);
            assert_true(bb.b.y_value[i] == (k < marked_to ? -1.0f - row : row));
        }
    }
    assert_int_equal(ds->reloads, 0);
    batchbuf_free(&bb);
}

/* ds = path's rows from 5 on, streamed; p and fresh: plans of its passes
 * as rank 1 of 2, 30 rows a step (p's window holds part of a pass). */
static void open_plans(Dataset *ds, EpochPlan *p, EpochPlan *fresh, const char *path)
{
    Error e = {0, ""};
    assert_int_equal(dataset_open_streamed(ds, path, "/", 5, NROWS - 5, 1, 0, 0, &e), 0);
    epochplan_init(p, PLAN_SPLIT_BATCH, ds->n, 30, 1, 2, dataset_row_bytes(ds));
    epochplan_init(fresh, PLAN_SPLIT_BATCH, ds->n, 30, 1, 2, dataset_row_bytes(ds));
}

/* The next pass made ahead (epochplan_read_next, as the batch helper does
 * at a pass's end): epochplan_begin of the next epoch takes its order (the
 * one a plan computes itself) and finds its first window held: the rows
 * read ahead, marked in memory, are never read again; a begin of another
 * epoch, seed or shuffle ignores it and reads its own rows. */
static void next_pass_read_ahead(void **state)
{
    char path[300];
    big_file(path, sizeof path, *state);
    for (int variant = 0; variant < 4; variant++) {
        Dataset ds;
        Error e = {0, ""};
        EpochPlan p, fresh;
        open_plans(&ds, &p, &fresh, path);
        assert_true(p.window > 1 && p.window < p.steps);
        epochplan_begin(&p, 3, 1, 1);
        run_pass(&ds, &p, 0);
        assert_int_equal(epochplan_read_next(&p, &ds, &e), 0);
        assert_int_equal(p.held_to, 0); /* ds holds the next pass's rows now */
        mark_held(&ds);
        /* variant 0: the next epoch as made; 1-3: another epoch, seed, shuffle */
        const int64_t epoch = variant == 1 ? 3 : 2;
        const uint64_t seed = variant == 2 ? 4 : 3;
        const int shuffle = variant != 3;
        epochplan_begin(&p, seed, epoch, shuffle);
        epochplan_begin(&fresh, seed, epoch, shuffle);
        assert_memory_equal(p.order, fresh.order, ds.n * sizeof(size_t));
        assert_int_equal(p.held_to, variant == 0 ? p.window : 0);
        check_marks(&ds, &p, 0, variant == 0 ? p.window : 0);
        epochplan_free(&fresh);
        epochplan_free(&p);
        dataset_close(&ds);
    }
}

/* A pass begun ahead (epochplan_begin_at, as training does at start, here
 * at step 3 as a resumed epoch): the epochplan_begin that starts the same
 * pass keeps its order and the window read (marked rows, never read
 * again); a begin of another epoch or seed starts afresh and reads its own
 * rows; a second begin of the pass starts afresh too (nothing counted held;
 * the window's rows, still in the dataset, are found there). */
static void begun_ahead_goes_on(void **state)
{
    char path[300];
    big_file(path, sizeof path, *state);
    const int64_t k0 = 3;
    for (int variant = 0; variant < 4; variant++) {
        Dataset ds;
        Error e = {0, ""};
        EpochPlan p, fresh;
        open_plans(&ds, &p, &fresh, path);
        assert_true(p.window > 1 && k0 + p.window < p.steps);
        assert_int_equal(epochplan_begin_at(&p, &ds, 3, 1, 1, k0, &e), 0);
        assert_int_equal(p.held_from, k0);
        assert_int_equal(p.held_to, k0 + p.window);
        mark_held(&ds);
        /* variant 0: the pass begun; 1, 2: another epoch, seed; 3: begun twice */
        const int64_t epoch = variant == 1 ? 2 : 1;
        const uint64_t seed = variant == 2 ? 4 : 3;
        epochplan_begin(&p, seed, epoch, 1);
        if (variant == 3) epochplan_begin(&p, seed, epoch, 1);
        epochplan_begin(&fresh, seed, epoch, 1);
        assert_memory_equal(p.order, fresh.order, ds.n * sizeof(size_t));
        assert_int_equal(p.held_to, variant == 0 ? k0 + p.window : 0);
        check_marks(&ds, &p, k0, variant == 0 || variant == 3 ? k0 + p.window : 0);
        epochplan_free(&fresh);
        epochplan_free(&p);
        dataset_close(&ds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(share_covers_each_once),
        cmocka_unit_test(batches_cover_the_epoch),
        cmocka_unit_test_setup_teardown(read_ahead_never_misses, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(a_miss_is_counted, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test(window_in_steps),
        cmocka_unit_test_setup_teardown(next_pass_read_ahead, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(begun_ahead_goes_on, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(whole_pass_window_reads_once, tu_dir_setup,
                                        tu_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
