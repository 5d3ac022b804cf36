/* test_vecmath.c - accuracy of the vectorised activations against double
 * precision libm, over a dense sweep of inputs and the edges (0, tiny,
 * huge, odd lengths that exercise the tail); and the clone of a VEC_CLONES
 * function that runs is the widest this CPU has. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "vecmath.h"

#define N 200003 /* not a multiple of the vector width */

static float *sweep(float lo, float hi)
{
    float *x = xalloc_floats(N);
    for (size_t i = 0; i < N; i++) x[i] = lo + (hi - lo) * (float)i / (float)(N - 1);
    x[0] = 0.0f;
    x[1] = 1e-30f;
    x[2] = -1e-7f;
    return x;
}

#if VEC_CLONED
/* A VEC_CLONES function, and its clones and resolver by the names GCC gives
 * them (the assembler finds this file's local symbols by name). */
VEC_CLONES int vecmath_probe(int x);
VEC_CLONES int vecmath_probe(int x)
{
    return x + 1;
}
extern char probe_avx512[] __asm__("vecmath_probe.avx512f");
extern char probe_avx2[] __asm__("vecmath_probe.avx2");
extern char probe_default[] __asm__("vecmath_probe.default");
void *probe_resolver(void) __asm__("vecmath_probe.resolver");
#endif

static void test_widest_clone(void **state)
{
    (void)state;
#if VEC_CLONED
    __builtin_cpu_init();
    const char *want = __builtin_cpu_supports("avx512f") ? probe_avx512
                       : __builtin_cpu_supports("avx2")  ? probe_avx2
                                                         : probe_default;
    assert_ptr_equal(probe_resolver(), want);
    assert_int_equal(vecmath_probe(1), 2);
#else
    skip();
#endif
}

static void test_sigmoid(void **state)
{
    (void)state;
    float *x = sweep(-100.0f, 100.0f), *y = xalloc_floats(N);
    for (size_t i = 0; i < N; i++) y[i] = x[i];
    vec_sigmoid(y, N);
    double worst = 0;
    for (size_t i = 0; i < N; i++) {
        double ref = 1.0 / (1.0 + exp(-(double)x[i]));
        double rel = fabs(y[i] - ref) / ref;
        if (ref > 1e-30 && rel > worst) worst = rel;
    }
    print_message("sigmoid: worst relative error %.3g\n", worst);
    assert_true(worst < 4e-7);
    free(x);
    free(y);
}

static void test_tanh(void **state)
{
    (void)state;
    float *x = sweep(-30.0f, 30.0f), *y = xalloc_floats(N);
    for (size_t i = 0; i < N; i++) y[i] = x[i];
    vec_tanh(y, N);
    double worst_abs = 0, worst_rel = 0;
    for (size_t i = 0; i < N; i++) {
        double ref = tanh((double)x[i]);
        double err = fabs(y[i] - ref);
        if (err > worst_abs) worst_abs = err;
        if (ref != 0 && err / fabs(ref) > worst_rel) worst_rel = err / fabs(ref);
    }
    print_message("tanh: worst absolute error %.3g, relative %.3g\n", worst_abs, worst_rel);
    assert_true(worst_abs < 2e-7);
    assert_true(worst_rel < 1e-6);
    free(x);
    free(y);
}

static void test_exp(void **state)
{
    (void)state;
    float *x = sweep(-80.0f, 80.0f), *y = xalloc_floats(N);
    for (size_t i = 0; i < N; i++) y[i] = x[i];
    vec_exp(y, N);
    double worst = 0;
    for (size_t i = 0; i < N; i++) {
        double ref = exp((double)x[i]);
        double rel = fabs(y[i] - ref) / ref;
        if (rel > worst) worst = rel;
    }
    print_message("exp: worst relative error %.3g\n", worst);
    assert_true(worst < 4e-7);
    free(x);
    free(y);
}

/* The formulas of vecmath.c, one float at a time, with the comparisons
 * written as comparisons. */
static float ref_expm1_small(float r)
{
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    return p * r;
}

