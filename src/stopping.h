/* stopping.h - early stopping and best-checkpoint decisions (rank 0 makes
 * them; train.c broadcasts the outcome). */
#ifndef RNN_STOPPING_H
#define RNN_STOPPING_H

#include "trainstate.h"

typedef struct StopRule {
    int higher_is_better;  /* accuracy: 1; loss: 0 */
    double min_delta;      /* smallest change that counts as an improvement */
    int patience;          /* stop after this many epochs without one; 0: never */
} StopRule;

/* Record the monitored value of the epoch st->epoch just completed: updates
 * best_metric, best_epoch and bad_epochs. A non-finite value never improves.
 * Sets *improved; returns 1 when training should stop. */
int stop_update(TrainState *st, double value, const StopRule *rule, int *improved);

#endif
