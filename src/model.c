/* model.c - parameter layout, forward, loss and backward (see model.h). */
#include "model.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hash.h"
#include "rng.h"
#include "vecmath.h"

struct ModelWork {
    LayerBuf x0;                       /* [T, B, E] embedded tokens */
    LayerBuf h[MODEL_MAX_LAYERS];      /* [T, B, D*H] layer outputs */
    LayerWork layer[MODEL_MAX_LAYERS]; /* what each layer keeps for backward */
    LayerBuf xin[MODEL_MAX_LAYERS];    /* [T, B, D*H] dropped-out input of layer k > 0 */
    LayerBuf mask[MODEL_MAX_LAYERS];   /* [T, B, D*H] dropout mask applied to h[k] */
    LayerBuf z, zmask;                 /* [rows, D*H] fc input after dropout, its mask */
    LayerBuf logits, dlogits;          /* [rows, O] */
    LayerBuf fcpack;                   /* fc_w packed for the head's row products (gemm.h) */
    LayerBuf fcpanels, fcwork;         /* fc_w's gradient: MODEL_FC_ROWS rows of dlogits in
                                        * panels, gemm_tn_panels' work space */
    LayerBuf da, db;                   /* [T, B, max(D*H, E)] backward ping-pong */
    LayerScratch scratch;          /* layer backward scratch */
    const float *in[MODEL_MAX_LAYERS]; /* input of each layer in the last forward */
    const float *state0[MODEL_MAX_LAYERS]; /* its initial state, NULL: zeros */
    const float *zin;              /* fc input in the last forward */
    int use_mask[MODEL_MAX_LAYERS];
    int use_zmask;
    int T, B;
};

CellDims model_layer_dims(const ModelSpec *s, int k, GemmIsa isa, GemmBf16 bf16)
{
    CellDims d = {s->cell, s->act,        model_layer_input(s, k), s->hidden,
                  isa,     bf16,          k > 0 ? bf16 : GEMM_BF16_OFF,
                  {NULL, NULL}};
    return d;
}

int model_dirs(const ModelSpec *s)
{
    return s->bidirectional ? 2 : 1;
}

int model_layer_output(const ModelSpec *s)
{
    return model_dirs(s) * s->hidden;
}

int model_layer_input(const ModelSpec *s, int k)
{
    if (k > 0) return model_layer_output(s);
    return s->input == INPUT_TOKENS ? s->embed : s->features;
}

