/* evaluate.c - loss/metrics over a dataset and predictions (see evaluate.h). */
#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "h5io.h"

EvalResult evaluate_result(const ModelSpec *spec, const LossSums *s)
{
    EvalResult r = {NAN, NAN, NAN, NAN, s->count};
    if (s->count <= 0) return r;
    r.loss = s->loss / s->count;
    if (spec->loss == LOSS_CE) {
        r.acc = s->correct / s->count;
    } else {
        r.rmse = sqrt(r.loss);
        r.mae = s->abs_err / s->count;
    }
    return r;
}

void evaluate_rows(LossSums *sums, Model *m, Dataset *ds, size_t r0, size_t r1,
                   int batch, BatchBuf *bb)
{
    size_t *rows = xcalloc((size_t)batch, sizeof(size_t));
    for (size_t a = r0; a < r1; a += (size_t)batch) {
        int count = (int)(r1 - a < (size_t)batch ? r1 - a : (size_t)batch);
        for (int i = 0; i < count; i++) rows[i] = a + (size_t)i;
        dataset_fill_batch(bb, ds, rows, count);
        model_forward(m, &bb->b, 0, 0, 0);
        LossSums s = model_loss(m, &bb->b, 0.0f);
        model_sums_add(sums, &s);
    }
    free(rows);
}

void evaluate_allreduce(LossSums *s, const Dist *d)
{
    double v[4] = {s->loss, s->count, s->correct, s->abs_err};
    dist_allreduce_sum_f64(d, v, 4);
    LossSums all = {v[0], v[1], v[2], v[3]};
    *s = all;
}

LossSums evaluate_shared(Model *m, Dataset *ds, int batch, BatchBuf *bb, const Dist *d)
{
    size_t r0 = ds->n * (size_t)d->rank / (size_t)d->size;
    size_t r1 = ds->n * (size_t)(d->rank + 1) / (size_t)d->size;
    LossSums s = {0, 0, 0, 0};
    evaluate_rows(&s, m, ds, r0, r1, batch, bb);
    evaluate_allreduce(&s, d);
    return s;
}

int evaluate_check_data(const ModelSpec *s, const Dataset *ds, int need_targets, Error *e)
{
    const char *f = ds->file, *g = ds->group;
    if (s->input != ds->input)
        return error_set(e, EXIT_USAGE, "%s:%s has %s inputs but the model takes %s", f, g,
                         checkpoint_input_name(ds->input), checkpoint_input_name(s->input));
    if (s->input == INPUT_DENSE && s->features != ds->F)
        return error_set(e, EXIT_USAGE, "%s:%s has %d features per step but the model takes %d",
                         f, g, ds->F, s->features);
    if (s->input == INPUT_TOKENS && ds->vocab > s->vocab)
        return error_set(e, EXIT_USAGE, "%s:%s has vocab_size %d but the model knows %d tokens",
                         f, g, ds->vocab, s->vocab);
    if (!ds->has_targets) {
        if (need_targets) return error_set(e, EXIT_USAGE, "%s:%s has no targets", f, g);
        return 0;
    }
    if (s->loss != ds->kind)
        return error_set(e, EXIT_USAGE, "%s:%s has %s targets but the model predicts %s", f, g,
                         ds->kind == LOSS_CE ? "class" : "value",
                         s->loss == LOSS_CE ? "classes" : "values");
    if (s->target != ds->target)
        return error_set(e, EXIT_USAGE,
                         "%s:%s has per-%s targets but the model predicts at %s", f, g,
                         ds->target == TARGET_STEP ? "step" : "sequence",
                         s->target == TARGET_STEP ? "every step" : "the last step");
    if (s->out != ds->O)
        return error_set(e, EXIT_USAGE, "%s:%s has %d %s per target but the model has %d", f, g,
                         ds->O, ds->kind == LOSS_CE ? "classes" : "values", s->out);
    return 0;
}

int evaluate_predict(Model *m, Dataset *ds, int batch, const char *out_path, Error *e)
{
    const ModelSpec *s = &m->spec;
    const size_t N = ds->n, T = (size_t)ds->T, O = (size_t)s->out;
    const int step = s->target == TARGET_STEP;
    const size_t per_row = step ? T : 1;
    float *out = xalloc_floats(N * per_row * O);
    float *vals = s->loss == LOSS_MSE ? out : NULL;
    int32_t *cls = s->loss == LOSS_CE ? xcalloc(N * per_row, sizeof(int32_t)) : NULL;
    for (size_t i = 0; i < N * per_row * O; i++) out[i] = NAN;
    if (cls)
        for (size_t i = 0; i < N * per_row; i++) cls[i] = -1;
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    size_t *rows = xcalloc((size_t)batch, sizeof(size_t));
    for (size_t a = 0; a < N; a += (size_t)batch) {
        int B = (int)(N - a < (size_t)batch ? N - a : (size_t)batch);
        for (int i = 0; i < B; i++) rows[i] = a + (size_t)i;
        dataset_fill_batch(&bb, ds, rows, B);
        model_forward(m, &bb.b, 0, 0, 0);
        for (int r = 0; r < m->rows; r++) {
            int t = step ? r / B : 0, i = step ? r % B : r;
            if (step && t >= bb.b.lengths[i]) continue;
            size_t dst = (a + (size_t)i) * per_row + (size_t)t;
            const float *o = m->logits + (size_t)r * O;
            memcpy(out + dst * O, o, sizeof(float) * O);
            if (cls) {
                int arg = 0;
                for (int c = 1; c < (int)O; c++)
                    if (o[c] > o[arg]) arg = c;
                cls[dst] = arg;
            }
        }
    }
    free(rows);
    batchbuf_free(&bb);
    hid_t f;
    int rc = h5io_create(&f, out_path, e);
    if (!rc) {
        size_t dims[3] = {N, step ? T : O, O};
        int rank = step ? 3 : 2;
        rc |= h5io_write_f32(f, "outputs", out, rank, dims, e);
        if (cls)
            rc |= h5io_write_i32(f, "predictions", cls, step ? 2 : 1, dims, e);
        else
            rc |= h5io_write_f32(f, "predictions", vals, rank, dims, e);
        rc |= h5io_write_i32(f, "lengths", ds->lengths, 1, dims, e);
        if (ds->has_targets && ds->kind == LOSS_CE)
            rc |= h5io_write_i32(f, "targets", ds->y_class, step ? 2 : 1, dims, e);
        else if (ds->has_targets)
            rc |= h5io_write_f32(f, "targets", ds->y_value, rank, dims, e);
        rc |= h5io_write_attr_str(f, "/", "loss", checkpoint_loss_name(s->loss));
        rc |= h5io_write_attr_str(f, "/", "target", checkpoint_target_name(s->target));
        rc |= h5io_write_attr_i64(f, "/", "out", (int64_t)O);
        rc |= h5io_write_attr_str(f, "/", "rnn_dist_output", "predictions");
        if (H5Fclose(f) < 0) rc = 1;
        if (rc) rc = error_set(e, EXIT_FAIL, "%s: cannot write predictions", out_path);
    }
    free(out);
    free(cls);
    return rc;
}
