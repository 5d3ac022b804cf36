/* gemm.h - C[M, N] (+)= A[M, K] B[K, N] with B packed once and used many times.
 *
 * The recurrent projection of an RNN multiplies the same weight matrix at
 * every time step by a small batch of states (M = batch rows). A general
 * SGEMM repacks the weights at every call; here they are packed once per
 * forward (or backward) pass and every step runs only the micro-kernel. The
 * cells also run their input projections, input gradients and (gemm_tn_panels)
 * weight gradients here: OpenBLAS 0.3.21 has no AVX-512 kernel for AMD
 * CPUs, and on a core with full-width AVX-512 these kernels run at twice its
 * rate.
 *
 * Packed layout: ceil(N / 16) panels, panel p holding B[0..K, 16p..16p+16)
 * row by row (K x 16 floats), zero-padded past N. Two kernels read it:
 * AVX2 + FMA (6 rows x 16 columns per call) and AVX-512 (up to 14 rows x 32
 * columns: two panels; A's rows in even blocks, 12 per block when A is in
 * panels, gemm_tn_panels); the caller says which one runs (gemm_isa(), or a
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

/* Floats of gemm_tn_panels' work space for M, K and N (the sum of the
 * parts' n, each rounded up to a multiple of GEMM_NR); enough for any
 * smaller K and N too (a pass sizes it once, for its longest product). */
size_t gemm_tn_floats(int M, int K, int N);

/* One product of gemm_tn_panels: C += A^T B', where row k of B' is row
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

/* Floats of A in panels for gemm_tn_panels: ceil(M / 12) panels of K x 12
 * (A^T's 12 rows side by side, zero-padded past M). */
size_t gemm_panels_floats(int M, int K);

/* Rows k0..k0 + n of A [K, M] into its panels, in any order of calls (a
 * pass through time puts each step's rows while they are in the cache):
 *   ap     out [gemm_panels_floats(M, K)] rows k0..k0 + n written
 *   colsum out [M] ACCUMULATED: colsum[m] += a[k, m] for k = 0..n in order
 *   a      in [n, lda] row-major, columns 0..M read */
void gemm_panels_put(float *ap, float *colsum, const float *a, int lda, int M, int K, int k0,
                     int n);

/* C += A^T B' for each part (weight gradients: A, the gate gradients, and
 * B, the layer's input or state, share their long K dimension), A in
 * panels (every row put by gemm_panels_put), B packed in chunks of 256
 * rows into work, A's panels for each chunk copied there (into the L2
 * cache) once for all the parts, on kernel isa.
 *   work  scratch [gemm_tn_floats(M, K, sum of the parts' n)]
 *   ap    in [gemm_panels_floats(M, K)]
 *   parts in [nparts] the products (see GemmTnPart)
 *   isa   GEMM_AVX2 or GEMM_AVX512, no better than gemm_isa_best()
 * Each C element is one FMA chain per chunk of 256 rows of K, added to C
 * chunk by chunk; the kernels give the same bits. */
void gemm_tn_panels(float *work, const float *ap, int M, int K, const GemmTnPart *parts,
                    int nparts, GemmIsa isa);

#endif
