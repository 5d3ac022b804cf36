/* test_gemmamx.c - bfloat16 products on AMX tiles: the scalar model of
 * TDPBF16PS's arithmetic (gemm_amx_reference) against exact integer sums,
 * against the exact sums of the rounded operands, and on the cases that
 * tell it from other orders (the two lanes, the chunks of 16 pairs, the
 * flushes); and, on a CPU with AMX-BF16, the tile kernel bit for bit
 * against the model over shapes with row, column and K edges, adding or
 * storing, with guard columns in C and with A and B ending at an unmapped
 * page. Without AMX the kernel's part is skipped and said so. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "gemmamx.h"
#include "gemmbf16.h"

static uint32_t bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s ^ (*s >> 15);
}

/* Kinds of random operands. */
enum { DATA_UNIFORM, DATA_WIDE, DATA_TINY, DATA_INT, DATA_SPECIAL, DATA_KINDS };

/* A random bf16 of a kind: uniform in [-1, 1); exponents 2^-20..2^20;
 * around 2^-63 (products around FLT_MIN, some below, denormal inputs and
 * signed zeros); small integers -8..8; or with infinities and NaNs. */
static uint16_t random_bf16(uint32_t *s, int kind)
{
    uint32_t r = lcg(s);
    uint16_t sign = (r & 1) ? 0x8000u : 0, man = (uint16_t)((r >> 1) & 0x7f);
    int e = 0;
    switch (kind) {
    case DATA_UNIFORM: return gemm_bf16_round((float)(r >> 8) / 8388608.0f - 1.0f);
    case DATA_WIDE: e = 127 - 20 + (int)((r >> 8) % 41); break;
    case DATA_TINY:
        if ((r >> 8) % 8 == 0) return (uint16_t)(sign | ((r >> 12) % 2 ? man : 0));
        e = 127 - 85 + (int)((r >> 12) % 30);
        break;
    case DATA_INT: return gemm_bf16_round((float)((int)((r >> 8) % 17) - 8));
    default:
        if ((r >> 8) % 16 == 0) return (uint16_t)(sign | 0x7f80u | (man ? man : 1));
        if ((r >> 8) % 16 == 1) return (uint16_t)(sign | 0x7f80u);
        e = 127 - 10 + (int)((r >> 12) % 20);
        break;
    }
    return (uint16_t)(sign | (e << 7) | man);
}

typedef struct Mats {
    int M, N, K, Kp, lda, ldc;
    uint16_t *a, *bp; /* A [M, lda] bf16, B packed */
    float *c;         /* C [M, ldc] */
} Mats;

/* Random A [M, K] and B [K, N] of a kind; A's rows lda = Kp + 4 apart, C's
 * ldc = N + 3 (columns past N are guards). */
static void mats_make(Mats *t, int M, int N, int K, int kind, uint32_t seed)
{
    t->M = M, t->N = N, t->K = K, t->Kp = gemm_bf16_kp(K), t->lda = t->Kp + 4, t->ldc = N + 3;
    t->a = xcalloc((size_t)M * t->lda, sizeof(uint16_t));
    t->bp = xcalloc(gemm_bf16_packed_count(K, N), sizeof(uint16_t));
    t->c = xalloc_floats((size_t)M * t->ldc);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) t->a[(size_t)m * t->lda + k] = random_bf16(&seed, kind);
    float *b = xalloc_floats((size_t)K * N);
    for (size_t i = 0; i < (size_t)K * N; i++) b[i] = gemm_bf16_value(random_bf16(&seed, kind));
    gemm_bf16_pack(t->bp, b, N, 0, K, N);
    free(b);
}

static void mats_free(Mats *t)
{
    free(t->a), free(t->bp), free(t->c);
}

static double a_at(const Mats *t, int m, int k)
{
    return gemm_bf16_value(t->a[(size_t)m * t->lda + k]);
}

