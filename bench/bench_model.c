/* bench_model.c - training-step throughput of rnn_dist's engine (make bench).
 *
 * Prints one line per case: name, sequences/s, GFLOP/s (GEMM flops of
 * forward + backward, model_train_flops) and the GEMM kernel measured
 * fastest for it (gemmchoice.h, as a training run chooses), then two single-thread peaks
 * measured on this machine, so figures can be read as ratios: OpenBLAS's
 * SGEMM (sgemm_peak) and the core's FMA rate on its widest vectors (fma_peak:
 * 12 independent FMA chains, AVX-512 where the CPU has it, else AVX2), the
 * ceiling no GEMM passes. Each figure is the best of five timing windows
 * (after a warm-up), the peaks likewise. The environment variable
 * BENCH_ONLY=lstm|gru|counting runs one case and no peak. Shapes given as
 * arguments (cell:I:H:L:T:B: dense input of I features, H hidden, L
 * layers, T steps, batch B, last-step 10-class CE, Adam) are run instead,
 * followed by the FMA peak alone and the fp32 micro-kernel's rate on operands
 * in the L1 cache (kernel_fp32: what no product of the step can pass).
 * BENCH_PRECISION=fp32|bf16 runs the shapes in that precision only (to
 * profile one).
 * Usage: bench_model [seconds per case [SHAPE...]]
 */
#include <cblas.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "gemmamx.h"
#include "gemmbf16.h"
#include "gemmbf16fma.h"
#include "gemmchoice.h"
#include "gemmprec.h"
#include "metrics.h"
#include "model.h"
#include "optim.h"
#include "rng.h"
#include "vecmath.h"

typedef struct Case {
    const char *name;
    ModelSpec spec;
    int T, B;
} Case;

/* Random batch arrays for a spec, time-major (release with free_batch). */
static void make_batch(Batch *b, const ModelSpec *s, int T, int B)
{
    const size_t TB = (size_t)T * B, F = (size_t)s->features;
    float *x = s->input == INPUT_DENSE ? xalloc_floats(TB * F) : NULL;
    int32_t *tok = s->input == INPUT_TOKENS ? xcalloc(TB, sizeof(int32_t)) : NULL;
    int32_t *len = xcalloc(B, sizeof(int32_t)), *yc = xcalloc(TB, sizeof(int32_t));
    uint32_t *sample = xcalloc(B, sizeof(uint32_t));
    for (size_t i = 0; x && i < TB * F; i++)
        x[i] = (float)rng_uniform_f64(3, RNG_DATAGEN, 1, (uint32_t)i, 0) - 0.5f;
    for (size_t i = 0; i < TB; i++) {
        if (tok) tok[i] = (int32_t)(i % (size_t)s->vocab);
        yc[i] = (int32_t)(i % (size_t)s->out);
    }
    for (int i = 0; i < B; i++) {
        len[i] = T;
        sample[i] = (uint32_t)i;
    }
    Batch bb = {B, T, x, tok, len, yc, NULL, sample};
    *b = bb;
}

/* Release make_batch's arrays. */
static void free_batch(Batch *b)
{
    free((void *)b->x), free((void *)b->tokens), free((void *)b->lengths);
    free((void *)b->y_class), free((void *)b->sample);
}

/* Training steps of case c for about `seconds`, in fp32 or (bf16 1) with
 * precision bf16; prints "NAME seq_per_s X gflops Y gemm KERNEL" (bf16:
 * "NAME bf16_seq_per_s ...", 0 and kernel "none" where no bf16 kernel
 * runs). */
