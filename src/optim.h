/* optim.h - optimizers as torch.optim: Adam, AdamW, SGD (momentum, Nesterov),
 * RMSprop, plus weight decay and clipping by global norm.
 *
 * State (Adam's exp_avg and exp_avg_sq, SGD's momentum buffer, RMSprop's
 * square_avg) lives in
 * one contiguous buffer laid out like the parameters, so the i-th float of
 * each moment belongs to the i-th parameter float.
 */
#ifndef RNN_OPTIM_H
#define RNN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct OptimSpec {
    int kind;              /* OptimKind */
    double lr;
    double momentum;       /* sgd */
    double weight_decay;
    double beta1, beta2, eps; /* adam*; eps also rmsprop's */
    int nesterov;          /* sgd with momentum: Nesterov momentum */
    double alpha;          /* rmsprop: smoothing constant of square_avg */
} OptimSpec;

typedef struct Optim {
    OptimSpec spec;
    size_t n;              /* floats per moment */
    float *m;              /* [n] exp_avg (adam*), momentum_buffer (sgd) or square_avg
                            * (rmsprop), NULL if unused */
    float *v;              /* [n] exp_avg_sq (adam*), NULL if unused */
    int64_t step;          /* optimizer steps taken */
} Optim;

/* The spec torch.optim would use for these options. */
OptimSpec optim_spec_from_config(const Config *c);

/* The checkpoint names of o's state buffers, as torch's state_dict names
 * them: *first names o->m ("exp_avg", "momentum_buffer" or "square_avg"),
 * *second o->v ("exp_avg_sq"); NULL when the buffer is not used. */
void optim_state_names(const char **first, const char **second, const Optim *o);

/* Allocate state for n parameter floats (zeros). Free with optim_free. */
void optim_create(Optim *o, const OptimSpec *spec, size_t n);
void optim_free(Optim *o);

/* One update of params[0..n) from grads[0..n) (read-only). */
void optim_step(Optim *o, float *params, const float *grads);

/* Euclidean norm of g[0..n), accumulated in double. */
double optim_grad_norm(const float *g, size_t n);

/* Scale g so its norm is at most max_norm, as torch.nn.utils.clip_grad_norm_
 * (coefficient max_norm / (norm + 1e-6) when below 1). `norm` is the norm of
 * g, computed by the caller (so it can be a global norm). */
void optim_clip(float *g, size_t n, double norm, double max_norm);

#endif
