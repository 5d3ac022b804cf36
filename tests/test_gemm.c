/* test_gemm.c - the packed-B kernels (AVX2, and AVX-512 where the CPU has
 * it) against a double-precision product, over shapes with row and column
 * remainders and more rows than one block, both packing orientations; the
 * promises that a row's bits do not depend on the other rows and that both
 * kernels give the same bits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "gemm.h"
#include "rng.h"
#include "testutil.h"

/* c0 + a b (add) or a b in double, b given as stored (trans as gemm_pack);
 * *mag gets |c0| + sum |a b|, the scale of the float rounding error. */
static double ref_elem(double *mag, const float *c0, const float *a, const float *b, int trans,
                       int add, int ldc, int K, int N, int i, int j)
{
    double s = add ? c0[(size_t)i * ldc + j] : 0.0;
    *mag = fabs(s);
    for (int k = 0; k < K; k++) {
        double p = (double)a[(size_t)i * K + k] *
                   (trans ? b[(size_t)j * K + k] : b[(size_t)k * N + j]);
        s += p;
        *mag += fabs(p);
    }
    return s;
}

/* x[0..n) uniform in [-1, 1) from stream `seed`. */
static void fill_uniform(float *x, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) x[i] = rng_uniform_at(seed, i, -1, 1);
}

static void check_shape(int M, int N, int K, int trans, int add, GemmIsa isa)
{
    int ldc = N + 3; /* columns past N must stay untouched */
    float *a = xalloc_floats((size_t)M * K), *b = xalloc_floats((size_t)K * N);
    float *c0 = xalloc_floats((size_t)M * ldc), *c = xalloc_floats((size_t)M * ldc);
    float *bp = xalloc_floats(gemm_packed_floats(K, N));
    fill_uniform(a, (size_t)M * K, 1);
    fill_uniform(b, (size_t)K * N, 2);
    fill_uniform(c0, (size_t)M * ldc, 3);
    memcpy(c, c0, sizeof(float) * (size_t)M * ldc);
    gemm_pack(bp, b, trans ? K : N, trans, K, N);
    gemm_packed(c, ldc, a, K, bp, M, N, K, add, isa);
    if (isa == GEMM_AVX512) { /* the same bits as the AVX2 kernel */
        float *c2 = xalloc_floats((size_t)M * ldc);
        memcpy(c2, c0, sizeof(float) * (size_t)M * ldc);
        gemm_packed(c2, ldc, a, K, bp, M, N, K, add, GEMM_AVX2);
        assert_memory_equal(c2, c, sizeof(float) * (size_t)M * ldc);
        free(c2);
    }
    double worst = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < ldc; j++) {
            float got = c[(size_t)i * ldc + j];
            if (j >= N) {
                assert_true(got == c0[(size_t)i * ldc + j]);
                continue;
            }
            double mag, want = ref_elem(&mag, c0, a, b, trans, add, ldc, K, N, i, j);
            /* K + 1 float additions and products: |err| <= (K + 1) u mag */
            double bound = (K + 1) * 0x1p-24 * mag;
            if (fabs(got - want) / bound > worst) worst = fabs(got - want) / bound;
            if (fabs(got - want) > bound) {
                print_error("%s M %d N %d K %d trans %d add %d: c[%d,%d] = %.9g, want %.9g\n",
                            gemm_isa_name(isa), M, N, K, trans, add, i, j, got, want);
                fail();
            }
        }
    }
    if (M == 64 && K == 256 && N == 70 && add)
        print_message("%s M 64 N 70 K 256 trans %d: worst error %.3f of the bound\n",
                      gemm_isa_name(isa), trans, worst);
    /* each row alone gives the same bits as within the full call */
    for (int i = 0; i < M; i++) {
        float *row = xalloc_floats((size_t)ldc);
        memcpy(row, c0 + (size_t)i * ldc, sizeof(float) * ldc);
        gemm_packed(row, ldc, a + (size_t)i * K, K, bp, 1, N, K, add, isa);
        assert_memory_equal(row, c + (size_t)i * ldc, sizeof(float) * N);
        free(row);
    }
    free(a), free(b), free(c0), free(c), free(bp);
}