static void bench_case(const Case *c, double seconds, int bf16)
{
    Model m;
    model_create(&m, &c->spec);
    model_init_params(&m, 1);
    GemmChoice gc; /* as a training run chooses it */
    if (bf16)
        gemmchoice_measure_bf16(&gc, &c->spec, c->T, c->B);
    else
        gemmchoice_measure(&gc, &c->spec, c->T, c->B);
    m.isa = gc.isa;
    m.bf16 = gc.bf16;
    const char *label = bf16 ? "bf16_seq_per_s" : "seq_per_s";
    if (bf16 && gc.bf16 == GEMM_BF16_OFF) {
        printf("%s %s 0 gflops 0 gemm none\n", c->name, label);
        model_free(&m);
        return;
    }
    OptimSpec os = {.kind = OPTIM_ADAM, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    Optim o;
    optim_create(&o, &os, m.table.total);
    Batch b;
    make_batch(&b, &c->spec, c->T, c->B);
    double count = model_batch_count(&c->spec, &b);
    /* warm up, then the best of several windows: other load on a shared
     * machine only ever slows a window down */
    double best_rate = 0;
    for (int w = 0; w < 6; w++) {
        long steps = 0;
        double t0 = metrics_now(), window = w == 0 ? 0.3 : seconds / 5;
        while (metrics_now() - t0 < window) {
            model_zero_grads(&m);
            model_forward(&m, &b, 1, 1, (uint64_t)steps);
            model_loss(&m, &b, (float)(1.0 / count));
            model_backward(&m, &b);
            optim_step(&o, m.params, m.grads);
            steps++;
        }
        double rate = (double)steps / (metrics_now() - t0);
        if (w > 0 && rate > best_rate) best_rate = rate;
    }
    double seq = best_rate * c->B;
    double gflops = model_train_flops(&c->spec, c->T, c->B) * best_rate * 1e-9;
    printf("%s %s %.1f gflops %.2f gemm %s\n", c->name, label, seq, gflops,
           bf16 ? gemmprec_name(gc.bf16) : gemm_isa_name(gc.isa));
    fflush(stdout);
    free_batch(&b);
    optim_free(&o);
    model_free(&m);
}

/* Operands of packed_rate. */
enum { PACKED_FP32, PACKED_BF16, PACKED_AMX, PACKED_FMA16 };

/* GFLOP/s of the packed product C[M, N] = A[M, K] B[K, N] (the recurrent
 * product of an LSTM of H = N / 4 on a batch of M), best of 5 windows: in
 * fp32 on the kernel gemm_isa() gives (PACKED_FP32), or with bf16 operands
 * on AVX512_BF16 (PACKED_BF16, gemmbf16.h), on AMX tiles (PACKED_AMX,
 * gemmamx.h) or on fp32 FMAs with AVX512_BF16's bits (PACKED_FMA16,
 * gemmbf16fma.h; the same packed operands); 0 where the CPU lacks the
 * kernel's instructions. */
static double packed_rate(int kind, int M, int N, int K, double seconds)
{
    if (kind == PACKED_BF16 && !gemm_bf16_supported()) return 0;
    if (kind == PACKED_AMX && !gemm_amx_supported()) return 0;
    if (kind == PACKED_FMA16 && !gemm_bf16_fma_supported()) return 0;
    float *a = xalloc_floats((size_t)M * K), *b = xalloc_floats((size_t)K * N);
    float *c = xalloc_floats((size_t)M * N), *bp = xalloc_floats(gemm_packed_floats(K, N));
    uint16_t *ar = xcalloc((size_t)M * gemm_bf16_kp(K), sizeof(uint16_t));
    uint16_t *bq = xcalloc(gemm_bf16_packed_count(K, N), sizeof(uint16_t));
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = 0.001f * (float)(i % 97);
    for (size_t i = 0; i < (size_t)K * N; i++) b[i] = 0.001f * (float)(i % 89);
    gemm_pack(bp, b, N, 0, K, N);
    gemm_bf16_pack(bq, b, N, 0, K, N);
    gemm_bf16_round_rows(ar, a, K, M, K);
    GemmIsa isa = gemm_isa();
    double best = 0;
    for (int w = 0; w < 6; w++) {
        long reps = 0;
        double t0 = metrics_now();
        while (metrics_now() - t0 < seconds / 10) {
            if (kind == PACKED_BF16)
                gemm_bf16_packed(c, N, ar, gemm_bf16_kp(K), bq, M, N, K, 0);
            else if (kind == PACKED_AMX)
                gemm_amx_packed(c, N, ar, gemm_bf16_kp(K), bq, M, N, K, 0);
            else if (kind == PACKED_FMA16)
                gemm_bf16_fma_packed(c, N, ar, gemm_bf16_kp(K), bq, M, N, K, 0);
            else if (isa != GEMM_BLAS)
                gemm_packed(c, N, a, K, bp, M, N, K, 0, isa);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b,
                            N, 0.0f, c, N);
            reps++;
        }
        double rate = 2.0 * M * N * (double)K * (double)reps / (metrics_now() - t0) * 1e-9;
        if (w > 0 && rate > best) best = rate;
    }
    free(a), free(b), free(c), free(bp), free(ar), free(bq);
    return best;
}

/* Best single-thread SGEMM rate over square sizes and several windows, GFLOP/s. */
static double sgemm_peak(double seconds)
{
    double best = 0;
    const int sizes[] = {256, 512, 1024};
    for (int k = 0; k < 3; k++) {
        int n = sizes[k];
        float *a = xalloc_floats((size_t)n * n), *b = xalloc_floats((size_t)n * n);
        float *c = xalloc_floats((size_t)n * n);
        for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = 0.001f * (float)(i % 97);
        for (int w = 0; w < 5; w++) {
            long reps = 0;
            double t0 = metrics_now();
            while (metrics_now() - t0 < seconds / 15) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
                            0.0f, c, n);
                reps++;
            }
            double rate = 2.0 * n * n * (double)n * (double)reps / (metrics_now() - t0) * 1e-9;
            if (rate > best) best = rate;
        }
        free(a);
        free(b);
        free(c);
    }
    return best;
}

#if defined(__x86_64__)
/* FMAs of 12 independent chains on 256-bit vectors, `iters` rounds;
 * returns a sum so the work is kept. */
__attribute__((target("avx2,fma"))) static float fma_chains256(long iters)
{
    __m256 acc[12], b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    float out[8], sum = 0;
    for (int i = 0; i < 12; i++) {
        _mm256_storeu_ps(out, acc[i]);
        sum += out[0];
    }
    return sum;
}

