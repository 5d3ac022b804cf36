/* forecast.c - forecasts by feeding a model its own predictions (see
 * forecast.h). */
#include "forecast.h"

#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "h5io.h"
#include "signals.h"

int forecast_check_model(const ModelSpec *s, const char *ckpt, Error *e)
{
    const char *why = NULL;
    if (s->loss == LOSS_CE)
        why = "predicts classes";
    else if (s->input != INPUT_DENSE)
        why = "takes token inputs";
    else if (s->target != TARGET_LAST)
        why = "predicts at every step";
    else if (s->out != s->features)
        why = "predicts another number of values than it takes";
    if (!why) return 0;
    return error_set(e, EXIT_USAGE, "forecast: %s %s; forecast needs a model that predicts the "
                     "next step of its own inputs (dense inputs, value targets, target last, out "
                     "== features)", ckpt, why);
}

/* The growing inputs of one batch: x [T + K, B, F] time-major, lengths [B]. */
typedef struct ForecastBuf {
    float *x;
    int32_t *len;
} ForecastBuf;

/* fc [B, K, O] = the K-step forecasts of batch b (filled by
 * dataset_fill_batch; its x is [T, B, F]), w sized for it. */
static void forecast_batch(float *fc, ForecastBuf *w, Model *m, const Scale *sc, const Batch *b,
                           int K)
{
    const int B = b->B, F = m->spec.features, O = m->spec.out;
    const size_t plane = (size_t)B * (size_t)F;
    memcpy(w->x, b->x, sizeof(float) * (size_t)b->T * plane);
    memset(w->x + (size_t)b->T * plane, 0, sizeof(float) * (size_t)K * plane);
    memcpy(w->len, b->lengths, sizeof(int32_t) * (size_t)B);
    for (int k = 0; k < K; k++) {
        Batch e = {B, b->T + k, w->x, NULL, w->len, NULL, NULL, b->sample};
        model_forward(m, &e, 0, 0, 0);
        for (int i = 0; i < B; i++) {
            float *dst = fc + ((size_t)i * (size_t)K + (size_t)k) * (size_t)O;
            memcpy(dst, m->logits + (size_t)i * (size_t)O, sizeof(float) * (size_t)O);
            scale_targets(sc, dst, 1);
            float *in = w->x + (size_t)w->len[i] * plane + (size_t)i * (size_t)F;
            memcpy(in, dst, sizeof(float) * (size_t)F);
            scale_to_inputs(sc, in, 1);
            w->len[i]++;
        }
    }
}

/* The output file's dataset and attributes (datasets first, attributes
 * when complete: `complete` = 0 creates, 1 finishes). */
static int forecast_file(hid_t f, const ModelSpec *s, const Scale *sc, size_t N, int K,
                         int complete, Error *e)
{
    if (!complete) {
        size_t dims[3] = {N, (size_t)K, (size_t)s->out};
        return h5io_create_f32(f, "forecast", 3, dims, e);
    }
    int rc = h5io_write_attr_i64(f, "/", "steps", K);
    rc |= h5io_write_attr_i64(f, "/", "out", s->out);
    rc |= h5io_write_attr_str(f, "/", "units", sc->has_target ? "original" : "stored");
    rc |= h5io_write_attr_str(f, "/", "rnn_dist_output", "forecast");
    return rc;
}

/* What forecast_rows needs besides the rows. */
typedef struct ForecastCtx {
    ForecastBuf w;
    float *fc;     /* [batch, K, O] */
    float *last;   /* [K, O] */
    Model *m;
    const Scale *sc;
    hid_t f;       /* -1: no file */
    int K;
    size_t N;
    Error *e;
} ForecastCtx;

/* Forecast a batch of rows [first, first + n) (EvaluateRowsFn). */
static int forecast_rows(void *ctx, const BatchBuf *bb, const size_t *rows, size_t first,
                         size_t n)
{
    (void)rows;
    ForecastCtx *c = ctx;
    const size_t KO = (size_t)c->K * (size_t)c->m->spec.out;
    forecast_batch(c->fc, &c->w, c->m, c->sc, &bb->b, c->K);
    if (first + n == c->N) memcpy(c->last, c->fc + (n - 1) * KO, sizeof(float) * KO);
    return c->f >= 0 ? h5io_write_f32_slab(c->f, "forecast", c->fc, first, n, c->e) : 0;
}

int forecast_run(float *last, Model *m, Dataset *ds, const Scale *sc, int batch, int steps,
                 const char *out_path, Error *e)
{
    const size_t N = ds->n, K = (size_t)steps;
    Error werr = {0, ""};
    ForecastCtx c = {{xalloc_floats(((size_t)ds->T + K) * (size_t)batch * (size_t)ds->F),
                      xcalloc((size_t)batch, sizeof(int32_t))},
                     xalloc_floats((size_t)batch * K * (size_t)m->spec.out),
                     last, m, sc, -1, steps, N, &werr};
    int rc = 0, stop = 0;
    if (out_path && h5io_create(&c.f, out_path, e)) rc = e->code ? e->code : EXIT_FAIL;
    else if (out_path) rc = forecast_file(c.f, &m->spec, sc, N, steps, 0, &werr);
    size_t a = 0;
    if (!rc) rc = evaluate_all_rows(ds, batch, forecast_rows, &c, &stop, &a);
    free(c.fc);
    free(c.w.x);
    free(c.w.len);
    if (out_path && c.f < 0) return rc;
    if (out_path && !rc && !stop) rc = forecast_file(c.f, &m->spec, sc, N, steps, 1, &werr);
    if (out_path && H5Fclose(c.f) < 0) rc = 1;
    if (stop)
        return error_set(e, EXIT_SIGNAL, "stopped by %s after %zu of %zu rows: no forecast "
                         "written", signals_name(stop), a, N);
    if (rc) return error_set(e, EXIT_FAIL, "%s: cannot write the forecast", out_path);
    return 0;
}
