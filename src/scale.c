/* scale.c - standardisation statistics of a dataset (see scale.h). */
#include "scale.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The verdict on reading the pair an[0], an[1] (codes rc of
 * h5io_read_attr_f64_n, n values each): 0 both read, 1 neither is there,
 * or the refusal. */
static int pair_verdict(const int rc[2], char an[2][32], const H5Input *in, const char *group,
                        int n, Error *e)
{
    for (int i = 0; i < 2; i++)
        if (rc[i] == -1 && (h5io_attr_exists(in->file, group, an[i]) ||
                            h5io_attr_exists(in->file, "/", an[i])))
            return error_set(e, EXIT_USAGE, "%s: %s: attribute '%s' must be a number or an "
                             "array of numbers", in->path, group, an[i]);
    if (rc[0] == -1 && rc[1] == -1) return 1;
    if (rc[0] == -1 || rc[1] == -1)
        return error_set(e, EXIT_USAGE, "%s: %s: attribute '%s' without '%s'", in->path, group,
                         an[rc[0] == -1], an[rc[0] != -1]);
    for (int i = 0; i < 2; i++)
        if (rc[i] == -2) {
            /* csv2h5.py --horizon K wrote one value per column before it
             * wrote one per output (K per column): such a file needs making
             * again */
            int64_t horizon = 1;
            const int old = an[i][0] == 't' &&
                            h5io_read_attr_i64(&horizon, in->file, "/", "horizon") == 0 &&
                            horizon > 1;
            return error_set(e, EXIT_USAGE, "%s: %s: attribute '%s' must hold %d value%s (one "
                             "per %s)%s", in->path, group, an[i], n, n > 1 ? "s" : "",
                             an[i][0] == 'i' ? "feature" : "output",
                             old ? "; made by an older csv2h5.py --horizon, which wrote one "
                                   "per column: run csv2h5.py again"
                                 : "");
        }
    return 0;
}

/* One pair name_mean, name_std of n values from the group, else from the
 * root: 0 with *mean and *std allocated, 1 when neither is there, or the
 * refusal. */
static int read_pair(double **mean, double **std, const H5Input *in, const char *group,
                     const char *name, int n, Error *e)
{
    char an[2][32];
    double *v[2] = {xcalloc((size_t)n, sizeof(double)), xcalloc((size_t)n, sizeof(double))};
    int rc[2];
    for (int i = 0; i < 2; i++) {
        snprintf(an[i], sizeof an[i], "%s_%s", name, i ? "std" : "mean");
        rc[i] = h5io_read_attr_f64_n(v[i], (size_t)n, in->file, group, an[i]);
        if (rc[i] == -1) rc[i] = h5io_read_attr_f64_n(v[i], (size_t)n, in->file, "/", an[i]);
    }
    int err = pair_verdict(rc, an, in, group, n, e);
    for (int j = 0; j < n && !err; j++)
        if (!isfinite(v[0][j]) || !isfinite(v[1][j]) || !(v[1][j] > 0))
            err = error_set(e, EXIT_USAGE, "%s: %s: %s[%d] = %g, %s[%d] = %g: a mean must be "
                            "finite and a std finite and > 0", in->path, group, an[0], j, v[0][j],
                            an[1], j, v[1][j]);
    if (err) {
        free(v[0]);
        free(v[1]);
        return err;
    }
    *mean = v[0];
    *std = v[1];
    return 0;
}

int scale_read_in(Scale *s, const H5Input *in, const char *group, int F, int O, Error *e)
{
    memset(s, 0, sizeof *s);
    s->F = F;
    s->O = O;
    int rc = F > 0 ? read_pair(&s->in_mean, &s->in_std, in, group, "input", F, e) : 1;
    if (rc > 1) return rc;
    s->has_input = rc == 0;
    rc = O > 0 ? read_pair(&s->tg_mean, &s->tg_std, in, group, "target", O, e) : 1;
    if (rc > 1) {
        scale_free(s);
        return rc;
    }
    s->has_target = rc == 0;
    return 0;
}

void scale_free(Scale *s)
{
    free(s->in_mean);
    free(s->in_std);
    free(s->tg_mean);
    free(s->tg_std);
    memset(s, 0, sizeof *s);
}

void scale_targets(const Scale *s, float *v, size_t n)
{
    if (!s->has_target) return;
    for (size_t i = 0; i < n; i++)
        for (int o = 0; o < s->O; o++) {
            float *x = v + i * (size_t)s->O + (size_t)o;
            *x = (float)((double)*x * s->tg_std[o] + s->tg_mean[o]);
        }
}

void scale_to_inputs(const Scale *s, float *v, size_t n)
{
    if (!s->has_input) return;
    for (size_t i = 0; i < n; i++)
        for (int f = 0; f < s->F; f++) {
            float *x = v + i * (size_t)s->F + (size_t)f;
            *x = (float)(((double)*x - s->in_mean[f]) / s->in_std[f]);
        }
}
