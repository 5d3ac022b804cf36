/* test_datahold.c - how much data a training rank holds (datahold.h): the
 * plan for hand-made datasets of 1000-byte rows under rooms of every size
 * (the whole view when it fits half the room, else a window of an epoch's
 * share or of what the budget allows, at least DATASET_WINDOW_BYTES; 1 GiB
 * when no limit is known), the validation share only when it fits what is
 * left and only for a streamed validation set, the line describing each
 * plan, the ring of a helper thread; then the plan carried out on a small
 * file: the view read whole, or the read-ahead window set in steps, and the
 * validation share loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datahold.h"
#include "dataset.h"
#include "epochplan.h"
#include "h5io.h"
#include "memest.h"
#include "testutil.h"

/* Rows of 1000 bytes: T = 10 steps of 24 floats, a class target a step. */
#define RB 1000
#define TRAIN_N 100000
#define VAL_N 10000
#define BATCH 66
#define RANKS 4
#define RANK 1
/* Of the plan above: 1516 steps of 17 rows a rank (66 / 4 rounded up), 32
 * bytes of index a row; this rank's validation rows 2500..4999 with 8
 * bytes of index each. */
#define SHARE ((uint64_t)1516 * 17 * (RB + MEMEST_ROW_OVERHEAD))
#define VAL_BYTES ((uint64_t)2500 * (RB + sizeof(size_t)))
#define ALL ((uint64_t)TRAIN_N * RB)

/* A dataset of n streamed rows of 1000 bytes, opened on nothing. */
static Dataset fake(size_t n, int T, int F)
{
    Dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n = n;
    ds.T = T;
    ds.F = F;
    ds.input = INPUT_DENSE;
    ds.kind = LOSS_CE;
    ds.target = TARGET_STEP;
    ds.O = 3;
    ds.has_targets = 1;
    ds.streamed = 1;
    return ds;
}

/* The plan for the training set above (and val when given) under room;
 * feed: with a helper thread. */
static DataHold plan_feed(uint64_t room, const Dataset *val, int feed)
{
    Dataset train = fake(TRAIN_N, 10, 24);
    assert_int_equal(dataset_row_bytes(&train), RB);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_BATCH, TRAIN_N, BATCH, RANK, RANKS, RB);
    assert_int_equal(p.steps, 1516);
    DataHold h = datahold_plan(room, &train, &p, val, feed);
    epochplan_free(&p);
    return h;
}

static DataHold plan_for(uint64_t room, const Dataset *val)
{
    return plan_feed(room, val, 0);
}

/* datahold_describe's line for h (training set above) contains `want`,
 * and says "validation" only when val is given. */
static void assert_describes(const DataHold *h, const Dataset *val, const char *want)
{
    Dataset train = fake(TRAIN_N, 10, 24);
    char line[512];
    datahold_describe(line, sizeof line, h, &train, val);
    if (!strstr(line, want)) fail_msg("\"%s\" lacks \"%s\"", line, want);
    assert_true(strncmp(line, "data: ", 6) == 0);
    assert_int_equal(strstr(line, "validation") != NULL, val != NULL);
}

/* The whole view when it fits half the room; one byte less and it does not. */
static void whole_view_when_it_fits(void **state)
{
    (void)state;
    DataHold h = plan_for(2 * ALL, NULL);
    assert_int_equal(h.budget, ALL);
    assert_int_equal(h.train_all, 1);
    assert_int_equal(h.held, ALL);
    assert_int_equal(h.epoch_share, 0);
    assert_int_equal(h.val_share, 0);
    assert_describes(&h, NULL, "training rows held in memory");
    h = plan_for(2 * ALL - 2, NULL);
    assert_int_equal(h.train_all, 0);
    assert_int_equal(h.epoch_share, 1);
    assert_int_equal(h.window_bytes, SHARE);
}

/* An epoch's share when the view does not fit but the share does; a window
 * of the budget when the share does not; DATASET_WINDOW_BYTES at least. */
static void window_by_budget(void **state)
{
    (void)state;
    assert_true(SHARE > DATASET_WINDOW_BYTES && 2 * SHARE < 2 * ALL);
    DataHold h = plan_for(120000000, NULL);
    assert_int_equal(h.train_all, 0);
    assert_int_equal(h.epoch_share, 1);
    assert_int_equal(h.window_bytes, SHARE);
    assert_int_equal(h.held, SHARE);
    assert_describes(&h, NULL, "each epoch's training rows read in one sorted pass");
    h = plan_for((uint64_t)32 << 20, NULL);
    assert_int_equal(h.epoch_share, 0);
    assert_int_equal(h.window_bytes, (size_t)16 << 20);
    assert_describes(&h, NULL, "16 MiB at a time");
    h = plan_for(2 * (uint64_t)DATASET_WINDOW_BYTES + 2, NULL);
    assert_int_equal(h.epoch_share, 0);
    assert_int_equal(h.window_bytes, DATASET_WINDOW_BYTES + 1);
    const uint64_t tiny[] = {0, 1 << 20, 2 * (uint64_t)DATASET_WINDOW_BYTES};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        h = plan_for(tiny[i], NULL);
        assert_int_equal(h.train_all, 0);
        assert_int_equal(h.epoch_share, 0);
        assert_int_equal(h.window_bytes, DATASET_WINDOW_BYTES);
        assert_int_equal(h.held, DATASET_WINDOW_BYTES);
        assert_describes(&h, NULL, "at a time");
    }
}

