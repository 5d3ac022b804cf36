/* scale.h - the standardisation statistics of a dataset, and undoing them.
 *
 * A dataset group may carry float64 attributes (scripts/csv2h5.py writes
 * them when it standardises values as (x - mean) / std):
 *   input_mean, input_std    [F]  the dense inputs' statistics
 *   target_mean, target_std  [O]  the value targets' statistics
 * looked up on the group, then on the file root, as the other dataset
 * attributes (dataset.h). A value in the original units is x * std + mean.
 * With them, eval reports errors in the original units, predict and forecast
 * write values in the original units.
 */
#ifndef RNN_SCALE_H
#define RNN_SCALE_H

#include <stddef.h>

#include "check.h"
#include "h5io.h"

typedef struct Scale {
    int has_input, has_target;
    int F, O;                   /* lengths of the input / target arrays */
    double *in_mean, *in_std;   /* [F] when has_input, owned */
    double *tg_mean, *tg_std;   /* [O] when has_target, owned */
} Scale;

/* Read the statistics of `group` of the open input `in` (then of its root)
 * into *s: the input pair when F > 0 (dense inputs of F features), the
 * target pair when O > 0 (O value targets); pass 0 to skip a pair (token
 * inputs, class targets). A pair is used only whole. Refused (EXIT_USAGE,
 * one line naming file, group and attribute): one of a pair without the
 * other, a pair of another length than F or O, a std that is not finite
 * and > 0, a mean that is not finite. On failure *s holds nothing. Release
 * with scale_free. */
int scale_read_in(Scale *s, const H5Input *in, const char *group, int F, int O, Error *e);

/* Release what scale_read_in allocated (a zeroed Scale too). */
void scale_free(Scale *s);

/* v [n, O] (rows of O values as the model outputs them) into the original
 * units, in place: v * target_std + target_mean; nothing without target
 * statistics. NaN stays NaN. */
void scale_targets(const Scale *s, float *v, size_t n);

/* v [n, F] from the original units into the units of the stored inputs, in
 * place: (v - input_mean) / input_std; nothing without input statistics. */
void scale_to_inputs(const Scale *s, float *v, size_t n);

#endif
