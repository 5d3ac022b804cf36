/* test_cellbf16.c - the recurrent cells with precision bf16 (CellDims.bf16:
 * every product's operands rounded to bfloat16, sums in fp32), for every
 * cell: RNN tanh, RNN relu, LSTM, GRU, from a zero and from a given state.
 *
 * Half of the cases run the forward input projection in fp32 (as layer 0
 * does: model_layer_dims), the others in bf16.
 *
 *   - instruction = model: on each bf16 instruction this CPU runs
 *     (AVX512_BF16, AMX), a forward and backward pass gives, bit for bit,
 *     h, dx and the four gradients of the same pass on the instruction's
 *     scalar model (gemmprec.h); reported as skipped where the CPU lacks it;
 *   - near fp32: the pass on a scalar model (any CPU) against the fp32 pass
 *     on the same data: each of h, dx and the gradients within a relative
 *     L2 error of BF16_RTOL. A bf16 operand is within 2^-9 of its value,
 *     a product of two within about 2^-8; the errors of a sum of many
 *     products mostly cancel, and the recurrence carries them a few steps:
 *     every tensor here measured 0.05-0.45% (BF16_RTOL allows 3x that),
 *     while a product with a wrong operand, transpose or missing term is
 *     off by tens of percent. For the RNN with ReLU only h is compared: a
 *     pre-activation within rounding of 0 switches its unit's gradient on
 *     or off (dx measured 5% off; the products are the tanh RNN's, checked);
 *   - really bf16: the same comparison finds differences above 1e-4 (the
 *     pass did not run in fp32);
 *   - an fp32 input projection is fp32: from a zero state the first step
 *     has no recurrent product, so with it h of step 0 is the fp32 pass's
 *     bit for bit, and without it (a bf16 input projection) it is not.
 * Shapes: In 13, H 20, T 9, B 130 (T*B = 1170 rows, over CELLGEMM_BF16_ROWS
 * and CELLGEMM_BF16_KCHUNK: the row chunks and the weight gradients' chunks
 * of the long dimension run; odd In: the padded pair), In 5, H 4, T 7,
 * B 3 (odd rows: steps put half pairs; all steps in one dx product) and
 * In 6, H 8, T 9, B 20 (dx four steps at a time, the last group one step).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cell.h"
#include "cellkinds.h"
#include "check.h"
#include "gemm.h"
#include "gemmprec.h"
#include "rng.h"

#define BF16_RTOL 0.015

typedef struct Shape {
    int in, hidden, T, B;
} Shape;

static const Shape SHAPES[] = {{13, 20, 9, 130}, {5, 4, 7, 3}, {6, 8, 9, 20}};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

/* The outputs of one pass: h, dx and the gradients (w_ih, w_hh, b_ih, b_hh
 * in one buffer). */
enum { OUT_H, OUT_DX, OUT_GRADS, NOUT };
static const char *OUT_NAMES[NOUT] = {"h", "dx", "gradients"};

typedef struct Pass {
    float *out[NOUT];
    size_t n[NOUT];
} Pass;

/* One forward and backward of kind k on shape s on kernel bf16 (OFF: fp32
 * on the CPU's packed kernel; fp32_in: the forward input projection in
 * fp32, as layer 0's), from a random state when given, with
 * parameters, inputs, state and the loss's weights R drawn from seed:
 * L = sum(h * R). */
