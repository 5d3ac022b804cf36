/* gemm.c - packed-B matrix products of the cells (see gemm.h). */
#include "gemm.h"

#include <stdint.h>
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
/* Rows per AVX-512 kernel call at most: 14 rows x 2 vectors of 16 = 28
 * accumulators of the 32 registers. */
#define GEMM_MR512 14
/* Floats of A per block of rows: the block (256 KiB) stays in the L2 cache
 * while every panel of B passes. */
#define GEMM_A_BLOCK 65536
/* Rows of A and B per chunk of gemm_tn_panels. */
#define GEMM_KC 256
/* Rows of A per panel (gemm_panels_put): one AVX-512 block, two AVX2 blocks. */
#define GEMM_AP 12

GemmIsa gemm_isa_best(void)
{
#if GEMM_X86
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return GEMM_BLAS;
    return __builtin_cpu_supports("avx512f") ? GEMM_AVX512 : GEMM_AVX2;
#else
    return GEMM_BLAS;
#endif
}

int gemm_isa_forced(GemmIsa *isa)
{
    const char *force = getenv("RNN_DIST_GEMM");
    GemmIsa want;
    if (!force) return 0;
    if (strcmp(force, "blas") == 0)
        want = GEMM_BLAS;
    else if (strcmp(force, "avx2") == 0)
        want = GEMM_AVX2;
    else if (strcmp(force, "avx512") == 0)
        want = GEMM_AVX512;
    else
        return 0;
    GemmIsa best = gemm_isa_best();
    *isa = want < best ? want : best;
    return 1;
}

GemmIsa gemm_isa(void)
{
    GemmIsa isa;
    return gemm_isa_forced(&isa) ? isa : gemm_isa_best();
}

const char *gemm_isa_name(GemmIsa isa)
{
    return isa == GEMM_AVX512 ? "avx512" : isa == GEMM_AVX2 ? "avx2" : "blas";
}

size_t gemm_packed_floats(int K, int N)
{
    return (size_t)K * (size_t)((N + GEMM_NR - 1) / GEMM_NR) * GEMM_NR;
}

/* Rows of A per block of gemm_run (and of gemm_tn_panels' copies) for K: a
 * multiple of GEMM_AP whose K columns fill about GEMM_A_BLOCK floats, at
 * least 4 AVX-512 blocks. */
static int block_rows(int K)
{
    int mc = K > 0 && GEMM_A_BLOCK / K > 4 * GEMM_AP ? GEMM_A_BLOCK / K : 4 * GEMM_AP;
    return mc - mc % GEMM_AP;
}

/* gemm_pack of B stored transposed (b is N x K): 16 rows of b read side by
 * side per panel. */
static void pack_trans(float *bp, const float *b, int ldb, int K, int N)
{
    for (int n0 = 0; n0 < N; n0 += GEMM_NR) {
        float *panel = bp + (size_t)n0 * K;
        int w = N - n0 < GEMM_NR ? N - n0 : GEMM_NR;
        for (int k = 0; k < K; k++) {
            float *row = panel + (size_t)k * GEMM_NR;
            for (int j = 0; j < w; j++) row[j] = b[(size_t)(n0 + j) * ldb + k];
            for (int j = w; j < GEMM_NR; j++) row[j] = 0.0f;
        }
    }
}

/* dst [ceil(N / w) panels of kp x w] = src [K, ld] cut into panels of w
 * columns, the last zero-padded past N, rows 0..K of each panel written,
 * read row by row of src: each row once and in order (column by column, a
 * row a cache miss apart, waited on memory). w is a constant after
 * inlining: the full panels' copies are inlined, not calls. */