/* With a helper thread: its ring is 1 MiB, unless windows are read while
 * training (more than one a pass): then a third of the window's room, at
 * least half of DATASET_WINDOW_BYTES, taken from the window and held. */
static void ring_for_a_helper(void **state)
{
    (void)state;
    const size_t mib = (size_t)1 << 20;
    DataHold h = plan_feed(2 * ALL, NULL, 1);
    assert_int_equal(h.train_all, 1);
    assert_int_equal(h.feed_bytes, mib);
    assert_int_equal(h.held, ALL);
    h = plan_feed(120000000, NULL, 1); /* an epoch's share: one read a pass */
    assert_int_equal(h.epoch_share, 1);
    assert_int_equal(h.window_bytes, SHARE);
    assert_int_equal(h.feed_bytes, mib);
    assert_int_equal(h.held, SHARE + mib);
    h = plan_feed((uint64_t)36 << 20, NULL, 1); /* a budget of 18 MiB, under the share */
    assert_int_equal(h.epoch_share, 0);
    assert_int_equal(h.feed_bytes, (size_t)6 << 20);
    assert_int_equal(h.window_bytes, (size_t)12 << 20);
    assert_int_equal(h.held, (uint64_t)18 << 20);
    assert_int_equal(plan_for((uint64_t)36 << 20, NULL).feed_bytes, mib);
    h = plan_feed((uint64_t)24 << 20, NULL, 1); /* 12 MiB: the least ring, the least window */
    assert_int_equal(h.feed_bytes, DATASET_WINDOW_BYTES / 2);
    assert_int_equal(h.window_bytes, DATASET_WINDOW_BYTES);
    assert_int_equal(h.held, DATASET_WINDOW_BYTES + DATASET_WINDOW_BYTES / 2);
}

/* No limit known (room UINT64_MAX): a budget of 1 GiB, which holds a view
 * of 1000 MiB but not one of 2 GiB (rows of 1 MiB here). */
static void unknown_limit_gives_1_gib(void **state)
{
    (void)state;
    const uint64_t gib = (uint64_t)1 << 30;
    for (size_t n = 1000; n <= 2048; n += 1048) {
        Dataset train = fake(n, 256, 1023);
        assert_int_equal(dataset_row_bytes(&train), (size_t)1 << 20);
        EpochPlan p;
        epochplan_init(&p, PLAN_SPLIT_BATCH, n, 64, 0, 2, dataset_row_bytes(&train));
        DataHold h = datahold_plan(UINT64_MAX, &train, &p, NULL, 0);
        assert_int_equal(h.budget, gib);
        assert_int_equal(h.train_all, n == 1000);
        if (n == 2048) {
            assert_int_equal(h.window_bytes, gib); /* the share is 1 GiB + 32 KiB */
            assert_int_equal(h.epoch_share, 0);
        }
        epochplan_free(&p);
    }
}

/* The validation share is held when it fits what the training rows leave
 * of the budget (to the byte), never for a resident validation set. */
static void validation_share_when_it_fits(void **state)
{
    (void)state;
    Dataset val = fake(VAL_N, 10, 24);
    DataHold h = plan_for(2 * (ALL + VAL_BYTES), &val);
    assert_int_equal(h.train_all, 1);
    assert_int_equal(h.val_share, 1);
    assert_int_equal(h.held, ALL + VAL_BYTES);
    assert_describes(&h, &val, "validation rows held");
    h = plan_for(2 * (ALL + VAL_BYTES) - 2, &val);
    assert_int_equal(h.train_all, 1);
    assert_int_equal(h.val_share, 0);
    assert_int_equal(h.held, ALL);
    assert_describes(&h, &val, "validation rows read as needed");
    h = plan_for(2 * (SHARE + VAL_BYTES), &val);
    assert_int_equal(h.epoch_share, 1);
    assert_int_equal(h.val_share, 1);
    assert_int_equal(h.held, SHARE + VAL_BYTES);
    h = plan_for(2 * (SHARE + VAL_BYTES) - 2, &val);
    assert_int_equal(h.epoch_share, 1);
    assert_int_equal(h.val_share, 0);
    h = plan_for(0, &val);
    assert_int_equal(h.val_share, 0);
    val.streamed = 0;
    h = plan_for((uint64_t)1 << 40, &val);
    assert_int_equal(h.train_all, 1);
    assert_int_equal(h.val_share, 0);
    assert_int_equal(h.held, ALL);
    assert_describes(&h, &val, "validation rows held");
}

