/* evaluate.c - loss/metrics over a dataset and predictions (see evaluate.h). */
#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "checkpoint.h"
#include "epochplan.h"
#include "h5io.h"
#include "signals.h"

EvalResult evaluate_result(const ModelSpec *spec, const LossSums *s)
{
    EvalResult r = {NAN, NAN, NAN, NAN, s->count, NAN, NAN, NAN, NAN, NAN};
    if (s->count <= 0) return r;
    r.loss = s->loss / s->weight; /* the weighted mean with class weights */
    if (spec->loss == LOSS_CE) {
        r.acc = s->correct / s->count;
    } else {
        r.rmse = sqrt(r.loss);
        r.mae = s->abs_err / s->count;
    }
    if (spec->loss == LOSS_CE && spec->input == INPUT_TOKENS && spec->target == TARGET_STEP) {
        r.bpc = r.loss / log(2.0);
        r.perplexity = exp(r.loss);
    }
    return r;
}

EvalResult evaluate_result_scored(const ModelSpec *spec, const LossSums *s, const Scores *sc)
{
    EvalResult r = evaluate_result(spec, s);
    if (s->count <= 0) return r;
    if (spec->loss == LOSS_CE) {
        r.f1_macro = scores_f1_macro(sc);
    } else if (sc->tg_std) {
        r.rmse_norm = r.rmse;
        r.mae_norm = r.mae;
        r.rmse = scores_rmse(sc, s->count);
        r.mae = scores_mae(sc, s->count);
    }
    return r;
}

/* Add to *sums the loss statistics of every step of a pass of p over ds,
 * without dropout. */
static void evaluate_pass(LossSums *sums, Scores *sc, Model *m, Dataset *ds, EpochPlan *p,
                          BatchBuf *bb)
{
    for (int64_t k = 0; k < p->steps; k++) {
        PlanBatch b = epochplan_batch(p, ds, k);
        dataset_fill_batch(bb, ds, b.mine, (int)b.count);
        model_forward(m, &bb->b, 0, 0, 0);
        LossSums s = model_loss(m, &bb->b, 0.0f);
        model_sums_add(sums, &s);
        if (sc) scores_add(sc, m->logits, &bb->b);
    }
}

void evaluate_allreduce(LossSums *s, const Dist *d)
{
    double v[5] = {s->loss, s->count, s->correct, s->abs_err, s->weight};
    dist_allreduce_sum_f64(d, v, 5);
    LossSums all = {v[0], v[1], v[2], v[3], v[4]};
    *s = all;
}

LossSums evaluate_shared(Model *m, Dataset *ds, int batch, BatchBuf *bb, const Dist *d)
{
    return evaluate_scored(NULL, m, ds, batch, bb, d);
}

LossSums evaluate_scored(Scores *sc, Model *m, Dataset *ds, int batch, BatchBuf *bb,
                         const Dist *d)
{
    EpochPlan p;
    epochplan_init(&p, PLAN_SPLIT_ROWS, ds->n, batch, d->rank, d->size, dataset_row_bytes(ds));
    LossSums s = {0, 0, 0, 0, 0};
    evaluate_pass(&s, sc, m, ds, &p, bb);
    epochplan_free(&p);
    evaluate_allreduce(&s, d);
    if (sc) dist_allreduce_sum_f64(d, sc->sum, sc->n_sum);
    return s;
}

int evaluate_open_shared(Dataset *ds, const Dist *d, const H5Input *in, const char *group,
                         size_t row0, size_t n, int need_targets, Error *e)
{
    size_t lo, hi;
    epochplan_share(&lo, &hi, n, d->rank, d->size);
    int rc = dataset_open_streamed_in(ds, in, group, row0, n, need_targets, lo, hi, e);
    /* the schema (key 0) before the lowest bad row */
    uint64_t key = ds->bad_row < 0 ? 0 : (uint64_t)ds->bad_row + 1;
    int mine = rc;
    if (!agree_first(d, rc, key, e)) return 0;
    if (!mine) dataset_close(ds);
    return e->code ? e->code : EXIT_USAGE;
}

