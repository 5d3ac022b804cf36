/* test_gradcheck.c - finite-difference gradient checks through time.
 *
 * For every cell (RNN tanh, RNN relu, LSTM, GRU) x input (dense, tokens) x
 * head (per step, last step) x loss (cross-entropy, MSE) x lengths (all T,
 * varied) x dropout (off, on), every parameter element's analytic gradient of
 * the mean loss is compared with a central difference (src/gradcheck.c:
 * Richardson-extrapolated, tolerance GRADCHECK_ATOL + GRADCHECK_RTOL |an|).
 *
 * A checker that cannot fail proves nothing, so test_checker_catches_errors
 * corrupts one gradient element by 5% of the gradient scale and expects the
 * check to flag it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "model.h"

/* Every combination for one cell. */
static void check_cell(CellKind cell, Nonlin act)
{
    int total_checked = 0, total_skipped = 0, failures = 0;
    double worst = 0.0;
    const char *name = act == NONLIN_RELU ? "relu" : "tanh";
    for (int combo = 0; combo < GRADCHECK_COMBOS; combo++) {
        GradcheckResult r = gradcheck_combo(cell, act, combo);
        total_checked += r.checked;
        total_skipped += r.skipped;
        if (r.max_err > worst) worst = r.max_err;
        if (r.bad) {
            failures++;
            print_error("%s/%s combination %d: %d bad of %d, worst %s\n", cell_name(cell), name,
                        combo, r.bad, r.checked, r.worst);
        }
    }
    print_message("%s/%s: %d elements checked, %d skipped at kinks, worst excess error %.2e "
                  "(limit %.0e)\n",
                  cell_name(cell), name, total_checked, total_skipped, worst, GRADCHECK_ATOL);
    assert_int_equal(failures, 0);
    /* a check that skips everything proves nothing */
    assert_true(total_skipped * 20 < total_checked);
}

static void test_rnn_tanh(void **state)
{
    (void)state;
    check_cell(CELL_RNN, NONLIN_TANH);
}

static void test_rnn_relu(void **state)
{
    (void)state;
    check_cell(CELL_RNN, NONLIN_RELU);
}

static void test_lstm(void **state)
{
    (void)state;
    check_cell(CELL_LSTM, NONLIN_TANH);
}

static void test_gru(void **state)
{
    (void)state;
    check_cell(CELL_GRU, NONLIN_TANH);
}

/* The checker itself must flag a wrong gradient: corrupt one element of each
 * parameter tensor by 5% of that tensor's largest gradient. */
static void test_checker_catches_errors(void **state)
{
    (void)state;
    int bad, tensor = 0;
    char name[MODEL_NAME_LEN] = "";
    while ((bad = gradcheck_catch(name, sizeof name, tensor)) >= 0) {
        if (bad != 1) print_error("corrupted %s: %d elements flagged, want 1\n", name, bad);
        assert_int_equal(bad, 1);
        tensor++;
    }
    assert_true(tensor > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rnn_tanh),
        cmocka_unit_test(test_rnn_relu),
        cmocka_unit_test(test_lstm),
        cmocka_unit_test(test_gru),
        cmocka_unit_test(test_checker_catches_errors),
    };
    return cmocka_run_group_tests_name("gradcheck", tests, NULL, NULL);
}
