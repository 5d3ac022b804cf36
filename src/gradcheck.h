/* gradcheck.h - finite-difference gradient checks through time.
 *
 * Used by the unit tests (tests/test_gradcheck.c) and by `rnn_dist selftest`.
 * A check builds a small model (hidden 4, 2 layers, 3 outputs, T 5, batch 3)
 * for one cell and one "combination" of the other choices, computes the
 * analytic gradient of the mean loss with model_backward, and compares every
 * parameter element with a central difference, Richardson-extrapolated from
 * steps GRADCHECK_EPS and GRADCHECK_EPS / 2 (the model runs in float32).
 *
 * Tolerance: an element is bad when
 *   |fd - analytic| - GRADCHECK_RTOL |analytic| > GRADCHECK_ATOL.
 * Elements whose two differences disagree (a relu kink or an argmax change
 * inside the step) are skipped and counted.
 */
#ifndef RNN_GRADCHECK_H
#define RNN_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define GRADCHECK_ATOL 2e-3
#define GRADCHECK_RTOL 1e-2
#define GRADCHECK_EPS 1e-3f
/* Combinations per cell: bit 0 tokens (else dense), bit 1 last-step head
 * (else per step), bit 2 MSE (else cross-entropy), bit 3 varied lengths
 * (else all T), bit 4 dropout on (train mode), bit 5 bidirectional. */
#define GRADCHECK_COMBOS 64

/* Outcome of comparing one model's gradients. */
typedef struct GradcheckResult {
    double max_err;    /* largest |fd - an| - RTOL |an| seen (0 if none > 0) */
    int bad;           /* elements over the tolerance */
    int skipped;       /* elements at a kink */
    int checked;       /* elements compared */
    char worst[96];    /* "name[element] fd X an Y" of the largest error */
} GradcheckResult;

/* A batch and the arrays behind it, all owned by the struct. */
typedef struct GradcheckBatch {
    Batch b;
    float *x;           /* [B*T*features] (dense input) */
    int32_t *tokens;    /* [B*T] */
    int32_t *lengths;   /* [B] */
    int32_t *y_class;   /* [B*T] */
    float *y_value;     /* [B*T*out] */
    uint32_t *sample;   /* [B] */
} GradcheckBatch;

/* Random batch of B sequences x T steps for spec, from seed: inputs and
 * value targets uniform in [-1, 1), token and class ids uniform; varied = 1
 * gives random lengths in 1..T (the first sequence has length T), else all T.
 * Free with gradcheck_batch_free. */
void gradcheck_batch_random(GradcheckBatch *gb, const ModelSpec *spec, int T, int B, int varied,
                            uint64_t seed);
void gradcheck_batch_free(GradcheckBatch *gb);

/* The small model spec of combination combo (0..GRADCHECK_COMBOS) for a cell. */
ModelSpec gradcheck_spec(CellKind cell, Nonlin act, int combo);

/* m->grads = analytic gradient of the mean loss of batch b (train: dropout
 * on, masks of a fixed seed and step). */
void gradcheck_analytic(Model *m, const Batch *b, int train);

/* Compare m->grads with finite differences for every parameter element.
 * m->params are perturbed and restored bit for bit. */
GradcheckResult gradcheck_compare(Model *m, const Batch *b, int train);

/* A loss as a function of parameters the caller perturbs (gradcheck_element). */
typedef double (*GradcheckLoss)(void *ctx);

/* Compare one parameter element's analytic gradient an with the
 * Richardson-extrapolated central difference of loss(ctx) in *p (perturbed
 * and restored bit for bit), with the tolerances above, counting it into r;
 * name and element e label it in r->worst. gradcheck_compare's core, for
 * checks of other losses (tests/test_cellstate.c: one cell alone). */
void gradcheck_element(GradcheckResult *r, GradcheckLoss loss, void *ctx, float *p, double an,
                       const char *name, size_t e);

/* One whole check: build combination combo of the cell (weights 1.5x the
 * default initialisation, so the recurrence matters), its batch, and compare. */
GradcheckResult gradcheck_combo(CellKind cell, Nonlin act, int combo);

/* The checker's own check, which must be able to fail: in the LSTM model of
 * combination 1, the largest gradient element of parameter tensor `tensor`
 * is corrupted by 5% (+ 0.01) before the comparison. Returns the number of
 * elements flagged (1 when the checker works), or -1 when the model has no
 * such tensor. name[0..len) receives the tensor's name.
 *   name  out [len] */
int gradcheck_catch(char *name, size_t len, int tensor);

#endif
