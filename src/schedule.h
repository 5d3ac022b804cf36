/* schedule.h - learning-rate schedules, stepped per epoch, as
 * torch.optim.lr_scheduler: none, step (StepLR), cosine (CosineAnnealingLR)
 * and plateau (ReduceLROnPlateau), each after an optional linear warmup.
 *
 * For epoch e = 1..E (E = epochs), base lr l, w = warmup epochs:
 *   e <= w:  l * e / w                         (every schedule)
 *   none:    l
 *   step:    l * gamma^floor((e - w - 1) / step)
 *   cosine:  lr_min + (l - lr_min) * (1 + cos(pi * (e - w - 1) / (E - w))) / 2
 *   plateau: the plateau's current lr (l until its first reduction); it is
 *            fed the monitored value at the end of every epoch after the
 *            warmup (e > w) and a reduction applies from the next epoch.
 * The plateau's state (LrState) is part of the training state, saved in
 * every checkpoint, so a resumed run follows the same lr.
 */
#ifndef RNN_SCHEDULE_H
#define RNN_SCHEDULE_H

#include <stdint.h>

#include "config.h"

/* How the plateau schedule stands (unused by the other schedules). */
typedef struct LrState {
    double lr;          /* current lr after the warmup; 0: not reduced yet (= base lr) */
    double best;        /* best monitored value fed so far (+-inf before the first) */
    int64_t bad_epochs; /* epochs fed since the last improvement */
} LrState;

/* The combinations of the schedule's options no range in the option table
 * says: lr-min above lr, lr-factor not in (0, 1), warmup-epochs above
 * epochs. Returns 0, or EXIT_USAGE with a one-line message (config_validate
 * calls it). */
int schedule_validate(const Config *c, Error *e);

/* A schedule's options, from the train options. */
typedef struct ScheduleSpec {
    int kind;               /* LrSchedule */
    double lr;              /* base lr l */
    int64_t epochs;         /* E */
    int64_t warmup;         /* w */
    int64_t step;           /* step: epochs between reductions */
    double gamma;           /* step: factor at each reduction */
    double lr_min;          /* cosine: eta_min; plateau: min_lr */
    double factor;          /* plateau: factor of a reduction */
    int64_t patience;       /* plateau: bad epochs tolerated before one */
    int higher_is_better;   /* plateau: mode max (accuracy) or min (loss) */
} ScheduleSpec;

/* The schedule that the options in c describe. */
ScheduleSpec schedule_spec_from_config(const Config *c);

/* The state of a plateau before its first epoch: lr 0 (the base lr), best
 * +inf (mode min) or -inf (mode max), no bad epochs. */
LrState schedule_state_init(const ScheduleSpec *s);

/* The lr of epoch `epoch` (1-based) under s with the plateau's state st
 * (read by plateau only). */
double schedule_lr(const ScheduleSpec *s, int64_t epoch, const LrState *st);

/* Feed the monitored value of epoch `epoch`, just completed, to the plateau
 * (as ReduceLROnPlateau.step with threshold 1e-4 relative and cooldown 0):
 * updates st. Nothing happens for another schedule or during the warmup.
 * Returns 1 when the lr was reduced. */
int schedule_plateau_update(LrState *st, const ScheduleSpec *s, int64_t epoch, double value);

#endif
