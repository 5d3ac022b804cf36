/* evaluate.c - loss/metrics over a dataset and predictions (see evaluate.h). */
#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "h5io.h"
#include "signals.h"

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

/* The rows a read window holds: DATASET_WINDOW_BYTES of rows in whole
 * batches, at least one batch. */
static size_t window_rows(const Dataset *ds, int batch)
{
    size_t rb = dataset_row_bytes(ds) ? dataset_row_bytes(ds) : 1;
    size_t batches = DATASET_WINDOW_BYTES / (rb * (size_t)batch);
    return (batches ? batches : 1) * (size_t)batch;
}

/* Read ahead: make ds hold view rows [a, min(a + window, r1)) (one read per
 * member); returns the end of what it holds. */
static size_t load_window(Dataset *ds, size_t a, size_t r1, size_t window)
{
    size_t end = r1 - a < window ? r1 : a + window;
    if (!ds->streamed) return r1;
    size_t *rows = xcalloc(end - a, sizeof(size_t));
    for (size_t i = a; i < end; i++) rows[i - a] = i;
    dataset_load(ds, rows, end - a);
    free(rows);
    return end;
}

void evaluate_rows(LossSums *sums, Model *m, Dataset *ds, size_t r0, size_t r1,
                   int batch, BatchBuf *bb)
{
    size_t *rows = xcalloc((size_t)batch, sizeof(size_t)), held = r0;
    const size_t window = window_rows(ds, batch);
    for (size_t a = r0; a < r1; a += (size_t)batch) {
        int count = (int)(r1 - a < (size_t)batch ? r1 - a : (size_t)batch);
        if (a >= held) held = load_window(ds, a, r1, window);
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

int evaluate_open_shared(Dataset *ds, const Dist *d, const H5Input *in, const char *group,
                         size_t row0, size_t n, int need_targets, Error *e)
{
    size_t lo = n * (size_t)d->rank / (size_t)d->size;
    size_t hi = n * (size_t)(d->rank + 1) / (size_t)d->size;
    int rc = dataset_open_streamed_in(ds, in, group, row0, n, need_targets, lo, hi, e);
    uint64_t key = !rc ? UINT64_MAX : ds->bad_row < 0 ? 0 : (uint64_t)ds->bad_row + 1;
    uint64_t *all = xcalloc((size_t)d->size, sizeof(uint64_t));
    dist_allgather_u64(d, all, key);
    int owner = 0;
    for (int r = 1; r < d->size; r++)
        if (all[r] < all[owner]) owner = r;
    uint64_t verdict = all[owner];
    free(all);
    if (verdict == UINT64_MAX) return 0;
    if (!rc) dataset_close(ds);
    dist_bcast(d, e, sizeof *e, owner);
    return e->code ? e->code : EXIT_USAGE;
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

/* The output datasets of predict at their full shape [N, ...], unwritten. */
static int create_outputs(hid_t f, const ModelSpec *s, const Dataset *ds, Error *e)
{
    const int step = s->target == TARGET_STEP, rank = step ? 3 : 2;
    size_t dims[3] = {ds->n, step ? (size_t)ds->T : (size_t)s->out, (size_t)s->out};
    int rc = h5io_create_f32(f, "outputs", rank, dims, e);
    if (!rc && s->loss == LOSS_CE)
        rc = h5io_create_i32(f, "predictions", step ? 2 : 1, dims, e);
    else if (!rc)
        rc = h5io_create_f32(f, "predictions", rank, dims, e);
    if (!rc) rc = h5io_create_i32(f, "lengths", 1, dims, e);
    if (!rc && ds->has_targets && ds->kind == LOSS_CE)
        rc = h5io_create_i32(f, "targets", step ? 2 : 1, dims, e);
    else if (!rc && ds->has_targets)
        rc = h5io_create_f32(f, "targets", rank, dims, e);
    return rc;
}

/* Buffers of one batch of predictions, row-major as in the file. */
typedef struct PredictRows {
    float *out;      /* [B, per_row, O] fc outputs, NaN at padded steps */
    int32_t *cls;    /* [B, per_row] argmax, -1 at padded steps (classes) */
    int32_t *y_cls;  /* [B, per_row] targets as stored (class targets) */
    float *y_val;    /* [B, per_row, O] targets as stored (value targets) */
} PredictRows;

/* Predictions of rows [a, a + B) of ds (held by the cache) into pr, and into
 * the file's datasets. */
static int predict_batch(PredictRows *pr, hid_t f, Model *m, Dataset *ds, BatchBuf *bb,
                         const size_t *rows, size_t a, int B, Error *e)
{
    const ModelSpec *s = &m->spec;
    const int step = s->target == TARGET_STEP;
    const size_t per_row = step ? (size_t)ds->T : 1, O = (size_t)s->out;
    dataset_fill_batch(bb, ds, rows, B);
    model_forward(m, &bb->b, 0, 0, 0);
    for (size_t i = 0; i < (size_t)B * per_row * O; i++) pr->out[i] = NAN;
    if (pr->cls)
        for (size_t i = 0; i < (size_t)B * per_row; i++) pr->cls[i] = -1;
    for (int r = 0; r < m->rows; r++) {
        int t = step ? r / B : 0, i = step ? r % B : r;
        if (step && t >= bb->b.lengths[i]) continue;
        size_t dst = (size_t)i * per_row + (size_t)t;
        const float *o = m->logits + (size_t)r * O;
        memcpy(pr->out + dst * O, o, sizeof(float) * O);
        if (pr->cls) {
            int arg = 0;
            for (int c = 1; c < (int)O; c++)
                if (o[c] > o[arg]) arg = c;
            pr->cls[dst] = arg;
        }
    }
    int rc = h5io_write_f32_slab(f, "outputs", pr->out, a, (size_t)B, e);
    if (!rc && pr->cls)
        rc = h5io_write_i32_slab(f, "predictions", pr->cls, a, (size_t)B, e);
    else if (!rc)
        rc = h5io_write_f32_slab(f, "predictions", pr->out, a, (size_t)B, e);
    if (!rc) rc = h5io_write_i32_slab(f, "lengths", ds->lengths + a, a, (size_t)B, e);
    if (!rc && ds->has_targets) {
        dataset_copy_targets(pr->y_cls, pr->y_val, ds, rows, B);
        rc = pr->y_cls ? h5io_write_i32_slab(f, "targets", pr->y_cls, a, (size_t)B, e)
                       : h5io_write_f32_slab(f, "targets", pr->y_val, a, (size_t)B, e);
    }
    return rc;
}

int evaluate_predict(Model *m, Dataset *ds, int batch, const char *out_path, Error *e)
{
    const ModelSpec *s = &m->spec;
    const size_t N = ds->n, O = (size_t)s->out;
    const size_t per_row = s->target == TARGET_STEP ? (size_t)ds->T : 1;
    const size_t cap = (size_t)batch * per_row;
    hid_t f;
    if (h5io_create(&f, out_path, e)) return e->code ? e->code : EXIT_FAIL;
    Error werr = {0, ""};
    int rc = create_outputs(f, s, ds, &werr);
    PredictRows pr = {xalloc_floats(cap * O), NULL, NULL, NULL};
    if (s->loss == LOSS_CE) pr.cls = xcalloc(cap, sizeof(int32_t));
    if (ds->has_targets && ds->kind == LOSS_CE)
        pr.y_cls = xcalloc(cap, sizeof(int32_t));
    else if (ds->has_targets)
        pr.y_val = xalloc_floats(cap * O);
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    size_t *rows = xcalloc((size_t)batch, sizeof(size_t)), held = 0;
    const size_t window = window_rows(ds, batch);
    size_t a = 0;
    int stop = 0;
    for (; !rc && a < N; a += (size_t)batch) {
        if ((stop = signals_pending()) != 0) break;
        int B = (int)(N - a < (size_t)batch ? N - a : (size_t)batch);
        if (a >= held) held = load_window(ds, a, N, window);
        for (int i = 0; i < B; i++) rows[i] = a + (size_t)i;
        rc = predict_batch(&pr, f, m, ds, &bb, rows, a, B, &werr);
    }
    free(rows);
    batchbuf_free(&bb);
    free(pr.out);
    free(pr.cls);
    free(pr.y_cls);
    free(pr.y_val);
    if (!rc && !stop) {
        rc |= h5io_write_attr_str(f, "/", "loss", checkpoint_loss_name(s->loss));
        rc |= h5io_write_attr_str(f, "/", "target", checkpoint_target_name(s->target));
        rc |= h5io_write_attr_i64(f, "/", "out", (int64_t)O);
        rc |= h5io_write_attr_str(f, "/", "rnn_dist_output", "predictions");
    }
    if (H5Fclose(f) < 0) rc = 1;
    if (stop)
        return error_set(e, EXIT_SIGNAL, "stopped by %s after %zu of %zu rows: no predictions "
                         "written", signals_name(stop), a, N);
    if (rc) rc = error_set(e, EXIT_FAIL, "%s: cannot write predictions", out_path);
    return rc;
}