__attribute__((always_inline)) static inline void pack_rows(float *dst, const float *src, int ld,
                                                            int K, int N, int w, int kp)
{
    const int full = N / w * w;
    for (int k = 0; k < K; k++) {
        const float *from = src + (size_t)k * ld;
        float *to = dst + (size_t)k * w;
        for (int n0 = 0; n0 < full; n0 += w)
            memcpy(to + (size_t)n0 * kp, from + n0, sizeof(float) * (size_t)w);
        if (full == N) continue;
        float *row = to + (size_t)full * kp;
        memcpy(row, from + full, sizeof(float) * (size_t)(N - full));
        memset(row + (N - full), 0, sizeof(float) * (size_t)(w - (N - full)));
    }
}

void gemm_pack(float *bp, const float *b, int ldb, int trans, int K, int N)
{
    if (trans)
        pack_trans(bp, b, ldb, K, N);
    else
        pack_rows(bp, b, ldb, K, N, GEMM_NR, K);
}

#if GEMM_X86
/* A[r, k] of a block of rows: a[r * lda + k], or a[k * GEMM_AP + r] when at
 * (A packed in panels of GEMM_AP rows, each [K, GEMM_AP]). */
static inline const float *a_at(const float *a, int lda, int at, int r, int k)
{
    return at ? a + (size_t)k * GEMM_AP + r : a + (size_t)r * lda + k;
}

/* The start of the block of rows from row m of A [M, K]: row m as stored,
 * or (at) row m % GEMM_AP of panel m / GEMM_AP, the panels lda floats
 * apart. */
static inline const float *a_block(const float *a, int lda, int at, int m)
{
    return at ? a + (size_t)(m / GEMM_AP) * (size_t)lda + m % GEMM_AP : a + (size_t)m * lda;
}

/* c[rows, cols] (+)= A[rows, K] panel[K, 16], adding to c when add; rows <=
 * GEMM_MR and at are constants after inlining, so the accumulators live in
 * registers. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
kernel(float *c, int ldc, const float *a, int lda, int at, const float *panel, int K, int rows,
       int cols, int add)
{
    __m256 acc[GEMM_MR][2];
    /* C's rows on their way while the products run (see kernel512) */
#pragma GCC unroll 6
    for (int r = 0; r < GEMM_MR; r++) {
        if (!add || r >= rows) break;
        _mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
    }
#pragma GCC unroll 6
    for (int r = 0; r < GEMM_MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m256 b0 = _mm256_loadu_ps(panel + (size_t)k * GEMM_NR);
        __m256 b1 = _mm256_loadu_ps(panel + (size_t)k * GEMM_NR + 8);
#pragma GCC unroll 6
        for (int r = 0; r < GEMM_MR; r++) {
            if (r >= rows) break;
            __m256 av = _mm256_broadcast_ss(a_at(a, lda, at, r, k));
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    if (cols == GEMM_NR) {
#pragma GCC unroll 6
        for (int r = 0; r < GEMM_MR; r++) {
            if (r >= rows) break;
            float *cr = c + (size_t)r * ldc;
            if (add) {
                acc[r][0] = _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][0]);
                acc[r][1] = _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[r][1]);
            }
            _mm256_storeu_ps(cr, acc[r][0]);
            _mm256_storeu_ps(cr + 8, acc[r][1]);
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
        for (int j = 0; j < cols; j++)
            c[(size_t)r * ldc + j] = add ? c[(size_t)r * ldc + j] + tile[r][j] : tile[r][j];
}

/* kernel over rows 0..M in blocks of GEMM_MR. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
panel_rows(float *c, int ldc, const float *a, int lda, int at, const float *panel, int M, int K,
           int cols, int add)
{
    int m = 0;
    for (; m + GEMM_MR <= M; m += GEMM_MR)
        kernel(c + (size_t)m * ldc, ldc, a_block(a, lda, at, m), lda, at, panel, K, GEMM_MR,
               cols, add);
    float *cm = c + (size_t)m * ldc;
    const float *am = a_block(a, lda, at, m);
    switch (M - m) {
    case 5: kernel(cm, ldc, am, lda, at, panel, K, 5, cols, add); break;
    case 4: kernel(cm, ldc, am, lda, at, panel, K, 4, cols, add); break;
    case 3: kernel(cm, ldc, am, lda, at, panel, K, 3, cols, add); break;
    case 2: kernel(cm, ldc, am, lda, at, panel, K, 2, cols, add); break;
    case 1: kernel(cm, ldc, am, lda, at, panel, K, 1, cols, add); break;
    default: break;
    }
}

/* panel_rows with A as stored (n) or packed in panels (t). */
__attribute__((target("avx2,fma"))) static void panel_n(float *c, int ldc, const float *a,
                                                        int lda, const float *panel, int M,
                                                        int K, int cols, int add)
{
    panel_rows(c, ldc, a, lda, 0, panel, M, K, cols, add);
}

