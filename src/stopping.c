/* stopping.c - early stopping decisions (see stopping.h). */
#include "stopping.h"

#include <math.h>

int stop_update(TrainState *st, double value, const StopRule *rule, int *improved)
{
    int first = isnan(st->best_metric);
    int better = rule->higher_is_better ? value > st->best_metric + rule->min_delta
                                        : value < st->best_metric - rule->min_delta;
    *improved = isfinite(value) && (first || better);
    if (*improved) {
        st->best_metric = value;
        st->best_epoch = st->epoch;
        st->bad_epochs = 0;
    } else {
        st->bad_epochs++;
    }
    return rule->patience > 0 && st->bad_epochs >= rule->patience;
}