static double b_at(const Mats *t, int k, int n)
{
    const uint16_t *panel = t->bp + (size_t)(n / GEMM_BF16_NR) * GEMM_BF16_NR * t->Kp;
    return gemm_bf16_value(panel[((size_t)(k / 2) * GEMM_BF16_NR + n % GEMM_BF16_NR) * 2 + k % 2]);
}

/* Small integers: every partial sum is an integer far below 2^24, so no
 * step rounds and the model gives the exact sum, stored or added. */
static void test_reference_integers(void **state)
{
    (void)state;
    Mats t;
    mats_make(&t, 5, 37, 301, DATA_INT, 3);
    for (int add = 0; add < 2; add++) {
        for (size_t q = 0; q < (size_t)t.M * t.ldc; q++) t.c[q] = (float)(q % 11);
        gemm_amx_reference(t.c, t.ldc, t.a, t.lda, t.bp, t.M, t.N, t.K, add);
        for (int m = 0; m < t.M; m++)
            for (int n = 0; n < t.ldc; n++) {
                double exact = add || n >= t.N ? (double)(((size_t)m * t.ldc + n) % 11) : 0;
                for (int k = 0; n < t.N && k < t.K; k++) exact += a_at(&t, m, k) * b_at(&t, k, n);
                assert_true(t.c[(size_t)m * t.ldc + n] == exact);
            }
    }
    mats_free(&t);
}

/* Random operands: the model is the exact sum of the products up to fp32
 * rounding of each partial sum (a step per product, two per chunk), and
 * not that exact sum everywhere (some step rounds). */
static void test_reference_accuracy(void **state)
{
    (void)state;
    Mats t;
    mats_make(&t, 7, 21, 301, DATA_UNIFORM, 11);
    gemm_amx_reference(t.c, t.ldc, t.a, t.lda, t.bp, t.M, t.N, t.K, 0);
    int rounded = 0;
    for (int m = 0; m < t.M; m++)
        for (int n = 0; n < t.N; n++) {
            double exact = 0, mag = 0;
            for (int k = 0; k < t.K; k++) {
                exact += a_at(&t, m, k) * b_at(&t, k, n);
                mag += fabs(a_at(&t, m, k) * b_at(&t, k, n));
            }
            double got = t.c[(size_t)m * t.ldc + n];
            assert_true(fabs(got - exact) <= (t.K + t.K / 16 + 4) * 0x1p-24 * mag);
            rounded += got != (double)(float)exact;
        }
    assert_true(rounded > 0);
    mats_free(&t);
}

/* One C element of A [1, K] B [K, 1] with the given values (K <= 96), by
 * the model and, where AMX runs, by the kernel (which must agree). */
static float dot(const float *a, const float *b, int K)
{
    uint16_t ar[96] = {0}, bp[96 * GEMM_BF16_NR];
    gemm_bf16_round_rows(ar, a, K, 1, K);
    gemm_bf16_pack(bp, b, 1, 0, K, 1);
    float ref = 7.0f, got = 7.0f;
    gemm_amx_reference(&ref, 1, ar, gemm_bf16_kp(K), bp, 1, 1, K, 0);
    if (gemm_amx_supported()) {
        gemm_amx_packed(&got, 1, ar, gemm_bf16_kp(K), bp, 1, 1, K, 0);
        assert_int_equal(bits(got), bits(ref));
    }
    return ref;
}

/* The lanes and the chunks (products p0 p1 | p2 p3 ..., B all ones):
 *  - 2^24 2 | 1 0: even lane 2^24 + 1 -> 2^24 (a tie, to even), odd lane 2,
 *    sum 2^24 + 2. One chain, odd then even per pair (VDPBF16PS) or even
 *    then odd (Intel's pseudocode), gives 2^24 + 3 -> 2^24 + 4.
 *  - 2^24 1 | 2 0: even 2^24 + 2, odd 1, 2^24 + 3 -> 2^24 + 4; one chain,
 *    either order within pairs, gives 2^24 + 2.
 *  - 2^24 at pair 0 and 1 1 at pair 16: the second chunk's lanes start
 *    again and meet first (1 + 1 = 2), then the tile: 2^24 + 2. Lanes
 *    running on over the chunks give 2^24 (each 1 lost in a tie). */