static void table_add(ParamTable *t, const char *name, int rows, int cols)
{
    CHECK(t->count < MODEL_MAX_PARAMS);
    ParamInfo *p = &t->p[t->count++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->offset = t->total;
    p->rows = rows;
    p->cols = cols;
    /* keep every view 16-float (64-byte) aligned for vector loads */
    t->total += ((size_t)rows * (cols ? cols : 1) + 15) / 16 * 16;
}

size_t model_param_count(const ParamTable *t)
{
    size_t n = 0;
    for (int i = 0; i < t->count; i++)
        n += (size_t)t->p[i].rows * (size_t)(t->p[i].cols ? t->p[i].cols : 1);
    return n;
}

void model_param_table(ParamTable *t, const ModelSpec *s)
{
    CHECK(s->layers >= 1 && s->layers <= MODEL_MAX_LAYERS);
    memset(t, 0, sizeof *t);
    int G = cell_gates(s->cell), H = s->hidden;
    char name[2 * MODEL_NAME_LEN]; /* room for any int k; names fit MODEL_NAME_LEN */
    if (s->input == INPUT_TOKENS) table_add(t, "embedding.weight", s->vocab, s->embed);
    for (int k = 0; k < s->layers; k++)
        for (int dir = 0; dir < model_dirs(s); dir++) {
            const char *suffix = dir ? "_reverse" : "";
            snprintf(name, sizeof name, "rnn.weight_ih_l%d%s", k, suffix);
            table_add(t, name, G * H, model_layer_input(s, k));
            snprintf(name, sizeof name, "rnn.weight_hh_l%d%s", k, suffix);
            table_add(t, name, G * H, H);
            snprintf(name, sizeof name, "rnn.bias_ih_l%d%s", k, suffix);
            table_add(t, name, G * H, 0);
            snprintf(name, sizeof name, "rnn.bias_hh_l%d%s", k, suffix);
            table_add(t, name, G * H, 0);
        }
    table_add(t, "fc.weight", s->out, model_layer_output(s));
    table_add(t, "fc.bias", s->out, 0);
}

void model_views(ModelViews *v, float *buf, const ModelSpec *s)
{
    ParamTable t;
    model_param_table(&t, s);
    memset(v, 0, sizeof *v);
    int i = 0;
    if (s->input == INPUT_TOKENS) v->embedding = buf + t.p[i++].offset;
    for (int k = 0; k < s->layers; k++)
        for (int dir = 0; dir < model_dirs(s); dir++) {
            LayerParams *l = &v->layer[k][dir];
            l->w_ih = buf + t.p[i++].offset;
            l->w_hh = buf + t.p[i++].offset;
            l->b_ih = buf + t.p[i++].offset;
            l->b_hh = buf + t.p[i++].offset;
        }
    v->fc_w = buf + t.p[i++].offset;
    v->fc_b = buf + t.p[i++].offset;
}

void model_create(Model *m, const ModelSpec *spec)
{
    memset(m, 0, sizeof *m);
    m->spec = *spec;
    model_param_table(&m->table, spec);
    /* parameters and gradients: one allocation, two halves */
    m->params = xalloc_floats(2 * m->table.total);
    m->grads = m->params + m->table.total;
    model_views(&m->p, m->params, spec);
    model_views(&m->g, m->grads, spec);
    m->work = xcalloc(1, sizeof *m->work);
    m->isa = gemm_isa();
    m->bf16 = GEMM_BF16_OFF;
}

void model_free(Model *m)
{
    if (!m->work) return;
    ModelWork *w = m->work;
    layer_buf_free(&w->x0);
    for (int k = 0; k < MODEL_MAX_LAYERS; k++) {
        layer_buf_free(&w->h[k]);
        layer_work_free(&w->layer[k]);
        layer_buf_free(&w->xin[k]);
        layer_buf_free(&w->mask[k]);
    }
    layer_buf_free(&w->z);
    layer_buf_free(&w->zmask);
    layer_buf_free(&w->logits);
    layer_buf_free(&w->dlogits);
    layer_buf_free(&w->fcpack);
    layer_buf_free(&w->fcpanels);
    layer_buf_free(&w->fcwork);
    layer_buf_free(&w->da);
    layer_buf_free(&w->db);
    layer_scratch_free(&w->scratch);
    free(w);
    free(m->params);
    memset(m, 0, sizeof *m);
}

void model_init_params(Model *m, uint64_t seed)
{
    const ParamTable *t = &m->table;
    const float cell_bound = 1.0f / sqrtf((float)m->spec.hidden);
    const float fc_bound = 1.0f / sqrtf((float)model_layer_output(&m->spec));
    for (int i = 0; i < t->count; i++) {
        const ParamInfo *p = &t->p[i];
        float *v = m->params + p->offset;
        size_t n = (size_t)p->rows * (p->cols ? p->cols : 1);
        int normal = strcmp(p->name, "embedding.weight") == 0;
        float bound = strncmp(p->name, "fc.", 3) == 0 ? fc_bound : cell_bound;
        for (size_t e = 0; e < n; e += 4) {
            float u[4];
            rng_uniform4(u, seed, RNG_INIT, (uint32_t)i, (uint32_t)(e >> 2),
                         (uint32_t)(e >> 34), 0);
            for (size_t j = e; j < e + 4 && j < n; j++) {
                if (normal)
                    v[j] = (float)rng_normal(seed, RNG_INIT, (uint32_t)i, (uint32_t)j,
                                             (uint32_t)(j >> 32) | 0x80000000u);
                else
                    v[j] = (2.0f * u[j - e] - 1.0f) * bound;
            }
        }
    }
}

void model_zero_grads(Model *m)
{
    memset(m->grads, 0, sizeof(float) * m->table.total);
}

#define DROP_TIME_LAST 0xFFFFFu

void model_dropout_mask(float *mask, float p, uint64_t seed, uint64_t step,
                        const uint32_t *sample, uint32_t site, int T, int B, int H)
{
    float keep = 1.0f / (1.0f - p);
    int steps = T > 0 ? T : 1;
    for (int t = 0; t < steps; t++) {
        uint32_t tkey = T > 0 ? (uint32_t)t : DROP_TIME_LAST;
        for (int b = 0; b < B; b++) {
            float *row = mask + ((size_t)t * B + b) * H;
            for (int j = 0; j < H; j += 4) {
                float u[4];
                rng_uniform4(u, seed, RNG_DROPOUT, (uint32_t)step, sample[b],
                             (site << 20) | (tkey & 0xFFFFFu), (uint32_t)j >> 2);
                for (int q = 0; q < 4 && j + q < H; q++) row[j + q] = u[q] < p ? 0.0f : keep;
            }
        }
    }
}

static void mul_inplace(float *x, const float *m, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] *= m[i];
}

