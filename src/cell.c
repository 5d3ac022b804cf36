/* cell.c - RNN / LSTM / GRU forward and backward through time (see cell.h). */
#include "cell.h"

#include <cblas.h>
#include <string.h>

#include "check.h"
#include "vecmath.h"

int cell_gates(CellKind kind)
{
    return kind == CELL_LSTM ? 4 : kind == CELL_GRU ? 3 : 1;
}

const char *cell_name(CellKind kind)
{
    return kind == CELL_LSTM ? "lstm" : kind == CELL_GRU ? "gru" : "rnn";
}

size_t cell_cache_floats(const CellDims *d, int T, int B)
{
    size_t tb = (size_t)T * B, H = (size_t)d->hidden;
    switch (d->kind) {
    case CELL_LSTM: return tb * 4 * H + 2 * tb * H;           /* gates | c | tanh(c) */
    case CELL_GRU: return tb * 3 * H + tb * H + (size_t)B * 3 * H; /* gates | hn | hp */
    default: return 0;                                          /* h alone suffices */
    }
}

size_t cell_scratch_floats(const CellDims *d, int T, int B)
{
    size_t tb = (size_t)T * B, H = (size_t)d->hidden;
    switch (d->kind) {
    case CELL_LSTM: return tb * 4 * H + (size_t)B * H;  /* dgates | dc */
    case CELL_GRU: return 2 * tb * 3 * H;               /* dgates_ih | dgates_hh */
    default: return 0;                                  /* dpre lives in dh */
    }
}

/* rows[r, :] = a[:] + b[:] (b may be NULL) for r in 0..n. */
static void fill_rows(float *rows, const float *a, const float *b, size_t n, int width)
{
    for (size_t r = 0; r < n; r++) {
        float *o = rows + r * width;
        if (b)
            for (int j = 0; j < width; j++) o[j] = a[j] + b[j];
        else
            memcpy(o, a, sizeof(float) * width);
    }
}

/* acc[:] += sum over r of rows[r, :]. */
static void add_colsum(float *acc, const float *rows, size_t n, int width)
{
    for (size_t r = 0; r < n; r++) {
        const float *v = rows + r * width;
        for (int j = 0; j < width; j++) acc[j] += v[j];
    }
}

/* out[TB, GH] (+)= x[TB, In] w_ih^T. */
static void gemm_input(float *out, const float *x, const float *w_ih, int TB, int GH, int In)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, TB, GH, In, 1.0f, x, In, w_ih, In,
                1.0f, out, GH);
}

/* out[B, GH] += h[B, H] w_hh^T. */
static void gemm_recur(float *out, const float *h, const float *w_hh, int B, int GH, int H)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, GH, H, 1.0f, h, H, w_hh, H, 1.0f,
                out, GH);
}

/* dh[B, H] += dg[B, GH] w_hh. */
static void gemm_recur_back(float *dh, const float *dg, const float *w_hh, int B, int GH, int H)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, GH, 1.0f, dg, GH, w_hh, H,
                1.0f, dh, H);
}

/* The weight gradients and dx from the pre-activation gradients of all steps:
 *   g_ih += dgi^T x,  g_hh += dgh[1:]^T h[:-1],  biases += column sums,
 *   dx = dgi w_ih. */
static void weight_grads(float *dx, LayerParams *g, const float *dgi, const float *dgh,
                         const float *x, const float *h, const LayerParams *p, int T, int B,
                         int GH, int H, int In)
{
    size_t TB = (size_t)T * B;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, In, (int)TB, 1.0f, dgi, GH, x,
                In, 1.0f, g->w_ih, In);
    if (T > 1)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, (T - 1) * B, 1.0f,
                    dgh + (size_t)B * GH, GH, h, H, 1.0f, g->w_hh, H);
    add_colsum(g->b_ih, dgi, TB, GH);
    add_colsum(g->b_hh, dgh, TB, GH);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)TB, In, GH, 1.0f, dgi, GH,
                    p->w_ih, In, 0.0f, dx, In);
}

/* ---- Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) ---------- */

static void rnn_forward(float *h, const float *x, const LayerParams *p, const CellDims *d,
                        int T, int B)
{
    const int H = d->hidden;
    const size_t BH = (size_t)B * H;
    fill_rows(h, p->b_ih, p->b_hh, (size_t)T * B, H);
    gemm_input(h, x, p->w_ih, T * B, H, d->in);
    for (int t = 0; t < T; t++) {
        float *ht = h + t * BH;
        if (t > 0) gemm_recur(ht, ht - BH, p->w_hh, B, H, H);
        if (d->act == NONLIN_RELU)
            vec_relu(ht, BH);
        else
            vec_tanh(ht, BH);
    }
}