/* y clamped to [-87, 88] = n ln2 + r: returns r, sets *s = 2^n. */
static float ref_reduce(float y, float *s)
{
    y = y < 88.0f ? y : 88.0f;
    y = y > -87.0f ? y : -87.0f;
    const float magic = 12582912.0f;
    volatile float k = y * 1.44269504088896341f + magic; /* rounded to float, as a lane is */
    const float n = k - magic;
    int32_t e = ((int32_t)n + 127) << 23;
    memcpy(s, &e, sizeof e);
    return (y - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
}

static float ref_exp(float y)
{
    float s, r = ref_reduce(y, &s);
    return (ref_expm1_small(r) + 1.0f) * s;
}

static float ref_tanh(float x)
{
    float ax = x > -x ? x : -x, s;
    float r = ref_reduce(2.0f * (ax < 20.0f ? ax : 20.0f), &s);
    float m = s * ref_expm1_small(r) + (s - 1.0f);
    float t = m / (m + 2.0f);
    return x < 0.0f ? -t : t;
}

/* The scalar formula of op at x. */
static float ref_op(VecOp op, float x)
{
    return op == VEC_TANH  ? ref_tanh(x)
           : op == VEC_EXP ? ref_exp(x)
                           : 1.0f / (1.0f + ref_exp(-x));
}

/* Every lane gives the bits of the scalar formula, at every width this CPU
 * runs (vec_apply_lanes) and at the width the vec_ functions take, for a
 * sweep and the edges (NaNs of either sign, +-0, +-inf, denormals, the
 * clamps and their neighbours), with denormals kept and flushed (as
 * training runs). */
static void test_same_bits_as_formula(void **state)
{
    (void)state;
    const float edges[] = {NAN, -NAN, 0.0f, -0.0f, INFINITY, -INFINITY, 1e-40f, -1e-40f,
                           88.0f, -87.0f, 20.0f, 10.0f, -10.0f, 44.0f, -43.5f, 1e-30f, -1e-7f};
    const char *names[3] = {"sigmoid", "tanh", "exp"};
    const size_t ne = sizeof edges / sizeof edges[0], n = 4099, m = n + 16 * ne;
    float *x = xalloc_floats(m), *y = xalloc_floats(m);
    for (size_t i = 0; i < n; i++) x[i] = -100.0f + 200.0f * (float)i / (float)(n - 1);
    for (size_t i = 0; i < 16 * ne; i++) { /* each edge beside its neighbours */
        float e = edges[i / 16];
        int step = (int)(i % 16) - 8;
        x[n + i] = step == 0 || isnan(e) || isinf(e) ? e : nextafterf(e, step * INFINITY);
    }
    int widths = 0;
    for (int flush = 0; flush < 2; flush++) {
        if (flush) vec_init_compute(1);
        for (int op = VEC_SIGMOID; op <= VEC_EXP; op++) {
            for (int lanes = 0; lanes <= 16; lanes = lanes ? 2 * lanes : 4) {
                memcpy(y, x, m * sizeof *y);
                if (lanes == 0) /* the width the vec_ functions take */
                    (op == VEC_TANH ? vec_tanh : op == VEC_EXP ? vec_exp : vec_sigmoid)(y, m);
                else if (vec_apply_lanes((VecOp)op, lanes, y, m))
                    continue;
                else
                    widths++;
                for (size_t i = 0; i < m; i++) {
                    float r = ref_op((VecOp)op, x[i]);
                    if (memcmp(&r, &y[i], sizeof r))
                        fail_msg("%s(%a) = %a, want %a (%d lanes, flush %d)", names[op], x[i],
                                 y[i], r, lanes, flush);
                }
            }
        }
    }
    print_message("widths checked: %d of 3\n", widths / 6);
    assert_true(widths >= 6); /* 4 lanes always */
    free(x);
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widest_clone),
        cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_exp),
        cmocka_unit_test(test_same_bits_as_formula),
    };
    return cmocka_run_group_tests_name("vecmath", tests, NULL, NULL);
}
