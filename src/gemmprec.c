/* gemmprec.c - the product kernel of precision bf16 (see gemmprec.h). */
#include "gemmprec.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gemmamx.h"
#include "gemmbf16.h"
#include "gemmbf16fma.h"

const char *gemmprec_name(GemmBf16 k)
{
    switch (k) {
    case GEMM_BF16_OFF: return "fp32";
    case GEMM_BF16_AVX512: return "avx512-bf16";
    case GEMM_BF16_AMX: return "amx-bf16";
    case GEMM_BF16_AVX512_MODEL: return "avx512-bf16-model";
    case GEMM_BF16_AMX_MODEL: return "amx-bf16-model";
    case GEMM_BF16_FMA: return "fma-bf16";
    }
    return "?";
}

int gemmprec_forced(GemmBf16 *k)
{
    const char *v = getenv("RNN_DIST_BF16");
    if (!v) return 0;
    if (strcmp(v, "none") == 0) {
        *k = GEMM_BF16_OFF;
        return 1;
    }
    for (int i = GEMM_BF16_AVX512; i <= GEMM_BF16_FMA; i++)
        if (strcmp(v, gemmprec_name((GemmBf16)i)) == 0) {
            *k = (GemmBf16)i;
            return 1;
        }
    return 0;
}

int gemmprec_supported(GemmBf16 k)
{
    if (k == GEMM_BF16_AVX512) return gemm_bf16_supported();
    if (k == GEMM_BF16_AMX) return gemm_amx_supported();
    if (k == GEMM_BF16_FMA) return gemm_bf16_fma_supported();
    return 1;
}

void gemmprec_run(GemmBf16 k, float *c, int ldc, const uint16_t *a, int lda,
                  const uint16_t *bp, int M, int N, int K, int add)
{
    CHECK_MSG(k != GEMM_BF16_OFF, "gemmprec_run runs bf16 kernels only");
    switch (k) {
    case GEMM_BF16_AVX512: gemm_bf16_packed(c, ldc, a, lda, bp, M, N, K, add); return;
    case GEMM_BF16_AMX: gemm_amx_packed(c, ldc, a, lda, bp, M, N, K, add); return;
    case GEMM_BF16_AVX512_MODEL: gemm_bf16_reference(c, ldc, a, lda, bp, M, N, K, add); return;
    case GEMM_BF16_AMX_MODEL: gemm_amx_reference(c, ldc, a, lda, bp, M, N, K, add); return;
    case GEMM_BF16_FMA: gemm_bf16_fma_packed(c, ldc, a, lda, bp, M, N, K, add); return;
    case GEMM_BF16_OFF: return;
    }
}
