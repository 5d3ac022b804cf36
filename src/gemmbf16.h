/* gemmbf16.h - C[M, N] (+)= A[M, K] B[K, N] with A and B rounded to bfloat16
 * and every product summed in fp32: the arithmetic of `precision bf16`
 * (GEMM operands in bf16, accumulation, master weights and optimizer state
 * in fp32, as torch.autocast).
 *
 * A bfloat16 is the upper half of a float32 (8 exponent bits, 7 mantissa
 * bits): rounding keeps 8 significant bits. The product of two is exact in
 * fp32, so each step of a dot product is one fp32 addition. The AVX512_BF16
 * instruction VDPBF16PS does two per lane: for the pair (k, k+1),
 * acc += a[k+1] b[k+1], then acc += a[k] b[k], each rounded to nearest
 * even, denormal inputs read as zero and denormal results flushed to zero.
 * gemm_bf16_reference does exactly that in scalar code, so the vector
 * kernel is tested bit for bit against it, and the arithmetic is tested
 * even on a CPU without the instruction (where gemm_bf16_packed refuses to
 * run: gemm_bf16_supported says 0).
 *
 * Layouts (elements are uint16_t bf16 bit patterns):
 *   A  [M, lda] row-major, K rounded up to an even Kp (gemm_bf16_round_rows
 *      pads with zeros);
 *   B  packed by gemm_bf16_pack: ceil(N / 16) panels, panel p holding for
 *      each pair of rows (k, k+1) of B its 16 columns 16p.. as interleaved
 *      pairs (B[k, n], B[k+1, n]): Kp / 2 rows of 32 bf16, zero past N and K.
 * Each C element is one chain over the pairs in order, added to C at the
 * end (or stored): a row's result does not depend on the others of the
 * call, as with the fp32 kernels (gemm.h).
 */
#ifndef RNN_GEMMBF16_H
#define RNN_GEMMBF16_H

#include <stddef.h>
#include <stdint.h>

/* Columns per packed panel. */
#define GEMM_BF16_NR 16

/* Does this CPU run AVX512_BF16 (and AVX-512F)? */
int gemm_bf16_supported(void);

/* x rounded to bfloat16, to nearest even (a NaN stays a quiet NaN). */
uint16_t gemm_bf16_round(float x);

/* The float32 value of a bfloat16. */
float gemm_bf16_value(uint16_t b);

/* K rounded up to even: the row length of A and B's pairs. */
int gemm_bf16_kp(int K);

/* out[M, Kp] = A[M, K] rounded to bf16, zero-padded to Kp = gemm_bf16_kp(K);
 * A[m, k] = a[m * lda + k]. */
void gemm_bf16_round_rows(uint16_t *out, const float *a, int lda, int M, int K);

/* The same, and sums[k] += A[m, k] for each row in order (fp32: a bias
 * gradient's column sums taken on the way). */
void gemm_bf16_round_rows_sum(uint16_t *out, float *sums, const float *a, int lda, int M, int K);

/* out[m * ldo + k] = a[k * lda + m] rounded to bf16, for m < M, k < K (A^T
 * rounded: a weight gradient's x or h, as rows of K steps); nothing else
 * is written. */
void gemm_bf16_put_cols(uint16_t *out, int ldo, const float *a, int lda, int M, int K);

/* c[m, n] += a[n, m] (c[m * ldc + n] += a[n * lda + m]) for m < M, n < N:
 * a transposed fp32 sum added where it belongs, one addition each. */
void gemm_bf16_add_cols(float *c, int ldc, const float *a, int lda, int M, int N);

/* Elements of a packed K x N matrix. */
size_t gemm_bf16_packed_count(int K, int N);

/* Pack B rounded to bf16 into bp [gemm_bf16_packed_count(K, N)].
 *   trans == 0: B[k, n] = b[k * ldb + n];  trans == 1: B[k, n] = b[n * ldb + k] */
void gemm_bf16_pack(uint16_t *bp, const float *b, int ldb, int trans, int K, int N);

/* Rows r0 .. r0 + n - 1 of a K x N matrix B, given as bf16 rows (row r at
 * rows + (r - r0) * ldr), put into bp, B's packing (gemm_bf16_pack's
 * layout, trans 0): a pass puts its rows a few at a time, in any order,
 * and once every row is put bp is gemm_bf16_pack of the floats they were
 * rounded from (gemm_bf16_round_rows), element for element. Only
 * these rows' halves of the pairs are written (with zeros past N), except
 * that the last row of an odd K writes its pair's zero pad too. */
void gemm_bf16_put_rows(uint16_t *bp, const uint16_t *rows, int ldr, int K, int N, int r0, int n);

/* C = A B (add 0) or C += A B (add 1) on AVX512_BF16 (gemm_bf16_supported
 * must be 1).
 *   c   out (in/out when add) [M, ldc] fp32, columns 0..N written
 *   a   in  [M, lda] bf16 rows of Kp = gemm_bf16_kp(K) (lda >= Kp, even)
 *   bp  in  packed B */
void gemm_bf16_packed(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp, int M,
                      int N, int K, int add);

/* The same, in scalar code with the instruction's exact arithmetic (any CPU). */
void gemm_bf16_reference(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp,
                         int M, int N, int K, int add);

#endif
