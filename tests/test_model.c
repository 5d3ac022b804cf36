/* test_model.c - model pieces not covered by the gradient and PyTorch checks:
 * dropout masks (rate, scale, keyed by sample not by position), dropout off
 * in evaluation, the parameter table layout, initialisation ranges, trimmed
 * batches equal to padded ones, a row's outputs independent of the other rows
 * of its batch, fc's gradients on the packed kernels, the backward pass's
 * hooks (buckets, polls inside the time loop). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "gradcheck.h"
#include "model.h"
#include "testutil.h"

static void test_dropout_mask(void **state)
{
    (void)state;
    const int T = 7, B = 9, H = 37;
    const float p = 0.3f;
    uint32_t sample[9], shuffled[9];
    for (int b = 0; b < B; b++) sample[b] = 1000 + 13 * (uint32_t)b;
    float *m1 = xalloc_floats((size_t)T * B * H), *m2 = xalloc_floats((size_t)T * B * H);
    model_dropout_mask(m1, p, 5, 17, sample, 0, T, B, H);
    size_t zeros = 0, n = (size_t)T * B * H;
    for (size_t i = 0; i < n; i++) {
        if (m1[i] == 0.0f)
            zeros++;
        else
            assert_true(m1[i] == 1.0f / (1.0f - p));
    }
    double rate = (double)zeros / (double)n, sd = sqrt(p * (1 - p) / (double)n);
    assert_true(fabs(rate - p) < 5 * sd);
    /* the mask of a sequence follows its sample id, not its row */
    for (int b = 0; b < B; b++) shuffled[b] = sample[B - 1 - b];
    model_dropout_mask(m2, p, 5, 17, shuffled, 0, T, B, H);
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++)
            assert_memory_equal(m1 + ((size_t)t * B + b) * H,
                                m2 + ((size_t)t * B + (B - 1 - b)) * H, sizeof(float) * H);
    /* another step, site or seed gives another mask */
    model_dropout_mask(m2, p, 5, 18, sample, 0, T, B, H);
    assert_true(memcmp(m1, m2, sizeof(float) * n) != 0);
    model_dropout_mask(m2, p, 5, 17, sample, 1, T, B, H);
    assert_true(memcmp(m1, m2, sizeof(float) * n) != 0);
    model_dropout_mask(m2, p, 6, 17, sample, 0, T, B, H);
    assert_true(memcmp(m1, m2, sizeof(float) * n) != 0);
    free(m1);
    free(m2);
}

static ModelSpec spec_with(float dropout, float out_dropout)
{
    ModelSpec s = {CELL_GRU, NONLIN_TANH, INPUT_DENSE, 0, 0, 3, 8, 3, 2, LOSS_MSE, TARGET_STEP,
                   dropout, out_dropout, 0};
    return s;
}

static void test_dropout_only_in_training(void **state)
{
    (void)state;
    ModelSpec with = spec_with(0.5f, 0.5f), without = spec_with(0, 0);
    Model a, b;
    model_create(&a, &with);
    model_create(&b, &without);
    model_init_params(&a, 2);
    model_init_params(&b, 2);
    assert_memory_equal(a.params, b.params, sizeof(float) * a.table.total);
    GradcheckBatch tb;
    gradcheck_batch_random(&tb, &with, 6, 4, 1, 3);
    size_t n = (size_t)6 * 4 * 2;
    float *ref = xalloc_floats(n);
    model_forward(&b, &tb.b, 1, 9, 1); /* training, but p = 0 */
    memcpy(ref, b.logits, sizeof(float) * n);
    model_forward(&a, &tb.b, 0, 9, 1); /* evaluation: no dropout */
    assert_memory_equal(a.logits, ref, sizeof(float) * n);
    model_forward(&a, &tb.b, 1, 9, 1); /* training: dropout changes outputs */
    assert_true(memcmp(a.logits, ref, sizeof(float) * n) != 0);
    free(ref);
    gradcheck_batch_free(&tb);
    model_free(&a);
    model_free(&b);
}