/* The same on 512-bit vectors. */
__attribute__((target("avx512f"))) static float fma_chains512(long iters)
{
    __m512 acc[12], b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], b, c);
    float sum = 0;
    for (int i = 0; i < 12; i++) sum += _mm512_reduce_add_ps(acc[i]);
    return sum;
}
#endif

/* Best single-thread FMA rate on the widest vectors this CPU has, GFLOP/s
 * (0 when it has neither AVX2+FMA nor AVX-512). */
static double fma_peak(double seconds)
{
    double best = 0;
    volatile float sink = 0; /* keeps the chains' work */
#if defined(__x86_64__)
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
    const long iters = 1000000;
    for (int w = 0; w < 5; w++) {
        long reps = 0;
        double t0 = metrics_now();
        while (metrics_now() - t0 < seconds / 15) {
            sink += wide ? fma_chains512(iters) : fma_chains256(iters);
            reps++;
        }
        double rate = 12.0 * (wide ? 32 : 16) * (double)iters * (double)reps /
                      (metrics_now() - t0) * 1e-9;
        if (rate > best) best = rate;
    }
#else
    (void)seconds;
#endif
    return best;
}

/* The training step of a shape cell:I:H:L:T:B (lstm, gru or rnn; dense
 * input of I features, last-step 10-class CE, Adam) as a case; 0 or -1. */
static int shape_case(Case *c, const char *text)
{
    char cell[16];
    int in, hid, lay, steps, rows;
    if (sscanf(text, "%15[a-z]:%d:%d:%d:%d:%d", cell, &in, &hid, &lay, &steps, &rows) != 6 ||
        in < 1 || hid < 1 || lay < 1 || lay > MODEL_MAX_LAYERS || steps < 1 || rows < 1)
        return -1;
    CellKind kind = strcmp(cell, "lstm") == 0 ? CELL_LSTM
                  : strcmp(cell, "gru") == 0  ? CELL_GRU
                                              : CELL_RNN;
    if (kind == CELL_RNN && strcmp(cell, "rnn") != 0) return -1;
    ModelSpec s = {kind, NONLIN_TANH, INPUT_DENSE, 0, 0, in, hid, lay, 10, LOSS_CE, TARGET_LAST,
                   0, 0, 0};
    Case k = {text, s, steps, rows};
    *c = k;
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    vec_init_compute(1);
    const char *prec = getenv("BENCH_PRECISION");
    if (argc > 2) {
        /* shapes: those cases, then the FMA peak (scripts/bench_onednn.sh) */
        for (int i = 2; i < argc; i++) {
            Case c;
            if (shape_case(&c, argv[i])) {
                fprintf(stderr, "bench_model: %s: not cell:I:H:L:T:B\n", argv[i]);
                return 2;
            }
            if (!prec || strcmp(prec, "bf16") != 0) bench_case(&c, seconds, 0);
            if (!prec || strcmp(prec, "fp32") != 0) bench_case(&c, seconds, 1);
        }
        printf("fma_peak gflops %.2f\n", fma_peak(seconds));
        /* the micro-kernel alone (one 12 x 32 block, operands in the L1
         * cache): the ceiling of every product of the step */
        printf("kernel_fp32 gflops %.2f\n", packed_rate(PACKED_FP32, 12, 32, 256, seconds));
        return 0;
    }
    ModelSpec big = {CELL_LSTM, NONLIN_TANH, INPUT_DENSE, 0, 0, 64, 256, 2, 10, LOSS_CE,
                     TARGET_LAST, 0, 0, 0};
    ModelSpec gru = big;
    gru.cell = CELL_GRU;
    ModelSpec counting = {CELL_RNN, NONLIN_TANH, INPUT_TOKENS, 10, 8, 0, 16, 1, 10, LOSS_CE,
                          TARGET_STEP, 0, 0, 0};
    Case cases[] = {{"lstm", big, 50, 64}, {"gru", gru, 50, 64}, {"counting", counting, 4, 32}};
    const char *only = getenv("BENCH_ONLY");
    /* the peak before and after the cases: a burst of other load during one
     * measurement must not inflate the ratios */
    double peak = only ? 0 : sgemm_peak(seconds);
    for (int i = 0; i < 3; i++)
        if (!only || strcmp(only, cases[i].name) == 0) bench_case(&cases[i], seconds, 0);
    if (!only) {
        double after = sgemm_peak(seconds);
        printf("sgemm_peak gflops %.2f\n", after > peak ? after : peak);
        printf("openblas_core %s\n", openblas_get_corename());
        printf("fma_peak gflops %.2f\n", fma_peak(seconds));
        printf("packed_fp32 gflops %.2f\n", packed_rate(PACKED_FP32, 64, 1024, 256, seconds));
        printf("packed_bf16 gflops %.2f\n", packed_rate(PACKED_BF16, 64, 1024, 256, seconds));
        printf("packed_amx gflops %.2f\n", packed_rate(PACKED_AMX, 64, 1024, 256, seconds));
        printf("packed_fma16 gflops %.2f\n", packed_rate(PACKED_FMA16, 64, 1024, 256, seconds));
    }
    return 0;
}
