/* test_batchfeed.c - a feed hands out, step after step, exactly the batches
 * dataset_fill_batch gathers in the trainer's own thread: for whole passes
 * and passes resumed at step k0, stopped halfway, with a ring of 2 batches
 * (the helper always waiting) or of many, on ranks whose part of a step may
 * be empty, with shuffled orders, and on one CPU, where the trainer gathers
 * steps itself rather than wait; a feed stopped before its first step ends
 * cleanly; dataset_prefetch changes nothing; a helper only where the
 * process may run on two CPUs for each rank of its host. A streamed view
 * (the helper reads its windows): the batches of a resident view of the
 * same file, windows of 1 to 9 steps, rings of 2 batches or of many, and
 * on one CPU, where the trainer waits for the helper; a window read that
 * fails in the helper ends the run from the trainer's thread. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "batchfeed.h"
#include "dataset.h"
#include "epochplan.h"
#include "h5io.h"
#include "testutil.h"

#define NROWS 203
#define NT 6
#define NF 3

/* A resident dataset held in memory only: dense inputs, per-step classes,
 * varied lengths. */
static void fake_dataset(Dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    ds->input = INPUT_DENSE;
    ds->kind = LOSS_CE;
    ds->target = TARGET_STEP;
    ds->n = ds->total_rows = NROWS;
    ds->T = NT;
    ds->F = NF;
    ds->O = ds->num_classes = 4;
    ds->has_targets = 1;
    ds->row0 = 11;
    ds->lengths = xcalloc(NROWS, sizeof(int32_t));
    ds->x = xalloc_floats((size_t)NROWS * NT * NF);
    ds->y_class = xcalloc((size_t)NROWS * NT, sizeof(int32_t));
    for (size_t i = 0; i < NROWS; i++) {
        ds->lengths[i] = 1 + (int32_t)((i * 7) % NT);
        for (size_t t = 0; t < NT; t++) {
            ds->y_class[i * NT + t] = (int32_t)((i + t) % 4);
            for (size_t k = 0; k < NF; k++)
                ds->x[(i * NT + t) * NF + k] = (float)(i * 100 + t * 10 + k);
        }
    }
}

/* Two batches equal in every field the trainer reads. */
static void assert_same_batch(const Batch *a, const Batch *b)
{
    assert_int_equal(a->B, b->B);
    assert_int_equal(a->T, b->T);
    const size_t B = (size_t)a->B, TB = (size_t)a->T * B;
    assert_memory_equal(a->lengths, b->lengths, B * sizeof(int32_t));
    assert_memory_equal(a->sample, b->sample, B * sizeof(uint32_t));
    assert_memory_equal(a->x, b->x, TB * NF * sizeof(float));
    assert_memory_equal(a->y_class, b->y_class, TB * sizeof(int32_t));
}

/* A pass of plan p from step k0 up to (not including) `until`, through a
 * feed of ring_bytes on ds (preparing the next pass with next_pass),
 * checked step by step against the inline gathering from ref (resident: ds
 * itself, or the same rows); returns the steps the trainer gathered itself
 * (the helper behind). */
static int64_t check_pass_next(EpochPlan *p, Dataset *ds, Dataset *ref, int64_t k0,
                               int64_t until, size_t ring_bytes, int next_pass)
{
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    BatchFeed *f = batchfeed_start(p, ds, k0, ring_bytes, next_pass);
    for (int64_t k = k0; k < until; k++) {
        PlanBatch got_rows;
        const Batch *got = batchfeed_next(f, k, &got_rows);
        PlanBatch want = epochplan_rows(p, k);
        assert_int_equal(got_rows.count, want.count);
        assert_int_equal(got_rows.count_all, want.count_all);
        assert_ptr_equal(got_rows.all, want.all);
        if (want.count == 0) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        dataset_fill_batch(&bb, ref, want.mine, (int)want.count);
        assert_same_batch(got, &bb.b);
    }
    int64_t own = batchfeed_own_steps(f), waits = batchfeed_waits(f);
    assert_true(own >= 0 && own <= until - k0);
    assert_true(waits >= 0 && waits <= until - k0);
    assert_true(ds->streamed ? own == 0 : waits == 0);
    batchfeed_stop(f);
    batchbuf_free(&bb);
    return ds->streamed ? waits : own;
}

static int64_t check_pass_ref(EpochPlan *p, Dataset *ds, Dataset *ref, int64_t k0,
                              int64_t until, size_t ring_bytes)
{
    return check_pass_next(p, ds, ref, k0, until, ring_bytes, 0);
}

static int64_t check_pass(EpochPlan *p, Dataset *ds, int64_t k0, int64_t until,
                          size_t ring_bytes)
{
    return check_pass_ref(p, ds, ds, k0, until, ring_bytes);
}

