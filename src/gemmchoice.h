/* gemmchoice.h - the GEMM kernel a training run takes, chosen by measuring.
 *
 * Which kernel is fastest depends on the CPU more than on its flags: one
 * core with AVX-512 runs 512-bit FMAs at twice its AVX2 rate, another at the
 * same rate (then the AVX2 kernel, packing half as wide, can win). So a run
 * times a forward and backward pass of its own recurrent layers (its shapes,
 * its local batch, a few time steps) on each kernel the CPU can run, and
 * takes the fastest. Only the packed kernels compete (AVX-512, AVX2): they
 * give the same bits (gemm.h), so the choice changes speed, never a result,
 * and a resumed run continues bit for bit whatever it measures. OpenBLAS
 * (other bits) runs only on a CPU without AVX2 + FMA, or when the
 * environment variable RNN_DIST_GEMM forces a kernel (blas, avx2, avx512),
 * which skips the measuring.
 *
 * Core code: no MPI (train_setup measures on rank 0 and broadcasts the
 * result, so every rank computes the same way).
 */
#ifndef RNN_GEMMCHOICE_H
#define RNN_GEMMCHOICE_H

#include <stddef.h>

#include "gemm.h"
#include "model.h"

#define GEMMCHOICE_MAX 3

typedef struct GemmChoice {
    GemmIsa isa;                      /* the kernel to run */
    GemmBf16 bf16;                    /* precision bf16: the recurrent products' kernel
                                       * (OFF: fp32, or no bf16 kernel runs here) */
    int forced;                       /* 1: RNN_DIST_GEMM (RNN_DIST_BF16) chose it */
    int count;                        /* candidates (0 when forced or OpenBLAS runs); timed
                                       * unless fp32 has only one */
    GemmIsa cand[GEMMCHOICE_MAX];     /* [count] */
    GemmBf16 cand16[GEMMCHOICE_MAX];  /* [count] bf16: the kernels timed */
    double seconds[GEMMCHOICE_MAX];   /* [count] the best of its timed passes (0: untimed) */
    double fp32_seconds;              /* precision bf16, measured: the same passes on the fp32
                                       * kernel isa, to show what bf16 gains (0: not timed) */
} GemmChoice;

/* Choose the kernel for spec's layers at T steps (at most 4 are timed) and
 * B rows (this rank's part of a batch): forced, the only one, or the
 * fastest of the packed kernels this CPU runs (best of 3 timed passes each,
 * taken in turn after a warm-up). Takes a few milliseconds for small
 * layers, about a second for 1024-wide LSTM layers. */
void gemmchoice_measure(GemmChoice *c, const ModelSpec *spec, int T, int B);

/* The same for precision bf16: the bf16 kernel of the recurrent products
 * (gemmprec.h), forced by RNN_DIST_BF16, the only one, or the faster of
 * AMX and AVX512_BF16 where both run (they give different bits: every rank
 * must take rank 0's choice); c->bf16 GEMM_BF16_OFF when this CPU runs
 * neither (or RNN_DIST_BF16 forces one it lacks). c->isa: the widest fp32
 * kernel, for the head. Unless forced, the bf16 kernels are timed (also the
 * only one) and so is the fp32 kernel c->isa (c->fp32_seconds): on some CPUs
 * the bf16 instruction runs at half the FMA rate, and fp32 is faster. */
void gemmchoice_measure_bf16(GemmChoice *c, const ModelSpec *spec, int T, int B);

/* "gemm avx512 (measured: avx2 1.43 ms, avx512 1.21 ms)", "gemm avx2
 * (RNN_DIST_GEMM)", "gemm blas (no AVX2 here)", "gemm amx-bf16 (measured:
 * avx512-bf16 3.1 ms, amx-bf16 1.2 ms; fp32 avx512 2.2 ms)", "gemm
 * avx512-bf16 (the only kernel here, 3.1 ms; fp32 avx512 1.8 ms: precision
 * fp32 is faster here)": for the run's first line. */
void gemmchoice_describe(char *out, size_t len, const GemmChoice *c);

#endif
