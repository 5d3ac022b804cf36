/* optim.c - Adam / AdamW / SGD / RMSprop as torch.optim (see optim.h). Updates use
 * float32 in the same order of operations as torch's single-tensor path. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vecmath.h"

OptimSpec optim_spec_from_config(const Config *c)
{
    /* torch.optim.RMSprop's defaults: alpha 0.99, eps 1e-8, no momentum, not centered */
    OptimSpec s = {c->optimizer, c->lr, c->momentum, config_weight_decay(c), 0.9, 0.999, 1e-8,
                   c->nesterov, 0.99};
    return s;
}

void optim_create(Optim *o, const OptimSpec *spec, size_t n)
{
    memset(o, 0, sizeof *o);
    o->spec = *spec;
    o->n = n;
    if (spec->kind == OPTIM_SGD) {
        if (spec->momentum > 0.0) o->m = xalloc_floats(n);
    } else if (spec->kind == OPTIM_RMSPROP) {
        o->m = xalloc_floats(n);
    } else {
        o->m = xalloc_floats(2 * n); /* exp_avg | exp_avg_sq: one buffer */
        o->v = o->m + n;
    }
}

void optim_state_names(const char **first, const char **second, const Optim *o)
{
    *first = !o->m                           ? NULL
           : o->spec.kind == OPTIM_SGD     ? "momentum_buffer"
           : o->spec.kind == OPTIM_RMSPROP ? "square_avg"
                                           : "exp_avg";
    *second = o->v ? "exp_avg_sq" : NULL;
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
    const float wd = (float)s->weight_decay, eps = (float)s->eps;
    /* AdamW decays the weights; Adam adds the decay to the gradient */
    const float decay = s->kind == OPTIM_ADAMW ? (float)(1.0 - s->lr * s->weight_decay) : 1.0f;
    const float l2 = s->kind == OPTIM_ADAMW ? 0.0f : wd;
    double bc1 = 1.0 - pow(s->beta1, (double)o->step);
    double bc2 = 1.0 - pow(s->beta2, (double)o->step);
    const float step_size = (float)(s->lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    float *restrict m = o->m, *restrict v = o->v;
    const size_t n = o->n;
    if (decay != 1.0f)
        for (size_t i = 0; i < n; i++) p[i] *= decay;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + l2 * p[i];
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
    float *restrict buf = o->m;
    const size_t n = o->n;
    if (!buf) {
        for (size_t i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    /* torch starts the buffer at the first gradient; Nesterov then steps
     * along d_p + momentum * buf */
    const float keep = o->step == 1 ? 0.0f : mu;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        buf[i] = buf[i] * keep + gi;
        p[i] -= lr * (s->nesterov ? gi + mu * buf[i] : buf[i]);
    }
}

/* torch.optim.RMSprop, momentum 0, not centered: square_avg = alpha *
 * square_avg + (1 - alpha) * g^2; p -= lr * g / (sqrt(square_avg) + eps). */
VEC_CLONES static void rmsprop_step(Optim *o, float *restrict p, const float *restrict g)
{
    const OptimSpec *s = &o->spec;
    const float lr = (float)s->lr, wd = (float)s->weight_decay, eps = (float)s->eps;
    const float alpha = (float)s->alpha, rest = (float)(1.0 - s->alpha);
    float *restrict sq = o->m;
    const size_t n = o->n;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        sq[i] = sq[i] * alpha + rest * gi * gi;
        p[i] -= lr * (gi / (sqrtf(sq[i]) + eps));
    }
}

void optim_step(Optim *o, float *params, const float *grads)
{
    o->step++;
    if (o->spec.kind == OPTIM_SGD)
        sgd_step(o, params, grads);
    else if (o->spec.kind == OPTIM_RMSPROP)
        rmsprop_step(o, params, grads);
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
