/* test_gemmbf16.c - the bfloat16 arithmetic of precision bf16: rounding to
 * nearest even; the scalar reference against the exact sums of the rounded
 * operands (in double) and against fp32 products within bf16's rounding;
 * and, on a CPU with AVX512_BF16, the vector kernel bit for bit against the
 * reference over shapes with partial panels, row blocks and odd K, adding or
 * storing. Without the instruction the kernel's part is skipped and said so;
 * the rest runs everywhere. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "check.h"
#include "gemmbf16.h"
#include "gemmbf16fma.h"

static uint32_t bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static void test_round(void **state)
{
    (void)state;
    assert_int_equal(gemm_bf16_round(1.0f), 0x3f80);
    assert_int_equal(gemm_bf16_round(-2.0f), 0xc000);
    assert_int_equal(gemm_bf16_round(-0.0f), 0x8000);
    /* halfway cases go to the even neighbour */
    assert_int_equal(gemm_bf16_round(from_bits(0x3f808000u)), 0x3f80); /* 1 + 2^-8 */
    assert_int_equal(gemm_bf16_round(from_bits(0x3f818000u)), 0x3f82); /* 1 + 3 2^-8 */
    assert_int_equal(gemm_bf16_round(from_bits(0x3f808001u)), 0x3f81); /* just above half */
    assert_int_equal(gemm_bf16_round(from_bits(0x3f807fffu)), 0x3f80); /* just below */
    /* the largest floats round up to infinity; infinity and NaN stay */
    assert_int_equal(gemm_bf16_round(from_bits(0x7f7fffffu)), 0x7f80);
    assert_int_equal(gemm_bf16_round(INFINITY), 0x7f80);
    uint16_t nan = gemm_bf16_round(from_bits(0x7f800001u)); /* a signalling NaN */
    assert_true((nan & 0x7f80) == 0x7f80 && (nan & 0x7f) != 0 && (nan & 0x40));
    /* exact round trip of every bf16 value that is a normal number */
    for (uint32_t b = 0x0080; b < 0x7f80; b += 37)
        assert_int_equal(gemm_bf16_round(gemm_bf16_value((uint16_t)b)), b);
    assert_true(bits(gemm_bf16_value(0x3f80)) == bits(1.0f));
}

/* Uniform in [-1, 1) from a 32-bit LCG. */
static float uniform(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 8388608.0f - 1.0f;
}

typedef struct Mats {
    int M, N, K, Kp, lda, ldc;
    float *a, *b, *c;    /* fp32 A [M, K], B [K, N], C [M, ldc] */
    uint16_t *ar, *bp;   /* A rounded [M, lda], B packed */
} Mats;

static void mats_make(Mats *t, int M, int N, int K, uint32_t seed)
{
    t->M = M, t->N = N, t->K = K, t->Kp = gemm_bf16_kp(K), t->lda = t->Kp + 4, t->ldc = N + 3;
    t->a = xalloc_floats((size_t)M * K);
    t->b = xalloc_floats((size_t)K * N);
    t->c = xalloc_floats((size_t)M * t->ldc);
    t->ar = xcalloc((size_t)M * t->lda, sizeof(uint16_t));
    t->bp = xcalloc(gemm_bf16_packed_count(K, N), sizeof(uint16_t));
    for (size_t i = 0; i < (size_t)M * K; i++) t->a[i] = uniform(&seed);
    for (size_t i = 0; i < (size_t)K * N; i++) t->b[i] = uniform(&seed);
    uint16_t *tmp = xcalloc((size_t)M * t->Kp, sizeof(uint16_t));
    gemm_bf16_round_rows(tmp, t->a, K, M, K);
    for (int m = 0; m < M; m++)
        memcpy(t->ar + (size_t)m * t->lda, tmp + (size_t)m * t->Kp, sizeof(uint16_t) * t->Kp);
    free(tmp);
    gemm_bf16_pack(t->bp, t->b, N, 0, K, N);
}

static void mats_free(Mats *t)
{
    free(t->a), free(t->b), free(t->c), free(t->ar), free(t->bp);
}

/* The reference equals the exact sum of the rounded products up to fp32
 * rounding of each partial sum, and the fp32 product up to bf16's rounding
 * of both operands (relative 2^-8 each). */
/* gemm_bf16_round_rows (vectorised) gives gemm_bf16_round's bits for every
 * kind of float (normal, denormal, zero, infinity, NaN of either sign),
 * reads only K of each row of lda, and pads an odd K with a zero;
 * gemm_bf16_round_rows_sum likewise, with the column sums. */
