/* test_gradcheck.c - finite-difference gradient checks through time.
 *
 * For every cell (RNN tanh, RNN relu, LSTM, GRU) x input (dense, tokens) x
 * head (per step, last step) x loss (cross-entropy, MSE) x lengths (all T,
 * varied) x dropout (off, on), every parameter element's analytic gradient of
 * the mean loss is compared with a central difference (Richardson-extrapolated
 * from steps eps and eps/2, the model runs in float32).
 *
 * Tolerance: |fd - analytic| <= ATOL + RTOL * |analytic|. A checker that
 * cannot fail proves nothing, so test_checker_catches_errors corrupts one
 * gradient element by 5% of the gradient scale and expects the check to flag it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "testutil.h"

#define ATOL 2e-3
#define RTOL 1e-2
#define EPS 1e-3f
#define SEED 7u
#define STEP 3u

typedef struct Result {
    double max_err;     /* largest |fd - analytic| - RTOL |analytic| */
    int bad, skipped, checked;
    char worst[64];
} Result;

static double mean_loss(Model *m, const Batch *b, int train)
{
    model_forward(m, b, train, SEED, STEP);
    LossSums s = model_loss(m, b, 0.0f);
    return s.loss / s.count;
}

static double central(Model *m, const Batch *b, int train, float *p, float eps)
{
    float keep = *p;
    *p = keep + eps;
    double lp = mean_loss(m, b, train);
    *p = keep - eps;
    double lm = mean_loss(m, b, train);
    *p = keep;
    return (lp - lm) / (2.0 * (double)eps);
}

/* Compare m->grads (analytic) with finite differences for every element. */
static Result check_grads(Model *m, const Batch *b, int train)
{
    Result r = {0, 0, 0, 0, ""};
    for (int i = 0; i < m->table.count; i++) {
        const ParamInfo *pi = &m->table.p[i];
        size_t n = (size_t)pi->rows * (pi->cols ? pi->cols : 1);
        for (size_t e = 0; e < n; e++) {
            float *p = m->params + pi->offset + e;
            double an = m->grads[pi->offset + e];
            double d1 = central(m, b, train, p, EPS);
            double d2 = central(m, b, train, p, EPS / 2);
            /* a kink (relu at 0, argmax change) inside the step: skip */
            if (fabs(d1 - d2) > 5e-3 * fabs(d2) + 5e-4) {
                r.skipped++;
                continue;
            }
            double fd = (4.0 * d2 - d1) / 3.0;
            double err = fabs(fd - an) - RTOL * fabs(an);
            r.checked++;
            if (err > r.max_err) {
                r.max_err = err;
                snprintf(r.worst, sizeof r.worst, "%s[%zu] fd %.6f an %.6f", pi->name, e, fd,
                         an);
            }
            if (err > ATOL) r.bad++;
        }
    }
    return r;
}

static void analytic(Model *m, const Batch *b, int train)
{
    model_zero_grads(m);
    model_forward(m, b, train, SEED, STEP);
    double count = model_batch_count(&m->spec, b);
    model_loss(m, b, (float)(1.0 / count));
    model_backward(m, b);
}

static ModelSpec make_spec(CellKind cell, Nonlin act, int tokens, int last, int mse,
                           int dropout)
{
    ModelSpec s;
    memset(&s, 0, sizeof s);
    s.cell = cell;
    s.act = act;
    s.input = tokens ? INPUT_TOKENS : INPUT_DENSE;
    s.vocab = tokens ? 5 : 0;
    s.embed = tokens ? 3 : 0;
    s.features = tokens ? 0 : 3;
    s.hidden = 4;
    s.layers = 2;
    s.out = 3;
    s.loss = mse ? LOSS_MSE : LOSS_CE;
    s.target = last ? TARGET_LAST : TARGET_STEP;
    s.dropout = dropout ? 0.3f : 0.0f;
    s.out_dropout = dropout ? 0.25f : 0.0f;
    return s;
}

/* Every combination for one cell. */
static void check_cell(CellKind cell, Nonlin act)
{
    int total_checked = 0, total_skipped = 0, failures = 0;
    double worst = 0.0;
    for (int combo = 0; combo < 32; combo++) {
        int tokens = combo & 1, last = combo >> 1 & 1, mse = combo >> 2 & 1;
        int varied = combo >> 3 & 1, dropout = combo >> 4 & 1;
        ModelSpec s = make_spec(cell, act, tokens, last, mse, dropout);
        Model m;
        model_create(&m, &s);
        model_init_params(&m, 11 + combo);
        /* larger weights than the default make the recurrence matter */
        for (size_t i = 0; i < m.table.total; i++) m.params[i] *= 1.5f;
        TestBatch tb;
        tu_batch_random(&tb, &s, 5, 3, varied, 100 + combo);
        int train = dropout;
        analytic(&m, &tb.b, train);
        Result r = check_grads(&m, &tb.b, train);
        total_checked += r.checked;
        total_skipped += r.skipped;
        if (r.max_err > worst) worst = r.max_err;
        if (r.bad) {
            failures++;
            print_error("%s/%s tokens=%d last=%d mse=%d varied=%d dropout=%d: %d bad of %d, "
                        "worst %s\n",
                        cell_name(cell), act == NONLIN_RELU ? "relu" : "tanh", tokens, last,
                        mse, varied, dropout, r.bad, r.checked, r.worst);
        }
        tu_batch_free(&tb);
        model_free(&m);
    }
    print_message("%s/%s: %d elements checked, %d skipped at kinks, worst excess error %.2e "
                  "(limit %.0e)\n",
                  cell_name(cell), act == NONLIN_RELU ? "relu" : "tanh", total_checked,
                  total_skipped, worst, ATOL);
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
    ModelSpec s = make_spec(CELL_LSTM, NONLIN_TANH, 1, 0, 0, 0);
    Model m;
    model_create(&m, &s);
    model_init_params(&m, 5);
    TestBatch tb;
    tu_batch_random(&tb, &s, 5, 3, 1, 9);
    for (int i = 0; i < m.table.count; i++) {
        analytic(&m, &tb.b, 0);
        const ParamInfo *pi = &m.table.p[i];
        size_t n = (size_t)pi->rows * (pi->cols ? pi->cols : 1), arg = 0;
        float *g = m.grads + pi->offset;
        for (size_t e = 1; e < n; e++)
            if (fabsf(g[e]) > fabsf(g[arg])) arg = e;
        g[arg] += 0.05f * fabsf(g[arg]) + 0.01f;
        Result r = check_grads(&m, &tb.b, 0);
        if (r.bad == 0) print_error("corrupted %s[%zu] not caught\n", pi->name, arg);
        assert_int_equal(r.bad, 1);
    }
    tu_batch_free(&tb);
    model_free(&m);
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