static void test_param_table(void **state)
{
    (void)state;
    ModelSpec s = {CELL_LSTM, NONLIN_TANH, INPUT_TOKENS, 10, 8, 0, 16, 2, 10, LOSS_CE,
                   TARGET_STEP, 0, 0, 0};
    ParamTable t;
    model_param_table(&t, &s);
    const char *names[] = {"embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0",
                           "rnn.bias_ih_l0",   "rnn.bias_hh_l0",   "rnn.weight_ih_l1",
                           "rnn.weight_hh_l1", "rnn.bias_ih_l1",   "rnn.bias_hh_l1",
                           "fc.weight",        "fc.bias"};
    const int rows[] = {10, 64, 64, 64, 64, 64, 64, 64, 64, 10, 10};
    const int cols[] = {8, 8, 16, 0, 0, 16, 16, 0, 0, 16, 0};
    assert_int_equal(t.count, 11);
    for (int i = 0; i < 11; i++) {
        assert_string_equal(t.p[i].name, names[i]);
        assert_int_equal(t.p[i].rows, rows[i]);
        assert_int_equal(t.p[i].cols, cols[i]);
        assert_int_equal(t.p[i].offset % 16, 0); /* 64-byte aligned views */
        const size_t prev_end =
            i ? t.p[i - 1].offset + (size_t)rows[i - 1] * (cols[i - 1] ? cols[i - 1] : 1) : 0;
        if (i) assert_true(t.p[i].offset >= prev_end);
    }
    /* PyTorch's default ranges: cells and fc U(-1/sqrt(H), 1/sqrt(H)), embedding N(0, 1) */
    Model m;
    model_create(&m, &s);
    model_init_params(&m, 1);
    float bound = 0.25f;
    double sq = 0;
    for (int i = 1; i < t.count; i++) {
        const ParamInfo *p = &t.p[i];
        for (size_t k = 0; k < (size_t)p->rows * (p->cols ? p->cols : 1); k++)
            assert_true(fabsf(m.params[p->offset + k]) <= bound);
    }
    for (int k = 0; k < 80; k++) sq += (double)m.params[k] * m.params[k];
    assert_true(sq / 80 > 0.5 && sq / 80 < 1.6);
    model_free(&m);
}

/* A batch trimmed to its longest length gives the same valid outputs as the
 * same sequences padded to a longer T, also when the model ran a longer
 * batch just before (workspace reuse). */
static void test_trim_equals_padding(void **state)
{
    (void)state;
    for (int cell = 0; cell < 3; cell++) {
        ModelSpec s = spec_with(0, 0);
        s.cell = (CellKind)cell;
        Model m;
        model_create(&m, &s);
        model_init_params(&m, 4);
        GradcheckBatch tb;
        gradcheck_batch_random(&tb, &s, 8, 3, 0, 5);
        for (int b = 0; b < 3; b++) tb.lengths[b] = 3 + b; /* longest 5 of 8 */
        model_forward(&m, &tb.b, 0, 0, 0);
        LossSums padded = model_loss(&m, &tb.b, 0.0f);
        Batch trimmed = tb.b;
        trimmed.T = 5; /* time-major: the first 5 steps are a prefix of the arrays */
        model_forward(&m, &trimmed, 0, 0, 0);
        LossSums t5 = model_loss(&m, &trimmed, 0.0f);
        Model fresh;
        model_create(&fresh, &s);
        memcpy(fresh.params, m.params, sizeof(float) * m.table.total);
        model_forward(&fresh, &trimmed, 0, 0, 0);
        LossSums f5 = model_loss(&fresh, &trimmed, 0.0f);
        assert_true(padded.count == t5.count);
        /* GEMM blocking may differ with the row count: equal up to rounding */
        if (fabs(padded.loss - t5.loss) > 1e-6 * fabs(padded.loss) || t5.loss != f5.loss)
            fail_msg("%s: padded %.9g, trimmed %.9g, trimmed in a fresh model %.9g",
                     cell_name(s.cell), padded.loss, t5.loss, f5.loss);
        gradcheck_batch_free(&tb);
        model_free(&m);
        model_free(&fresh);
    }
}

