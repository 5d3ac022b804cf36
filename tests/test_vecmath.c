/* test_vecmath.c - accuracy of the vectorised activations against double
 * precision libm, over a dense sweep of inputs and the edges (0, tiny,
 * huge, odd lengths that exercise the tail). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_exp),
    };
    return cmocka_run_group_tests_name("vecmath", tests, NULL, NULL);
}