static void test_reference_lanes(void **state)
{
    (void)state;
    const float big = 16777216.0f; /* 2^24 */
    float ones[96], a[96] = {0};
    for (int k = 0; k < 96; k++) ones[k] = 1.0f;
    float a1[3] = {big, 2.0f, 1.0f}, a2[3] = {big, 1.0f, 2.0f};
    assert_true(dot(a1, ones, 3) == big + 2.0f);
    assert_true(dot(a2, ones, 3) == big + 4.0f);
    a[0] = big, a[32] = 1.0f, a[33] = 1.0f;
    assert_true(dot(a, ones, 34) == big + 2.0f);
    /* and not gemm_bf16_reference's arithmetic on the first case */
    uint16_t ar[4], bp[4 * GEMM_BF16_NR];
    gemm_bf16_round_rows(ar, a1, 3, 1, 3);
    gemm_bf16_pack(bp, ones, 1, 0, 3, 1);
    float c = 0;
    gemm_bf16_reference(&c, 1, ar, 4, bp, 1, 1, 3, 0);
    assert_true(c == big + 4.0f);
}

/* Denormals: a denormal input reads as zero; a result whose exact value is
 * below FLT_MIN is flushed, even one that would round up to FLT_MIN; the
 * flushed zero keeps its sign, and a later chunk of -0 products (each lane
 * starting at +0) turns the tile's -0 into +0. */
static void test_reference_flush(void **state)
{
    (void)state;
    float a[96] = {0}, b[96] = {0};
    float den[2] = {0x1p-127f, 1.0f}, big[2] = {0x1p100f, 0.0f};
    assert_true(bits(dot(den, big, 2)) == bits(0.0f));
    /* even lane: 2^-126, then - 2^-150: exactly 2^-126 - 2^-150, a tie
     * that rounds to FLT_MIN, tiny before rounding: flushed */
    a[0] = 0x1p-63f, b[0] = 0x1p-63f, a[2] = 0x1p-75f, b[2] = -0x1p-75f;
    assert_true(bits(dot(a, b, 4)) == bits(0.0f));
    /* 2^-126 then -1.5 2^-126 in the next chunk: -2^-127 -> -0 */
    memset(a, 0, sizeof a), memset(b, 0, sizeof b);
    a[0] = 0x1p-63f, b[0] = 0x1p-63f, a[32] = -0x1.8p-63f, b[32] = 0x1p-63f;
    assert_true(bits(dot(a, b, 64)) == bits(-0.0f));
    for (int k = 64; k < 96; k++) a[k] = -1.0f, b[k] = 0.0f;
    assert_true(bits(dot(a, b, 96)) == bits(0.0f));
}

/* The kernel against the model over one shape, add or store, every
 * element and the guard columns; NaN against NaN when specials allows. */
static void kernel_case(int M, int N, int K, int kind, int add, uint32_t seed)
{
    Mats t;
    mats_make(&t, M, N, K, kind, seed);
    float *want = xalloc_floats((size_t)M * t.ldc);
    for (size_t q = 0; q < (size_t)M * t.ldc; q++) t.c[q] = want[q] = 0.25f * (float)(q % 9) - 1.0f;
    gemm_amx_reference(want, t.ldc, t.a, t.lda, t.bp, M, N, K, add);
    gemm_amx_packed(t.c, t.ldc, t.a, t.lda, t.bp, M, N, K, add);
    if (kind != DATA_SPECIAL)
        assert_memory_equal(t.c, want, sizeof(float) * (size_t)M * t.ldc);
    else
        for (size_t q = 0; q < (size_t)M * t.ldc; q++)
            assert_true(bits(t.c[q]) == bits(want[q]) || (isnan(t.c[q]) && isnan(want[q])));
    free(want);
    mats_free(&t);
}

