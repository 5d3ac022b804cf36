/* forecast.c - forecasts by feeding a model its own predictions (see
 * forecast.h). */
#include "forecast.h"

#include <stdlib.h>
#include <string.h>

#include "epochplan.h"
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

int forecast_run(float *last, Model *m, Dataset *ds, const Scale *sc, int batch, int steps,
                 const char *out_path, Error *e)
{
    const size_t N = ds->n, O = (size_t)m->spec.out, K = (size_t)steps;
    hid_t f = -1;
    Error werr = {0, ""};
    if (out_path && h5io_create(&f, out_path, e)) return e->code ? e->code : EXIT_FAIL;
    int rc = out_path ? forecast_file(f, &m->spec, sc, N, steps, 0, &werr) : 0;
    float *fc = xalloc_floats((size_t)batch * K * O);
    ForecastBuf w = {xalloc_floats(((size_t)ds->T + K) * (size_t)batch * (size_t)ds->F),
                     xcalloc((size_t)batch, sizeof(int32_t))};
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    EpochPlan p; /* this rank computes every row */
    epochplan_init(&p, PLAN_SPLIT_ROWS, N, batch, 0, 1, dataset_row_bytes(ds));
    size_t a = 0;
    int stop = 0;
    for (int64_t k = 0; !rc && k < p.steps; k++, a += (size_t)batch) {
        if ((stop = signals_pending()) != 0) break;
        PlanBatch b = epochplan_batch(&p, ds, k);
        dataset_fill_batch(&bb, ds, b.mine, (int)b.count);
        forecast_batch(fc, &w, m, sc, &bb.b, steps);
        if (out_path) rc = h5io_write_f32_slab(f, "forecast", fc, a, b.count, &werr);
        if (a + b.count == N) memcpy(last, fc + (b.count - 1) * K * O, sizeof(float) * K * O);
    }
    epochplan_free(&p);
    batchbuf_free(&bb);
    free(fc);
    free(w.x);
    free(w.len);
    if (out_path && !rc && !stop) rc = forecast_file(f, &m->spec, sc, N, steps, 1, &werr);
    if (out_path && H5Fclose(f) < 0) rc = 1;
    if (stop)
        return error_set(e, EXIT_SIGNAL, "stopped by %s after %zu of %zu rows: no forecast "
                         "written", signals_name(stop), a, N);
    if (rc) return error_set(e, EXIT_FAIL, "%s: cannot write the forecast", out_path);
    return 0;
}