/* A small file: 40 rows of 4 steps of 2 floats and a value target per
 * sequence (36 bytes a row); inputs[r, t, k] = 10 r + 2 t + k. */
#define FN 40
#define FT 4
#define FF 2
#define FRB 36

static void write_small(const char *path)
{
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, path, &e), 0);
    float x[FN * FT * FF], y[FN];
    for (size_t i = 0; i < FN * FT * FF; i++) x[i] = (float)(10 * (i / (FT * FF)) + i % (FT * FF));
    for (size_t r = 0; r < FN; r++) y[r] = (float)r;
    size_t dx[3] = {FN, FT, FF}, dy[2] = {FN, 1};
    assert_int_equal(h5io_write_f32(f, "inputs", x, 3, dx, &e), 0);
    assert_int_equal(h5io_write_f32(f, "targets", y, 2, dy, &e), 0);
    H5Fclose(f);
}

static void open_small(Dataset *ds, const char *path)
{
    Error e = {0, ""};
    assert_int_equal(dataset_open_streamed(ds, path, "/", 0, 0, 1, 0, FN, &e), 0);
    assert_int_equal(dataset_row_bytes(ds), FRB);
}

/* train_all: the view becomes resident, each row in its place. */
static void apply_holds_the_view(void **state)
{
    TuDir *d = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/small.h5", d->path);
    write_small(path);
    Dataset train;
    open_small(&train, path);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_BATCH, FN, 6, 0, 4, FRB);
    DataHold h = datahold_plan(2 * FN * FRB, &train, &p, NULL, 0);
    assert_int_equal(h.train_all, 1);
    Error e = {0, ""};
    assert_int_equal(datahold_apply(&h, &train, &p, NULL, 0, 4, &e), 0);
    assert_int_equal(train.streamed, 0);
    for (size_t r = 0; r < FN; r++) {
        assert_int_equal(dataset_slot(&train, r), r);
        assert_true(train.x[r * FT * FF + 3] == (float)(10 * r + 3));
        assert_true(train.y_value[r] == (float)r);
    }
    epochplan_free(&p);
    dataset_close(&train);
}

/* A window: the plan's window in steps is window_bytes / (36 bytes times
 * the 2 rows a step of this rank), at least 1; the training view stays
 * streamed; the validation share (rows 10..19 of 40 for rank 1 of 4) is
 * loaded. */
static void apply_sets_the_window(void **state)
{
    TuDir *d = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/small.h5", d->path);
    write_small(path);
    Dataset train, val;
    open_small(&train, path);
    open_small(&val, path);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_BATCH, FN, 6, 1, 4, FRB);
    DataHold h = datahold_plan(FN * FRB, &train, &p, &val, 0);
    assert_int_equal(h.train_all, 0);
    assert_int_equal(h.window_bytes, DATASET_WINDOW_BYTES);
    Error e = {0, ""};
    assert_int_equal(datahold_apply(&h, &train, &p, &val, 1, 4, &e), 0);
    assert_int_equal(p.window, DATASET_WINDOW_BYTES / (FRB * 2));
    assert_int_equal(train.streamed, 1);
    assert_int_equal(train.n_cached, 0);
    assert_int_equal(val.n_cached, 0); /* the share did not fit */
    const size_t bytes[] = {5 * FRB * 2 + 71, FRB * 2, FRB * 2 - 1, 1};
    const int64_t steps[] = {5, 1, 1, 1};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        DataHold w = {.window_bytes = bytes[i], .val_share = 1};
        assert_int_equal(datahold_apply(&w, &train, &p, &val, 1, 4, &e), 0);
        assert_int_equal(p.window, steps[i]);
        assert_int_equal(p.held_from, 0);
        assert_int_equal(p.held_to, 0);
    }
    assert_int_equal(train.streamed, 1);
    assert_int_equal(val.n_cached, 10);
    for (size_t i = 0; i < 10; i++) assert_int_equal(val.cached[i], 10 + i);
    epochplan_free(&p);
    dataset_close(&val);
    dataset_close(&train);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_view_when_it_fits),
        cmocka_unit_test(window_by_budget),
        cmocka_unit_test(ring_for_a_helper),
        cmocka_unit_test(unknown_limit_gives_1_gib),
        cmocka_unit_test(validation_share_when_it_fits),
        cmocka_unit_test_setup_teardown(apply_holds_the_view, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(apply_sets_the_window, tu_dir_setup, tu_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