/* Rows 0..B of the time-major batch b (dense input, value targets) into sub.
 * sub's arrays: x [T, B, F], y [T, B, O], lengths and sample [B]. */
static void batch_first_rows(Batch *sub, float *x, float *y, int32_t *lengths, uint32_t *sample,
                             const Batch *b, int B, int F, int O)
{
    for (int t = 0; t < b->T; t++) {
        memcpy(x + (size_t)t * B * F, b->x + (size_t)t * b->B * F, sizeof(float) * B * F);
        memcpy(y + (size_t)t * B * O, b->y_value + (size_t)t * b->B * O, sizeof(float) * B * O);
    }
    memcpy(lengths, b->lengths, sizeof(int32_t) * B);
    memcpy(sample, b->sample, sizeof(uint32_t) * B);
    *sub = (Batch){B, b->T, x, NULL, lengths, NULL, y, sample};
}

/* A row's outputs do not depend on which rows share its batch: the first 4
 * sequences of a batch of 7, and the first alone, give the same logits, bit
 * for bit (eval's batch size, a batch split across ranks), every cell, both
 * targets. Run also with OPENBLAS_CORETYPE=Prescott (make unit): OpenBLAS
 * 0.3.21's fallback kernels for a CPU it does not know gave other bits for
 * one row than for several when the head ran on them. */
static void test_rows_independent(void **state)
{
    (void)state;
    enum { T = 6, B = 7, F = 3 };
    for (int cell = 0; cell < 3; cell++)
        for (int last = 0; last < 2; last++) {
            ModelSpec s = spec_with(0, 0);
            s.cell = (CellKind)cell;
            s.hidden = 8;
            s.out = 1 + last;
            s.target = last ? TARGET_LAST : TARGET_STEP;
            Model m;
            model_create(&m, &s);
            model_init_params(&m, 8);
            GradcheckBatch tb;
            gradcheck_batch_random(&tb, &s, T, B, 1, 9);
            model_forward(&m, &tb.b, 0, 0, 0);
            const int O = s.out, rows = m.rows;
            float *full = malloc(sizeof(float) * (size_t)rows * O);
            memcpy(full, m.logits, sizeof(float) * (size_t)rows * O);
            for (int n = 4; n > 0; n -= 3) {
                float x[T * 4 * F], y[T * 4 * 2];
                int32_t lengths[4];
                uint32_t sample[4];
                Batch sub;
                batch_first_rows(&sub, x, y, lengths, sample, &tb.b, n, F, O);
                model_forward(&m, &sub, 0, 0, 0);
                for (int r = 0; r < m.rows; r++) {
                    int t = last ? 0 : r / n, i = last ? r : r % n;
                    if (memcmp(m.logits + (size_t)r * O, full + ((size_t)t * B + i) * O,
                               sizeof(float) * O))
                        fail_msg("%s %s: row %d (step %d) differs in a batch of %d",
                                 cell_name(s.cell), last ? "last" : "step", i, t, n);
                }
            }
            free(full);
            gradcheck_batch_free(&tb);
            model_free(&m);
        }
}

/* fc's gradients on the packed kernels, 256 rows of the logits' gradient at
 * a time (360 rows: a chunk and a part), against OpenBLAS's (m.isa =
 * GEMM_BLAS) within fp32 rounding; the same in both for every other
 * parameter's gradient would need the same kernel, so only fc is compared. */