static void rnn_backward(float *dx, LayerParams *g, float *dh, const float *x,
                         const float *h, const LayerParams *p, const CellDims *d, int T,
                         int B)
{
    const int H = d->hidden;
    const size_t BH = (size_t)B * H;
    for (int t = T - 1; t >= 0; t--) {
        float *dt = dh + t * BH; /* becomes the pre-activation gradient */
        const float *ht = h + t * BH;
        if (d->act == NONLIN_RELU)
            for (size_t k = 0; k < BH; k++) dt[k] = ht[k] > 0.0f ? dt[k] : 0.0f;
        else
            for (size_t k = 0; k < BH; k++) dt[k] *= 1.0f - ht[k] * ht[k];
        if (t > 0) gemm_recur_back(dt - BH, dt, p->w_hh, B, H, H);
    }
    weight_grads(dx, g, dh, dh, x, h, p, T, B, H, H, d->in);
}

/* ---- LSTM: gates i, f, g, o; c_t = f c_{t-1} + i g; h_t = o tanh(c_t) ------ */

static void lstm_forward(float *h, float *cache, const float *x, const LayerParams *p,
                         const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = 4 * H;
    const size_t TB = (size_t)T * B, BH = (size_t)B * H;
    float *gates = cache;           /* [T, B, 4H] after activation */
    float *c = gates + TB * GH;     /* [T, B, H] */
    float *tc = c + TB * H;         /* [T, B, H] tanh(c) */
    fill_rows(gates, p->b_ih, p->b_hh, TB, GH);
    gemm_input(gates, x, p->w_ih, (int)TB, GH, d->in);
    for (int t = 0; t < T; t++) {
        float *gt = gates + (size_t)t * B * GH;
        float *ct = c + t * BH, *tct = tc + t * BH, *ht = h + t * BH;
        if (t > 0) gemm_recur(gt, ht - BH, p->w_hh, B, GH, H);
        for (int b = 0; b < B; b++) {
            float *gb = gt + (size_t)b * GH;
            vec_sigmoid(gb, 2 * (size_t)H);     /* i, f */
            vec_tanh(gb + 2 * H, H);            /* g */
            vec_sigmoid(gb + 3 * H, H);         /* o */
            const float *gi = gb, *gf = gb + H, *gg = gb + 2 * H;
            float *cb = ct + (size_t)b * H;
            if (t > 0) {
                const float *cp = cb - BH;
                for (int j = 0; j < H; j++) cb[j] = gf[j] * cp[j] + gi[j] * gg[j];
            } else {
                for (int j = 0; j < H; j++) cb[j] = gi[j] * gg[j];
            }
        }
        memcpy(tct, ct, sizeof(float) * BH);
        vec_tanh(tct, BH);
        for (int b = 0; b < B; b++) {
            const float *go = gt + (size_t)b * GH + 3 * H;
            const float *tb = tct + (size_t)b * H;
            float *hb = ht + (size_t)b * H;
            for (int j = 0; j < H; j++) hb[j] = go[j] * tb[j];
        }
    }
}

static void lstm_backward(float *dx, LayerParams *g, float *dh, float *scratch,
                          const float *x, const float *h, const float *cache,
                          const LayerParams *p, const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = 4 * H;
    const size_t TB = (size_t)T * B, BH = (size_t)B * H;
    const float *gates = cache, *c = gates + TB * GH, *tc = c + TB * H;
    float *dg = scratch;            /* [T, B, 4H] pre-activation gradients */
    float *dc = dg + TB * GH;       /* [B, H] carried cell gradient */
    memset(dc, 0, sizeof(float) * BH);
    for (int t = T - 1; t >= 0; t--) {
        for (int b = 0; b < B; b++) {
            size_t row = (size_t)t * B + b;
            const float *ga = gates + row * GH;
            const float *gi = ga, *gf = ga + H, *gg = ga + 2 * H, *go = ga + 3 * H;
            const float *tcb = tc + row * H;
            const float *cprev = t > 0 ? c + (row - B) * H : NULL;
            const float *dhb = dh + row * H;
            float *dcb = dc + (size_t)b * H;
            float *out = dg + row * GH;
            for (int j = 0; j < H; j++) {
                float dcv = dcb[j] + dhb[j] * go[j] * (1.0f - tcb[j] * tcb[j]);
                float cp = cprev ? cprev[j] : 0.0f;
                out[j] = dcv * gg[j] * gi[j] * (1.0f - gi[j]);
                out[H + j] = dcv * cp * gf[j] * (1.0f - gf[j]);
                out[2 * H + j] = dcv * gi[j] * (1.0f - gg[j] * gg[j]);
                out[3 * H + j] = dhb[j] * tcb[j] * go[j] * (1.0f - go[j]);
                dcb[j] = dcv * gf[j];
            }
        }
        if (t > 0)
            gemm_recur_back(dh + (t - 1) * BH, dg + (size_t)t * B * GH, p->w_hh, B, GH, H);
    }
    weight_grads(dx, g, dg, dg, x, h, p, T, B, GH, H, d->in);
}

/* ---- GRU: r, z = sigmoid(..), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
 *      h_t = (1 - z) n + z h_{t-1} ---------------------------------------- */

