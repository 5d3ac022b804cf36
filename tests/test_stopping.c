/* test_stopping.c - early stopping decisions: improvement by min-delta,
 * higher/lower is better, patience, non-finite values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "stopping.h"

/* Feed values epoch by epoch; return the epoch (1-based) that stops, or 0. */
static int run(const double *values, int n, StopRule rule, TrainState *st)
{
    memset(st, 0, sizeof *st);
    st->best_metric = NAN;
    for (int i = 0; i < n; i++) {
        st->epoch = i + 1;
        int improved;
        if (stop_update(st, values[i], &rule, &improved)) return i + 1;
    }
    return 0;
}

static void test_loss_patience(void **state)
{
    (void)state;
    const double v[] = {1.0, 0.8, 0.7, 0.71, 0.69, 0.72, 0.70, 0.75, 0.5};
    StopRule r = {0, 0.0, 3};
    TrainState st;
    assert_int_equal(run(v, 9, r, &st), 8); /* best 0.69 at epoch 5, three bad epochs */
    assert_int_equal(st.best_epoch, 5);
    assert_true(st.best_metric == 0.69);
}

static void test_min_delta(void **state)
{
    (void)state;
    const double v[] = {1.0, 0.95, 0.91, 0.905, 0.70};
    StopRule r = {0, 0.1, 3};
    TrainState st;
    assert_int_equal(run(v, 5, r, &st), 4); /* 0.95, 0.91, 0.905 are not 0.1 better */
    assert_int_equal(st.best_epoch, 1);
}

static void test_accuracy_higher_is_better(void **state)
{
    (void)state;
    const double v[] = {0.5, 0.6, 0.6, 0.7, 0.65, 0.66};
    StopRule r = {1, 0.0, 2};
    TrainState st;
    assert_int_equal(run(v, 6, r, &st), 6);
    assert_int_equal(st.best_epoch, 4);
    assert_true(st.best_metric == 0.7);
}

static void test_no_patience_never_stops(void **state)
{
    (void)state;
    const double v[] = {1, 2, 3, 4, 5, 6};
    StopRule r = {0, 0.0, 0};
    TrainState st;
    assert_int_equal(run(v, 6, r, &st), 0);
    assert_int_equal(st.best_epoch, 1);
    assert_int_equal(st.bad_epochs, 5);
}

static void test_non_finite_never_improves(void **state)
{
    (void)state;
    const double v[] = {NAN, INFINITY, 2.0, NAN};
    StopRule r = {0, 0.0, 5};
    TrainState st;
    run(v, 4, r, &st);
    assert_int_equal(st.best_epoch, 3);
    assert_true(st.best_metric == 2.0);
    assert_int_equal(st.bad_epochs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_patience),
        cmocka_unit_test(test_min_delta),
        cmocka_unit_test(test_accuracy_higher_is_better),
        cmocka_unit_test(test_no_patience_never_stops),
        cmocka_unit_test(test_non_finite_never_improves),
    };
    return cmocka_run_group_tests_name("stopping", tests, NULL, NULL);
}
