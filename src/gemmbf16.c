/* gemmbf16.c - bfloat16 products with fp32 accumulation (see gemmbf16.h). */
#include "gemmbf16.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "bf16tile.h"
#include "check.h"
#include "vecmath.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define BF16_X86 1
#else
#define BF16_X86 0
#endif

/* Rows per kernel call: 12 rows x 2 panels = 24 accumulators of 32 registers. */
#define BF16_MR BF16_TILE_MR

/* Rows of B packed into every panel before the next rows (even: a block
 * holds whole pairs). */
#define BF16_PACK_ROWS 16

int gemm_bf16_supported(void)
{
#if BF16_X86
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

/* gemm_bf16_round of the float with bits u, without branches (so that
 * loops of it vectorise): a NaN keeps its sign and upper payload, made
 * quiet; everything else rounds to nearest even. */
static inline uint16_t round_bits(uint32_t u)
{
    uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : r);
}

/* The bits of *p. */
static inline uint32_t bits_at(const float *p)
{
    uint32_t u;
    memcpy(&u, p, sizeof u);
    return u;
}

uint16_t gemm_bf16_round(float x)
{
    return round_bits(bits_at(&x));
}

float gemm_bf16_value(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

int gemm_bf16_kp(int K)
{
    return K + (K & 1);
}

VEC_CLONES void gemm_bf16_round_rows_sum(uint16_t *restrict out, float *restrict sums,
                                         const float *restrict a, int lda, int M, int K)
{
    const int Kp = gemm_bf16_kp(K);
    for (int m = 0; m < M; m++) {
        const float *row = a + (size_t)m * lda;
        uint16_t *o = out + (size_t)m * Kp;
        for (int k = 0; k < K; k++) {
            o[k] = round_bits(bits_at(row + k));
            sums[k] += row[k];
        }
        if (Kp > K) o[K] = 0;
    }
}

VEC_CLONES void gemm_bf16_round_rows(uint16_t *restrict out, const float *restrict a, int lda,
                                     int M, int K)
{
    const int Kp = gemm_bf16_kp(K);
    for (int m = 0; m < M; m++) {
        const float *row = a + (size_t)m * lda;
        uint16_t *o = out + (size_t)m * Kp;
        for (int k = 0; k < K; k++) o[k] = round_bits(bits_at(row + k));
        if (Kp > K) o[K] = 0;
    }
}

#if BF16_X86
/* v[i] (16 lanes of 32 bits) := lane i of each of v[0..15] in order: a
 * 16 x 16 transpose in registers. */
__attribute__((target("avx512f"), always_inline)) static inline void transpose16(__m512i v[16])
{
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(v[i], v[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(v[i], v[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        v[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        v[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        v[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        v[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    /* v[4q + j] now holds, in each 128-bit lane l, rows 4q..4q+3 of column
     * 4l + j; gather the four lanes of column c = 4l + j into v[c] */
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++) {
            t[8 * h + j] = _mm512_shuffle_i32x4(v[8 * h + j], v[8 * h + 4 + j], 0x88);
            t[8 * h + 4 + j] = _mm512_shuffle_i32x4(v[8 * h + j], v[8 * h + 4 + j], 0xdd);
        }
    for (int j = 0; j < 8; j++) {
        v[j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0x88);
        v[8 + j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0xdd);
    }
}

/* round_bits on 16 lanes: the bf16 in each lane's low half. */
__attribute__((target("avx512f"), always_inline)) static inline __m512i round16(__m512 x)
{
    const __m512i u = _mm512_castps_si512(x);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), odd), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(
        _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    const __m512i q = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
    return _mm512_mask_blend_epi32(nan, r, q);
}

/* out[m, k] = round(a[k * lda + m]) for a whole 16 x 16 block. */
__attribute__((target("avx512f"))) static void round_cols_block(uint16_t *out, int ldo,
                                                                const float *a, int lda)
{
    __m512i v[16];
    for (int k = 0; k < 16; k++) v[k] = round16(_mm512_loadu_ps(a + (size_t)k * lda));
    transpose16(v);
    for (int m = 0; m < 16; m++)
        _mm256_storeu_si256((__m256i *)(out + (size_t)m * ldo), _mm512_cvtepi32_epi16(v[m]));
}

/* c[m * ldc + n] += a[n * lda + m] for a whole 16 x 16 block. */
__attribute__((target("avx512f"))) static void add_cols_block(float *c, int ldc, const float *a,
                                                              int lda)
{
    __m512i v[16];
    for (int n = 0; n < 16; n++) v[n] = _mm512_castps_si512(_mm512_loadu_ps(a + (size_t)n * lda));
    transpose16(v);
    for (int m = 0; m < 16; m++) {
        float *cm = c + (size_t)m * ldc;
        _mm512_storeu_ps(cm, _mm512_add_ps(_mm512_loadu_ps(cm), _mm512_castsi512_ps(v[m])));
    }
}
#endif

/* Does this CPU run the 16 x 16 blocks above? */
static int blocks_supported(void)
{
#if BF16_X86
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

void gemm_bf16_put_cols(uint16_t *out, int ldo, const float *a, int lda, int M, int K)
{
    const int fast = blocks_supported();
    for (int m0 = 0; m0 < M; m0 += GEMM_BF16_NR) {
        const int mw = M - m0 < GEMM_BF16_NR ? M - m0 : GEMM_BF16_NR;
        uint16_t *o = out + (size_t)m0 * ldo;
        int k = 0;
#if BF16_X86
        if (fast && mw == GEMM_BF16_NR)
            for (; k + 16 <= K; k += 16)
                round_cols_block(o + k, ldo, a + (size_t)k * lda + m0, lda);
#endif
        for (; k < K; k++) {
            const float *src = a + (size_t)k * lda + m0;
            for (int i = 0; i < mw; i++) o[(size_t)i * ldo + k] = round_bits(bits_at(src + i));
        }
    }
}

void gemm_bf16_add_cols(float *c, int ldc, const float *a, int lda, int M, int N)
{
    const int fast = blocks_supported();
    for (int m0 = 0; m0 < M; m0 += 16) {
        const int mw = M - m0 < 16 ? M - m0 : 16;
        int n = 0;
#if BF16_X86
        if (fast && mw == 16)
            for (; n + 16 <= N; n += 16)
                add_cols_block(c + (size_t)m0 * ldc + n, ldc, a + (size_t)n * lda + m0, lda);
#endif
        for (; n < N; n++)
            for (int m = m0; m < m0 + mw; m++) c[(size_t)m * ldc + n] += a[(size_t)n * lda + m];
    }
}

size_t gemm_bf16_packed_count(int K, int N)
{
    return (size_t)gemm_bf16_kp(K) * (size_t)((N + GEMM_BF16_NR - 1) / GEMM_BF16_NR) *
           GEMM_BF16_NR;
}

/* A pair of bf16 seen as one word (little-endian: the first in the low
 * half), allowed to alias the uint16_t elements. */
typedef uint32_t __attribute__((may_alias)) pair32;

/* One panel of B = b (trans 0: B[k, n] = b[k * ldb + n]), nw <= 16 of its
 * columns real: each pair of rows (k, k+1) interleaved, zero past K and N. */
VEC_CLONES static void pack_panel_rows(uint16_t *restrict panel, const float *restrict b, int ldb,
                                       int K, int nw)
{
    const int pairs = gemm_bf16_kp(K) / 2;
    for (int p = 0; p < pairs; p++) {
        const int two = 2 * p + 1 < K; /* row k + 1 exists */
        const float *r0 = b + (size_t)2 * p * ldb, *r1 = two ? r0 + ldb : r0;
        uint16_t *o = panel + (size_t)p * 2 * GEMM_BF16_NR;
        if (nw == GEMM_BF16_NR && two) {
            /* a pair is one 32-bit word, B[k, n] in its low half */
            pair32 *o32 = (pair32 *)o;
            for (int j = 0; j < GEMM_BF16_NR; j++)
                o32[j] = round_bits(bits_at(r0 + j)) | (uint32_t)round_bits(bits_at(r1 + j)) << 16;
            continue;
        }
        for (int j = 0; j < GEMM_BF16_NR; j++) {
            o[2 * j] = j < nw ? round_bits(bits_at(r0 + j)) : 0;
            o[2 * j + 1] = j < nw && two ? round_bits(bits_at(r1 + j)) : 0;
        }
    }
}

/* The same for B = b^T (trans 1: B[k, n] = b[n * ldb + k]): column n of B
 * is row n of b, its pairs adjacent floats. */
VEC_CLONES static void pack_panel_cols(uint16_t *restrict panel, const float *restrict b, int ldb,
                                       int K, int nw)
{
    const int pairs = gemm_bf16_kp(K) / 2;
    for (int j = 0; j < GEMM_BF16_NR; j++) {
        const float *row = b + (size_t)(j < nw ? j : 0) * ldb;
        for (int p = 0; p < pairs; p++) {
            uint16_t *o = panel + (size_t)p * 2 * GEMM_BF16_NR + 2 * j;
            o[0] = j < nw ? round_bits(bits_at(row + 2 * p)) : 0;
            o[1] = j < nw && 2 * p + 1 < K ? round_bits(bits_at(row + 2 * p + 1)) : 0;
        }
    }
}

void gemm_bf16_pack(uint16_t *bp, const float *b, int ldb, int trans, int K, int N)
{
    const int Kp = gemm_bf16_kp(K);
    if (trans) {
        for (int n0 = 0; n0 < N; n0 += GEMM_BF16_NR) {
            const int nw = N - n0 < GEMM_BF16_NR ? N - n0 : GEMM_BF16_NR;
            pack_panel_cols(bp + (size_t)n0 * Kp, b + (size_t)n0 * ldb, ldb, K, nw);
        }
        return;
    }
    /* B's rows a block at a time across every panel: each row is read in
     * order once (a panel at a time would stride down all K rows per panel) */
    for (int k0 = 0; k0 < K; k0 += BF16_PACK_ROWS) {
        const int kb = K - k0 < BF16_PACK_ROWS ? K - k0 : BF16_PACK_ROWS;
        for (int n0 = 0; n0 < N; n0 += GEMM_BF16_NR) {
            const int nw = N - n0 < GEMM_BF16_NR ? N - n0 : GEMM_BF16_NR;
            pack_panel_rows(bp + (size_t)n0 * Kp + (size_t)k0 * GEMM_BF16_NR,
                            b + (size_t)k0 * ldb + n0, ldb, kb, nw);
        }
    }
}

/* Rows r0 .. r0 + n - 1 of B (bf16 rows, row r at rows + (r - r0) * ldr)
 * into one panel of its packing (nw <= 16 columns real), as
 * gemm_bf16_put_rows. */
VEC_CLONES static void put_panel(uint16_t *restrict panel, const uint16_t *restrict rows, int ldr,
                                 int K, int r0, int n, int nw)
{
    for (int i = 0; i < n; i++) {
        const int r = r0 + i;
        const uint16_t *x = rows + (size_t)i * ldr;
        uint16_t *o = panel + (size_t)(r / 2) * 2 * GEMM_BF16_NR;
        if (!(r & 1) && (i + 1 < n || r + 1 == K)) { /* a whole pair: with row r + 1 or the pad */
            const uint16_t *y = i + 1 < n ? x + ldr : NULL;
            pair32 *o32 = (pair32 *)o;
            if (nw == GEMM_BF16_NR && y)
                for (int j = 0; j < GEMM_BF16_NR; j++) o32[j] = x[j] | (uint32_t)y[j] << 16;
            else
                for (int j = 0; j < GEMM_BF16_NR; j++)
                    o32[j] = j < nw ? x[j] | (uint32_t)(y ? y[j] : 0) << 16 : 0;
            i++;
            continue;
        }
        for (int j = 0; j < GEMM_BF16_NR; j++) o[2 * j + (r & 1)] = j < nw ? x[j] : 0;
    }
}

void gemm_bf16_put_rows(uint16_t *bp, const uint16_t *rows, int ldr, int K, int N, int r0, int n)
{
    const int Kp = gemm_bf16_kp(K);
    for (int n0 = 0; n0 < N; n0 += GEMM_BF16_NR) {
        const int nw = N - n0 < GEMM_BF16_NR ? N - n0 : GEMM_BF16_NR;
        put_panel(bp + (size_t)n0 * Kp, rows + n0, ldr, K, r0, n, nw);
    }
}

/* A bf16 input as the instruction reads it: denormals as zero. */
static float daz(uint16_t b)
{
    return (b & 0x7f80u) == 0 ? ((b & 0x8000u) ? -0.0f : 0.0f) : gemm_bf16_value(b);
}

/* A result as the instruction writes it: denormals flushed to zero. */
static float ftz(float x)
{
    return fabsf(x) < FLT_MIN ? copysignf(0.0f, x) : x;
}

void gemm_bf16_reference(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp,
                         int M, int N, int K, int add)
{
    const int Kp = gemm_bf16_kp(K);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const uint16_t *panel = bp + (size_t)(n / GEMM_BF16_NR) * GEMM_BF16_NR * Kp;
            const int j = n % GEMM_BF16_NR;
            float acc = 0.0f;
            for (int p = 0; p < Kp / 2; p++) {
                const uint16_t *bb = panel + ((size_t)p * GEMM_BF16_NR + j) * 2;
                const uint16_t *aa = a + (size_t)m * lda + 2 * p;
                acc = ftz(fmaf(daz(aa[1]), daz(bb[1]), acc));
                acc = ftz(fmaf(daz(aa[0]), daz(bb[0]), acc));
            }
            float *cm = c + (size_t)m * ldc + n;
            *cm = add ? *cm + acc : acc;
        }
}

#if BF16_X86
/* c[rows, 16 nv] (+)= A[rows, Kp] [p0 | p1], columns masked by m0 and m1;
 * rows <= BF16_MR and nv (1 or 2) are constants after inlining. */
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void
kernel(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *p0, const uint16_t *p1,
       int pairs, int rows, int nv, __mmask16 m0, __mmask16 m1, int add)
{
    __m512 acc[BF16_MR][2];
    bf16_tile_prefetch(c, ldc, rows, nv);
#pragma GCC unroll 12
    for (int r = 0; r < BF16_MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; p++) {
        __m512i b0 = _mm512_loadu_si512(p0 + (size_t)p * 2 * GEMM_BF16_NR);
        __m512i b1 = nv == 2 ? _mm512_loadu_si512(p1 + (size_t)p * 2 * GEMM_BF16_NR) : b0;
#pragma GCC unroll 12
        for (int r = 0; r < BF16_MR; r++) {
            if (r >= rows) break;
            /* the pair (A[r, 2p], A[r, 2p + 1]) in every lane, broadcast from memory */
            __m512i av = _mm512_broadcastd_epi32(_mm_loadu_si32(a + (size_t)r * lda + 2 * p));
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], (__m512bh)av, (__m512bh)b0);
            if (nv == 2) acc[r][1] = _mm512_dpbf16_ps(acc[r][1], (__m512bh)av, (__m512bh)b1);
        }
    }
    bf16_tile_store(c, ldc, acc, rows, nv, m0, m1, add);
}

/* kernel over rows 0..M for 16 nv columns, in ceil(M / BF16_MR) blocks of
 * as even a height as can be (64 rows: 11, 11, 11, 11, 10, 10, not five of
 * 12 and a slow block of 4; a row's result does not depend on the block). */
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void
panel_rows(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *p0, const uint16_t *p1,
           int pairs, int M, int nv, __mmask16 m0, __mmask16 m1, int add)
{
    const int blocks = (M + BF16_MR - 1) / BF16_MR;
    for (int i = 0, m = 0; i < blocks; i++) {
        const int rows = (M - m) / (blocks - i);
        float *cm = c + (size_t)m * ldc;
        const uint16_t *am = a + (size_t)m * lda;
        switch (rows) {
#define BF16_ROWS(R)                                                                     \
    case R: kernel(cm, ldc, am, lda, p0, p1, pairs, R, nv, m0, m1, add); break;
            BF16_ROWS(12) BF16_ROWS(11) BF16_ROWS(10) BF16_ROWS(9) BF16_ROWS(8) BF16_ROWS(7)
            BF16_ROWS(6) BF16_ROWS(5) BF16_ROWS(4) BF16_ROWS(3) BF16_ROWS(2) BF16_ROWS(1)
#undef BF16_ROWS
        default: break;
        }
        m += rows;
    }
}

__attribute__((target("avx512f,avx512bf16"))) static void
panels_two(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *p0, const uint16_t *p1,
           int pairs, int M, __mmask16 m1, int add)
{
    panel_rows(c, ldc, a, lda, p0, p1, pairs, M, 2, 0xffff, m1, add);
}

__attribute__((target("avx512f,avx512bf16"))) static void
panels_one(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *p0, int pairs, int M,
           __mmask16 m0, int add)
{
    panel_rows(c, ldc, a, lda, p0, p0, pairs, M, 1, m0, 0, add);
}
#endif

void gemm_bf16_packed(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp, int M,
                      int N, int K, int add)
{
    CHECK(gemm_bf16_supported());
#if BF16_X86
    const int Kp = gemm_bf16_kp(K), pairs = Kp / 2;
    const size_t panel = (size_t)GEMM_BF16_NR * Kp;
    for (int n0 = 0, nv; n0 < N; n0 += nv * GEMM_BF16_NR) {
        __mmask16 m;
        nv = bf16_tile_cols(n0, N, &m);
        const uint16_t *p0 = bp + (size_t)(n0 / GEMM_BF16_NR) * panel;
        if (nv == 2)
            panels_two(c + n0, ldc, a, lda, p0, p0 + panel, pairs, M, m, add);
        else
            panels_one(c + n0, ldc, a, lda, p0, pairs, M, m, add);
    }
#else
    (void)c, (void)ldc, (void)a, (void)lda, (void)bp, (void)M, (void)N, (void)K, (void)add;
#endif
}