/* Layer 0's input [T, B, In]: the batch's features, or its tokens'
 * embeddings gathered into w->x0. */
static const float *forward_input(Model *m, const Batch *b)
{
    const ModelSpec *s = &m->spec;
    if (s->input != INPUT_TOKENS) return b->x;
    const int E = s->embed;
    const size_t TB = (size_t)b->T * b->B;
    float *x0 = layer_buf_grow(&m->work->x0, TB * E);
    for (size_t r = 0; r < TB; r++)
        memcpy(x0 + r * E, m->p.embedding + (size_t)b->tokens[r] * E, sizeof(float) * E);
    return x0;
}

/* The recurrent layers over input in, from state0 (model_forward_state;
 * NULL: zeros), each layer's output [T, B, D*H] in w->h[k]; between layers
 * in training, dropout into w->xin[k + 1]. */
static void forward_layers(Model *m, const Batch *b, const float *in, const float *state0,
                           int train, uint64_t seed, uint64_t step)
{
    const ModelSpec *s = &m->spec;
    ModelWork *w = m->work;
    const int T = b->T, B = b->B, W = model_layer_output(s);
    const size_t TB = (size_t)T * B;
    for (int k = 0; k < s->layers; k++) {
        CellDims d = model_layer_dims(s, k, m->isa, m->bf16);
        float *h = layer_buf_grow(&w->h[k], TB * W);
        w->in[k] = in;
        w->state0[k] = state0 ? state0 + (size_t)k * cell_state_floats(&d, B) : NULL;
        layer_forward(h, &w->layer[k], in, w->state0[k], m->p.layer[k], b->lengths, &d,
                      model_dirs(s), T, B);
        w->use_mask[k] = train && s->dropout > 0.0f && k + 1 < s->layers;
        if (w->use_mask[k]) {
            float *mask = layer_buf_grow(&w->mask[k], TB * W);
            float *xin = layer_buf_grow(&w->xin[k + 1], TB * W);
            model_dropout_mask(mask, s->dropout, seed, step, b->sample, (uint32_t)k, T, B, W);
            for (size_t i = 0; i < TB * W; i++) xin[i] = h[i] * mask[i];
            in = xin;
        } else {
            in = h;
        }
    }
}

/* The offset in a layer output [T, B, D*H] of the part of direction dir
 * that the last-step head reads for row i: the forward state at the last
 * valid step, the reverse state at step 0 (the final state of each, as
 * h_n of a packed sequence). */
static size_t last_state_at(const ModelSpec *s, const Batch *b, int i, int dir)
{
    size_t t = dir ? 0 : (size_t)(b->lengths[i] - 1);
    return (t * b->B + i) * model_layer_output(s) + (size_t)dir * s->hidden;
}

/* The head's input [rows, D*H] from the top layer: every step, or each
 * sequence's final states into w->z; in training, output dropout into w->z. */
static const float *forward_head_input(Model *m, const Batch *b, int rows, int train,
                                       uint64_t seed, uint64_t step)
{
    const ModelSpec *s = &m->spec;
    ModelWork *w = m->work;
    const int T = b->T, B = b->B, H = s->hidden, Z = model_layer_output(s);
    const float *top = w->h[s->layers - 1].p;
    const float *z = top;
    if (s->target == TARGET_LAST) {
        float *zb = layer_buf_grow(&w->z, (size_t)B * Z);
        for (int i = 0; i < B; i++)
            for (int dir = 0; dir < model_dirs(s); dir++)
                memcpy(zb + (size_t)i * Z + (size_t)dir * H, top + last_state_at(s, b, i, dir),
                       sizeof(float) * H);
        z = zb;
    }
    w->use_zmask = train && s->out_dropout > 0.0f;
    if (w->use_zmask) {
        float *zm = layer_buf_grow(&w->zmask, (size_t)rows * Z);
        float *zd = layer_buf_grow(&w->z, (size_t)rows * Z); /* in place when z is already w->z */
        model_dropout_mask(zm, s->out_dropout, seed, step, b->sample, MODEL_DROP_HEAD,
                     s->target == TARGET_STEP ? T : 0, B, Z);
        for (size_t i = 0; i < (size_t)rows * Z; i++) zd[i] = z[i] * zm[i];
        z = zd;
    }
    return z;
}