__attribute__((target("avx2,fma"))) static void panel_t(float *c, int ldc, const float *a,
                                                        int lda, const float *panel, int M,
                                                        int K, int cols, int add)
{
    panel_rows(c, ldc, a, lda, 1, panel, M, K, cols, add);
}

/* c[rows, 16 nv] (+)= A[rows, K] [p0 | p1][K, 16 nv], columns masked by m0
 * (first 16) and m1 (next 16); rows <= GEMM_MR512, nv (1 or 2) and at are
 * constants after inlining. The same FMA chain per element as kernel(). */
__attribute__((target("avx512f"), always_inline)) static inline void
kernel512(float *c, int ldc, const float *a, int lda, int at, const float *p0, const float *p1,
          int K, int rows, int nv, __mmask16 m0, __mmask16 m1, int add)
{
    __m512 acc[GEMM_MR512][2];
    /* C's rows on their way while the products run (C is often cold: the
     * input projection made long before the step) */
#pragma GCC unroll 14
    for (int r = 0; r < GEMM_MR512; r++) {
        if (!add || r >= rows) break;
        _mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
        if (nv == 2) _mm_prefetch((const char *)(c + (size_t)r * ldc + GEMM_NR), _MM_HINT_T0);
    }
#pragma GCC unroll 14
    for (int r = 0; r < GEMM_MR512; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    /* A as stored: four row pointers moving along k, each reaching its
     * next three rows by one stride (lda, 2 lda, 3 lda: addressing modes),
     * not fourteen pointers (more than the free registers: spilled) */
    const float *g[4] = {a, !at && rows > 4 ? a + 4 * (size_t)lda : a, /* within A */
                         !at && rows > 8 ? a + 8 * (size_t)lda : a,
                         !at && rows > 12 ? a + 12 * (size_t)lda : a};
    const size_t s1 = (size_t)lda, s3 = 3 * (size_t)lda;
    for (int k = 0; k < K; k++) {
        __m512 b0 = _mm512_loadu_ps(p0 + (size_t)k * GEMM_NR);
        __m512 b1 = nv == 2 ? _mm512_loadu_ps(p1 + (size_t)k * GEMM_NR) : b0;
#pragma GCC unroll 14
        for (int r = 0; r < GEMM_MR512; r++) {
            if (r >= rows) break;
            const float *ga = g[r / 4];
            const float *ar = at                ? a_at(a, lda, at, r, k)
                            : r % 4 == 0 ? ga
                            : r % 4 == 1 ? ga + s1
                            : r % 4 == 2 ? ga + 2 * s1
                                         : ga + s3;
            __m512 av = _mm512_set1_ps(*ar);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            if (nv == 2) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
        g[0]++, g[1]++, g[2]++, g[3]++;
    }
#pragma GCC unroll 14
    for (int r = 0; r < GEMM_MR512; r++) {
        if (r >= rows) break;
        float *cr = c + (size_t)r * ldc;
        if (add) acc[r][0] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), acc[r][0]);
        _mm512_mask_storeu_ps(cr, m0, acc[r][0]);
        if (nv == 2) {
            if (add)
                acc[r][1] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + GEMM_NR), acc[r][1]);
            _mm512_mask_storeu_ps(cr + GEMM_NR, m1, acc[r][1]);
        }
    }
}

