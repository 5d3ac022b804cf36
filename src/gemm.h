/* gemm.h - C[M, N] (+)= A[M, K] B[K, N] with B packed once and used many times.
 *
 * The recurrent projection of an RNN multiplies the same weight matrix at
 * every time step by a small batch of states (M = batch rows). A general
 * SGEMM repacks the weights at every call; here they are packed once per
 * forward (or backward) pass and every step runs only the micro-kernel. The
 * cells also run their input projections, input gradients and (gemm_tn)
 * weight gradients here: OpenBLAS 0.3.21 has no AVX-512 kernel for AMD
 * CPUs, and on a core with full-width AVX-512 these kernels run at twice its
 * rate.
 *
 * Packed layout: ceil(N / 16) panels, panel p holding B[0..K, 16p..16p+16)
 * row by row (K x 16 floats), zero-padded past N. Two kernels read it:
 * AVX2 + FMA (6 rows x 16 columns per call) and AVX-512 (up to 14 rows x 32
 * columns: two panels; A's rows in even blocks, 12 per block when gemm_tn
 * packed them); the caller says which one runs (gemm_isa(), or a
 * training run's measured choice, gemmchoice.h), and
 * callers call cblas_sgemm on the unpacked matrix when it says GEMM_BLAS.
 *
 * Each C element is one FMA chain over k = 0..K-1 in order, added to C at
 * the end (or stored), whatever the kernel, M and the row's position: a row's result
 * does not depend on which other rows share the call (a batch split across
 * ranks gives the same bits), and both kernels give the same bits.
 */
#ifndef RNN_GEMM_H
#define RNN_GEMM_H

#include <stddef.h>

/* Columns per packed panel. */
#define GEMM_NR 16

/* The kernel gemm_packed runs. */
typedef enum GemmIsa {
    GEMM_BLAS = 0, /* none: callers use OpenBLAS */
    GEMM_AVX2,     /* x86-64 AVX2 + FMA */
    GEMM_AVX512    /* x86-64 AVX-512F */
} GemmIsa;

/* The widest kernel this CPU runs (its flags alone): GEMM_AVX512 with
 * AVX-512F, GEMM_AVX2 with AVX2 + FMA, else GEMM_BLAS. */
GemmIsa gemm_isa_best(void);

/* Does the environment variable RNN_DIST_GEMM force a kernel? "blas" (OpenBLAS
 * for every product, to test or compare that path), "avx2" or "avx512": 1
 * with *isa that kernel, lowered to gemm_isa_best(); else (unset or another
 * value) 0 and *isa untouched. */
int gemm_isa_forced(GemmIsa *isa);

/* The forced kernel, else gemm_isa_best(): the default of a Model (a
 * training run then measures, gemmchoice.h). Reads the environment: call it
 * once per pass at most, not per product. */
GemmIsa gemm_isa(void);

/* Name of a kernel: "blas", "avx2" or "avx512". */
const char *gemm_isa_name(GemmIsa isa);

/* Floats of a packed K x N matrix. */
size_t gemm_packed_floats(int K, int N);

/* Pack B into bp.
 *   bp  out [gemm_packed_floats(K, N)]
 *   b   in  trans == 0: B[k, n] = b[k * ldb + n]  (b is K x N row-major)
 *           trans == 1: B[k, n] = b[n * ldb + k]  (b is N x K row-major)
 */
void gemm_pack(float *bp, const float *b, int ldb, int trans, int K, int N);

/* C = A B (add 0) or C += A B (add 1) with B packed by gemm_pack, on kernel
 * isa.
 *   c    out (in/out when add) [M, ldc] row-major, columns 0..N written
 *   a    in     [M, lda] row-major, columns 0..K read
 *   bp   in     packed B
 *   isa  GEMM_AVX2 or GEMM_AVX512, no better than gemm_isa_best() */
void gemm_packed(float *c, int ldc, const float *a, int lda, const float *bp, int M, int N,
                 int K, int add, GemmIsa isa);

/* Floats of gemm_tn's and gemm_tn_parts' work space for M, K and N (the
 * sum of the parts' n, each rounded up to a multiple of GEMM_NR; one
 * product: its N); enough for any smaller K and N too (a pass sizes it
 * once, for its longest product). */
size_t gemm_tn_floats(int M, int K, int N);

/* C += A^T B for weight gradients (A and B share their long K dimension),
 * packing B in chunks of 256 rows into work, on kernel isa.
 *   c     in/out [M, ldc] row-major, columns 0..N updated
 *   work  scratch [gemm_tn_floats(M, K, N)]: B's chunk packed, then a block
 *         of A's rows at a time packed in panels of 12 (one short run per k)
 *   a     in     [K, lda] row-major, columns 0..M read (A^T is M x K)
 *   b     in     [K, ldb] row-major, columns 0..N read
 *   isa   GEMM_AVX2 or GEMM_AVX512, no better than gemm_isa_best()
 * Each C element is one FMA chain per chunk, added to C chunk by chunk. */
void gemm_tn(float *c, int ldc, float *work, const float *a, int lda, const float *b, int ldb,
             int M, int N, int K, GemmIsa isa);

/* One product of gemm_tn_parts: C += A^T B', where row k of B' is row
 * k - skip of b, or for k < skip row k of head (zeros when head is NULL):
 * a layer's weight gradient of the recurrent weights meets each step's gate
 * gradients with the state before that step (h0 or zeros at step 0). */
typedef struct GemmTnPart {
    float *c;          /* in/out [M, ldc] row-major, columns 0..n updated */
    int ldc;
    const float *b;    /* in [K - skip, ldb] row-major, columns 0..n read */
    int ldb;
    int n;             /* columns of B and C */
    int skip;          /* 0..K */
    const float *head; /* in [skip, ldb] or NULL */
} GemmTnPart;

/* gemm_tn for several B and C that share A: A is packed once for all of
 * them (the packing is a large part of a weight gradient's time), and its
 * column sums come out of the packing (a layer's bias gradients).
 *   colsum out [M] ACCUMULATED: colsum[m] += A[k, m] for k = 0..K in order
 *          (one addition chain per column); NULL to skip
 *   work   scratch [gemm_tn_floats(M, K, sum of the parts' n rounded up to
 *          multiples of GEMM_NR)]
 *   a      in [K, lda] row-major, columns 0..M read
 *   parts  in [nparts] the products (see GemmTnPart)
 * Each C element is one FMA chain per chunk of 256 rows of K, added to C
 * chunk by chunk, as gemm_tn's; the kernels give the same bits. */
void gemm_tn_parts(float *colsum, float *work, const float *a, int lda, int M, int K,
                   const GemmTnPart *parts, int nparts, GemmIsa isa);

#endif