static void test_round_rows(void **state)
{
    (void)state;
    enum { M = 37, K = 301, LDA = 310 };
    const int Kp = gemm_bf16_kp(K);
    float *a = malloc(sizeof(float) * M * LDA);
    uint16_t *out = malloc(sizeof(uint16_t) * M * Kp);
    uint32_t x = 12345u;
    const uint32_t special[] = {0x7f800000u, 0xff800000u, 0x7fc00001u, 0xffbfffffu, 0x7f800001u,
                                0x00000001u, 0x807fffffu, 0x007f8000u, 0x7f7fffffu, 0x3f808000u,
                                0x3f818000u, 0x80000000u, 0x00000000u};
    for (int i = 0; i < M * LDA; i++) {
        x = x * 1664525u + 1013904223u;
        uint32_t u = i < (int)(sizeof special / sizeof *special) ? special[i] : x;
        a[i] = from_bits(u);
    }
    memset(out, 0xff, sizeof(uint16_t) * M * Kp);
    gemm_bf16_round_rows(out, a, LDA, M, K);
    for (int m = 0; m < M; m++) {
        for (int k = 0; k < K; k++)
            assert_int_equal(out[m * Kp + k], gemm_bf16_round(a[m * LDA + k]));
        assert_int_equal(out[m * Kp + K], 0);
    }
    /* round_rows_sum: the same rows, and each column's sum added row by row
     * (on finite values: the sums' bits are compared, and a NaN's sign
     * depends on how it was made) */
    float sums[K], want[K];
    for (int i = 0; i < M * LDA; i++) a[i] = (float)((i * 7919) % 1001 - 500) / 37.0f;
    for (int k = 0; k < K; k++) sums[k] = want[k] = (float)k / 7.0f;
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) want[k] += a[m * LDA + k];
    memset(out, 0xff, sizeof(uint16_t) * M * Kp);
    gemm_bf16_round_rows_sum(out, sums, a, LDA, M, K);
    for (int m = 0; m < M; m++) {
        for (int k = 0; k < K; k++)
            assert_int_equal(out[m * Kp + k], gemm_bf16_round(a[m * LDA + k]));
        assert_int_equal(out[m * Kp + K], 0);
    }
    for (int k = 0; k < K; k++)
        if (bits(sums[k]) != bits(want[k]))
            fail_msg("round_rows_sum: column %d sums to %g, want %g", k, (double)sums[k],
                     (double)want[k]);
    free(a);
    free(out);
}

/* The packed layout by its definition (gemmbf16.h), element by element. */
static void pack_by_definition(uint16_t *bp, const float *b, int ldb, int trans, int K, int N)
{
    const int Kp = gemm_bf16_kp(K);
    for (int n0 = 0; n0 < N; n0 += GEMM_BF16_NR)
        for (int p = 0; p < Kp / 2; p++)
            for (int j = 0; j < GEMM_BF16_NR; j++)
                for (int h = 0; h < 2; h++) {
                    int k = 2 * p + h, n = n0 + j;
                    float v = k < K && n < N ? (trans ? b[(size_t)n * ldb + k]
                                                      : b[(size_t)k * ldb + n])
                                             : 0.0f;
                    bp[(size_t)n0 * Kp + ((size_t)p * GEMM_BF16_NR + j) * 2 + h] =
                        gemm_bf16_round(v);
                }
}

/* gemm_bf16_pack = the definition, both orientations, odd and even K, N at
 * and off a panel edge, ldb past the matrix (whose extra columns must not be
 * read into the panels). */
static void test_pack(void **state)
{
    (void)state;
    const int Ks[] = {1, 2, 7, 32, 33}, Ns[] = {1, 15, 16, 17, 40};
    float *b = malloc(sizeof(float) * 64 * 64);
    for (int i = 0; i < 64 * 64; i++) b[i] = (float)((i * 7919) % 1001 - 500) / 37.0f;
    for (int ki = 0; ki < 5; ki++)
        for (int ni = 0; ni < 5; ni++)
            for (int trans = 0; trans < 2; trans++) {
                const int K = Ks[ki], N = Ns[ni], ldb = 64;
                size_t n = gemm_bf16_packed_count(K, N);
                uint16_t *want = malloc(sizeof(uint16_t) * n), *got = malloc(sizeof(uint16_t) * n);
                memset(got, 0xab, sizeof(uint16_t) * n);
                pack_by_definition(want, b, ldb, trans, K, N);
                gemm_bf16_pack(got, b, ldb, trans, K, N);
                if (memcmp(want, got, sizeof(uint16_t) * n) != 0)
                    fail_msg("pack K %d N %d trans %d differs from its definition", K, N, trans);
                free(want);
                free(got);
            }
    free(b);
}

