/* gradcheck.c - finite-difference gradient checks (see gradcheck.h). */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"

#define SEED 7u  /* dropout masks of the checked forward passes */
#define STEP 3u

void gradcheck_batch_random(GradcheckBatch *gb, const ModelSpec *s, int T, int B, int varied,
                            uint64_t seed)
{
    size_t TB = (size_t)T * B, k = 0, nx = TB * (s->features ? s->features : 1);
    gb->x = xalloc_floats(nx);
    gb->tokens = xcalloc(TB, sizeof(int32_t));
    gb->lengths = xcalloc(B, sizeof(int32_t));
    gb->y_class = xcalloc(TB, sizeof(int32_t));
    gb->y_value = xalloc_floats(TB * s->out);
    gb->sample = xcalloc(B, sizeof(uint32_t));
    for (size_t i = 0; i < nx; i++) gb->x[i] = rng_uniform_at(seed, k++, -1.0f, 1.0f);
    for (size_t i = 0; i < TB; i++) {
        gb->tokens[i] = (int32_t)(rng_uniform_at(seed, k++, 0.0f, 1.0f) * s->vocab);
        if (s->vocab && gb->tokens[i] >= s->vocab) gb->tokens[i] = s->vocab - 1;
        gb->y_class[i] = (int32_t)(rng_uniform_at(seed, k++, 0.0f, 1.0f) * s->out);
        if (gb->y_class[i] >= s->out) gb->y_class[i] = s->out - 1;
    }
    for (size_t i = 0; i < TB * s->out; i++)
        gb->y_value[i] = rng_uniform_at(seed, k++, -1.0f, 1.0f);
    for (int i = 0; i < B; i++) {
        int len = T;
        if (varied && i > 0) len = 1 + (int)(rng_uniform_at(seed, k++, 0.0f, 1.0f) * T);
        gb->lengths[i] = len > T ? T : len;
        gb->sample[i] = (uint32_t)(100 + 7 * i);
    }
    Batch b = {B, T, s->input == INPUT_DENSE ? gb->x : NULL,
               s->input == INPUT_TOKENS ? gb->tokens : NULL, gb->lengths,
               s->loss == LOSS_CE ? gb->y_class : NULL, s->loss == LOSS_MSE ? gb->y_value : NULL,
               gb->sample};
    gb->b = b;
}

void gradcheck_batch_free(GradcheckBatch *gb)
{
    free(gb->x);
    free(gb->tokens);
    free(gb->lengths);
    free(gb->y_class);
    free(gb->y_value);
    free(gb->sample);
}

ModelSpec gradcheck_spec(CellKind cell, Nonlin act, int combo)
{
    int tokens = combo & 1, last = combo >> 1 & 1, mse = combo >> 2 & 1;
    int dropout = combo >> 4 & 1, bidir = combo >> 5 & 1;
    ModelSpec s;
    memset(&s, 0, sizeof s);
    s.cell = cell;
    s.act = act;
    s.input = tokens ? INPUT_TOKENS : INPUT_DENSE;
    s.vocab = tokens ? 5 : 0;
    s.embed = tokens ? 3 : 0;
    s.features = tokens ? 0 : 3;
    s.hidden = 4;
    s.layers = 2;
    s.out = 3;
    s.loss = mse ? LOSS_MSE : LOSS_CE;
    s.target = last ? TARGET_LAST : TARGET_STEP;
    s.dropout = dropout ? 0.3f : 0.0f;
    s.out_dropout = dropout ? 0.25f : 0.0f;
    s.bidirectional = bidir;
    return s;
}

/* What mean_loss evaluates. */
typedef struct ModelLoss {
    Model *m;
    const Batch *b;
    int train;
} ModelLoss;

static double mean_loss(void *ctx)
{
    ModelLoss *c = ctx;
    model_forward(c->m, c->b, c->train, SEED, STEP);
    LossSums s = model_loss(c->m, c->b, 0.0f);
    return s.loss / s.weight;
}