static void gru_forward(float *h, float *cache, const float *x, const LayerParams *p,
                        const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = 3 * H;
    const size_t TB = (size_t)T * B, BH = (size_t)B * H;
    float *gates = cache;         /* [T, B, 3H]: input projection, then r, z, n */
    float *hn = gates + TB * GH;  /* [T, B, H]: W_hn h_{t-1} + b_hn */
    float *hp = hn + TB * H;      /* [B, 3H]: this step's recurrent projection */
    fill_rows(gates, p->b_ih, NULL, TB, GH);
    gemm_input(gates, x, p->w_ih, (int)TB, GH, d->in);
    for (int t = 0; t < T; t++) {
        float *gt = gates + (size_t)t * B * GH;
        float *ht = h + t * BH, *hnt = hn + t * BH;
        fill_rows(hp, p->b_hh, NULL, (size_t)B, GH);
        if (t > 0) gemm_recur(hp, ht - BH, p->w_hh, B, GH, H);
        for (int b = 0; b < B; b++) {
            float *gb = gt + (size_t)b * GH;
            const float *hb = hp + (size_t)b * GH;
            for (int j = 0; j < 2 * H; j++) gb[j] += hb[j];
            vec_sigmoid(gb, 2 * (size_t)H); /* r, z */
            float *n = gb + 2 * H;
            const float *r = gb;
            for (int j = 0; j < H; j++) {
                hnt[(size_t)b * H + j] = hb[2 * H + j];
                n[j] += r[j] * hb[2 * H + j];
            }
            vec_tanh(n, H);
            const float *z = gb + H;
            float *o = ht + (size_t)b * H;
            if (t > 0) {
                const float *prev = o - BH;
                for (int j = 0; j < H; j++) o[j] = n[j] + z[j] * (prev[j] - n[j]);
            } else {
                for (int j = 0; j < H; j++) o[j] = n[j] - z[j] * n[j];
            }
        }
    }
}

static void gru_backward(float *dx, LayerParams *g, float *dh, float *scratch,
                         const float *x, const float *h, const float *cache,
                         const LayerParams *p, const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = 3 * H;
    const size_t TB = (size_t)T * B, BH = (size_t)B * H;
    const float *gates = cache, *hn = gates + TB * GH;
    float *dgi = scratch;         /* [T, B, 3H] gradients of the input projection */
    float *dgh = dgi + TB * GH;   /* [T, B, 3H] gradients of the recurrent projection */
    for (int t = T - 1; t >= 0; t--) {
        for (int b = 0; b < B; b++) {
            size_t row = (size_t)t * B + b;
            const float *ga = gates + row * GH;
            const float *r = ga, *z = ga + H, *n = ga + 2 * H;
            const float *hnb = hn + row * H;
            const float *hprev = t > 0 ? h + (row - B) * H : NULL;
            float *dhb = dh + row * H;
            float *dhp = t > 0 ? dhb - BH : NULL;
            float *oi = dgi + row * GH, *oh = dgh + row * GH;
            for (int j = 0; j < H; j++) {
                float hpv = hprev ? hprev[j] : 0.0f;
                float dpn = dhb[j] * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
                float dpr = dpn * hnb[j] * r[j] * (1.0f - r[j]);
                float dpz = dhb[j] * (hpv - n[j]) * z[j] * (1.0f - z[j]);
                oi[j] = oh[j] = dpr;
                oi[H + j] = oh[H + j] = dpz;
                oi[2 * H + j] = dpn;
                oh[2 * H + j] = dpn * r[j];
                if (dhp) dhp[j] += dhb[j] * z[j];
            }
        }
        if (t > 0)
            gemm_recur_back(dh + (t - 1) * BH, dgh + (size_t)t * B * GH, p->w_hh, B, GH, H);
    }
    weight_grads(dx, g, dgi, dgh, x, h, p, T, B, GH, H, d->in);
}

void cell_forward(float *h, float *cache, const float *x, const LayerParams *p,
                  const CellDims *d, int T, int B)
{
    CHECK(T > 0 && B > 0);
    switch (d->kind) {
    case CELL_LSTM: lstm_forward(h, cache, x, p, d, T, B); break;
    case CELL_GRU: gru_forward(h, cache, x, p, d, T, B); break;
    default: rnn_forward(h, x, p, d, T, B); break;
    }
}

void cell_backward(float *dx, LayerParams *g, float *dh, float *scratch, const float *x,
                   const float *h, const float *cache, const LayerParams *p,
                   const CellDims *d, int T, int B)
{
    CHECK(T > 0 && B > 0);
    switch (d->kind) {
    case CELL_LSTM: lstm_backward(dx, g, dh, scratch, x, h, cache, p, d, T, B); break;
    case CELL_GRU: gru_backward(dx, g, dh, scratch, x, h, cache, p, d, T, B); break;
    default: rnn_backward(dx, g, dh, x, h, p, d, T, B); break;
    }
}