/* gemm_bf16_put_rows = gemm_bf16_pack of the floats the rows were rounded
 * from, once every row is put the way a backward pass puts them: groups of
 * n rows from the last group down (n odd: groups start at odd rows and
 * write half pairs), into a packing that starts as garbage; K odd and
 * even, N at and off a panel edge. */
static void test_put_rows(void **state)
{
    (void)state;
    const int Ks[] = {1, 2, 7, 33, 40}, Ns[] = {1, 16, 17, 40}, ns[] = {1, 3, 4};
    enum { LDB = 48 };
    float *b = malloc(sizeof(float) * 40 * LDB);
    uint16_t *b16 = malloc(sizeof(uint16_t) * 40 * LDB);
    for (int i = 0; i < 40 * LDB; i++) b[i] = (float)((i * 7919) % 1001 - 500) / 37.0f;
    for (int i = 0; i < 40 * LDB; i++) b16[i] = gemm_bf16_round(b[i]);
    for (int ki = 0; ki < 5; ki++)
        for (int ni = 0; ni < 4; ni++)
            for (int gi = 0; gi < 3; gi++) {
                const int K = Ks[ki], N = Ns[ni], n = ns[gi];
                const size_t cnt = gemm_bf16_packed_count(K, N);
                uint16_t *want = malloc(sizeof(uint16_t) * cnt);
                uint16_t *got = malloc(sizeof(uint16_t) * cnt);
                gemm_bf16_pack(want, b, LDB, 0, K, N);
                memset(got, 0xab, sizeof(uint16_t) * cnt);
                for (int r0 = (K - 1) / n * n; r0 >= 0; r0 -= n) {
                    const int m = K - r0 < n ? K - r0 : n;
                    gemm_bf16_put_rows(got, b16 + (size_t)r0 * LDB, LDB, K, N, r0, m);
                }
                if (memcmp(want, got, sizeof(uint16_t) * cnt) != 0)
                    fail_msg("put_rows K %d N %d in groups of %d differs from pack", K, N, n);
                free(want);
                free(got);
            }
    free(b);
    free(b16);
}

/* Floats of every kind (normal, denormal, zero, infinity, NaN of either
 * sign) at the start of a, pseudo-random bit patterns after. */
static void fill_kinds(float *a, int n, uint32_t seed)
{
    const uint32_t special[] = {0x7f800000u, 0xff800000u, 0x7fc00001u, 0xffbfffffu, 0x7f800001u,
                                0x00000001u, 0x807fffffu, 0x007f8000u, 0x7f7fffffu, 0x3f808000u,
                                0x3f818000u, 0x80000000u, 0x00000000u};
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = from_bits(i < (int)(sizeof special / sizeof *special) ? special[i] : seed);
    }
}

/* gemm_bf16_put_cols: A^T rounded with gemm_bf16_round's bits for every
 * kind of float into rows Kp apart, nothing else written (the column past
 * an odd K and the rows past M untouched); M and K at, over and under the
 * 16 x 16 blocks of its vector path. */
static void test_put_cols(void **state)
{
    (void)state;
    const int Ms[] = {37, 32, 5}, Ks[] = {51, 48, 16, 3};
    enum { LDA = 40 };
    for (int mi = 0; mi < 3; mi++)
        for (int ki = 0; ki < 4; ki++) {
            const int M = Ms[mi], K = Ks[ki], Kp = gemm_bf16_kp(K);
            float *a = malloc(sizeof(float) * K * LDA);
            /* rows past M: a guard that must stay untouched */
            uint16_t *out = malloc(sizeof(uint16_t) * (M + GEMM_BF16_NR) * Kp);
            fill_kinds(a, K * LDA, 777u + (uint32_t)(M * K));
            memset(out, 0xff, sizeof(uint16_t) * (M + GEMM_BF16_NR) * Kp);
            gemm_bf16_put_cols(out, Kp, a, LDA, M, K);
            for (int m = 0; m < M; m++) {
                for (int k = 0; k < K; k++)
                    if (out[m * Kp + k] != gemm_bf16_round(a[k * LDA + m]))
                        fail_msg("M %d K %d: out[%d, %d] %04x, want %04x", M, K, m, k,
                                 out[m * Kp + k], gemm_bf16_round(a[k * LDA + m]));
                if (Kp > K) assert_int_equal(out[m * Kp + K], 0xffff);
            }
            for (int i = M * Kp; i < (M + GEMM_BF16_NR) * Kp; i++) assert_int_equal(out[i], 0xffff);
            free(a);
            free(out);
        }
}

