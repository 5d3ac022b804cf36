/* gemmprec.h - the product kernel of `precision bf16`: GEMM operands rounded
 * to bfloat16, every product summed in fp32 (gemmbf16.h), on one of the
 * kernels that arithmetic runs on.
 *
 * Two instructions compute it, with different orders of fp32 additions and
 * so different bits: AVX512_BF16's VDPBF16PS (gemm_bf16_packed) and AMX's
 * TDPBF16PS (gemm_amx_packed); VDPBF16PS's bits also come from fp32 FMAs
 * (gemm_bf16_fma_packed), faster where that instruction runs at half the
 * FMA rate. Each has a scalar model giving the same bits
 * on any CPU (gemm_bf16_reference, gemm_amx_reference); the models run as
 * kernels of their own so that the whole of a bf16 pass can be tested on a
 * CPU without either instruction. Operands and layouts are gemmbf16.h's.
 */
#ifndef RNN_GEMMPREC_H
#define RNN_GEMMPREC_H

#include <stdint.h>

/* The kernel of a pass's products. */
typedef enum GemmBf16 {
    GEMM_BF16_OFF = 0,    /* fp32 products (gemm.h): precision fp32 */
    GEMM_BF16_AVX512,     /* VDPBF16PS (gemm_bf16_packed) */
    GEMM_BF16_AMX,        /* TDPBF16PS tiles (gemm_amx_packed) */
    GEMM_BF16_AVX512_MODEL, /* the scalar model of GEMM_BF16_AVX512: its bits, any CPU */
    GEMM_BF16_AMX_MODEL,  /* the scalar model of GEMM_BF16_AMX: its bits, any CPU */
    GEMM_BF16_FMA         /* GEMM_BF16_AVX512's bits on fp32 FMAs (gemm_bf16_fma_packed) */
} GemmBf16;

/* Name of a kernel: "fp32", "avx512-bf16", "amx-bf16", "avx512-bf16-model",
 * "amx-bf16-model", "fma-bf16". */
const char *gemmprec_name(GemmBf16 k);

/* Does the environment variable RNN_DIST_BF16 name a bf16 kernel
 * ("avx512-bf16", "amx-bf16", "avx512-bf16-model", "amx-bf16-model",
 * "fma-bf16"), or
 * "none" (as on a CPU without one: to test the refusal)? 1 with *k that
 * kernel (supported or not; GEMM_BF16_OFF for none); else (unset or another
 * value) 0 and *k untouched. */
int gemmprec_forced(GemmBf16 *k);

/* Does this CPU (and OS) run kernel k? The models and OFF run anywhere. */
int gemmprec_supported(GemmBf16 k);

/* C = A B (add 0) or C += A B (add 1) on kernel k (not GEMM_BF16_OFF;
 * gemmprec_supported). Arguments as gemm_bf16_packed's:
 *   c   out (in/out when add) [M, ldc] fp32, columns 0..N written
 *   a   in  [M, lda] bf16 rows of Kp = gemm_bf16_kp(K)
 *   bp  in  B packed by gemm_bf16_pack */
void gemmprec_run(GemmBf16 k, float *c, int ldc, const uint16_t *a, int lda,
                  const uint16_t *bp, int M, int N, int K, int add);

#endif