void model_forward(Model *m, const Batch *b, int train, uint64_t seed, uint64_t step)
{
    model_forward_state(m, b, NULL, train, seed, step);
}

size_t model_state_floats(const ModelSpec *s, int B)
{
    /* sizes do not depend on the kernel */
    CellDims d = model_layer_dims(s, 0, GEMM_BLAS, GEMM_BF16_OFF);
    return (size_t)s->layers * cell_state_floats(&d, B);
}

void model_state_final(float *state, const Model *m)
{
    const ModelSpec *s = &m->spec;
    const ModelWork *w = m->work;
    CHECK(model_dirs(s) == 1);
    for (int k = 0; k < s->layers; k++) {
        CellDims d = model_layer_dims(s, k, m->isa, m->bf16);
        cell_state_final(state + (size_t)k * cell_state_floats(&d, w->B), w->h[k].p,
                         w->layer[k].cache[0].p, &d, w->T, w->B);
    }
}

/* The head's row products: c[rows, N] (+)= a[rows, K] B, B = b [K, N]
 * (trans 0) or b^T, b [N, K] (trans 1). On the packed kernels (m->isa) a
 * row's result does not depend on the other rows of the call, so a batch
 * split across ranks or eval's batch size gives the same bits; OpenBLAS
 * does not promise it (0.3.21 on a CPU it does not know takes kernels
 * whose rows do differ), and runs only when m->isa is GEMM_BLAS. */
static void head_rows(float *c, Model *m, const float *a, const float *b, int trans, int rows,
                      int N, int K, int add)
{
    if (m->isa == GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, trans ? CblasTrans : CblasNoTrans, rows, N, K,
                    1.0f, a, K, b, trans ? K : N, add ? 1.0f : 0.0f, c, N);
        return;
    }
    float *bp = layer_buf_grow(&m->work->fcpack, gemm_packed_floats(K, N));
    gemm_pack(bp, b, trans ? K : N, trans, K, N);
    gemm_packed(c, N, a, K, bp, rows, N, K, add, m->isa);
}

void model_forward_state(Model *m, const Batch *b, const float *state0, int train, uint64_t seed,
                         uint64_t step)
{
    const ModelSpec *s = &m->spec;
    ModelWork *w = m->work;
    const int Z = model_layer_output(s), O = s->out;
    CHECK(b->T > 0 && b->B > 0);
    w->T = b->T;
    w->B = b->B;
    CHECK(!state0 || model_dirs(s) == 1);
    forward_layers(m, b, forward_input(m, b), state0, train, seed, step);
    int rows = s->target == TARGET_STEP ? (int)((size_t)b->T * b->B) : b->B;
    const float *z = forward_head_input(m, b, rows, train, seed, step);
    w->zin = z;
    float *logits = layer_buf_grow(&w->logits, (size_t)rows * O);
    for (int r = 0; r < rows; r++) memcpy(logits + (size_t)r * O, m->p.fc_b, sizeof(float) * O);
    head_rows(logits, m, z, m->p.fc_w, 1, rows, O, Z, 1);
    m->logits = logits;
    m->rows = rows;
}

/* Is output row r a valid target? */
static int row_valid(const ModelSpec *s, const Batch *b, int r)
{
    if (s->target == TARGET_LAST) return 1;
    int t = r / b->B, i = r % b->B;
    return t < b->lengths[i];
}

