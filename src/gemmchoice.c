/* gemmchoice.c - the GEMM kernel a training run takes, chosen by measuring
 * (see gemmchoice.h). */
#include "gemmchoice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cell.h"
#include "check.h"

/* Time steps and timed passes per kernel. */
#define CHOICE_MAX_T 4
#define CHOICE_REPS 3

/* One layer's buffers for a forward and backward pass. */
typedef struct Bench {
    ModelSpec spec;
    int k;       /* the layer */
    CellDims d;
    int T, B;
    float *mem;
    LayerParams p, g;
    float *x, *h, *cache, *scratch, *dh, *dx;
    size_t n_dh;
} Bench;

/* Carve n floats off *at. */
static float *carve(float **at, size_t n)
{
    float *p = *at;
    *at += n;
    return p;
}

/* Layer k of s at T steps of B rows; its buffers sized for the fp32
 * kernels (bf16 OFF) or the bf16 ones (any other). */
static void bench_init(Bench *b, const ModelSpec *s, int k, int T, int B, GemmBf16 bf16)
{
    CellDims d = model_layer_dims(s, k, GEMM_BLAS, bf16);
    const size_t GH = (size_t)cell_gates(s->cell) * s->hidden, In = (size_t)d.in;
    const size_t TB = (size_t)T * B, H = (size_t)s->hidden;
    const size_t np = GH * (In + H + 2);
    const size_t cache = cell_cache_floats(&d, T, B), scratch = cell_scratch_floats(&d, T, B);
    b->spec = *s;
    b->k = k;
    b->d = d;
    b->T = T;
    b->B = B;
    b->n_dh = TB * H;
    b->mem = xalloc_floats(2 * np + TB * In * 2 + TB * H * 2 + cache + scratch);
    float *at = b->mem;
    LayerParams *v[2] = {&b->p, &b->g};
    for (int i = 0; i < 2; i++) {
        v[i]->w_ih = carve(&at, GH * In);
        v[i]->w_hh = carve(&at, GH * H);
        v[i]->b_ih = carve(&at, GH);
        v[i]->b_hh = carve(&at, GH);
    }
    b->x = carve(&at, TB * In);
    b->dx = carve(&at, TB * In);
    b->h = carve(&at, TB * H);
    b->dh = carve(&at, TB * H);
    b->cache = carve(&at, cache);
    b->scratch = carve(&at, scratch);
    /* small values of either sign: no overflow, no denormals */
    for (size_t i = 0; i < np; i++) b->mem[i] = 0.01f * (float)((int)(i % 7) - 3);
    for (size_t i = 0; i < TB * In; i++) b->x[i] = 0.1f * (float)((int)(i % 5) - 2);
}

/* Seconds of one forward and backward pass of b on kernel isa (bf16 OFF)
 * or bf16. */
static double bench_pass(Bench *b, GemmIsa isa, GemmBf16 bf16)
{
    struct timespec t0, t1;
    b->d = model_layer_dims(&b->spec, b->k, isa, bf16);
    for (size_t i = 0; i < b->n_dh; i++) b->dh[i] = 0.001f;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cell_forward(b->h, b->cache, b->x, NULL, &b->p, &b->d, b->T, b->B);
    cell_backward(b->dx, &b->g, b->dh, b->scratch, b->x, NULL, b->h, b->cache, &b->p, &b->d,
                  b->T, b->B);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}

/* Time c's candidates on spec's layer 0 and one upper layer standing for
 * the others (T steps, at most CHOICE_MAX_T, of B rows) and take the
 * fastest into c->isa and c->bf16. */
static void measure(GemmChoice *c, const ModelSpec *spec, int T, int B, GemmBf16 size_as)
{
    Bench lay[2];
    const int nl = spec->layers > 1 ? 2 : 1, Tm = T < CHOICE_MAX_T ? T : CHOICE_MAX_T;
    const double weight[2] = {1.0, (double)(spec->layers - 1)};
    for (int l = 0; l < nl; l++) bench_init(&lay[l], spec, l, Tm, B, size_as);
    for (int rep = -1; rep < CHOICE_REPS; rep++) {
        for (int i = 0; i < c->count; i++) {
            double t = 0;
            for (int l = 0; l < nl; l++)
                t += weight[l] * bench_pass(&lay[l], c->cand[i], c->cand16[i]);
            if (rep == 0 || (rep > 0 && t < c->seconds[i])) c->seconds[i] = t;
        }
    }
    for (int l = 0; l < nl; l++) free(lay[l].mem);
    int best = 0;
    for (int i = 1; i < c->count; i++)
        if (c->seconds[i] < c->seconds[best]) best = i;
    c->isa = c->cand[best];
    c->bf16 = c->cand16[best];
}