static void test_passes(void **state)
{
    (void)state;
    Dataset ds;
    fake_dataset(&ds);
    const size_t rings[] = {1, 1 << 12, 1 << 20}; /* 2 batches, a few, 64 */
    const int batches[] = {2, 16, 50};
    for (int bi = 0; bi < 3; bi++)
        for (int ranks = 1; ranks <= 3; ranks++)
            for (int rank = 0; rank < ranks; rank++)
                for (int ri = 0; ri < 3; ri++) {
                    EpochPlan p;
                    epochplan_init(&p, PLAN_SPLIT_BATCH, NROWS, batches[bi], rank, ranks,
                                   dataset_row_bytes(&ds));
                    for (int64_t epoch = 1; epoch <= 2; epoch++) {
                        epochplan_begin(&p, 42, epoch, 1);
                        check_pass(&p, &ds, 0, p.steps, rings[ri]);            /* whole */
                        check_pass(&p, &ds, p.steps / 3, p.steps, rings[ri]);  /* resumed */
                        check_pass(&p, &ds, 0, p.steps / 2, rings[ri]);        /* stopped */
                    }
                    epochplan_free(&p);
                }
    dataset_close(&ds);
}

/* Binds this thread (and the helpers it starts) to the first CPU it may
 * run on; was receives the affinity to restore. */
static void pin_one_cpu(cpu_set_t *was)
{
    cpu_set_t one;
    assert_int_equal(sched_getaffinity(0, sizeof *was, was), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, was)) cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
}

/* The trainer never waits for the helper: on one CPU, where the helper runs
 * only when the scheduler takes the CPU from the trainer, the trainer
 * gathers steps itself (at least each pass's first, as a rule), and every
 * batch is still the right one. */
static void test_never_waits(void **state)
{
    (void)state;
    cpu_set_t was;
    pin_one_cpu(&was);
    Dataset ds;
    fake_dataset(&ds);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_BATCH, NROWS, 8, 0, 1, dataset_row_bytes(&ds));
    int64_t own = 0, steps = 0;
    for (int64_t epoch = 1; epoch <= 100; epoch++) {
        epochplan_begin(&p, 5, epoch, 1);
        own += check_pass(&p, &ds, 0, p.steps, 1);
        steps += p.steps;
    }
    assert_int_equal(sched_setaffinity(0, sizeof was, &was), 0);
    assert_true(own > 0 && own <= steps);
    epochplan_free(&p);
    dataset_close(&ds);
}

/* fake_dataset's rows written to path (inputs, targets, lengths). */
static void write_fake(const char *path)
{
    Dataset ds;
    fake_dataset(&ds);
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, path, &e), 0);
    size_t dx[3] = {NROWS, NT, NF}, dl[1] = {NROWS};
    assert_int_equal(h5io_write_f32(f, "inputs", ds.x, 3, dx, &e), 0);
    assert_int_equal(h5io_write_i32(f, "targets", ds.y_class, 2, dx, &e), 0);
    assert_int_equal(h5io_write_i32(f, "lengths", ds.lengths, 1, dl, &e), 0);
    assert_int_equal(h5io_write_attr_i64(f, "/", "num_classes", 4), 0);
    H5Fclose(f);
    dataset_close(&ds);
}

/* The fake file's rows from row0 on, in dir: streamed (ds, read a window at
 * a time) and resident (ref). */
static void open_views(Dataset *ds, Dataset *ref, TuDir *dir, size_t row0)
{
    char path[300];
    snprintf(path, sizeof path, "%s/rows.h5", dir->path);
    write_fake(path);
    Error e = {0, ""};
    const size_t n = NROWS - row0;
    assert_int_equal(dataset_open_streamed(ds, path, "/", row0, n, 1, 0, n, &e), 0);
    assert_int_equal(dataset_open(ref, path, "/", row0, n, 1, &e), 0);
}

/* A streamed view's passes through a feed whose helper reads the windows:
 * the batches of the same rows held in memory, whole, resumed and stopped
 * passes, windows of 1 to 9 steps (many reads a pass), rings of 2 batches
 * or of many; on one CPU the trainer waits for the helper (each pass's
 * first step at least, the window read there), and still gets every batch
 * right. */
