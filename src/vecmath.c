/* vecmath.c - element-wise activations (see vecmath.h).
 *
 * exp, sigmoid and tanh are computed 16 floats at a time with GCC vector
 * extensions, compiled for AVX-512 (comparisons native), AVX2 and baseline
 * x86-64 (comparisons as masks: vless) and chosen by the CPU's features, so
 * one binary is fast here and still runs on older machines. Every variant
 * gives the same bits. Accuracy (checked by tests/test_vecmath.c against double
 * precision libm): relative error below 4e-7 for exp and sigmoid, absolute
 * error below 2e-7 for tanh.
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

/* the helpers below are always inlined: no vector crosses a call */
#pragma GCC diagnostic ignored "-Wpsabi"

#define VW 16
typedef float vf __attribute__((vector_size(VW * sizeof(float))));
typedef int vi __attribute__((vector_size(VW * sizeof(int))));

#define INLINE static inline __attribute__((always_inline))

INLINE vf splat(float v)
{
    return (vf){v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v};
}

/* m ? a : b, lane by lane, for a mask m (all ones or zero). */
INLINE vf vselect(vi m, vf a, vf b)
{
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}

/* The mask of a < b, lane by lane. native: the comparison itself (one
 * instruction with AVX-512). Otherwise the same mask (false for a NaN, -0 < 0
 * false, denormals as the MXCSR treats them) from the bits of d = (a - b) +
 * 0: negative and not a NaN. (+ 0 makes a zero +0 and is not folded away, as
 * a - 0 is; a < b exactly when a - b < 0 for the constants compared with
 * here.) GCC 12 turns a comparison of 16-float vectors into 16 scalar ones
 * unless AVX-512 is on; subtraction, shifts and masks split into 256- or
 * 128-bit instructions. */
INLINE vi vless(vf a, vf b, int native)
{
    if (native) return a < b;
    const vi d = (vi)((a - b) + splat(0.0f));
    const vi nan = (0x7f800000 - (d & 0x7fffffff)) >> 31;
    return (d >> 31) & ~nan;
}

INLINE vf vmin(vf a, vf b, int native)
{
    return vselect(vless(a, b, native), a, b);
}

INLINE vf vmax(vf a, vf b, int native)
{
    return vselect(vless(b, a, native), a, b);
}

/* |x|: vmax(x, -x) but for a NaN's sign (vtanh's vmin gives 20 for either). */
INLINE vf vabs(vf x)
{
    return (vf)((vi)x & 0x7fffffff);
}

/* y = n ln2 + r; returns r, sets *n (integer-valued floats). */
INLINE vf reduce(vf y, vf *n)
{
    const vf magic = splat(12582912.0f); /* 1.5 * 2^23: rounds to nearest */
    vf k = (y * splat(1.44269504088896341f) + magic) - magic;
    *n = k;
    return (y - k * splat(0.693145751953125f)) - k * splat(1.42860682030941723e-6f);
}

/* e^r - 1 for |r| <= ln2/2: Taylor to r^7 (Horner). */
INLINE vf expm1_small(vf r)
{
    vf p = splat(1.0f / 5040.0f);
    p = p * r + splat(1.0f / 720.0f);
    p = p * r + splat(1.0f / 120.0f);
    p = p * r + splat(1.0f / 24.0f);
    p = p * r + splat(1.0f / 6.0f);
    p = p * r + splat(0.5f);
    p = p * r + splat(1.0f);
    return p * r;
}

/* 2^n for integer-valued n in [-126, 127]. */
INLINE vf pow2(vf n)
{
    vi e = (__builtin_convertvector(n, vi) + 127) << 23;
    return (vf)e;
}

INLINE vf vexp(vf y, int native)
{
    y = vmax(vmin(y, splat(88.0f), native), splat(-87.0f), native);
    vf n, r = reduce(y, &n);
    return (expm1_small(r) + splat(1.0f)) * pow2(n);
}

INLINE vf vexpm1(vf y, int native)
{
    y = vmax(vmin(y, splat(88.0f), native), splat(-87.0f), native);
    vf n, r = reduce(y, &n);
    vf s = pow2(n);
    return s * expm1_small(r) + (s - splat(1.0f));
}

INLINE vf vsigmoid(vf x, int native)
{
    return splat(1.0f) / (splat(1.0f) + vexp(-x, native));
}

INLINE vf vtanh(vf x, int native)
{
    vf m = vexpm1(splat(2.0f) * vmin(vabs(x), splat(20.0f), native), native);
    vf t = m / (m + splat(2.0f));
    return vselect(vless(x, splat(0.0f), native), -t, t);
}

/* Apply f (comparisons native or not) to x[0..n) in blocks of VW, the tail
 * through a padded block. */
#define APPLY(f, native, x, n)                                                  \
    do {                                                                        \
        size_t i_ = 0;                                                          \
        for (; i_ + VW <= (n); i_ += VW) {                                      \
            vf v_;                                                              \
            memcpy(&v_, (x) + i_, sizeof v_);                                   \
            v_ = f(v_, native);                                                 \
            memcpy((x) + i_, &v_, sizeof v_);                                   \
        }                                                                       \
        if (i_ < (n)) {                                                         \
            vf v_ = splat(0.0f);                                                \
            memcpy(&v_, (x) + i_, sizeof(float) * ((n) - i_));                  \
            v_ = f(v_, native);                                                 \
            memcpy((x) + i_, &v_, sizeof(float) * ((n) - i_));                  \
        }                                                                       \
    } while (0)

/* Below AVX-512: AVX2 or baseline x86-64 chosen at load time, comparisons
 * as masks. */
#if VEC_CLONED
#define NARROW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NARROW_CLONES
#endif

NARROW_CLONES static void sigmoid_masked(float *x, size_t n)
{
    APPLY(vsigmoid, 0, x, n);
}

NARROW_CLONES static void tanh_masked(float *x, size_t n)
{
    APPLY(vtanh, 0, x, n);
}

NARROW_CLONES static void exp_masked(float *x, size_t n)
{
    APPLY(vexp, 0, x, n);
}

#if VEC_CLONED
/* With AVX-512: comparisons of 16 floats are one instruction each. */
#define AVX512 __attribute__((target("avx512f")))

AVX512 static void sigmoid_avx512(float *x, size_t n)
{
    APPLY(vsigmoid, 1, x, n);
}

AVX512 static void tanh_avx512(float *x, size_t n)
{
    APPLY(vtanh, 1, x, n);
}

AVX512 static void exp_avx512(float *x, size_t n)
{
    APPLY(vexp, 1, x, n);
}

typedef void (*VecFn)(float *x, size_t n);

/* avx512 on a CPU with AVX-512 (GCC's CPU model, read once: then a load),
 * else masked. */
static VecFn vec_choose(VecFn avx512, VecFn masked)
{
    return __builtin_cpu_supports("avx512f") ? avx512 : masked;
}
#define VEC_CHOOSE(f) vec_choose(f##_avx512, f##_masked)
#else
#define VEC_CHOOSE(f) f##_masked
#endif

void vec_sigmoid(float *x, size_t n)
{
    VEC_CHOOSE(sigmoid)(x, n);
}

void vec_tanh(float *x, size_t n)
{
    VEC_CHOOSE(tanh)(x, n);
}

void vec_exp(float *x, size_t n)
{
    VEC_CHOOSE(exp)(x, n);
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