static void test_kernel_bits(void **state)
{
    (void)state;
    if (!gemm_amx_supported()) {
        print_message("no AMX-BF16 tiles for this process: the tile kernel is not tested\n");
        skip();
    }
    const int Ms[] = {1, 5, 16, 17, 31, 33, 64}, Ns[] = {1, 15, 16, 17, 33, 1024};
    const int Ks[] = {1, 2, 31, 32, 33, 63, 64, 65, 256};
    uint32_t seed = 1;
    for (size_t i = 0; i < sizeof Ms / sizeof *Ms; i++)
        for (size_t j = 0; j < sizeof Ns / sizeof *Ns; j++)
            for (size_t k = 0; k < sizeof Ks / sizeof *Ks; k++)
                for (int add = 0; add < 2; add++, seed++)
                    kernel_case(Ms[i], Ns[j], Ks[k], (int)(seed % DATA_SPECIAL), add, seed);
}

/* Infinities and NaNs: the same bits, or NaN where the model has NaN. */
static void test_kernel_specials(void **state)
{
    (void)state;
    if (!gemm_amx_supported()) {
        print_message("no AMX-BF16 tiles for this process: the tile kernel is not tested\n");
        skip();
    }
    uint32_t seed = 5;
    for (int K = 1; K <= 70; K += 23)
        for (int add = 0; add < 2; add++) kernel_case(33, 40, K, DATA_SPECIAL, add, seed++);
}

/* n elements of `size` bytes ending where an unmapped page begins: a read
 * past the end faults. *base and *len are the mapping, for munmap. */
static void *guarded(size_t n, size_t size, void **base, size_t *len)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = n * size;
    *len = (bytes + page - 1) / page * page + page;
    *base = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(*base != MAP_FAILED);
    assert_int_equal(mprotect((char *)*base + *len - page, page, PROT_NONE), 0);
    return (char *)*base + (*len - page) - bytes;
}

/* A (lda = Kp: nothing between rows) and packed B each end at an unmapped
 * page: the tail tiles must read no further than Kp and the last pair-row. */
static void test_kernel_bounds(void **state)
{
    (void)state;
    if (!gemm_amx_supported()) {
        print_message("no AMX-BF16 tiles for this process: the tile kernel is not tested\n");
        skip();
    }
    const int shapes[][3] = {{17, 33, 33}, {1, 1, 1}, {33, 17, 2}, {5, 16, 63}, {16, 15, 65}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], Kp = gemm_bf16_kp(K);
        Mats t;
        mats_make(&t, M, N, K, DATA_UNIFORM, (uint32_t)s + 40);
        void *abase, *bbase;
        size_t alen, blen;
        uint16_t *a = guarded((size_t)M * Kp, sizeof(uint16_t), &abase, &alen);
        uint16_t *bp = guarded(gemm_bf16_packed_count(K, N), sizeof(uint16_t), &bbase, &blen);
        for (int m = 0; m < M; m++)
            memcpy(a + (size_t)m * Kp, t.a + (size_t)m * t.lda, sizeof(uint16_t) * Kp);
        memcpy(bp, t.bp, sizeof(uint16_t) * gemm_bf16_packed_count(K, N));
        float *want = xalloc_floats((size_t)M * t.ldc);
        gemm_amx_reference(want, t.ldc, a, Kp, bp, M, N, K, 0);
        gemm_amx_packed(t.c, t.ldc, a, Kp, bp, M, N, K, 0);
        assert_memory_equal(t.c, want, sizeof(float) * (size_t)M * t.ldc);
        free(want);
        munmap(abase, alen), munmap(bbase, blen);
        mats_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_integers), cmocka_unit_test(test_reference_accuracy),
        cmocka_unit_test(test_reference_lanes),    cmocka_unit_test(test_reference_flush),
        cmocka_unit_test(test_kernel_bits),        cmocka_unit_test(test_kernel_specials),
        cmocka_unit_test(test_kernel_bounds),
    };
    return cmocka_run_group_tests_name("gemmamx", tests, NULL, NULL);
}
