/* gemmamx.h - C[M, N] (+)= A[M, K] B[K, N] with bfloat16 operands on Intel
 * AMX tiles (AMX-BF16, TDPBF16PS): the operands and the contract of
 * gemm_bf16_packed (gemmbf16.h), a different order of fp32 additions.
 *
 * Layouts are gemmbf16.h's: A [M, lda] bf16 rows of Kp = gemm_bf16_kp(K)
 * (gemm_bf16_round_rows), B packed by gemm_bf16_pack. A packed panel (16
 * columns, Kp / 2 pair-rows of 32 bf16 = 64 bytes) is an AMX B tile layout
 * as it stands: a B tile is 16 consecutive pair-rows of one panel. An A tile
 * is 16 rows of 32 bf16 (16 pairs) of A, a C tile 16 x 16 fp32.
 *
 * The arithmetic, found bit for bit on the Xeon this was written on (AMX-
 * BF16 under a hypervisor, Linux 6.18) against candidate models over
 * random operands of every range (see tests/test_gemmamx.c for the cases
 * that tell them apart): one TDPBF16PS over a chunk of q <= 16 pairs does,
 * for each C element,
 *     even = 0; odd = 0;
 *     for each pair (k, k+1) of the chunk, in order:
 *         even = even + a[k] b[k];  odd = odd + a[k+1] b[k+1];
 *     c = c + (even + odd);
 * two chains, one over the even elements and one over the odd ones, each
 * step fused (the product is exact, one rounding), then the two sums added,
 * then that added to the tile: every operation rounded to nearest even,
 * denormal inputs read as zero, and a result flushed to zero when its exact
 * value is below FLT_MIN (tininess before rounding: a sum that would round
 * up to FLT_MIN is flushed). This is neither VDPBF16PS's single chain (odd
 * element, then even, per pair) nor Intel's pseudocode (even, then odd),
 * and as the lanes start again with each instruction, where the chunks
 * begin matters. gemm_amx_packed starts each C element from a zeroed tile
 * and runs chunks of 16 pairs from pair 0, then one of the Kp / 2 % 16
 * remaining pairs when there are any; each element is that chain of chunks,
 * added to C at the end (or stored), so a row's result does not depend on
 * the others of the call. gemm_amx_reference does exactly that in scalar
 * code, so the kernel is tested bit for bit against it, and the arithmetic
 * is tested on any CPU. A NaN result is modelled as a NaN, not which one
 * (the hardware passes on one of the input NaNs, quieted, by an order of
 * its own: a product's over the sum's, A's over B's, the even lane's over
 * the odd one's).
 */
#ifndef RNN_GEMMAMX_H
#define RNN_GEMMAMX_H

#include <stdint.h>

/* Does this CPU run AMX-TILE and AMX-BF16, and does the kernel grant this
 * process the tile data state? Asks for it (arch_prctl ARCH_REQ_XCOMP_PERM,
 * XFEATURE_XTILEDATA: per process, idempotent) on every call, nothing
 * cached here; built with gcc, the CPU's features come from libgcc's table
 * and a call costs one system call. */
int gemm_amx_supported(void);

/* C = A B (add 0) or C += A B (add 1) on AMX tiles (gemm_amx_supported
 * must be 1); any M, N, K >= 1.
 *   c   out (in/out when add) [M, ldc] fp32, columns 0..N written, none past
 *   a   in  [M, lda] bf16 rows of Kp = gemm_bf16_kp(K) (lda >= Kp, even);
 *       nothing past column Kp - 1 of a row is read
 *   bp  in  B packed by gemm_bf16_pack (K, N); nothing past it is read
 * The tiles are released (TILERELEASE) before it returns. */
void gemm_amx_packed(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp, int M,
                     int N, int K, int add);

/* The same, in scalar code with the exact arithmetic of gemm_amx_packed
 * (above), on any CPU. */
void gemm_amx_reference(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp,
                        int M, int N, int K, int add);

#endif