void gemmchoice_measure(GemmChoice *c, const ModelSpec *spec, int T, int B)
{
    memset(c, 0, sizeof *c);
    c->forced = gemm_isa_forced(&c->isa);
    if (c->forced) return;
    c->isa = gemm_isa_best();
    if (c->isa == GEMM_BLAS) return;
    for (int k = GEMM_AVX2; k <= (int)c->isa; k++) c->cand[c->count++] = (GemmIsa)k;
    if (c->count < 2) return;
    measure(c, spec, T, B, GEMM_BF16_OFF);
}

void gemmchoice_measure_bf16(GemmChoice *c, const ModelSpec *spec, int T, int B)
{
    memset(c, 0, sizeof *c);
    c->isa = gemm_isa();
    GemmBf16 k;
    if (gemmprec_forced(&k)) {
        c->forced = 1;
        c->bf16 = gemmprec_supported(k) ? k : GEMM_BF16_OFF;
        return;
    }
    /* fma-bf16 (VDPBF16PS's bits on FMAs) where VDPBF16PS runs too: a CPU
     * without a bf16 instruction is refused, as precision bf16 promises */
    const GemmBf16 order[3] = {GEMM_BF16_AVX512, GEMM_BF16_FMA, GEMM_BF16_AMX};
    for (int i = 0; i < 3; i++)
        if (gemmprec_supported(order[i]) &&
            (order[i] != GEMM_BF16_FMA || gemmprec_supported(GEMM_BF16_AVX512))) {
            c->cand[c->count] = c->isa;
            c->cand16[c->count++] = order[i];
        }
    if (c->count == 0) return;
    measure(c, spec, T, B, GEMM_BF16_AMX);
    GemmChoice fp32 = {.count = 1, .cand = {c->isa}, .cand16 = {GEMM_BF16_OFF}};
    measure(&fp32, spec, T, B, GEMM_BF16_OFF);
    c->fp32_seconds = fp32.seconds[0];
}

/* Name of candidate i of c (c->count > i), or of the choice (i < 0). */
static const char *kernel_name(const GemmChoice *c, int i)
{
    GemmBf16 k = i < 0 ? c->bf16 : c->cand16[i];
    return k != GEMM_BF16_OFF ? gemmprec_name(k) : gemm_isa_name(i < 0 ? c->isa : c->cand[i]);
}

/* Append " 3.1 ms" (or " 155 us") for t seconds to out, *n used of len. */
static void add_time(char *out, size_t len, int *n, double t)
{
    if (*n >= 0 && (size_t)*n < len)
        *n += snprintf(out + *n, len - (size_t)*n, " %.3g %s", t < 1e-3 ? 1e6 * t : 1e3 * t,
                       t < 1e-3 ? "us" : "ms");
}

/* Append what the bf16 kernels took against the fp32 kernel, when timed. */
static void add_fp32(char *out, size_t len, int *n, const GemmChoice *c)
{
    if (c->fp32_seconds <= 0 || *n < 0 || (size_t)*n >= len) return;
    double bf16 = c->seconds[0];
    for (int i = 1; i < c->count; i++)
        if (c->seconds[i] < bf16) bf16 = c->seconds[i];
    *n += snprintf(out + *n, len - (size_t)*n, "; fp32 %s", gemm_isa_name(c->isa));
    add_time(out, len, n, c->fp32_seconds);
    if (*n >= 0 && (size_t)*n < len && c->fp32_seconds < bf16)
        *n += snprintf(out + *n, len - (size_t)*n, ": precision fp32 is faster here");
}

void gemmchoice_describe(char *out, size_t len, const GemmChoice *c)
{
    const char *name = kernel_name(c, -1);
    if (c->forced) {
        snprintf(out, len, "gemm %s (%s)", name,
                 c->bf16 != GEMM_BF16_OFF ? "RNN_DIST_BF16" : "RNN_DIST_GEMM");
        return;
    }
    int n;
    if (c->count < 2) {
        n = snprintf(out, len, "gemm %s (%s", name,
                     c->bf16 == GEMM_BF16_OFF && c->isa == GEMM_BLAS ? "no AVX2 + FMA here"
                                                                     : "the only kernel here");
        if (c->count == 1 && c->seconds[0] > 0 && n >= 0 && (size_t)n < len) {
            n += snprintf(out + n, len - (size_t)n, ",");
            add_time(out, len, &n, c->seconds[0]);
        }
    } else {
        n = snprintf(out, len, "gemm %s (measured:", name);
        for (int i = 0; i < c->count && n >= 0 && (size_t)n < len; i++) {
            n += snprintf(out + n, len - (size_t)n, "%s %s", i ? "," : "", kernel_name(c, i));
            add_time(out, len, &n, c->seconds[i]);
        }
    }
    add_fp32(out, len, &n, c);
    if (n >= 0 && (size_t)n < len) snprintf(out + n, len - (size_t)n, ")");
}
