/* gemm.c - packed-B matrix product for the recurrent projections (see gemm.h). */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define GEMM_X86 1
#else
#define GEMM_X86 0
#endif

/* Rows per AVX2 kernel call: 6 rows x 2 vectors of 8 = 12 accumulators. */
#define GEMM_MR 6
/* Rows per AVX-512 kernel call: 12 rows x 2 vectors of 16 = 24 accumulators
 * of the 32 registers. */
#define GEMM_MR512 12
/* Rows per block: a block of A stays in the L2 cache while every panel of B
 * passes (one block for a recurrent step's batch). */
#define GEMM_MC 192

GemmIsa gemm_isa(void)
{
#if GEMM_X86
    const char *force = getenv("RNN_DIST_GEMM");
    if (force && strcmp(force, "blas") == 0) return GEMM_BLAS;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return GEMM_BLAS;
    if (force && strcmp(force, "avx2") == 0) return GEMM_AVX2;
    return __builtin_cpu_supports("avx512f") ? GEMM_AVX512 : GEMM_AVX2;
#else
    return GEMM_BLAS;
#endif
}

const char *gemm_isa_name(GemmIsa isa)
{
    return isa == GEMM_AVX512 ? "avx512" : isa == GEMM_AVX2 ? "avx2" : "blas";
}

size_t gemm_packed_floats(int K, int N)
{
    return (size_t)K * (size_t)((N + GEMM_NR - 1) / GEMM_NR) * GEMM_NR;
}

void gemm_pack(float *bp, const float *b, int ldb, int trans, int K, int N)
{
    for (int n0 = 0; n0 < N; n0 += GEMM_NR) {
        float *panel = bp + (size_t)n0 * K;
        int w = N - n0 < GEMM_NR ? N - n0 : GEMM_NR;
        for (int k = 0; k < K; k++) {
            float *row = panel + (size_t)k * GEMM_NR;
            for (int j = 0; j < w; j++)
                row[j] = trans ? b[(size_t)(n0 + j) * ldb + k] : b[(size_t)k * ldb + n0 + j];
            for (int j = w; j < GEMM_NR; j++) row[j] = 0.0f;
        }
    }
}

#if GEMM_X86
/* c[rows, cols] += a[rows, K] panel[K, 16]; rows <= GEMM_MR is a constant
 * after inlining, so the accumulators live in registers. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
kernel(float *c, int ldc, const float *a, int lda, const float *panel, int K, int rows,
       int cols)
{
    __m256 acc[GEMM_MR][2];
#pragma GCC unroll 6
    for (int r = 0; r < GEMM_MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m256 b0 = _mm256_loadu_ps(panel + (size_t)k * GEMM_NR);
        __m256 b1 = _mm256_loadu_ps(panel + (size_t)k * GEMM_NR + 8);
#pragma GCC unroll 6
        for (int r = 0; r < GEMM_MR; r++) {
            if (r >= rows) break;
            __m256 av = _mm256_broadcast_ss(a + (size_t)r * lda + k);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    if (cols == GEMM_NR) {
#pragma GCC unroll 6
        for (int r = 0; r < GEMM_MR; r++) {
            if (r >= rows) break;
            float *cr = c + (size_t)r * ldc;
            _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][0]));
            _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[r][1]));
        }
        return;
    }
    float tile[GEMM_MR][GEMM_NR];
#pragma GCC unroll 6
    for (int r = 0; r < GEMM_MR; r++) {
        if (r >= rows) break;
        _mm256_storeu_ps(tile[r], acc[r][0]);
        _mm256_storeu_ps(tile[r] + 8, acc[r][1]);
    }
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) c[(size_t)r * ldc + j] += tile[r][j];
}

__attribute__((target("avx2,fma"))) static void panel_rows(float *c, int ldc, const float *a,
                                                           int lda, const float *panel, int M,
                                                           int K, int cols)
{
    int m = 0;
    for (; m + GEMM_MR <= M; m += GEMM_MR)
        kernel(c + (size_t)m * ldc, ldc, a + (size_t)m * lda, lda, panel, K, GEMM_MR, cols);
    float *cm = c + (size_t)m * ldc;
    const float *am = a + (size_t)m * lda;
    switch (M - m) {
    case 5: kernel(cm, ldc, am, lda, panel, K, 5, cols); break;
    case 4: kernel(cm, ldc, am, lda, panel, K, 4, cols); break;
    case 3: kernel(cm, ldc, am, lda, panel, K, 3, cols); break;
    case 2: kernel(cm, ldc, am, lda, panel, K, 2, cols); break;
    case 1: kernel(cm, ldc, am, lda, panel, K, 1, cols); break;
    default: break;
    }
}

/* c[rows, 16 nv] += a[rows, K] [p0 | p1][K, 16 nv], columns masked by m0
 * (first 16) and m1 (next 16); rows <= GEMM_MR512 and nv (1 or 2) are
 * constants after inlining. The same FMA chain per element as kernel(). */
