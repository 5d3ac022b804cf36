/* schedule.c - learning-rate schedules per epoch (see schedule.h). */
#include "schedule.h"

#include <math.h>

/* ReduceLROnPlateau's threshold (relative) and the eps below which a
 * reduction is ignored, as torch's defaults. */
#define PLATEAU_THRESHOLD 1e-4
#define PLATEAU_EPS 1e-8

int schedule_validate(const Config *c, Error *e)
{
    if (c->lr_min > c->lr)
        return error_set(e, EXIT_USAGE, "lr-min %g is above lr %g", c->lr_min, c->lr);
    if (c->lr_factor <= 0.0 || c->lr_factor >= 1.0)
        return error_set(e, EXIT_USAGE, "lr-factor must be above 0 and below 1, got %g",
                         c->lr_factor);
    if (c->warmup_epochs > c->epochs)
        return error_set(e, EXIT_USAGE, "warmup-epochs %d is more than epochs %d",
                         c->warmup_epochs, c->epochs);
    return 0;
}

ScheduleSpec schedule_spec_from_config(const Config *c)
{
    ScheduleSpec s = {c->lr_schedule, c->lr,        c->epochs,    c->warmup_epochs,
                      c->lr_step,     c->lr_gamma,  c->lr_min,    c->lr_factor,
                      c->lr_patience, c->monitor == MONITOR_VAL_ACC};
    return s;
}

LrState schedule_state_init(const ScheduleSpec *s)
{
    LrState st = {0.0, s->higher_is_better ? -INFINITY : INFINITY, 0};
    return st;
}

double schedule_lr(const ScheduleSpec *s, int64_t epoch, const LrState *st)
{
    const double l = s->lr;
    if (epoch <= s->warmup) return l * (double)epoch / (double)s->warmup;
    const int64_t t = epoch - s->warmup - 1; /* epochs since the warmup */
    switch (s->kind) {
    case LR_SCHEDULE_STEP: return l * pow(s->gamma, (double)(t / s->step));
    case LR_SCHEDULE_COSINE: {
        const double pi = 3.14159265358979323846;
        double tmax = (double)(s->epochs - s->warmup);
        return s->lr_min + (l - s->lr_min) * (1.0 + cos(pi * (double)t / tmax)) / 2.0;
    }
    case LR_SCHEDULE_PLATEAU: return st->lr > 0.0 ? st->lr : l;
    default: return l;
    }
}

int schedule_plateau_update(LrState *st, const ScheduleSpec *s, int64_t epoch, double value)
{
    if (s->kind != LR_SCHEDULE_PLATEAU || epoch <= s->warmup) return 0;
    int better = s->higher_is_better ? value > st->best * (1.0 + PLATEAU_THRESHOLD)
                                     : value < st->best * (1.0 - PLATEAU_THRESHOLD);
    if (better) {
        st->best = value;
        st->bad_epochs = 0;
    } else {
        st->bad_epochs++;
    }
    if (st->bad_epochs <= s->patience) return 0;
    st->bad_epochs = 0;
    double old = st->lr > 0.0 ? st->lr : s->lr;
    double lr = fmax(old * s->factor, s->lr_min);
    if (old - lr <= PLATEAU_EPS) return 0;
    st->lr = lr;
    return 1;
}
