/* scoring.h - the scores eval reports beyond the loss: for class models the
 * per-class counts (true, predicted, correct), the confusion matrix and the
 * macro-averaged F1; for value models the errors in the original units
 * (scale.h). Pure arithmetic over a model's outputs and a batch's targets:
 * no MPI, no files.
 *
 * Every score is a sum of counts or errors kept in one array of doubles
 * (Scores.sum), so summing it over ranks (dist_allreduce_sum_f64) is the
 * whole reduction; counts are integers well below 2^53, so the sums are
 * exact and 1 or N ranks give identical counts.
 */
#ifndef RNN_SCORING_H
#define RNN_SCORING_H

#include <stddef.h>

#include "types.h"

/* The confusion matrix is kept up to this many classes (its C*C counts;
 * the per-class counts and f1_macro are kept for any C). */
#define SCORES_CONFUSION_MAX 256

typedef struct Scores {
    LossKind loss;
    TargetMode target;
    int C;                 /* classes (LOSS_CE), else 0 */
    int O;                 /* values per target (LOSS_MSE), else 0 */
    int confusion;         /* the matrix is kept (C <= SCORES_CONFUSION_MAX) */
    const double *tg_std;  /* [O] target std (values), or NULL: not owned */
    /* sum: owned, n_sum doubles, zero at init, laid out as
     *   classes: true [C], predicted [C], correct [C], then the confusion
     *            matrix [C, C] (row = true class, column = predicted) when kept
     *   values:  squared error, absolute error, both in original units */
    double *sum;
    size_t n_sum;
} Scores;

/* Scores of a model predicting `loss` targets at `target`, with `out`
 * outputs (classes or values); tg_std [out]: the targets' std for errors in
 * the original units (values; NULL: none, the value part then stays zero
 * and unused). Release with scores_free. */
void scores_init(Scores *s, LossKind loss, TargetMode target, int out, const double *tg_std);

/* Release the sums (a zeroed Scores too). */
void scores_free(Scores *s);

/* Add the valid targets of batch b to s: out [rows, O] the model's outputs
 * for b (model.h: rows = T*B, row t*B + i, per step; B, per sequence), b's
 * targets and lengths. The predicted class is the first largest output. */
void scores_add(Scores *s, const float *out, const Batch *b);

/* Macro-averaged F1 over the classes that occur as a true or a predicted
 * class (as scikit-learn's f1_score(average='macro') with its default
 * labels): the mean over those classes of 2 TP / (2 TP + FP + FN). NaN
 * when nothing was counted. */
double scores_f1_macro(const Scores *s);

/* The confusion count of (true class i, predicted class j); s->confusion
 * must be set. */
double scores_confusion(const Scores *s, int i, int j);

/* Root mean squared and mean absolute error in the original units over
 * `count` target elements (values with tg_std). */
double scores_rmse(const Scores *s, double count);
double scores_mae(const Scores *s, double count);

#endif
