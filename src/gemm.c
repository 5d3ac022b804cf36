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

/* Rows per micro-kernel call: 6 rows x 2 vectors = 12 accumulators. */
#define GEMM_MR 6

int gemm_packed_available(void)
{
#if GEMM_X86
    const char *force = getenv("RNN_DIST_GEMM");
    if (force && strcmp(force, "blas") == 0) return 0;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
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
#endif

void gemm_packed(float *c, int ldc, const float *a, int lda, const float *bp, int M, int N,
                 int K)
{
#if GEMM_X86
    CHECK(M >= 0 && N >= 0 && K >= 0);
    for (int n0 = 0; n0 < N; n0 += GEMM_NR)
        panel_rows(c + n0, ldc, a, lda, bp + (size_t)n0 * K, M, K,
                   N - n0 < GEMM_NR ? N - n0 : GEMM_NR);
#else
    (void)c, (void)ldc, (void)a, (void)lda, (void)bp, (void)M, (void)N, (void)K;
    CHECK(!"gemm_packed called on a CPU without the kernel");
#endif
}