__attribute__((target("avx512f"), always_inline)) static inline void
kernel512(float *c, int ldc, const float *a, int lda, const float *p0, const float *p1, int K,
          int rows, int nv, __mmask16 m0, __mmask16 m1)
{
    __m512 acc[GEMM_MR512][2];
#pragma GCC unroll 12
    for (int r = 0; r < GEMM_MR512; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m512 b0 = _mm512_loadu_ps(p0 + (size_t)k * GEMM_NR);
        __m512 b1 = nv == 2 ? _mm512_loadu_ps(p1 + (size_t)k * GEMM_NR) : b0;
#pragma GCC unroll 12
        for (int r = 0; r < GEMM_MR512; r++) {
            if (r >= rows) break;
            __m512 av = _mm512_set1_ps(a[(size_t)r * lda + k]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            if (nv == 2) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < GEMM_MR512; r++) {
        if (r >= rows) break;
        float *cr = c + (size_t)r * ldc;
        _mm512_mask_storeu_ps(cr, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), acc[r][0]));
        if (nv == 2)
            _mm512_mask_storeu_ps(cr + GEMM_NR, m1,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + GEMM_NR),
                                                acc[r][1]));
    }
}

/* kernel512 over rows 0..M in blocks of GEMM_MR512. */
__attribute__((target("avx512f"), always_inline)) static inline void
panel_rows512(float *c, int ldc, const float *a, int lda, const float *p0, const float *p1, int M,
              int K, int nv, __mmask16 m0, __mmask16 m1)
{
    int m = 0;
    for (; m + GEMM_MR512 <= M; m += GEMM_MR512)
        kernel512(c + (size_t)m * ldc, ldc, a + (size_t)m * lda, lda, p0, p1, K, GEMM_MR512, nv,
                  m0, m1);
    float *cm = c + (size_t)m * ldc;
    const float *am = a + (size_t)m * lda;
    switch (M - m) {
#define GEMM_TAIL(n) \
    case n: kernel512(cm, ldc, am, lda, p0, p1, K, n, nv, m0, m1); break;
        GEMM_TAIL(11) GEMM_TAIL(10) GEMM_TAIL(9) GEMM_TAIL(8) GEMM_TAIL(7) GEMM_TAIL(6)
        GEMM_TAIL(5) GEMM_TAIL(4) GEMM_TAIL(3) GEMM_TAIL(2) GEMM_TAIL(1)
#undef GEMM_TAIL
    default: break;
    }
}

/* 32 columns (two panels), the second masked by m1. */
__attribute__((target("avx512f"))) static void panel_pair(float *c, int ldc, const float *a,
                                                          int lda, const float *p0,
                                                          const float *p1, int M, int K,
                                                          __mmask16 m1)
{
    panel_rows512(c, ldc, a, lda, p0, p1, M, K, 2, (__mmask16)0xFFFF, m1);
}

/* 16 columns (one panel) masked by m0. */
__attribute__((target("avx512f"))) static void panel_one(float *c, int ldc, const float *a,
                                                         int lda, const float *p0, int M, int K,
                                                         __mmask16 m0)
{
    panel_rows512(c, ldc, a, lda, p0, p0, M, K, 1, m0, 0);
}

/* The first n of 16 lanes. */
static __mmask16 lanes(int n)
{
    return (__mmask16)(n >= GEMM_NR ? 0xFFFF : (1u << n) - 1);
}
#endif

void gemm_packed(float *c, int ldc, const float *a, int lda, const float *bp, int M, int N,
                 int K, GemmIsa isa)
{
#if GEMM_X86
    CHECK(M >= 0 && N >= 0 && K >= 0);
    CHECK(isa == GEMM_AVX2 || isa == GEMM_AVX512);
    for (int m0 = 0; m0 < M; m0 += GEMM_MC) {
        int mb = M - m0 < GEMM_MC ? M - m0 : GEMM_MC;
        float *cm = c + (size_t)m0 * ldc;
        const float *am = a + (size_t)m0 * lda;
        if (isa == GEMM_AVX2) {
            for (int n0 = 0; n0 < N; n0 += GEMM_NR)
                panel_rows(cm + n0, ldc, am, lda, bp + (size_t)n0 * K, mb, K,
                           N - n0 < GEMM_NR ? N - n0 : GEMM_NR);
            continue;
        }
        int n0 = 0;
        for (; N - n0 > GEMM_NR; n0 += 2 * GEMM_NR)
            panel_pair(cm + n0, ldc, am, lda, bp + (size_t)n0 * K,
                       bp + (size_t)(n0 + GEMM_NR) * K, mb, K, lanes(N - n0 - GEMM_NR));
        if (n0 < N) panel_one(cm + n0, ldc, am, lda, bp + (size_t)n0 * K, mb, K, lanes(N - n0));
    }
#else
    (void)c, (void)ldc, (void)a, (void)lda, (void)bp, (void)M, (void)N, (void)K, (void)isa;
    CHECK(!"gemm_packed called on a CPU without the kernel");
#endif
}
