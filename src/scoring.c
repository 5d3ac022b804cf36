/* scoring.c - per-class counts, confusion matrix, F1, errors in original
 * units (see scoring.h). */
#include "scoring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

void scores_init(Scores *s, LossKind loss, TargetMode target, int out, const double *tg_std)
{
    memset(s, 0, sizeof *s);
    s->loss = loss;
    s->target = target;
    if (loss == LOSS_CE) {
        s->C = out;
        s->confusion = out <= SCORES_CONFUSION_MAX;
        s->n_sum = 3 * (size_t)out + (s->confusion ? (size_t)out * (size_t)out : 0);
    } else {
        s->O = out;
        s->tg_std = tg_std;
        s->n_sum = 2;
    }
    s->sum = xcalloc(s->n_sum, sizeof(double));
}

void scores_free(Scores *s)
{
    free(s->sum);
    memset(s, 0, sizeof *s);
}

/* Count one class target y against the outputs o [C]. */
static void add_class(Scores *s, const float *o, int y)
{
    const int C = s->C;
    int arg = 0;
    for (int c = 1; c < C; c++)
        if (o[c] > o[arg]) arg = c;
    s->sum[y] += 1.0;
    s->sum[C + arg] += 1.0;
    if (arg == y) s->sum[2 * C + y] += 1.0;
    if (s->confusion) s->sum[3 * (size_t)C + (size_t)y * (size_t)C + (size_t)arg] += 1.0;
}

/* Add the errors of one target row y [O] against the outputs o [O]. */
static void add_values(Scores *s, const float *o, const float *y)
{
    for (int j = 0; j < s->O; j++) {
        double err = ((double)o[j] - y[j]) * s->tg_std[j];
        s->sum[0] += err * err;
        s->sum[1] += fabs(err);
    }
}

void scores_add(Scores *s, const float *out, const Batch *b)
{
    if (s->loss == LOSS_MSE && !s->tg_std) return;
    const int step = s->target == TARGET_STEP;
    const size_t rows = step ? (size_t)b->T * (size_t)b->B : (size_t)b->B;
    const size_t width = s->loss == LOSS_CE ? (size_t)s->C : (size_t)s->O;
    for (size_t r = 0; r < rows; r++) {
        if (step && (int)(r / (size_t)b->B) >= b->lengths[r % (size_t)b->B]) continue;
        if (s->loss == LOSS_CE)
            add_class(s, out + r * width, b->y_class[r]);
        else
            add_values(s, out + r * width, b->y_value + r * width);
    }
}

double scores_f1_macro(const Scores *s)
{
    const int C = s->C;
    double f1 = 0.0;
    int classes = 0;
    for (int c = 0; c < C; c++) {
        double tp = s->sum[2 * C + c], fp = s->sum[C + c] - tp, fn = s->sum[c] - tp;
        if (tp + fp + fn <= 0) continue;
        f1 += 2.0 * tp / (2.0 * tp + fp + fn);
        classes++;
    }
    return classes ? f1 / classes : NAN;
}

double scores_confusion(const Scores *s, int i, int j)
{
    CHECK(s->confusion && i >= 0 && i < s->C && j >= 0 && j < s->C);
    return s->sum[3 * (size_t)s->C + (size_t)i * (size_t)s->C + (size_t)j];
}

double scores_rmse(const Scores *s, double count)
{
    return count > 0 ? sqrt(s->sum[0] / count) : NAN;
}

double scores_mae(const Scores *s, double count)
{
    return count > 0 ? s->sum[1] / count : NAN;
}
