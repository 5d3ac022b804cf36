/* optim.c - Adam / AdamW / SGD as torch.optim (see optim.h). Updates use
 * float32 in the same order of operations as torch's single-tensor path. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vecmath.h"

OptimSpec optim_spec_from_config(const Config *c)
{
    OptimSpec s = {c->optimizer, c->lr, c->momentum, config_weight_decay(c), 0.9, 0.999, 1e-8};
    return s;
}

void optim_create(Optim *o, const OptimSpec *spec, size_t n)
{
    memset(o, 0, sizeof *o);
    o->spec = *spec;
    o->n = n;
    if (spec->kind == OPTIM_SGD) {
        if (spec->momentum > 0.0) o->m = xalloc_floats(n);
    } else {
        o->m = xalloc_floats(2 * n); /* exp_avg | exp_avg_sq: one buffer */
        o->v = o->m + n;
    }
}

void optim_free(Optim *o)
{
    free(o->m);
    memset(o, 0, sizeof *o);
}

VEC_CLONES static void adam_step(Optim *o, float *restrict p, const float *restrict g)
{
    const OptimSpec *s = &o->spec;
    const float b1 = (float)s->beta1, b2 = (float)s->beta2;
    const float lr = (float)s->lr, wd = (float)s->weight_decay, eps = (float)s->eps;
    const int decoupled = s->kind == OPTIM_ADAMW;
    double bc1 = 1.0 - pow(s->beta1, (double)o->step);
    double bc2 = 1.0 - pow(s->beta2, (double)o->step);
    const float step_size = (float)(s->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    float *restrict m = o->m, *restrict v = o->v;
    for (size_t i = 0; i < o->n; i++) {
        float gi = g[i];
        if (decoupled)
            p[i] *= 1.0f - lr * wd;
        else if (wd != 0.0f)
            gi += wd * p[i];
        m[i] = m[i] * b1 + gi * (1.0f - b1);
        v[i] = v[i] * b2 + (1.0f - b2) * gi * gi;
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * (m[i] / denom);
    }
}

VEC_CLONES static void sgd_step(Optim *o, float *restrict p, const float *restrict g)
{
    const OptimSpec *s = &o->spec;
    const float lr = (float)s->lr, wd = (float)s->weight_decay, mu = (float)s->momentum;
    for (size_t i = 0; i < o->n; i++) {
        float d = g[i];
        if (wd != 0.0f) d += wd * p[i];
        if (o->m) {
            o->m[i] = o->step == 1 ? d : o->m[i] * mu + d;
            d = o->m[i];
        }
        p[i] -= lr * d;
    }
}

void optim_step(Optim *o, float *params, const float *grads)
{
    o->step++;
    if (o->spec.kind == OPTIM_SGD)
        sgd_step(o, params, grads);
    else
        adam_step(o, params, grads);
}

double optim_grad_norm(const float *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

void optim_clip(float *g, size_t n, double norm, double max_norm)
{
    double coef = max_norm / (norm + 1e-6);
    if (coef >= 1.0) return;
    float c = (float)coef;
    for (size_t i = 0; i < n; i++) g[i] *= c;
}