int evaluate_check_data(const ModelSpec *s, const Dataset *ds, int need_targets, Error *e)
{
    const char *f = ds->file, *g = ds->group;
    if (s->input != ds->input)
        return error_set(e, EXIT_USAGE, "%s:%s has %s inputs but the model takes %s", f, g,
                         types_enum_name(&INPUT_KIND_NAMES, ds->input),
                         types_enum_name(&INPUT_KIND_NAMES, s->input));
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
    if (!rc && s->loss == LOSS_CE) {
        rc = h5io_create_i32(f, "predictions", step ? 2 : 1, dims, e);
        if (!rc) rc = h5io_create_f32(f, "probabilities", rank, dims, e);
    } else if (!rc)
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
    float *prob;     /* [B, per_row, O] softmax of out (classes) */
    float *val;      /* [B, per_row, O] out in the original units (values with
                      * target statistics), else NULL: predictions = out */
    int32_t *y_cls;  /* [B, per_row] targets as stored (class targets) */
    float *y_val;    /* [B, per_row, O] value targets (original units with statistics) */
} PredictRows;

/* p [O] = softmax of o [O], in double. */
static void softmax_row(float *p, const float *o, int O)
{
    float mx = o[0];
    for (int c = 1; c < O; c++) mx = o[c] > mx ? o[c] : mx;
    double se = 0.0;
    for (int c = 0; c < O; c++) se += exp((double)o[c] - mx);
    for (int c = 0; c < O; c++) p[c] = (float)(exp((double)o[c] - mx) / se);
}

/* The outputs of the last forward pass over a batch of B rows into pr: raw,
 * argmax and probabilities (classes), NaN / -1 at padded steps. */
static void predict_fill(PredictRows *pr, const Model *m, const Batch *b, size_t per_row)
{
    const int step = m->spec.target == TARGET_STEP, B = b->B, O = m->spec.out;
    for (size_t i = 0; i < (size_t)B * per_row * (size_t)O; i++) pr->out[i] = NAN;
    if (pr->prob)
        for (size_t i = 0; i < (size_t)B * per_row * (size_t)O; i++) pr->prob[i] = NAN;
    if (pr->cls)
        for (size_t i = 0; i < (size_t)B * per_row; i++) pr->cls[i] = -1;
    for (int r = 0; r < m->rows; r++) {
        int t = step ? r / B : 0, i = step ? r % B : r;
        if (step && t >= b->lengths[i]) continue;
        size_t dst = (size_t)i * per_row + (size_t)t;
        const float *o = m->logits + (size_t)r * O;
        memcpy(pr->out + dst * O, o, sizeof(float) * O);
        if (pr->cls) {
            int arg = 0;
            for (int c = 1; c < O; c++)
                if (o[c] > o[arg]) arg = c;
            pr->cls[dst] = arg;
            softmax_row(pr->prob + dst * O, o, O);
        }
    }
}

/* What predict_batch needs besides the rows. */
typedef struct PredictCtx {
    PredictRows pr;
    hid_t f;
    Model *m;
    Dataset *ds;
    const Scale *sc;
    Error *e;
} PredictCtx;

/* Predictions of rows [a, a + B) of ds (in bb) into the file's datasets;
 * values in the original units with the statistics (EvaluateRowsFn). */
static int predict_batch(void *ctx, const BatchBuf *bb, const size_t *rows, size_t a, size_t n)
{
    PredictCtx *c = ctx;
    PredictRows *pr = &c->pr;
    Model *m = c->m;
    Dataset *ds = c->ds;
    const Scale *sc = c->sc;
    const hid_t f = c->f;
    Error *e = c->e;
    const int B = (int)n;
    const size_t per_row = m->spec.target == TARGET_STEP ? (size_t)ds->T : 1;
    model_forward(m, &bb->b, 0, 0, 0);
    predict_fill(pr, m, &bb->b, per_row);
    if (pr->val) {
        memcpy(pr->val, pr->out, sizeof(float) * (size_t)B * per_row * (size_t)m->spec.out);
        scale_targets(sc, pr->val, (size_t)B * per_row);
    }
    int rc = h5io_write_f32_slab(f, "outputs", pr->out, a, (size_t)B, e);
    if (!rc && pr->cls) {
        rc = h5io_write_i32_slab(f, "predictions", pr->cls, a, (size_t)B, e);
        if (!rc) rc = h5io_write_f32_slab(f, "probabilities", pr->prob, a, (size_t)B, e);
    } else if (!rc) {
        rc = h5io_write_f32_slab(f, "predictions", pr->val ? pr->val : pr->out, a, (size_t)B, e);
    }
    if (!rc) rc = h5io_write_i32_slab(f, "lengths", ds->lengths + a, a, (size_t)B, e);
    if (!rc && ds->has_targets) {
        dataset_copy_targets(pr->y_cls, pr->y_val, ds, rows, B);
        if (pr->y_val) scale_targets(sc, pr->y_val, (size_t)B * per_row);
        rc = pr->y_cls ? h5io_write_i32_slab(f, "targets", pr->y_cls, a, (size_t)B, e)
                       : h5io_write_f32_slab(f, "targets", pr->y_val, a, (size_t)B, e);
    }
    return rc;
}