static void test_head_grads_chunks(void **state)
{
    (void)state;
    ModelSpec s = spec_with(0, 0);
    s.cell = CELL_LSTM;
    s.out = 5;
    float *g[2];
    size_t fc = 0, total = 0;
    for (int blas = 0; blas < 2; blas++) {
        Model m;
        model_create(&m, &s);
        model_init_params(&m, 3);
        if (blas) m.isa = GEMM_BLAS;
        GradcheckBatch tb;
        gradcheck_batch_random(&tb, &s, 40, 9, 0, 4);
        model_forward(&m, &tb.b, 0, 0, 0);
        assert_int_equal(m.rows, 360);
        model_loss(&m, &tb.b, 1.0f);
        model_zero_grads(&m);
        model_backward(&m, &tb.b);
        fc = (size_t)(m.g.fc_w - m.grads);
        total = m.table.total;
        g[blas] = malloc(sizeof(float) * total);
        memcpy(g[blas], m.grads, sizeof(float) * total);
        gradcheck_batch_free(&tb);
        model_free(&m);
    }
    double big = 0, diff = 0;
    for (size_t i = fc; i < total; i++) {
        big = fmax(big, fabs(g[1][i]));
        diff = fmax(diff, fabs((double)g[0][i] - g[1][i]));
    }
    if (!(big > 0.01 && diff <= 1e-5 * big))
        fail_msg("fc gradients: largest %.3g, packed and OpenBLAS differ by %.3g", big, diff);
    free(g[0]);
    free(g[1]);
}

/* What the hooks of model_backward_hooked saw. */
typedef struct HookLog {
    int pokes;                          /* polls so far */
    int ready[MODEL_MAX_BUCKETS + 1];   /* pokes seen when bucket i was final */
    int buckets;                        /* buckets announced, in order */
} HookLog;

static void log_ready(void *ctx, int bucket)
{
    HookLog *h = ctx;
    assert_int_equal(bucket, h->buckets);
    h->ready[h->buckets++] = h->pokes;
}

static void log_poke(void *ctx)
{
    ((HookLog *)ctx)->pokes++;
}

/* The hooked backward pass: every bucket announced once, in order, the
 * same gradients as the plain pass, and while each layer below the top
 * computes (between two buckets) at least one poll per time step of each
 * direction, so the sums of the buckets above move on inside the time loop,
 * not only between layers. */
static void test_backward_pokes(void **state)
{
    (void)state;
    const int T = 9;
    for (int cell = 0; cell < 3; cell++)
        for (int bidir = 0; bidir < 2; bidir++) {
            ModelSpec s = spec_with(0, 0);
            s.cell = (CellKind)cell;
            s.layers = 3;
            s.bidirectional = bidir;
            Model m;
            model_create(&m, &s);
            model_init_params(&m, 5);
            GradcheckBatch tb;
            gradcheck_batch_random(&tb, &s, T, 4, 1, 6);
            model_forward(&m, &tb.b, 0, 0, 0);
            model_loss(&m, &tb.b, 0.1f);
            model_zero_grads(&m);
            model_backward(&m, &tb.b);
            float *plain = malloc(sizeof(float) * m.table.total);
            memcpy(plain, m.grads, sizeof(float) * m.table.total);
            model_zero_grads(&m);
            HookLog h = {0};
            model_backward_hooked(&m, &tb.b, log_ready, log_poke, &h);
            assert_memory_equal(plain, m.grads, sizeof(float) * m.table.total);
            GradBuckets gb;
            model_grad_buckets(&gb, &m);
            assert_int_equal(h.buckets, gb.count);
            for (int i = 1; i < gb.count; i++)
                if (h.ready[i] - h.ready[i - 1] < T * (1 + bidir))
                    fail_msg("%s%s: %d polls while bucket %d computed, want >= %d",
                             cell_name(s.cell), bidir ? " bidirectional" : "",
                             h.ready[i] - h.ready[i - 1], i, T * (1 + bidir));
            free(plain);
            gradcheck_batch_free(&tb);
            model_free(&m);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_mask),
        cmocka_unit_test(test_dropout_only_in_training),
        cmocka_unit_test(test_param_table),
        cmocka_unit_test(test_trim_equals_padding),
        cmocka_unit_test(test_rows_independent),
        cmocka_unit_test(test_head_grads_chunks),
        cmocka_unit_test(test_backward_pokes),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