/* kernel512 over rows 0..M: A packed (at), in blocks of its panels'
 * GEMM_AP rows; A as stored, in ceil(M / GEMM_MR512) blocks as even as can
 * be (64 rows: 13, 13, 13, 13, 12, not 12 x 5 and a slow block of 4). */
__attribute__((target("avx512f"), always_inline)) static inline void
panel_rows512(float *c, int ldc, const float *a, int lda, int at, const float *p0,
              const float *p1, int M, int K, int nv, __mmask16 m0, __mmask16 m1, int add)
{
    const int blocks = at ? (M + GEMM_AP - 1) / GEMM_AP : (M + GEMM_MR512 - 1) / GEMM_MR512;
    for (int b = 0, m = 0; b < blocks; b++) {
        int rows = at ? (M - m < GEMM_AP ? M - m : GEMM_AP) : M / blocks + (b < M % blocks);
        float *cm = c + (size_t)m * ldc;
        const float *am = a_block(a, lda, at, m);
        switch (rows) {
#define GEMM_ROWS(n) \
    case n: kernel512(cm, ldc, am, lda, at, p0, p1, K, n, nv, m0, m1, add); break;
            GEMM_ROWS(14) GEMM_ROWS(13) GEMM_ROWS(12) GEMM_ROWS(11) GEMM_ROWS(10) GEMM_ROWS(9)
            GEMM_ROWS(8) GEMM_ROWS(7) GEMM_ROWS(6) GEMM_ROWS(5) GEMM_ROWS(4) GEMM_ROWS(3)
            GEMM_ROWS(2) GEMM_ROWS(1)
#undef GEMM_ROWS
        default: break;
        }
        m += rows;
    }
}

/* 32 columns (two panels, the second masked by m1) or 16 (one panel masked
 * by m0), with A as stored (n) or packed in panels (t). */
__attribute__((target("avx512f"))) static void pair_n(float *c, int ldc, const float *a,
                                                      int lda, const float *p0, const float *p1,
                                                      int M, int K, __mmask16 m1, int add)
{
    panel_rows512(c, ldc, a, lda, 0, p0, p1, M, K, 2, (__mmask16)0xFFFF, m1, add);
}

__attribute__((target("avx512f"))) static void pair_t(float *c, int ldc, const float *a,
                                                      int lda, const float *p0, const float *p1,
                                                      int M, int K, __mmask16 m1, int add)
{
    panel_rows512(c, ldc, a, lda, 1, p0, p1, M, K, 2, (__mmask16)0xFFFF, m1, add);
}

__attribute__((target("avx512f"))) static void one_n(float *c, int ldc, const float *a, int lda,
                                                     const float *p0, int M, int K, __mmask16 m0,
                                                     int add)
{
    panel_rows512(c, ldc, a, lda, 0, p0, p0, M, K, 1, m0, 0, add);
}

__attribute__((target("avx512f"))) static void one_t(float *c, int ldc, const float *a, int lda,
                                                     const float *p0, int M, int K, __mmask16 m0,
                                                     int add)
{
    panel_rows512(c, ldc, a, lda, 1, p0, p0, M, K, 1, m0, 0, add);
}

/* The first n of 16 lanes. */
static __mmask16 lanes(int n)
{
    return (__mmask16)(n >= GEMM_NR ? 0xFFFF : (1u << n) - 1);
}
#endif

/* C (+)= A B, A as stored (at 0) or packed in panels of GEMM_AP rows (at 1,
 * the panels lda floats apart), over row blocks whose A part stays in the
 * L2 cache. */
