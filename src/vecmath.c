/* vecmath.c - element-wise activations (see vecmath.h).
 *
 * exp, sigmoid and tanh are computed with GCC vector extensions
 * (vecmath_lanes.h), 16 floats at a time with AVX-512, 8 with AVX2, 4 with
 * baseline x86-64, chosen by the CPU's features, so one binary is fast here
 * and still runs on older machines. Every width gives the same bits.
 * Accuracy (checked by tests/test_vecmath.c against double precision libm):
 * relative error below 4e-7 for exp and sigmoid, absolute error below 2e-7
 * for tanh.
 *
 * exp(y):   y = n ln2 + r, |r| <= ln2/2, e^r by its Taylor series to r^7,
 *           scaled by 2^n through the exponent bits.
 * expm1(y): the same split, 2^n expm1(r) + (2^n - 1), exact near 0.
 * sigmoid(x) = 1 / (1 + exp(-x));  tanh(x) = sign(x) m / (m + 2), m = expm1(2|x|).
 */
#include "vecmath.h"

#include <cblas.h>
#include <string.h>
#if defined(__SSE__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

/* the helpers are always inlined: no vector crosses a call */
#pragma GCC diagnostic ignored "-Wpsabi"

#define INLINE static inline __attribute__((always_inline))

#define LANES 16
#define LANE(name) name##16
#include "vecmath_lanes.h"
#undef LANES
#undef LANE
#define LANES 8
#define LANE(name) name##8
#include "vecmath_lanes.h"
#undef LANES
#undef LANE
#define LANES 4
#define LANE(name) name##4
#include "vecmath_lanes.h"
#undef LANES
#undef LANE

/* op of x[0..n) in place, at one width. */
typedef void (*VecWidth)(VecOp op, float *x, size_t n);

/* Baseline x86-64: 4 floats a vector. */
static void apply_narrow(VecOp op, float *x, size_t n)
{
    apply4(op, x, n);
}

#if defined(__x86_64__)
/* Each width where its comparisons are vector instructions: 16 floats with
 * AVX-512, 8 with AVX2 (GCC 12 turns a comparison of 16 floats into 16
 * scalar ones there), 4 with baseline x86-64. */
__attribute__((target("avx512f"))) static void apply_wide(VecOp op, float *x, size_t n)
{
    apply16(op, x, n);
}

__attribute__((target("avx2"))) static void apply_mid(VecOp op, float *x, size_t n)
{
    apply8(op, x, n);
}
#endif

/* The width of `lanes` floats (0: the widest this CPU runs), or NULL when
 * this CPU does not run it (GCC's CPU model, read once: then a load). */
static VecWidth vec_width(int lanes)
{
#if defined(__x86_64__)
    if ((lanes == 0 || lanes == 16) && __builtin_cpu_supports("avx512f")) return apply_wide;
    if ((lanes == 0 || lanes == 8) && __builtin_cpu_supports("avx2")) return apply_mid;
#endif
    return lanes == 0 || lanes == 4 ? apply_narrow : NULL;
}

void vec_sigmoid(float *x, size_t n)
{
    vec_width(0)(VEC_SIGMOID, x, n);
}

void vec_tanh(float *x, size_t n)
{
    vec_width(0)(VEC_TANH, x, n);
}

void vec_exp(float *x, size_t n)
{
    vec_width(0)(VEC_EXP, x, n);
}

int vec_apply_lanes(VecOp op, int lanes, float *x, size_t n)
{
    const VecWidth f = vec_width(lanes);
    if (!f) return -1;
    f(op, x, n);
    return 0;
}

void vec_relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void vec_init_compute(int threads)
{
#if defined(__SSE__)
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#endif
    openblas_set_num_threads(threads);
}
