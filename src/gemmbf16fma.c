/* gemmbf16fma.c - precision bf16's products on the fp32 FMA unit (see gemmbf16fma.h). */
#include "gemmbf16fma.h"

#include <stdlib.h>

#include "bf16tile.h"
#include "check.h"
#include "gemmbf16.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define FMA16_X86 1
#else
#define FMA16_X86 0
#endif

/* Rows of A widened at a time (their fp32 copy, 96 x Kp floats, stays in
 * the L2 cache while every panel reads it). */
#define FMA16_CHUNK 96

int gemm_bf16_fma_supported(void)
{
#if FMA16_X86
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#if FMA16_X86
/* aw[m, Kp] = the fp32 values of a's bf16 rows (the bits shifted up). */
__attribute__((target("avx512f"))) static void widen(float *aw, const uint16_t *a, int lda,
                                                     int M, int Kp)
{
    for (int m = 0; m < M; m++) {
        const uint16_t *am = a + (size_t)m * lda;
        uint32_t *wm = (uint32_t *)(aw + (size_t)m * Kp);
        for (int k = 0; k < Kp; k++) wm[k] = (uint32_t)am[k] << 16;
    }
}

/* c[rows, 16 nv] (+)= A[rows, Kp] [p0 | p1], A widened (aw, rows of Kp);
 * per pair the odd element's product first, as VDPBF16PS adds them. */
__attribute__((target("avx512f"), always_inline)) static inline void
kernel(float *c, int ldc, const float *aw, int Kp, const uint16_t *p0, const uint16_t *p1,
       int pairs, int rows, int nv, __mmask16 m0, __mmask16 m1, int add)
{
    const __m512i hi = _mm512_set1_epi32((int)0xffff0000u);
    __m512 acc[BF16_TILE_MR][2];
    bf16_tile_prefetch(c, ldc, rows, nv);
#pragma GCC unroll 12
    for (int r = 0; r < BF16_TILE_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; p++) {
        __m512i b0 = _mm512_loadu_si512(p0 + (size_t)p * 2 * GEMM_BF16_NR);
        __m512i b1 = nv == 2 ? _mm512_loadu_si512(p1 + (size_t)p * 2 * GEMM_BF16_NR) : b0;
        __m512 b0o = _mm512_castsi512_ps(_mm512_and_si512(b0, hi));
        __m512 b0e = _mm512_castsi512_ps(_mm512_slli_epi32(b0, 16));
        __m512 b1o = _mm512_castsi512_ps(_mm512_and_si512(b1, hi));
        __m512 b1e = _mm512_castsi512_ps(_mm512_slli_epi32(b1, 16));
#pragma GCC unroll 12
        for (int r = 0; r < BF16_TILE_MR; r++) {
            if (r >= rows) break;
            const float *ar = aw + (size_t)r * Kp + 2 * p;
            __m512 ao = _mm512_set1_ps(ar[1]), ae = _mm512_set1_ps(ar[0]);
            acc[r][0] = _mm512_fmadd_ps(ao, b0o, acc[r][0]);
            acc[r][0] = _mm512_fmadd_ps(ae, b0e, acc[r][0]);
            if (nv == 2) {
                acc[r][1] = _mm512_fmadd_ps(ao, b1o, acc[r][1]);
                acc[r][1] = _mm512_fmadd_ps(ae, b1e, acc[r][1]);
            }
        }
    }
    bf16_tile_store(c, ldc, acc, rows, nv, m0, m1, add);
}

/* kernel over rows 0..M, in ceil(M / BF16_TILE_MR) blocks of as even a height
 * as can be (a row's result does not depend on its block). */
__attribute__((target("avx512f"), always_inline)) static inline void
panel_rows(float *c, int ldc, const float *aw, int Kp, const uint16_t *p0, const uint16_t *p1,
           int M, int nv, __mmask16 m0, __mmask16 m1, int add)
{
    const int blocks = (M + BF16_TILE_MR - 1) / BF16_TILE_MR, pairs = Kp / 2;
    for (int i = 0, m = 0; i < blocks; i++) {
        const int rows = (M - m) / (blocks - i);
        float *cm = c + (size_t)m * ldc;
        const float *am = aw + (size_t)m * Kp;
        switch (rows) {
#define FMA16_ROWS(R)                                                                          \
    case R: kernel(cm, ldc, am, Kp, p0, p1, pairs, R, nv, m0, m1, add); break;
            FMA16_ROWS(12) FMA16_ROWS(11) FMA16_ROWS(10) FMA16_ROWS(9) FMA16_ROWS(8)
            FMA16_ROWS(7) FMA16_ROWS(6) FMA16_ROWS(5) FMA16_ROWS(4) FMA16_ROWS(3)
            FMA16_ROWS(2) FMA16_ROWS(1)
#undef FMA16_ROWS
        default: break;
        }
        m += rows;
    }
}

__attribute__((target("avx512f"))) static void
panels_two(float *c, int ldc, const float *aw, int Kp, const uint16_t *p0, const uint16_t *p1,
           int M, __mmask16 m1, int add)
{
    panel_rows(c, ldc, aw, Kp, p0, p1, M, 2, 0xffff, m1, add);
}

__attribute__((target("avx512f"))) static void
panels_one(float *c, int ldc, const float *aw, int Kp, const uint16_t *p0, int M, __mmask16 m0,
           int add)
{
    panel_rows(c, ldc, aw, Kp, p0, p0, M, 1, m0, 0, add);
}

/* Rows 0..M (at most FMA16_CHUNK), A already widened into aw. */
static void chunk(float *c, int ldc, const float *aw, const uint16_t *bp, int M, int N, int Kp,
                  int add)
{
    const size_t panel = (size_t)GEMM_BF16_NR * Kp;
    for (int n0 = 0, nv; n0 < N; n0 += nv * GEMM_BF16_NR) {
        __mmask16 m;
        nv = bf16_tile_cols(n0, N, &m);
        const uint16_t *p0 = bp + (size_t)(n0 / GEMM_BF16_NR) * panel;
        if (nv == 2)
            panels_two(c + n0, ldc, aw, Kp, p0, p0 + panel, M, m, add);
        else
            panels_one(c + n0, ldc, aw, Kp, p0, M, m, add);
    }
}
#endif

void gemm_bf16_fma_packed(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp,
                          int M, int N, int K, int add)
{
    CHECK(gemm_bf16_fma_supported());
#if FMA16_X86
    const int Kp = gemm_bf16_kp(K);
    const int rows = M < FMA16_CHUNK ? M : FMA16_CHUNK;
    float *aw = xalloc_floats((size_t)rows * Kp);
    /* VDPBF16PS reads denormals as zero and flushes denormal sums: so do the FMAs here */
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u);
    for (int m = 0; m < M; m += FMA16_CHUNK) {
        const int n = M - m < FMA16_CHUNK ? M - m : FMA16_CHUNK;
        widen(aw, a + (size_t)m * lda, lda, n, Kp);
        chunk(c + (size_t)m * ldc, ldc, aw, bp, n, N, Kp, add);
    }
    _mm_setcsr(csr);
    free(aw);
#else
    (void)c, (void)ldc, (void)a, (void)lda, (void)bp, (void)M, (void)N, (void)K, (void)add;
#endif
}