static Pass pass_run(const Kind *k, const Shape *s, GemmBf16 bf16, int fp32_in, int given,
                     uint64_t seed)
{
    CellDims d = {k->kind,    k->act, s->in, s->hidden, gemm_isa(), bf16,
                  fp32_in ? GEMM_BF16_OFF : bf16, {NULL, NULL}};
    const size_t GH = (size_t)cell_gates(k->kind) * s->hidden, TB = (size_t)s->T * s->B;
    const size_t np = GH * ((size_t)s->in + s->hidden + 2);
    float *params = xalloc_floats(np), *x = xalloc_floats(TB * s->in);
    float *dh = xalloc_floats(TB * s->hidden), *state0 = xalloc_floats(cell_state_floats(&d, s->B));
    float *cache = xalloc_floats(cell_cache_floats(&d, s->T, s->B));
    float *scratch = xalloc_floats(cell_scratch_floats(&d, s->T, s->B));
    Pass p = {{xalloc_floats(TB * s->hidden), xalloc_floats(TB * s->in), xalloc_floats(np)},
              {TB * s->hidden, TB * s->in, np}};
    size_t i = 0;
    const float bound = 1.5f / sqrtf((float)s->hidden);
    for (size_t e = 0; e < np; e++) params[e] = rng_uniform_at(seed, i++, -bound, bound);
    for (size_t e = 0; e < TB * s->in; e++) x[e] = rng_uniform_at(seed, i++, -1.0f, 1.0f);
    for (size_t e = 0; e < cell_state_floats(&d, s->B); e++)
        state0[e] = rng_uniform_at(seed, i++, -1.0f, 1.0f);
    for (size_t e = 0; e < TB * s->hidden; e++) dh[e] = rng_uniform_at(seed, i++, -1.0f, 1.0f);
    LayerParams w = {params, params + GH * s->in, params + GH * (s->in + s->hidden),
                     params + GH * (s->in + s->hidden + 1)};
    float *g0 = p.out[OUT_GRADS];
    memset(g0, 0, sizeof(float) * np);
    LayerParams g = {g0, g0 + GH * s->in, g0 + GH * (s->in + s->hidden),
                     g0 + GH * (s->in + s->hidden + 1)};
    /* outputs the pass must overwrite start as garbage, its cache and
     * scratch as NaN (a pass must not read what it did not write) */
    for (size_t e = 0; e < cell_cache_floats(&d, s->T, s->B); e++) cache[e] = NAN;
    for (size_t e = 0; e < cell_scratch_floats(&d, s->T, s->B); e++) scratch[e] = NAN;
    for (size_t e = 0; e < TB * s->hidden; e++) p.out[OUT_H][e] = 1e3f;
    for (size_t e = 0; e < TB * s->in; e++) p.out[OUT_DX][e] = 1e3f;
    const float *s0 = given ? state0 : NULL;
    cell_forward(p.out[OUT_H], cache, x, s0, &w, &d, s->T, s->B);
    cell_backward(p.out[OUT_DX], &g, dh, scratch, x, s0, p.out[OUT_H], cache, &w, &d, s->T,
                  s->B);
    free(params);
    free(x);
    free(dh);
    free(state0);
    free(cache);
    free(scratch);
    return p;
}

static void pass_free(Pass *p)
{
    for (int o = 0; o < NOUT; o++) free(p->out[o]);
}

/* ||a - b|| / ||b|| over n floats; *maxdiff the largest |a - b|. */
static double rel_l2(const float *a, const float *b, size_t n, double *maxdiff)
{
    double num = 0, den = 0;
    *maxdiff = 0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)a[i] - (double)b[i];
        num += e * e;
        den += (double)b[i] * (double)b[i];
        if (fabs(e) > *maxdiff) *maxdiff = fabs(e);
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Every cell, shape and state on the instruction kernel and on its model:
 * the same bits. */
static void instruction_is_model(GemmBf16 kernel, GemmBf16 model)
{
    if (!gemmprec_supported(kernel)) {
        printf("%s: not on this CPU\n", gemmprec_name(kernel));
        skip();
    }
    for (int k = 0; k < NKINDS; k++)
        for (int s = 0; s < NSHAPES; s++)
            for (int given = 0; given < 2; given++) {
                const int in32 = (k + s + given) % 2; /* half the cases: an fp32 input */
                Pass a = pass_run(&KINDS[k], &SHAPES[s], kernel, in32, given, 7 + (uint64_t)s);
                Pass b = pass_run(&KINDS[k], &SHAPES[s], model, in32, given, 7 + (uint64_t)s);
                for (int o = 0; o < NOUT; o++)
                    if (memcmp(a.out[o], b.out[o], sizeof(float) * a.n[o]) != 0)
                        fail_msg("%s, shape %d, state %d: %s of %s differs from %s", KINDS[k].name,
                                 s, given, OUT_NAMES[o], gemmprec_name(kernel),
                                 gemmprec_name(model));
                pass_free(&a);
                pass_free(&b);
            }
}