static void check_shapes(GemmIsa isa)
{
    const int Ms[] = {1, 5, 6, 7, 11, 12, 13, 25, 64, 205};
    const int Ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 70};
    const int Ks[] = {1, 3, 33, 256};
    for (int im = 0; im < 10; im++)
        for (int in = 0; in < 9; in++)
            for (int ik = 0; ik < 4; ik++)
                for (int tr = 0; tr < 2; tr++)
                    for (int add = 0; add < 2; add++)
                        check_shape(Ms[im], Ns[in], Ks[ik], tr, add, isa);
}

static void test_shapes_avx2(void **state)
{
    (void)state;
    if (gemm_isa() == GEMM_BLAS) skip();
    check_shapes(GEMM_AVX2);
}

static void test_shapes_avx512(void **state)
{
    (void)state;
    if (gemm_isa() != GEMM_AVX512) {
        print_message("no AVX-512 here (or RNN_DIST_GEMM set): kernel not tested\n");
        skip();
    }
    check_shapes(GEMM_AVX512);
}

/* gemm_tn_panels of A = a [K, lda] (columns 0..M), its rows put by
 * gemm_panels_put in groups of `step` from the last group down (as a
 * backward pass puts each step's) into NaN-filled panels (a row left unput
 * shows); colsum += A's column sums. */
static void tn_via_panels(float *colsum, float *work, const float *a, int lda, int M, int K,
                          const GemmTnPart *parts, int nparts, int step, GemmIsa isa)
{
    float *ap = xalloc_floats(gemm_panels_floats(M, K));
    memset(ap, 0xff, sizeof(float) * gemm_panels_floats(M, K));
    for (int k0 = (K - 1) / step * step; k0 >= 0; k0 -= step) {
        int n = K - k0 < step ? K - k0 : step;
        gemm_panels_put(ap, colsum, a + (size_t)k0 * lda, lda, M, K, k0, n);
    }
    gemm_tn_panels(work, ap, M, K, parts, nparts, isa);
    free(ap);
}

/* One product: c += a^T b with a [K, M], b [K, N], against double
 * precision, K past several chunks of 256, M past one block of A's panels
 * (252 rows at K 256); AVX-512 and AVX2 give the same bits. */
static void check_tn(int M, int N, int K, GemmIsa isa)
{
    int lda = M + 2, ldb = N + 1, ldc = N + 3;
    float *a = xalloc_floats((size_t)K * lda), *b = xalloc_floats((size_t)K * ldb);
    float *c0 = xalloc_floats((size_t)M * ldc), *c = xalloc_floats((size_t)M * ldc);
    float *work = xalloc_floats(gemm_tn_floats(M, K, N)), *sum = xalloc_floats((size_t)M);
    fill_uniform(a, (size_t)K * lda, 4);
    fill_uniform(b, (size_t)K * ldb, 5);
    fill_uniform(c0, (size_t)M * ldc, 6);
    memcpy(c, c0, sizeof(float) * (size_t)M * ldc);
    GemmTnPart part = {c, ldc, b, ldb, N, 0, NULL};
    tn_via_panels(sum, work, a, lda, M, K, &part, 1, 64, isa);
    if (isa == GEMM_AVX512) {
        float *c2 = xalloc_floats((size_t)M * ldc);
        memcpy(c2, c0, sizeof(float) * (size_t)M * ldc);
        part.c = c2;
        tn_via_panels(sum, work, a, lda, M, K, &part, 1, 64, GEMM_AVX2);
        assert_memory_equal(c2, c, sizeof(float) * (size_t)M * ldc);
        free(c2);
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < ldc; j++) {
            float got = c[(size_t)i * ldc + j];
            if (j >= N) {
                assert_true(got == c0[(size_t)i * ldc + j]);
                continue;
            }
            double want = c0[(size_t)i * ldc + j], mag = fabs(want);
            for (int k = 0; k < K; k++) {
                double p = (double)a[(size_t)k * lda + i] * b[(size_t)k * ldb + j];
                want += p;
                mag += fabs(p);
            }
            /* K products and K + chunks additions, each rounding once */
            double bound = (2 * K + 1) * 0x1p-24 * mag;
            if (fabs(got - want) > bound) {
                print_error("%s tn M %d N %d K %d: c[%d,%d] = %.9g, want %.9g\n",
                            gemm_isa_name(isa), M, N, K, i, j, got, want);
                fail();
            }
        }
    free(a), free(b), free(c0), free(c), free(work), free(sum);
}

