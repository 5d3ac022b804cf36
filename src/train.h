/* train.h - the training loop: data, model, optimizer, validation, early
 * stopping, checkpoints and metrics for one run on every rank. */
#ifndef RNN_TRAIN_H
#define RNN_TRAIN_H

#include "check.h"
#include "config.h"
#include "dist.h"

/* Train as cfg says. Collective: every rank calls it. Returns 0, or an exit
 * code with e filled (the same on every rank for errors found before
 * training starts). */
int train_run(const Config *cfg, const Dist *d, Error *e);

#endif