static void test_avx512_is_model(void **state)
{
    (void)state;
    instruction_is_model(GEMM_BF16_AVX512, GEMM_BF16_AVX512_MODEL);
}

static void test_amx_is_model(void **state)
{
    (void)state;
    instruction_is_model(GEMM_BF16_AMX, GEMM_BF16_AMX_MODEL);
}

static void test_fma_is_model(void **state)
{
    (void)state;
    instruction_is_model(GEMM_BF16_FMA, GEMM_BF16_AVX512_MODEL);
}

/* Both models against fp32: within BF16_RTOL, and not equal to it. */
static void test_near_fp32(void **state)
{
    (void)state;
    const GemmBf16 models[2] = {GEMM_BF16_AVX512_MODEL, GEMM_BF16_AMX_MODEL};
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < NKINDS; k++)
            for (int s = 0; s < NSHAPES; s++)
                for (int given = 0; given < 2; given++) {
                    const int in32 = (m + k + s + given) % 2;
                    Pass a = pass_run(&KINDS[k], &SHAPES[s], models[m], in32, given, 11);
                    Pass b = pass_run(&KINDS[k], &SHAPES[s], GEMM_BF16_OFF, 0, given, 11);
                    const int nout = KINDS[k].act == NONLIN_RELU ? OUT_H + 1 : NOUT;
                    for (int o = 0; o < nout; o++) {
                        double maxdiff;
                        double r = rel_l2(a.out[o], b.out[o], a.n[o], &maxdiff);
                        printf("%s %s shape %d state %d %s: relative L2 %.2e, max |diff| %.2e\n",
                               gemmprec_name(models[m]), KINDS[k].name, s, given, OUT_NAMES[o],
                               r, maxdiff);
                        if (!(r <= BF16_RTOL)) /* NaN fails too */
                            fail_msg("%s: %s off fp32 by %.3g (limit %g)", KINDS[k].name,
                                     OUT_NAMES[o], r, BF16_RTOL);
                        if (maxdiff < 1e-4)
                            fail_msg("%s: %s equals fp32 within %.2g: not run in bf16?",
                                     KINDS[k].name, OUT_NAMES[o], maxdiff);
                    }
                    pass_free(&a);
                    pass_free(&b);
                }
}

static void test_input_fp32(void **state)
{
    (void)state;
    for (int k = 0; k < NKINDS; k++)
        for (int s = 0; s < NSHAPES; s++) {
            const size_t n = (size_t)SHAPES[s].B * SHAPES[s].hidden; /* step 0's h */
            Pass ref = pass_run(&KINDS[k], &SHAPES[s], GEMM_BF16_OFF, 0, 0, 5);
            for (int in32 = 0; in32 < 2; in32++) {
                Pass p = pass_run(&KINDS[k], &SHAPES[s], GEMM_BF16_AMX_MODEL, in32, 0, 5);
                int same = memcmp(p.out[OUT_H], ref.out[OUT_H], sizeof(float) * n) == 0;
                if (same != in32)
                    fail_msg("%s shape %d: step 0 with a%s input projection %s fp32's",
                             KINDS[k].name, s, in32 ? "n fp32" : " bf16",
                             same ? "equals" : "differs from");
                pass_free(&p);
            }
            pass_free(&ref);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avx512_is_model),
        cmocka_unit_test(test_amx_is_model),
        cmocka_unit_test(test_fma_is_model),
        cmocka_unit_test(test_near_fp32),
        cmocka_unit_test(test_input_fp32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
