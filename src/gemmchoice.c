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

static void bench_init(Bench *b, const ModelSpec *s, int k, int T, int B)
{
    CellDims d = {s->cell, s->act, model_layer_input(s, k), s->hidden, GEMM_BLAS, GEMM_BF16_OFF, {NULL, NULL}};
    const size_t GH = (size_t)cell_gates(s->cell) * s->hidden, In = (size_t)d.in;
    const size_t TB = (size_t)T * B, H = (size_t)s->hidden;
    const size_t np = GH * (In + H + 2);
    const size_t cache = cell_cache_floats(&d, T, B), scratch = cell_scratch_floats(&d, T, B);
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

/* Seconds of one forward and backward pass of b on kernel isa. */
static double bench_pass(Bench *b, GemmIsa isa)
{
    struct timespec t0, t1;
    b->d.isa = isa;
    for (size_t i = 0; i < b->n_dh; i++) b->dh[i] = 0.001f;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cell_forward(b->h, b->cache, b->x, NULL, &b->p, &b->d, b->T, b->B);
    cell_backward(b->dx, &b->g, b->dh, b->scratch, b->x, NULL, b->h, b->cache, &b->p, &b->d,
                  b->T, b->B);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
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
    /* layer 0, and one upper layer standing for the others */
    Bench lay[2];
    const int nl = spec->layers > 1 ? 2 : 1, Tm = T < CHOICE_MAX_T ? T : CHOICE_MAX_T;
    const double weight[2] = {1.0, (double)(spec->layers - 1)};
    for (int l = 0; l < nl; l++) bench_init(&lay[l], spec, l, Tm, B);
    for (int rep = -1; rep < CHOICE_REPS; rep++) {
        for (int i = 0; i < c->count; i++) {
            double t = 0;
            for (int l = 0; l < nl; l++) t += weight[l] * bench_pass(&lay[l], c->cand[i]);
            if (rep == 0 || (rep > 0 && t < c->seconds[i])) c->seconds[i] = t;
        }
    }
    for (int l = 0; l < nl; l++) free(lay[l].mem);
    int best = 0;
    for (int i = 1; i < c->count; i++)
        if (c->seconds[i] < c->seconds[best]) best = i;
    c->isa = c->cand[best];
}

void gemmchoice_describe(char *out, size_t len, const GemmChoice *c)
{
    const char *name = gemm_isa_name(c->isa);
    if (c->forced) {
        snprintf(out, len, "gemm %s (RNN_DIST_GEMM)", name);
        return;
    }
    if (c->count < 2) {
        snprintf(out, len, "gemm %s (%s)", name,
                 c->isa == GEMM_BLAS ? "no AVX2 + FMA here" : "the only kernel here");
        return;
    }
    int n = snprintf(out, len, "gemm %s (measured:", name);
    for (int i = 0; i < c->count && n >= 0 && (size_t)n < len; i++)
        n += snprintf(out + n, len - (size_t)n, "%s %s %.3g %s", i ? "," : "",
                      gemm_isa_name(c->cand[i]),
                      c->seconds[i] < 1e-3 ? 1e6 * c->seconds[i] : 1e3 * c->seconds[i],
                      c->seconds[i] < 1e-3 ? "us" : "ms");
    if (n >= 0 && (size_t)n < len) snprintf(out + n, len - (size_t)n, ")");
}