static void gemm_run(float *c, int ldc, const float *a, int lda, int at, const float *bp, int M,
                     int N, int K, int add, GemmIsa isa)
{
#if GEMM_X86
    CHECK(M >= 0 && N >= 0 && K >= 0);
    CHECK(isa == GEMM_AVX2 || isa == GEMM_AVX512);
    const int mc = block_rows(K);
    for (int m0 = 0; m0 < M; m0 += mc) {
        int mb = M - m0 < mc ? M - m0 : mc;
        float *cm = c + (size_t)m0 * ldc;
        const float *am = a_block(a, lda, at, m0);
        if (isa == GEMM_AVX2) {
            for (int n0 = 0; n0 < N; n0 += GEMM_NR) {
                int cols = N - n0 < GEMM_NR ? N - n0 : GEMM_NR;
                const float *panel = bp + (size_t)n0 * K;
                if (at)
                    panel_t(cm + n0, ldc, am, lda, panel, mb, K, cols, add);
                else
                    panel_n(cm + n0, ldc, am, lda, panel, mb, K, cols, add);
            }
            continue;
        }
        int n0 = 0;
        for (; N - n0 > GEMM_NR; n0 += 2 * GEMM_NR) {
            const float *p0 = bp + (size_t)n0 * K, *p1 = p0 + (size_t)GEMM_NR * K;
            __mmask16 m1 = lanes(N - n0 - GEMM_NR);
            if (at)
                pair_t(cm + n0, ldc, am, lda, p0, p1, mb, K, m1, add);
            else
                pair_n(cm + n0, ldc, am, lda, p0, p1, mb, K, m1, add);
        }
        if (n0 < N) {
            const float *p0 = bp + (size_t)n0 * K;
            if (at)
                one_t(cm + n0, ldc, am, lda, p0, mb, K, lanes(N - n0), add);
            else
                one_n(cm + n0, ldc, am, lda, p0, mb, K, lanes(N - n0), add);
        }
    }
#else
    (void)c, (void)ldc, (void)a, (void)lda, (void)at, (void)bp, (void)M, (void)N, (void)K;
    (void)add, (void)isa;
    CHECK(!"gemm_packed called on a CPU without the kernel");
#endif
}

void gemm_packed(float *c, int ldc, const float *a, int lda, const float *bp, int M, int N,
                 int K, int add, GemmIsa isa)
{
    gemm_run(c, ldc, a, lda, 0, bp, M, N, K, add, isa);
}

/* Rows of A gemm_tn_panels copies at a time: those of a full chunk of
 * GEMM_KC rows of K whatever the chunk (sized by the chunk, the work space
 * would not grow with K: a shorter chunk would copy more rows). */
static int tn_rows(int M)
{
    int mc = block_rows(GEMM_KC), all = (M + GEMM_AP - 1) / GEMM_AP * GEMM_AP;
    return all < mc ? all : mc;
}

size_t gemm_tn_floats(int M, int K, int N)
{
    const int kc = K < GEMM_KC ? K : GEMM_KC;
    return gemm_packed_floats(kc, N) + (size_t)kc * (size_t)tn_rows(M);
}

/* Rows k0..k0 + kc of part p's B packed into bp (panels of kc rows): row k
 * is B's row k - skip, or head's row k for k < skip (zeros without one). */
static void pack_part(float *bp, const GemmTnPart *p, int k0, int kc)
{
    int z = p->skip - k0 < 0 ? 0 : p->skip - k0 < kc ? p->skip - k0 : kc;
    if (z > 0 && p->head)
        pack_rows(bp, p->head + (size_t)k0 * p->ldb, p->ldb, z, p->n, GEMM_NR, kc);
    else if (z > 0)
        for (int n0 = 0; n0 < p->n; n0 += GEMM_NR)
            memset(bp + (size_t)n0 * kc, 0, sizeof(float) * (size_t)z * GEMM_NR);
    if (z < kc)
        pack_rows(bp + (size_t)z * GEMM_NR, p->b + (size_t)(k0 + z - p->skip) * p->ldb,
                  p->ldb, kc - z, p->n, GEMM_NR, kc);
}