LossSums model_loss(Model *m, const Batch *b, float dlogits_scale)
{
    const ModelSpec *s = &m->spec;
    ModelWork *w = m->work;
    const int O = s->out, rows = m->rows;
    LossSums sum = {0, 0, 0, 0, 0};
    /* d holds the logit gradients, and for CE first exp(logit - max) */
    float *d = layer_buf_grow(&w->dlogits, (size_t)rows * O);
    if (s->loss == LOSS_CE) {
        for (int r = 0; r < rows; r++) {
            const float *o = m->logits + (size_t)r * O;
            float *dr = d + (size_t)r * O, mx = o[0];
            for (int c = 1; c < O; c++) mx = o[c] > mx ? o[c] : mx;
            for (int c = 0; c < O; c++) dr[c] = o[c] - mx;
        }
        vec_exp(d, (size_t)rows * O);
    }
    for (int r = 0; r < rows; r++) {
        float *dr = d + (size_t)r * O;
        if (!row_valid(s, b, r)) {
            memset(dr, 0, sizeof(float) * O);
            continue;
        }
        const float *o = m->logits + (size_t)r * O;
        if (s->loss == LOSS_CE) {
            int y = b->y_class[r], arg = 0;
            double se = 0.0;
            for (int c = 0; c < O; c++) {
                se += dr[c];
                if (o[c] > o[arg]) arg = c;
            }
            /* without class weights wy = 1 and every product below is exact */
            const float wy = m->class_weight ? m->class_weight[y] : 1.0f;
            const float scale = dlogits_scale * wy;
            sum.loss += (double)wy * (log(se) - ((double)o[y] - o[arg]));
            sum.count += 1.0;
            sum.weight += wy;
            sum.correct += arg == y;
            float inv = (float)(1.0 / se) * scale;
            for (int c = 0; c < O; c++) dr[c] *= inv;
            dr[y] -= scale;
        } else {
            const float *y = b->y_value + (size_t)r * O;
            for (int c = 0; c < O; c++) {
                double e = (double)o[c] - y[c];
                sum.loss += e * e;
                sum.abs_err += fabs(e);
                dr[c] = (float)(2.0 * e) * dlogits_scale;
            }
            sum.count += O;
            sum.weight += O;
        }
    }
    return sum;
}

static void add_colsum(float *acc, const float *rows, int n, int width)
{
    for (int r = 0; r < n; r++)
        for (int j = 0; j < width; j++) acc[j] += rows[(size_t)r * width + j];
}

void model_grad_buckets(GradBuckets *gb, const Model *m)
{
    const int L = m->spec.layers;
    size_t fc = (size_t)(m->g.fc_w - m->grads);
    gb->count = 0;
    gb->lo[gb->count] = fc;
    gb->hi[gb->count++] = m->table.total;
    for (int k = L - 1; k >= 0; k--) {
        gb->lo[gb->count] = k > 0 ? (size_t)(m->g.layer[k][0].w_ih - m->grads) : 0;
        gb->hi[gb->count] = gb->lo[gb->count - 1];
        gb->count++;
    }
}

void model_backward(Model *m, const Batch *b)
{
    model_backward_hooked(m, b, NULL, NULL, NULL);
}

/* fc's gradients: fc_w += dl^T zin, fc_b += dl's column sums (dl [rows, O],
 * zin [rows, Z]). On the packed kernels (gemm_tn_panels, MODEL_FC_ROWS rows
 * at a time: the panels of a vocabulary-wide dl stay small), so no product
 * of a step runs on OpenBLAS, whose kernels on a CPU it does not know are its
 * slowest (SSE3); on OpenBLAS when m->isa is GEMM_BLAS. */
static void head_weight_grads(Model *m, const float *dl, int rows)
{
    ModelWork *w = m->work;
    const int Z = model_layer_output(&m->spec), O = m->spec.out;
    if (m->isa == GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, Z, rows, 1.0f, dl, O, w->zin, Z,
                    1.0f, m->g.fc_w, Z);
        add_colsum(m->g.fc_b, dl, rows, O);
        return;
    }
    const int R = rows < MODEL_FC_ROWS ? rows : MODEL_FC_ROWS;
    float *ap = layer_buf_grow(&w->fcpanels, gemm_panels_floats(O, R));
    float *work = layer_buf_grow(&w->fcwork, gemm_tn_floats(O, R, Z));
    for (int r0 = 0; r0 < rows; r0 += R) {
        const int n = rows - r0 < R ? rows - r0 : R;
        gemm_panels_put(ap, m->g.fc_b, dl + (size_t)r0 * O, O, O, n, 0, n);
        GemmTnPart part = {m->g.fc_w, Z, w->zin + (size_t)r0 * Z, Z, Z, 0, NULL};
        gemm_tn_panels(work, ap, O, n, &part, 1, m->isa);
    }
}

/* The head's backward pass: fc's gradients, then d loss / d (top layer's
 * output) [T, B, D*H] into da (db: scratch of the same size). */