static void test_streamed(void **state)
{
    Dataset ds, ref;
    const size_t n = NROWS - 11;
    open_views(&ds, &ref, *state, 11);
    const int64_t windows[] = {1, 4, 9};
    const size_t rings[] = {1, 1 << 20};
    for (int wi = 0; wi < 3; wi++)
        for (int ri = 0; ri < 2; ri++)
            for (int rank = 0; rank < 2; rank++) {
                EpochPlan p;
                epochplan_init(&p, PLAN_SPLIT_BATCH, n, 10, rank, 2, dataset_row_bytes(&ds));
                const size_t step_bytes = 5 * dataset_row_bytes(&ds);
                epochplan_set_window(&p, dataset_row_bytes(&ds),
                                     (size_t)windows[wi] * step_bytes);
                assert_int_equal(p.window, windows[wi]);
                for (int64_t epoch = 1; epoch <= 2; epoch++) {
                    epochplan_begin(&p, 9, epoch, 1);
                    check_pass_ref(&p, &ds, &ref, 0, p.steps, rings[ri]);
                    check_pass_ref(&p, &ds, &ref, p.steps / 3, p.steps, rings[ri]);
                    check_pass_ref(&p, &ds, &ref, 0, p.steps / 2, rings[ri]);
                }
                epochplan_free(&p);
            }
    cpu_set_t was;
    pin_one_cpu(&was);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_BATCH, n, 8, 0, 1, dataset_row_bytes(&ds));
    epochplan_set_window(&p, dataset_row_bytes(&ds), 3 * 8 * dataset_row_bytes(&ds));
    int64_t waits = 0;
    for (int64_t epoch = 1; epoch <= 20; epoch++) {
        epochplan_begin(&p, 5, epoch, 1);
        waits += check_pass_ref(&p, &ds, &ref, 0, p.steps, 1);
    }
    assert_int_equal(sched_setaffinity(0, sizeof was, &was), 0);
    assert_true(waits >= 20);
    assert_int_equal(ds.reloads, 0);
    epochplan_free(&p);
    dataset_close(&ref);
    dataset_close(&ds);
}

/* Passes that prepare the next (next_pass, as training does between
 * epochs): every batch is still the resident view's, and each following
 * pass begins with its order made and its first window read by the
 * previous pass's helper (held from step 0, nothing reloaded); after a
 * pass stopped half-way the next pass's batches are right whether the
 * helper (ahead of the stop) prepared it or not; on one CPU too, and with
 * a held view (the order made ahead, nothing to read). */
static void test_next_pass(void **state)
{
    Dataset ds, ref;
    const size_t n = NROWS;
    open_views(&ds, &ref, *state, 0);
    cpu_set_t was;
    assert_int_equal(sched_getaffinity(0, sizeof was, &was), 0);
    for (int cpus = 0; cpus < 2; cpus++) {
        if (cpus == 1) pin_one_cpu(&was);
        for (int64_t w = 1; w <= 9; w += 4)
            for (int ri = 0; ri < 2; ri++) {
                Dataset *views[2] = {&ds, &ref};
                for (int v = 0; v < 2; v++) {
                    EpochPlan p;
                    epochplan_init(&p, PLAN_SPLIT_BATCH, n, 10, 0, 1, dataset_row_bytes(&ds));
                    epochplan_set_window(&p, dataset_row_bytes(&ds),
                                         (size_t)w * 10 * dataset_row_bytes(&ds));
                    epochplan_begin(&p, 9, 1, 1);
                    for (int64_t epoch = 1; epoch <= 4; epoch++) {
                        if (epoch > 1) {
                            epochplan_begin(&p, 9, epoch, 1);
                            /* made ahead after a whole pass; after pass 2, stopped
                             * half-way, only if the helper had gathered it all */
                            if (epoch != 3) assert_int_equal(p.held_to, w);
                            assert_true(p.held_to == 0 || p.held_to == w);
                        }
                        const int64_t until = epoch == 2 ? p.steps / 2 : p.steps;
                        check_pass_next(&p, views[v], &ref, 0, until, ri ? 1 << 20 : 1, 1);
                    }
                    epochplan_free(&p);
                }
            }
        if (cpus == 1) assert_int_equal(sched_setaffinity(0, sizeof was, &was), 0);
    }
    assert_int_equal(ds.reloads, 0);
    dataset_close(&ref);
    dataset_close(&ds);
}

/* The thread the abort hook (check.h) ran on, and where to go back to. */
static pthread_t main_thread;
static jmp_buf hook_jump;
static int hook_calls;

/* The abort hook of test_read_fails: back to the test on the trainer's
 * thread; on another thread (the helper) the job would be ended off the
 * thread MPI runs on: the test fails (the process exits, 3). */
static void hook_main_only(int code)
{
    (void)code;
    if (!pthread_equal(pthread_self(), main_thread)) {
        fprintf(stderr, "test_read_fails: the run was ended from the helper thread\n");
        _exit(3);
    }
    hook_calls++;
    longjmp(hook_jump, 1);
}

/* A window read that fails in the helper (the inputs can no longer be
 * read) ends the run from the trainer's thread, with the read's message,
 * at the step the helper could not read; the feed then stops cleanly. */