void gemm_tn_panels(float *work, const float *ap, int M, int K, const GemmTnPart *parts,
                    int nparts, GemmIsa isa)
{
    const int kc0 = K < GEMM_KC ? K : GEMM_KC, mc = tn_rows(M);
    size_t width = 0;
    for (int i = 0; i < nparts; i++) width += gemm_packed_floats(1, parts[i].n);
    float *own = work + (size_t)kc0 * width;
    for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
        int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
        float *bp = work;
        for (int i = 0; i < nparts; i++) {
            pack_part(bp, &parts[i], k0, kc);
            bp += gemm_packed_floats(kc, parts[i].n);
        }
        /* each block of A's panels copied just before its products (into
         * the L2 cache: runs of kc x 12 floats, read in order) */
        for (int m0 = 0; m0 < M; m0 += mc) {
            int mb = M - m0 < mc ? M - m0 : mc;
            for (int p = 0; p < mb; p += GEMM_AP)
                memcpy(own + (size_t)p * kc, ap + (size_t)(m0 + p) * K + (size_t)k0 * GEMM_AP,
                       sizeof(float) * GEMM_AP * (size_t)kc);
            bp = work;
            for (int i = 0; i < nparts; i++) {
                const GemmTnPart *p = &parts[i];
                gemm_run(p->c + (size_t)m0 * p->ldc, p->ldc, own, GEMM_AP * kc, 1, bp, mb, p->n,
                         kc, 1, isa);
                bp += gemm_packed_floats(kc, p->n);
            }
        }
    }
}

size_t gemm_panels_floats(int M, int K)
{
    return (size_t)((M + GEMM_AP - 1) / GEMM_AP) * GEMM_AP * (size_t)K;
}

/* One panel's n rows of w <= GEMM_AP columns: to [n, GEMM_AP] (zero-padded
 * past w), sum[j] += from[i, j] for i = 0..n in order. A full panel's sums
 * stay in registers (SSE: every x86-64 has it, and the same additions in
 * the same order give the scalar loop's bits) and its rows go out in
 * streaming stores: read long after, by then out of the caches anyway,
 * they need not be fetched first (gemm_panels_put fences them). */
static void put_panel(float *restrict to, float *restrict sum, const float *restrict from,
                      int lda, int n, int w)
{
#if GEMM_X86
    if (w == GEMM_AP && ((uintptr_t)to & 15) == 0) {
        __m128 s0 = _mm_loadu_ps(sum), s1 = _mm_loadu_ps(sum + 4), s2 = _mm_loadu_ps(sum + 8);
        for (int i = 0; i < n; i++, to += GEMM_AP, from += lda) {
            __m128 a0 = _mm_loadu_ps(from), a1 = _mm_loadu_ps(from + 4);
            __m128 a2 = _mm_loadu_ps(from + 8);
            _mm_stream_ps(to, a0);
            _mm_stream_ps(to + 4, a1);
            _mm_stream_ps(to + 8, a2);
            s0 = _mm_add_ps(s0, a0);
            s1 = _mm_add_ps(s1, a1);
            s2 = _mm_add_ps(s2, a2);
        }
        _mm_storeu_ps(sum, s0);
        _mm_storeu_ps(sum + 4, s1);
        _mm_storeu_ps(sum + 8, s2);
        return;
    }
#endif
    for (int i = 0; i < n; i++, to += GEMM_AP, from += lda)
        for (int j = 0; j < GEMM_AP; j++) {
            to[j] = j < w ? from[j] : 0.0f;
            if (j < w) sum[j] += from[j];
        }
}

void gemm_panels_put(float *ap, float *colsum, const float *a, int lda, int M, int K, int k0,
                     int n)
{
    CHECK(k0 >= 0 && n >= 0 && k0 + n <= K);
    /* panel by panel: each panel's n rows are one run of n x 12 floats */
    for (int m0 = 0; m0 < M; m0 += GEMM_AP) {
        float *to = ap + (size_t)m0 * K + (size_t)k0 * GEMM_AP;
        put_panel(to, colsum + m0, a + m0, lda, n, M - m0 < GEMM_AP ? M - m0 : GEMM_AP);
    }
#if GEMM_X86
    _mm_sfence();
#endif
}