static void backward_head(float *da, float *db, Model *m, const Batch *b)
{
    const ModelSpec *s = &m->spec;
    ModelWork *w = m->work;
    const int B = w->B, H = s->hidden, Z = model_layer_output(s), O = s->out, rows = m->rows;
    const float *dl = w->dlogits.p;
    head_weight_grads(m, dl, rows);
    float *dz = s->target == TARGET_STEP ? da : db;
    head_rows(dz, m, dl, m->p.fc_w, 0, rows, Z, O, 0);
    if (w->use_zmask) mul_inplace(dz, w->zmask.p, (size_t)rows * Z);
    if (s->target == TARGET_LAST) {
        memset(da, 0, sizeof(float) * (size_t)w->T * B * Z);
        for (int i = 0; i < B; i++)
            for (int dir = 0; dir < model_dirs(s); dir++)
                memcpy(da + last_state_at(s, b, i, dir), dz + (size_t)i * Z + (size_t)dir * H,
                       sizeof(float) * H);
    }
}

void model_backward_hooked(Model *m, const Batch *b, GradReady ready, void (*poke)(void *ctx),
                           void *ctx)
{
    const ModelSpec *s = &m->spec;
    ModelWork *w = m->work;
    const int T = w->T, B = w->B, W = model_layer_output(s);
    const size_t TB = (size_t)T * B;
    CHECK(T == b->T && B == b->B);
    int wide = W > s->embed ? W : s->embed;
    float *da = layer_buf_grow(&w->da, TB * wide);
    float *db = layer_buf_grow(&w->db, TB * wide);
    backward_head(da, db, m, b);
    if (ready) ready(ctx, 0);
    /* layers, top down; da holds d loss / d h of the current layer */
    for (int k = s->layers - 1; k >= 0; k--) {
        CellDims d = model_layer_dims(s, k, m->isa, m->bf16);
        d.poke = (CellPoke){poke, ctx};
        int want_dx = k > 0 || s->input == INPUT_TOKENS;
        layer_backward(want_dx ? db : NULL, m->g.layer[k], da, &w->scratch, w->in[k],
                       w->state0[k], w->h[k].p, &w->layer[k], m->p.layer[k], b->lengths, &d,
                       model_dirs(s), T, B);
        if (ready && k > 0) ready(ctx, s->layers - k);
        if (poke) poke(ctx);
        if (k > 0) {
            if (w->use_mask[k - 1]) mul_inplace(db, w->mask[k - 1].p, TB * W);
            float *tmp = da;
            da = db;
            db = tmp;
        } else if (s->input == INPUT_TOKENS) {
            const int E = s->embed;
            for (size_t r = 0; r < TB; r++) {
                float *ge = m->g.embedding + (size_t)b->tokens[r] * E;
                const float *src = db + r * E;
                for (int j = 0; j < E; j++) ge[j] += src[j];
            }
        }
    }
    if (ready) ready(ctx, s->layers);
}

void model_sums_add(LossSums *acc, const LossSums *s)
{
    acc->loss += s->loss;
    acc->count += s->count;
    acc->correct += s->correct;
    acc->abs_err += s->abs_err;
    acc->weight += s->weight;
}

uint64_t model_param_checksum(const Model *m)
{
    return hash_fnv1a(HASH_FNV_BASIS, m->params, m->table.total * sizeof(float));
}

double model_batch_count(const ModelSpec *s, const Batch *b)
{
    double n = 0;
    if (s->target == TARGET_LAST)
        n = b->B;
    else
        for (int i = 0; i < b->B; i++) n += b->lengths[i];
    return s->loss == LOSS_MSE ? n * s->out : n;
}

double model_batch_weight(const ModelSpec *s, const float *w, const Batch *b)
{
    if (!w || s->loss != LOSS_CE) return model_batch_count(s, b);
    double sum = 0;
    const int rows = s->target == TARGET_LAST ? b->B : b->T * b->B;
    for (int r = 0; r < rows; r++)
        if (row_valid(s, b, r)) sum += w[b->y_class[r]];
    return sum;
}

double model_train_flops(const ModelSpec *s, int T, int B)
{
    double TB = (double)T * B, H = s->hidden, GH = cell_gates(s->cell) * H;
    double f = 0;
    for (int k = 0; k < s->layers; k++) {
        double In = model_layer_input(s, k);
        int dx = k > 0 || s->input == INPUT_TOKENS;
        f += 2 * TB * GH * In * (2 + dx);             /* x W_ih^T, dW_ih, dx */
        f += 2 * (T - 1) * (double)B * GH * H * 3;    /* h W_hh^T, dW_hh, dh */
    }
    f *= model_dirs(s);
    double rows = s->target == TARGET_STEP ? TB : B;
    f += 2 * rows * s->out * model_layer_output(s) * 3; /* fc, dfc, dz */
    return f;
}
