/* gemm.h - C[M, N] += A[M, K] B[K, N] with B packed once and used many times.
 *
 * The recurrent projection of an RNN multiplies the same weight matrix at
 * every time step by a small batch of states (M = batch rows). A general
 * SGEMM repacks the weights at every call; here they are packed once per
 * forward (or backward) pass and every step runs only the micro-kernel.
 *
 * Packed layout: ceil(N / 16) panels, panel p holding B[0..K, 16p..16p+16)
 * row by row (K x 16 floats), zero-padded past N. The kernel is AVX2 + FMA;
 * callers use it only when gemm_packed_available() says the CPU has both,
 * and otherwise call cblas_sgemm on the unpacked matrix.
 *
 * Each C element is one FMA chain over k = 0..K-1 in order, whatever M and
 * the row's position: a row's result does not depend on which other rows
 * share the call (a batch split across ranks gives the same bits).
 */
#ifndef RNN_GEMM_H
#define RNN_GEMM_H

#include <stddef.h>

/* Columns per packed panel. */
#define GEMM_NR 16

/* 1 when this CPU runs the packed kernel (x86-64 with AVX2 and FMA), else 0;
 * also 0 when the environment sets RNN_DIST_GEMM=blas (to test or compare
 * the OpenBLAS path). */
int gemm_packed_available(void);

/* Floats of a packed K x N matrix. */
size_t gemm_packed_floats(int K, int N);

/* Pack B into bp.
 *   bp  out [gemm_packed_floats(K, N)]
 *   b   in  trans == 0: B[k, n] = b[k * ldb + n]  (b is K x N row-major)
 *           trans == 1: B[k, n] = b[n * ldb + k]  (b is N x K row-major)
 */
void gemm_pack(float *bp, const float *b, int ldb, int trans, int K, int N);

/* C += A B with B packed by gemm_pack.
 *   c   in/out [M, ldc] row-major, columns 0..N updated
 *   a   in     [M, lda] row-major, columns 0..K read
 *   bp  in     packed B
 * Call only when gemm_packed_available(). */
void gemm_packed(float *c, int ldc, const float *a, int lda, const float *bp, int M, int N,
                 int K);

#endif