static void test_tn(void **state)
{
    (void)state;
    GemmIsa best = gemm_isa();
    if (best == GEMM_BLAS) skip();
    const int Ms[] = {1, 13, 64, 300}, Ns[] = {1, 17, 33, 64}, Ks[] = {1, 255, 256, 700};
    for (GemmIsa isa = GEMM_AVX2; isa <= best; isa++)
        for (int im = 0; im < 4; im++)
            for (int in = 0; in < 4; in++)
                for (int ik = 0; ik < 4; ik++) check_tn(Ms[im], Ns[in], Ks[ik], isa);
}

/* B' of a GemmTnPart: row k is b's row k - skip, head's row k below skip
 * (zeros without a head). */
static double part_b(const GemmTnPart *p, int k, int j)
{
    if (k >= p->skip) return p->b[(size_t)(k - p->skip) * p->ldb + j];
    return p->head ? p->head[(size_t)k * p->ldb + j] : 0.0;
}

/* Two products sharing A, the second's B shifted by skip rows (with a
 * head or zeros before), and A's column sums (rows put `step` at a time);
 * against double precision; the kernels give the same bits. */
static void check_tn_parts(int M, int K, int n1, int n2, int skip, int head, int step,
                           GemmIsa isa)
{
    const int lda = M + 1, ldb1 = n1 + 2, ldb2 = n2, ldc1 = n1, ldc2 = n2 + 5;
    float *a = xalloc_floats((size_t)K * lda), *b1 = xalloc_floats((size_t)K * ldb1);
    float *b2 = xalloc_floats((size_t)K * ldb2), *h = xalloc_floats((size_t)skip * ldb2 + 1);
    float *c = xalloc_floats((size_t)M * (ldc1 + ldc2));
    float *c0 = xalloc_floats((size_t)M * (ldc1 + ldc2));
    float *sum = xalloc_floats((size_t)M * 2), *sum0 = xalloc_floats((size_t)M);
    size_t wn = gemm_packed_floats(1, n1) + gemm_packed_floats(1, n2);
    float *work = xalloc_floats(gemm_tn_floats(M, K, (int)wn));
    /* NaN in the work space: a padding or zero row left unwritten shows */
    memset(work, 0xff, sizeof(float) * gemm_tn_floats(M, K, (int)wn));
    fill_uniform(a, (size_t)K * lda, 7);
    fill_uniform(b1, (size_t)K * ldb1, 8);
    fill_uniform(b2, (size_t)K * ldb2, 9);
    fill_uniform(h, (size_t)skip * ldb2 + 1, 10);
    fill_uniform(c0, (size_t)M * (ldc1 + ldc2), 11);
    fill_uniform(sum0, (size_t)M, 12);
    GemmTnPart parts[2] = {{c, ldc1, b1, ldb1, n1, 0, NULL},
                           {c + (size_t)M * ldc1, ldc2, b2, ldb2, n2, skip, head ? h : NULL}};
    const size_t cn = (size_t)M * (ldc1 + ldc2);
    memcpy(c, c0, sizeof(float) * cn);
    memcpy(sum, sum0, sizeof(float) * (size_t)M);
    tn_via_panels(sum, work, a, lda, M, K, parts, 2, step, isa);
    if (isa == GEMM_AVX512) { /* AVX2 gives the same bits */
        float *c2 = xalloc_floats(cn);
        memcpy(c2, c, sizeof(float) * cn);
        memcpy(sum + M, sum, sizeof(float) * (size_t)M);
        memcpy(c, c0, sizeof(float) * cn);
        memcpy(sum, sum0, sizeof(float) * (size_t)M);
        tn_via_panels(sum, work, a, lda, M, K, parts, 2, step, GEMM_AVX2);
        assert_memory_equal(c2, c, sizeof(float) * cn);
        assert_memory_equal(sum + M, sum, sizeof(float) * (size_t)M);
        free(c2);
    }
    for (int i = 0; i < M; i++) {
        double want = sum0[i], mag = fabs(want);
        for (int k = 0; k < K; k++) {
            want += a[(size_t)k * lda + i];
            mag += fabs(a[(size_t)k * lda + i]);
        }
        if (fabs(sum[i] - want) > (K + 1) * 0x1p-24 * mag) {
            print_error("%s tn_parts colsum M %d K %d step %d: [%d] = %.9g, want %.9g\n",
                        gemm_isa_name(isa), M, K, step, i, sum[i], want);
            fail();
        }
        for (int pi = 0; pi < 2; pi++) {
            const GemmTnPart *p = &parts[pi];
            const float *from = c0 + (pi ? (size_t)M * ldc1 : 0);
            for (int j = 0; j < p->ldc; j++) {
                float got = p->c[(size_t)i * p->ldc + j];
                double w = from[(size_t)i * p->ldc + j], m = fabs(w);
                if (j >= p->n) {
                    assert_true(got == from[(size_t)i * p->ldc + j]);
                    continue;
                }
                for (int k = 0; k < K; k++) {
                    double q = (double)a[(size_t)k * lda + i] * part_b(p, k, j);
                    w += q;
                    m += fabs(q);
                }
                if (fabs(got - w) > (2 * K + 1) * 0x1p-24 * m) {
                    print_error("%s tn_parts M %d K %d skip %d part %d: c[%d,%d] = %.9g, want "
                                "%.9g\n", gemm_isa_name(isa), M, K, skip, pi, i, j, got, w);
                    fail();
                }
            }
        }
    }
    free(a), free(b1), free(b2), free(h), free(c), free(c0), free(sum), free(sum0), free(work);
}