/* gemm_bf16_add_cols: c[m, n] += a[n, m], one addition each, within M x N
 * of ldc (the columns past N and the rows past M untouched); M and N at,
 * over and under its 16 x 16 blocks. */
static void test_add_cols(void **state)
{
    (void)state;
    const int Ms[] = {40, 16, 7}, Ns[] = {35, 32, 1};
    enum { LDA = 48, LDC = 41, ROWS = 44 };
    float *a = malloc(sizeof(float) * ROWS * LDA), *c = malloc(sizeof(float) * ROWS * LDC);
    float *c0 = malloc(sizeof(float) * ROWS * LDC);
    for (int i = 0; i < ROWS * LDA; i++) a[i] = (float)((i * 7919) % 1009 - 504) / 7.0f;
    for (int i = 0; i < ROWS * LDC; i++) c0[i] = (float)((i * 104729) % 997 - 498) / 3.0f;
    for (int mi = 0; mi < 3; mi++)
        for (int ni = 0; ni < 3; ni++) {
            const int M = Ms[mi], N = Ns[ni];
            memcpy(c, c0, sizeof(float) * ROWS * LDC);
            gemm_bf16_add_cols(c, LDC, a, LDA, M, N);
            for (int m = 0; m < ROWS; m++)
                for (int n = 0; n < LDC; n++) {
                    float want = c0[m * LDC + n];
                    if (m < M && n < N) want += a[n * LDA + m];
                    if (bits(c[m * LDC + n]) != bits(want))
                        fail_msg("M %d N %d: c[%d, %d] %g, want %g", M, N, m, n,
                                 (double)c[m * LDC + n], (double)want);
                }
        }
    free(a);
    free(c);
    free(c0);
}

static void test_reference_accuracy(void **state)
{
    (void)state;
    Mats t;
    mats_make(&t, 7, 21, 301, 11);
    gemm_bf16_reference(t.c, t.ldc, t.ar, t.lda, t.bp, t.M, t.N, t.K, 0);
    for (int m = 0; m < t.M; m++)
        for (int n = 0; n < t.N; n++) {
            double exact = 0, full = 0, mag = 0;
            for (int k = 0; k < t.K; k++) {
                double ra = gemm_bf16_value(gemm_bf16_round(t.a[(size_t)m * t.K + k]));
                double rb = gemm_bf16_value(gemm_bf16_round(t.b[(size_t)k * t.N + n]));
                exact += ra * rb;
                full += (double)t.a[(size_t)m * t.K + k] * t.b[(size_t)k * t.N + n];
                mag += fabs(ra * rb);
            }
            double got = t.c[(size_t)m * t.ldc + n];
            assert_true(fabs(got - exact) <= t.K * 0x1p-24 * mag);
            assert_true(fabs(got - full) <= 2.0 * 0x1p-8 * mag + t.K * 0x1p-24 * mag);
            /* and not the fp32 product itself: the operands were rounded */
        }
    mats_free(&t);
}

typedef void (*Bf16Kernel)(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp,
                           int M, int N, int K, int add);

/* Within a pair the odd element is added first, as VDPBF16PS does: after a
 * first pair leaves 2^24 in the sum, the pair (2, 1) gives 2^24 + 1 -> 2^24
 * (a tie, to even), then + 2 = 2^24 + 2; the even element first would give
 * 2^24 + 2, then + 1 -> 2^24 + 4 (a tie, to even). The reference, and each
 * kernel this CPU runs: VDPBF16PS and its bits on FMAs. */