static double central(GradcheckLoss loss, void *ctx, float *p, float eps)
{
    float keep = *p;
    *p = keep + eps;
    double lp = loss(ctx);
    *p = keep - eps;
    double lm = loss(ctx);
    *p = keep;
    return (lp - lm) / (2.0 * (double)eps);
}

void gradcheck_analytic(Model *m, const Batch *b, int train)
{
    model_zero_grads(m);
    model_forward(m, b, train, SEED, STEP);
    double weight = model_batch_weight(&m->spec, m->class_weight, b);
    model_loss(m, b, (float)(1.0 / weight));
    model_backward(m, b);
}

void gradcheck_element(GradcheckResult *r, GradcheckLoss loss, void *ctx, float *p, double an,
                       const char *name, size_t e)
{
    double d1 = central(loss, ctx, p, GRADCHECK_EPS);
    double d2 = central(loss, ctx, p, GRADCHECK_EPS / 2);
    if (fabs(d1 - d2) > 5e-3 * fabs(d2) + 5e-4) {
        r->skipped++;
        return;
    }
    double fd = (4.0 * d2 - d1) / 3.0;
    double err = fabs(fd - an) - GRADCHECK_RTOL * fabs(an);
    r->checked++;
    if (err > r->max_err) {
        r->max_err = err;
        snprintf(r->worst, sizeof r->worst, "%s[%zu] fd %.6f an %.6f", name, e, fd, an);
    }
    if (err > GRADCHECK_ATOL) r->bad++;
}

GradcheckResult gradcheck_compare(Model *m, const Batch *b, int train)
{
    GradcheckResult r;
    memset(&r, 0, sizeof r);
    ModelLoss ctx = {m, b, train};
    for (int i = 0; i < m->table.count; i++) {
        const ParamInfo *pi = &m->table.p[i];
        size_t n = (size_t)pi->rows * (pi->cols ? pi->cols : 1);
        for (size_t e = 0; e < n; e++)
            gradcheck_element(&r, mean_loss, &ctx, m->params + pi->offset + e,
                              m->grads[pi->offset + e], pi->name, e);
    }
    return r;
}

GradcheckResult gradcheck_combo(CellKind cell, Nonlin act, int combo)
{
    ModelSpec s = gradcheck_spec(cell, act, combo);
    int varied = combo >> 3 & 1, train = combo >> 4 & 1;
    Model m;
    model_create(&m, &s);
    model_init_params(&m, 11 + (uint64_t)combo);
    for (size_t i = 0; i < m.table.total; i++) m.params[i] *= 1.5f;
    GradcheckBatch gb;
    gradcheck_batch_random(&gb, &s, 5, 3, varied, 100 + (uint64_t)combo);
    gradcheck_analytic(&m, &gb.b, train);
    GradcheckResult r = gradcheck_compare(&m, &gb.b, train);
    gradcheck_batch_free(&gb);
    model_free(&m);
    return r;
}

int gradcheck_catch(char *name, size_t len, int tensor)
{
    ModelSpec s = gradcheck_spec(CELL_LSTM, NONLIN_TANH, 1);
    Model m;
    model_create(&m, &s);
    if (tensor < 0 || tensor >= m.table.count) {
        model_free(&m);
        return -1;
    }
    model_init_params(&m, 5);
    GradcheckBatch gb;
    gradcheck_batch_random(&gb, &s, 5, 3, 1, 9);
    gradcheck_analytic(&m, &gb.b, 0);
    const ParamInfo *pi = &m.table.p[tensor];
    size_t n = (size_t)pi->rows * (pi->cols ? pi->cols : 1), arg = 0;
    float *g = m.grads + pi->offset;
    for (size_t e = 1; e < n; e++)
        if (fabsf(g[e]) > fabsf(g[arg])) arg = e;
    g[arg] += 0.05f * fabsf(g[arg]) + 0.01f;
    GradcheckResult r = gradcheck_compare(&m, &gb.b, 0);
    snprintf(name, len, "%s", pi->name);
    gradcheck_batch_free(&gb);
    model_free(&m);
    return r.bad;
}