static void test_tn_parts(void **state)
{
    (void)state;
    GemmIsa best = gemm_isa();
    if (best == GEMM_BLAS) skip();
    /* M: a partial panel, full panels, a partial block; skip inside the
     * first chunk, across a chunk's end, past K; rows put one, five or 64
     * at a time */
    const int Ms[] = {5, 24, 300}, Ks[] = {7, 300, 600}, skips[] = {0, 3, 257};
    const int steps[] = {1, 5, 64};
    for (GemmIsa isa = GEMM_AVX2; isa <= best; isa++)
        for (int im = 0; im < 3; im++)
            for (int ik = 0; ik < 3; ik++)
                for (int is = 0; is < 3; is++)
                    for (int head = 0; head < 2; head++) {
                        int skip = skips[is] < Ks[ik] ? skips[is] : Ks[ik];
                        check_tn_parts(Ms[im], Ks[ik], 17, 33, skip, head, steps[(im + is) % 3],
                                       isa);
                    }
}

/* A pass sizes gemm_tn_panels' work space once, for its largest K and N, and
 * then runs shorter products in it: the size may not shrink as they grow
 * (it once did, and a 245-row product wrote past a 250-row space). */
static void test_tn_floats_grow(void **state)
{
    (void)state;
    const int Ms[] = {1, 13, 256, 300, 1024, 4096}, Ns[] = {1, 64, 1000};
    for (int im = 0; im < 6; im++)
        for (int in = 0; in < 3; in++)
            for (int K = 2; K <= 700; K++) {
                size_t here = gemm_tn_floats(Ms[im], K, Ns[in]);
                if (here < gemm_tn_floats(Ms[im], K - 1, Ns[in]) ||
                    (in > 0 && here < gemm_tn_floats(Ms[im], K, Ns[in - 1]))) {
                    print_error("gemm_tn_floats shrinks at M %d K %d N %d\n", Ms[im], K,
                                Ns[in]);
                    fail();
                }
            }
}

static void test_pack_layout(void **state)
{
    (void)state;
    /* B = 2 x 17 (K x N): two panels, the second zero-padded past column 16 */
    float b[34], bp[64];
    for (int i = 0; i < 34; i++) b[i] = (float)(i + 1);
    assert_int_equal(gemm_packed_floats(2, 17), 64);
    gemm_pack(bp, b, 17, 0, 2, 17);
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 16; j++) {
            assert_true(bp[k * 16 + j] == b[k * 17 + j]);
            assert_true(bp[32 + k * 16 + j] == (j == 0 ? b[k * 17 + 16] : 0.0f));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_layout),
        cmocka_unit_test(test_shapes_avx2),
        cmocka_unit_test(test_shapes_avx512),
        cmocka_unit_test(test_tn),
        cmocka_unit_test(test_tn_parts),
        cmocka_unit_test(test_tn_floats_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
