/* bf16tile.h - what the two AVX-512 kernels of bf16 products share
 * (internal header, no .c: used by gemmbf16.c and gemmbf16fma.c alone):
 * asking for and storing a block of fp32 sums, and the columns a call takes
 * next.
 */
#ifndef RNN_BF16TILE_H
#define RNN_BF16TILE_H

#if defined(__x86_64__)
#include <immintrin.h>

#include "gemmbf16.h"

/* Rows of C per kernel call. */
#define BF16_TILE_MR 12

/* Asks for the lines of c[rows, 16 nv] (rows <= 12, nv 1 or 2; constants
 * after inlining) before a kernel's products, so that they are on their way
 * while the products run: C is often cold (a step's gates, made by the
 * input projection long before), and written or added to at the end. */
__attribute__((target("avx512f"), always_inline)) static inline void
bf16_tile_prefetch(const float *c, int ldc, int rows, int nv)
{
#pragma GCC unroll 12
    for (int r = 0; r < BF16_TILE_MR; r++) {
        if (r >= rows) break;
        _mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
        if (nv == 2) _mm_prefetch((const char *)(c + (size_t)r * ldc + 16), _MM_HINT_T0);
    }
}

/* c[rows, 16 nv] (+)= acc: rows of one or two panels' sums (rows <= 12,
 * nv 1 or 2), columns masked by m0 and m1; constants after inlining. */
__attribute__((target("avx512f"), always_inline)) static inline void
bf16_tile_store(float *c, int ldc, __m512 acc[BF16_TILE_MR][2], int rows, int nv, __mmask16 m0,
                __mmask16 m1, int add)
{
#pragma GCC unroll 12
    for (int r = 0; r < BF16_TILE_MR; r++) {
        if (r >= rows) break;
        float *cr = c + (size_t)r * ldc;
        if (add) {
            acc[r][0] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), acc[r][0]);
            if (nv == 2) acc[r][1] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), acc[r][1]);
        }
        _mm512_mask_storeu_ps(cr, m0, acc[r][0]);
        if (nv == 2) _mm512_mask_storeu_ps(cr + 16, m1, acc[r][1]);
    }
}

/* The panels a call takes from column n0 of N: two (32 columns) while more
 * than 16 remain, else the last one; returns 1 or 2 and sets *mask to the
 * columns of the last panel taken. */
static inline int bf16_tile_cols(int n0, int N, __mmask16 *mask)
{
    const int nv = N - n0 > GEMM_BF16_NR ? 2 : 1;
    const int rest = N - n0 - (nv - 1) * GEMM_BF16_NR; /* 1..16 */
    *mask = (__mmask16)(rest >= 16 ? 0xffff : (1u << rest) - 1u);
    return nv;
}
#endif

#endif