static void test_read_fails(void **state)
{
    TuDir *dir = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/rows.h5", dir->path);
    write_fake(path);
    Dataset ds;
    Error e = {0, ""};
    assert_int_equal(dataset_open_streamed(&ds, path, "/", 0, NROWS, 1, 0, NROWS, &e), 0);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_BATCH, NROWS, 10, 0, 1, dataset_row_bytes(&ds));
    epochplan_set_window(&p, dataset_row_bytes(&ds), 2 * 10 * dataset_row_bytes(&ds));
    epochplan_begin(&p, 9, 1, 1);
    char kept[sizeof ds.inputs_path];
    memcpy(kept, ds.inputs_path, sizeof kept);
    snprintf(ds.inputs_path, sizeof ds.inputs_path, "/gone");
    main_thread = pthread_self();
    hook_calls = 0;
    CheckAbort old = check_set_abort(hook_main_only);
    BatchFeed *volatile f = batchfeed_start(&p, &ds, 0, 1, 0);
    volatile int64_t k = 0;
    if (setjmp(hook_jump) == 0)
        for (; k < p.steps; k++) {
            PlanBatch rows;
            batchfeed_next(f, k, &rows);
        }
    check_set_abort(old);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(k, 0);
    batchfeed_stop(f);
    memcpy(ds.inputs_path, kept, sizeof kept);
    epochplan_free(&p);
    dataset_close(&ds);
}

static void test_stop_at_once(void **state)
{
    (void)state;
    Dataset ds;
    fake_dataset(&ds);
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_BATCH, NROWS, 4, 0, 1, dataset_row_bytes(&ds));
    epochplan_begin(&p, 1, 1, 1);
    for (int i = 0; i < 50; i++) batchfeed_stop(batchfeed_start(&p, &ds, 0, 1, 0));
    batchfeed_stop(NULL);
    epochplan_free(&p);
    dataset_close(&ds);
}

/* dataset_prefetch and dataset_prefetch_slots read nothing and change
 * nothing, even for rows past the view or not held, resident or streamed
 * (where every other row is held). */
static void test_prefetch_changes_nothing(void **state)
{
    (void)state;
    Dataset ds, copy;
    fake_dataset(&ds);
    uint32_t slots[NROWS];
    for (size_t i = 0; i < NROWS; i++) slots[i] = i % 2 ? UINT32_MAX : (uint32_t)(i / 2);
    float *x = xalloc_floats((size_t)NROWS * NT * NF);
    memcpy(x, ds.x, sizeof(float) * NROWS * NT * NF);
    size_t rows[] = {0, 5, NROWS - 1, NROWS, NROWS + 1000, 7};
    for (int streamed = 0; streamed <= 1; streamed++) {
        ds.streamed = streamed;
        ds.slot_index = streamed ? slots : NULL;
        copy = ds;
        dataset_prefetch(&ds, rows, 6);
        dataset_prefetch(&ds, rows, 0);
        dataset_prefetch_slots(&ds, rows, 6);
        dataset_prefetch_slots(&ds, rows, 0);
        assert_memory_equal(&ds, &copy, sizeof ds);
        assert_memory_equal(x, ds.x, sizeof(float) * NROWS * NT * NF);
        for (size_t i = 0; i < NROWS; i++)
            assert_int_equal(slots[i], i % 2 ? UINT32_MAX : (uint32_t)(i / 2));
    }
    ds.streamed = 0;
    ds.slot_index = NULL;
    free(x);
    dataset_close(&ds);
}

static void test_useful(void **state)
{
    (void)state;
    cpu_set_t was;
    assert_int_equal(sched_getaffinity(0, sizeof was, &was), 0);
    const int cpus = CPU_COUNT(&was);
    /* two CPUs for each rank of the host */
    assert_int_equal(batchfeed_useful(1), cpus >= 2);
    assert_int_equal(batchfeed_useful(0), cpus >= 2);
    assert_int_equal(batchfeed_useful(2), cpus >= 4);
    assert_int_equal(batchfeed_useful(cpus), 0);
    /* bound to one core (mpirun's default): no helper */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
    if (sched_setaffinity(0, sizeof one, &one) == 0) {
        assert_int_equal(batchfeed_useful(1), 0);
        assert_int_equal(sched_setaffinity(0, sizeof was, &was), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passes),
        cmocka_unit_test(test_never_waits),
        cmocka_unit_test_setup_teardown(test_streamed, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_next_pass, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_read_fails, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test(test_stop_at_once),
        cmocka_unit_test(test_prefetch_changes_nothing),
        cmocka_unit_test(test_useful),
    };
    return cmocka_run_group_tests_name("batchfeed", tests, NULL, NULL);
}
