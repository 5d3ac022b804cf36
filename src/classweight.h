/* classweight.h - the `class-weights` option of train: the weight of each
 * class in the cross-entropy loss (nn.CrossEntropyLoss(weight=w)), from a
 * comma list or `balanced` (sklearn's compute_class_weight('balanced')).
 */
#ifndef RNN_CLASSWEIGHT_H
#define RNN_CLASSWEIGHT_H

#include "check.h"
#include "dataset.h"
#include "dist.h"

/* The weights text (the option's value) for a model of `classes` classes
 * and loss kind `loss`, as parsed:
 *   returns 0 with *w = NULL: no weights (text "");
 *   0 with *w = malloc'd [classes] weights (the caller frees): a comma list
 *     of `classes` numbers >= 0, not all 0; or `balanced`: counted over ds's
 *     valid targets (every rank its share of the rows; the counts are summed
 *     over the ranks, so every rank gets the same weights): w_c = n / (C * n_c);
 *   EXIT_USAGE with e filled (one line): a wrong count, a negative or
 *     non-numeric weight, weights on a value (mse) model, a class that
 *     `balanced` finds no target of. The same verdict on every rank.
 * Collective when text is `balanced`. */
int classweight_setup(float **w, const char *text, int classes, LossKind loss, Dataset *ds,
                      const Dist *d, Error *e);

#endif
