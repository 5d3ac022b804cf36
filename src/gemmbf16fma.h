/* gemmbf16fma.h - precision bf16's products (gemmbf16.h: operands rounded to
 * bfloat16, sums in fp32) on the fp32 FMA unit, with VDPBF16PS's bits.
 *
 * The product of two bf16 values is exact in fp32, so VDPBF16PS's step,
 * acc += a[k+1] b[k+1], then acc += a[k] b[k], each rounded, is two fp32
 * FMAs on the operands widened to fp32 (denormals read as zero and flushed,
 * as the instruction does: the kernel sets MXCSR's DAZ and FTZ while it
 * runs). Where VDPBF16PS runs at half the FMA rate (an Intel Xeon of family
 * 6 model 207: 82 against 172 GFLOP/s) this kernel is the faster route to
 * the same bits; training measures both (gemmchoice.h).
 *
 * A's rows are widened to fp32 96 rows at a time (a heap buffer of 96 x Kp
 * floats per call), B's pairs split in registers. Operands and layouts are
 * gemmbf16.h's.
 */
#ifndef RNN_GEMMBF16FMA_H
#define RNN_GEMMBF16FMA_H

#include <stdint.h>

/* Does this CPU run the kernel (AVX-512F)? */
int gemm_bf16_fma_supported(void);

/* C = A B (add 0) or C += A B (add 1), the bits of gemm_bf16_reference.
 *   c   out (in/out when add) [M, ldc] fp32, columns 0..N written
 *   a   in  [M, lda] bf16 rows of Kp = gemm_bf16_kp(K)
 *   bp  in  B packed by gemm_bf16_pack */
void gemm_bf16_fma_packed(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp,
                          int M, int N, int K, int add);

#endif