/* The buffers of a batch of `cap` output rows (B x per_row) for predict. */
static void predict_rows_alloc(PredictRows *pr, const ModelSpec *s, const Dataset *ds,
                               const Scale *sc, size_t cap)
{
    const size_t O = (size_t)s->out;
    memset(pr, 0, sizeof *pr);
    pr->out = xalloc_floats(cap * O);
    if (s->loss == LOSS_CE) {
        pr->cls = xcalloc(cap, sizeof(int32_t));
        pr->prob = xalloc_floats(cap * O);
    } else if (sc->has_target) {
        pr->val = xalloc_floats(cap * O);
    }
    if (ds->has_targets && ds->kind == LOSS_CE)
        pr->y_cls = xcalloc(cap, sizeof(int32_t));
    else if (ds->has_targets)
        pr->y_val = xalloc_floats(cap * O);
}

static void predict_rows_free(PredictRows *pr)
{
    free(pr->out);
    free(pr->cls);
    free(pr->prob);
    free(pr->val);
    free(pr->y_cls);
    free(pr->y_val);
}

/* The root attributes of a complete predictions file. */
static int predict_attrs(hid_t f, const ModelSpec *s, const Scale *sc)
{
    int rc = h5io_write_attr_str(f, "/", "loss", types_enum_name(&LOSS_KIND_NAMES, s->loss));
    rc |= h5io_write_attr_str(f, "/", "target", types_enum_name(&TARGET_MODE_NAMES, s->target));
    rc |= h5io_write_attr_i64(f, "/", "out", (int64_t)s->out);
    if (s->loss == LOSS_MSE)
        rc |= h5io_write_attr_str(f, "/", "units", sc->has_target ? "original" : "stored");
    rc |= h5io_write_attr_str(f, "/", "rnn_dist_output", "predictions");
    return rc;
}

int evaluate_all_rows(Dataset *ds, int batch, EvaluateRowsFn fn, void *ctx, int *stop,
                      size_t *done)
{
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    EpochPlan p; /* this rank computes every row */
    epochplan_init(&p, PLAN_SPLIT_ROWS, ds->n, batch, 0, 1, dataset_row_bytes(ds));
    size_t a = 0;
    int rc = 0;
    *stop = 0;
    for (int64_t k = 0; !rc && k < p.steps; k++) {
        if ((*stop = signals_pending()) != 0) break;
        PlanBatch b = epochplan_batch(&p, ds, k);
        dataset_fill_batch(&bb, ds, b.mine, (int)b.count);
        rc = fn(ctx, &bb, b.mine, a, b.count);
        if (!rc) a += b.count;
    }
    epochplan_free(&p);
    batchbuf_free(&bb);
    *done = a;
    return rc;
}

int evaluate_predict(Model *m, Dataset *ds, const Scale *sc, int batch, const char *out_path,
                     Error *e)
{
    const ModelSpec *s = &m->spec;
    const size_t N = ds->n;
    const size_t per_row = s->target == TARGET_STEP ? (size_t)ds->T : 1;
    Error werr = {0, ""};
    PredictCtx c = {.m = m, .ds = ds, .sc = sc, .e = &werr};
    if (h5io_create(&c.f, out_path, e)) return e->code ? e->code : EXIT_FAIL;
    int rc = create_outputs(c.f, s, ds, &werr), stop = 0;
    predict_rows_alloc(&c.pr, s, ds, sc, (size_t)batch * per_row);
    size_t a = 0;
    if (!rc) rc = evaluate_all_rows(ds, batch, predict_batch, &c, &stop, &a);
    predict_rows_free(&c.pr);
    if (!rc && !stop) rc = predict_attrs(c.f, s, sc);
    if (H5Fclose(c.f) < 0) rc = 1;
    if (stop)
        return error_set(e, EXIT_SIGNAL, "stopped by %s after %zu of %zu rows: no predictions "
                         "written", signals_name(stop), a, N);
    if (rc) rc = error_set(e, EXIT_FAIL, "%s: cannot write predictions", out_path);
    return rc;
}