static void test_reference_order(void **state)
{
    (void)state;
    const float big = 16777216.0f; /* 2^24 */
    float a[4] = {0.0f, big, 2.0f, 1.0f}, b[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    uint16_t ar[4], bp[4 * GEMM_BF16_NR];
    gemm_bf16_round_rows(ar, a, 4, 1, 4);
    gemm_bf16_pack(bp, b, 1, 0, 4, 1);
    const Bf16Kernel kernels[3] = {gemm_bf16_reference, gemm_bf16_packed, gemm_bf16_fma_packed};
    const int runs[3] = {1, gemm_bf16_supported(), gemm_bf16_fma_supported()};
    for (int i = 0; i < 3; i++) {
        if (!runs[i]) continue;
        float c = 5.0f;
        kernels[i](&c, 1, ar, 4, bp, 1, 1, 4, 0);
        assert_true(c == big + 2.0f);
    }
}

/* kern against gemm_bf16_reference bit for bit over row, column and K edges,
 * storing and adding. */
static void kernel_bits(Bf16Kernel kern)
{
    const int Ms[] = {1, 5, 12, 13, 30, 97}, Ns[] = {1, 15, 16, 17, 32, 33, 47, 64};
    const int Ks[] = {1, 2, 7, 64, 255};
    uint32_t seed = 1;
    for (size_t i = 0; i < sizeof Ms / sizeof *Ms; i++)
        for (size_t j = 0; j < sizeof Ns / sizeof *Ns; j++)
            for (size_t k = 0; k < sizeof Ks / sizeof *Ks; k++)
                for (int add = 0; add < 2; add++) {
                    Mats t;
                    mats_make(&t, Ms[i], Ns[j], Ks[k], seed++);
                    float *want = xalloc_floats((size_t)t.M * t.ldc);
                    for (size_t q = 0; q < (size_t)t.M * t.ldc; q++)
                        t.c[q] = want[q] = 0.25f * (float)(q % 9) - 1.0f;
                    gemm_bf16_reference(want, t.ldc, t.ar, t.lda, t.bp, t.M, t.N, t.K, add);
                    kern(t.c, t.ldc, t.ar, t.lda, t.bp, t.M, t.N, t.K, add);
                    /* every element, the padding columns past N untouched */
                    assert_memory_equal(t.c, want, sizeof(float) * (size_t)t.M * t.ldc);
                    free(want);
                    mats_free(&t);
                }
}

static void test_kernel_bits(void **state)
{
    (void)state;
    if (!gemm_bf16_supported()) {
        print_message("no AVX512_BF16 here: the vector kernel is not tested\n");
        skip();
    }
    kernel_bits(gemm_bf16_packed);
}

/* The FMA kernel: the reference's bits (its order within a pair:
 * test_reference_order), and denormals read as zero and flushed as
 * VDPBF16PS does, whatever the caller's MXCSR (here: both flags off). */
static void test_fma_bits(void **state)
{
    (void)state;
    if (!gemm_bf16_fma_supported()) {
        print_message("no AVX-512F here: the FMA kernel is not tested\n");
        skip();
    }
    kernel_bits(gemm_bf16_fma_packed);
#if defined(__x86_64__)
    /* A: a denormal times 2^100 (normal if the denormal were read), then
     * FLT_MIN times 0.5 (a denormal sum, kept without flushing) */
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr & ~0x8040u);
    const uint16_t ad[4] = {0x0040, 0x0000, 0x0080, 0x0000};
    float bd[4] = {0x1p100f, 0.0f, 0.5f, 0.0f};
    uint16_t bdp[4 * GEMM_BF16_NR];
    gemm_bf16_pack(bdp, bd, 1, 0, 4, 1);
    float want = 3.0f, got = 3.0f;
    gemm_bf16_reference(&want, 1, ad, 4, bdp, 1, 1, 4, 0);
    gemm_bf16_fma_packed(&got, 1, ad, 4, bdp, 1, 1, 4, 0);
    const unsigned after = _mm_getcsr();
    _mm_setcsr(csr);
    assert_true(want == 0.0f);
    assert_memory_equal(&got, &want, sizeof got);
    assert_int_equal(after & 0x8040u, 0); /* the caller's flags restored */
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_round_rows),
        cmocka_unit_test(test_put_cols),
        cmocka_unit_test(test_add_cols),
        cmocka_unit_test(test_pack),
        cmocka_unit_test(test_put_rows),
        cmocka_unit_test(test_reference_accuracy),
        cmocka_unit_test(test_reference_order),
        cmocka_unit_test(test_kernel_bits),
        cmocka_unit_test(test_fma_bits),
    };
    return cmocka_run_group_tests_name("gemmbf16", tests, NULL, NULL);
}
