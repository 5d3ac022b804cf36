/* classweight.c - the `class-weights` option (see classweight.h). */
#include "classweight.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "epochplan.h"

/* Rows read at a time when counting targets. */
#define WINDOW 4096

/* w[0..classes) from a comma list. */
static int parse_list(float *w, const char *text, int classes, Error *e)
{
    const char *p = text;
    int n = 0, nonzero = 0;
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || (*end && *end != ','))
            return error_set(e, EXIT_USAGE, "class-weights '%s': '%.*s' is not a number",
                             text, (int)strcspn(p, ","), p);
        if (!(v >= 0) || !isfinite(v) || v > 1e30)
            return error_set(e, EXIT_USAGE, "class-weights '%s': weight %g must be a finite "
                             "number >= 0", text, v);
        if (n < classes) w[n] = (float)v;
        nonzero += v > 0;
        n++;
        if (!*end) break;
        p = end + 1;
    }
    if (n != classes)
        return error_set(e, EXIT_USAGE, "class-weights: %d weights given, but the data has "
                         "num_classes %d (one weight per class, or 'balanced')", n, classes);
    if (!nonzero)
        return error_set(e, EXIT_USAGE, "class-weights: every weight is 0; at least one must "
                         "be > 0");
    return 0;
}

/* counts[c] += the valid targets of class c in this rank's share of ds. */
static void count_share(double *counts, Dataset *ds, const Dist *d)
{
    size_t lo, hi;
    epochplan_share(&lo, &hi, ds->n, d->rank, d->size);
    const size_t per = ds->target == TARGET_STEP ? (size_t)ds->T : 1;
    size_t *rows = xcalloc(WINDOW, sizeof(size_t));
    int32_t *y = xcalloc(WINDOW * per, sizeof(int32_t));
    for (size_t a = lo; a < hi; a += WINDOW) {
        size_t n = hi - a < WINDOW ? hi - a : WINDOW;
        for (size_t i = 0; i < n; i++) rows[i] = a + i;
        dataset_load(ds, rows, n);
        dataset_copy_targets(y, NULL, ds, rows, (int)n);
        for (size_t i = 0; i < n; i++) {
            size_t len = per == 1 ? 1 : (size_t)ds->lengths[rows[i]];
            for (size_t t = 0; t < len; t++) {
                int32_t c = y[i * per + t];
                if (c >= 0 && c < ds->O) counts[c] += 1.0; /* checked on opening */
            }
        }
    }
    free(rows);
    free(y);
}

/* w_c = n / (C * n_c) over ds's valid targets, counted by every rank. */
static int balanced(float *w, Dataset *ds, int classes, const Dist *d, Error *e)
{
    double *counts = xcalloc((size_t)classes, sizeof(double)), total = 0;
    count_share(counts, ds, d);
    dist_allreduce_sum_f64(d, counts, (size_t)classes);
    for (int c = 0; c < classes; c++) total += counts[c];
    int rc = 0;
    for (int c = 0; c < classes && !rc; c++) {
        if (counts[c] == 0)
            rc = error_set(e, EXIT_USAGE, "class-weights balanced: class %d has no target in "
                           "%s:%s; give the weights as a list", c, ds->file, ds->group);
        else
            w[c] = (float)(total / ((double)classes * counts[c]));
    }
    free(counts);
    return rc;
}

int classweight_setup(float **w, const char *text, int classes, LossKind loss, Dataset *ds,
                      const Dist *d, Error *e)
{
    *w = NULL;
    if (!text[0]) return 0;
    if (loss != LOSS_CE)
        return error_set(e, EXIT_USAGE, "class-weights needs class targets; %s:%s has values "
                         "(mse)", ds->file, ds->group);
    float *v = xcalloc((size_t)classes, sizeof(float));
    int rc = strcmp(text, "balanced") == 0 ? balanced(v, ds, classes, d, e)
                                           : parse_list(v, text, classes, e);
    if (rc) {
        free(v);
        return rc;
    }
    *w = v;
    return 0;
}
