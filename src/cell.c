/* cell.c - RNN / LSTM / GRU forward and backward through time (see cell.h). */
#include "cell.h"

#include <limits.h>
#include <string.h>

#include "cellgemm.h"
#include "check.h"
#include "gemm.h"
#include "vecmath.h"

int cell_gates(CellKind kind)
{
    return kind == CELL_LSTM ? 4 : kind == CELL_GRU ? 3 : 1;
}

const char *cell_name(CellKind kind)
{
    return types_enum_name(&CELL_KIND_NAMES, kind);
}

/* A pass's packing space is used by one product at a time: forward W_ih^T
 * (K = In, N = G*H), then W_hh^T (K = H, N = G*H); backward W_hh (K = G*H,
 * N = H) and W_ih (K = G*H, N = In) side by side on the packed kernels (each
 * step's dx), then gemm_tn_panels' work for the weight gradients (off them:
 * W_hh, the weight gradients, then W_ih). */
size_t cell_pack_floats(const CellDims *d, int T, int B, int backward)
{
    if (d->bf16 != GEMM_BF16_OFF) {
        size_t n = cellgemm_bf16_floats(d, backward);
        size_t in32 = gemm_packed_floats(d->in, cell_gates(d->kind) * d->hidden);
        /* an fp32 input projection (bf16_in OFF) packs W_ih^T in fp32 */
        return !backward && d->bf16_in == GEMM_BF16_OFF && in32 > n ? in32 : n;
    }
    int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in;
    size_t ih = backward ? gemm_packed_floats(GH, In) : gemm_packed_floats(In, GH);
    size_t hh = backward ? gemm_packed_floats(GH, H) : gemm_packed_floats(H, GH);
    size_t tb = (size_t)T * (size_t)B; /* gemm_tn_panels packs at most a chunk of it */
    /* gemm_tn_panels' B: x and h side by side, each in whole panels */
    int xh = (int)(gemm_packed_floats(1, In) + gemm_packed_floats(1, H));
    size_t tn = backward ? gemm_tn_floats(GH, tb < INT_MAX ? (int)tb : INT_MAX, xh) : 0;
    size_t most = ih > hh ? ih : hh, both = backward ? cellgemm_back_floats(d) : 0;
    most = most > both ? most : both;
    return most > tn ? most : tn;
}

size_t cell_state_floats(const CellDims *d, int B)
{
    return (d->kind == CELL_LSTM ? 2 : 1) * (size_t)B * (size_t)d->hidden;
}

/* The cache's copy of the initial state: state0, or zeros when NULL.
 *   slot out [cell_state_floats] */
static void keep_state0(float *slot, const float *state0, const CellDims *d, int B)
{
    size_t n = cell_state_floats(d, B);
    if (state0)
        memcpy(slot, state0, sizeof(float) * n);
    else
        memset(slot, 0, sizeof(float) * n);
}

/* ---- Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) ---------- */

/* The RNN's cache: h holds the rest, so the initial state and the packing
 * space only. */
typedef struct RnnCache {
    float *h0;     /* [B, H] the initial state (zeros without one) */
    float *pack;   /* [cell_pack_floats(d, T, B, 0)] forward packing space */
    size_t floats; /* the whole cache: cell_cache_floats */
} RnnCache;

/* The RNN's scratch (the pre-activation gradients live in dh). */
typedef struct RnnScratch {
    float *ones;   /* [cellgemm_ones_floats] for the bias gradients' column sums */
    float *dg;     /* [cellgemm_dg_floats(d, 0, T, B)] the panels (DgViews) */
    float *pack;   /* [cell_pack_floats(d, T, B, 1)] backward packing space */
    size_t floats; /* the whole scratch: cell_scratch_floats */
} RnnScratch;

/* Views of an RNN cache at base (NULL: sizes only). */
static RnnCache rnn_cache(float *base, const CellDims *d, int T, int B)
{
    Carver c = {base, 0};
    RnnCache v;
    v.h0 = cellgemm_carve(&c, (size_t)B * d->hidden);
    v.pack = cellgemm_carve(&c, cell_pack_floats(d, T, B, 0));
    v.floats = c.used;
    return v;
}

/* Views of an RNN scratch at base (NULL: sizes only). */
static RnnScratch rnn_scratch(float *base, const CellDims *d, int T, int B)
{
    Carver c = {base, 0};
    RnnScratch v;
    v.ones = cellgemm_carve(&c, cellgemm_ones_floats(T, B));
    v.dg = cellgemm_carve(&c, cellgemm_dg_floats(d, 0, T, B));
    v.pack = cellgemm_carve(&c, cell_pack_floats(d, T, B, 1));
    v.floats = c.used;
    return v;
}

static void rnn_forward(float *h, float *cache, const float *x, const float *state0,
                        const LayerParams *p, const CellDims *d, int T, int B)
{
    const int H = d->hidden, given = state0 != NULL;
    const size_t BH = (size_t)B * H;
    RnnCache v = rnn_cache(cache, d, T, B);
    const GemmIsa isa = d->isa;
    keep_state0(v.h0, state0, d, B);
    cellgemm_fill_rows(h, p->b_ih, p->b_hh, (size_t)T * B, H);
    cellgemm_input(h, v.pack, x, p->w_ih, T * B, H, d->in, 1, d);
    Recur w = cellgemm_recur_prepare(v.pack, p->w_hh, d, given ? T : T - 1, 0, isa);
    for (int t = 0; t < T; t++) {
        float *ht = h + t * BH;
        if (t > 0 || given) cellgemm_recur(ht, t > 0 ? ht - BH : v.h0, &w, B, H, H, 1);
        if (d->act == NONLIN_RELU)
            vec_relu(ht, BH);
        else
            vec_tanh(ht, BH);
    }
}

/* dt[k] *= act'(h[k]) for one step (tanh: 1 - h^2; relu: h > 0). */
VEC_CLONES static void rnn_step_backward(float *restrict dt, const float *restrict h, size_t n,
                                         int relu)
{
    if (relu)
        for (size_t k = 0; k < n; k++) dt[k] = h[k] > 0.0f ? dt[k] : 0.0f;
    else
        for (size_t k = 0; k < n; k++) dt[k] *= 1.0f - h[k] * h[k];
}

/* backward only reads the cache: its views are cast from const */
static void rnn_backward(float *dx, LayerParams *g, float *dh, float *scratch, const float *x,
                         const float *state0, const float *h, const float *cache,
                         const LayerParams *p, const CellDims *d, int T, int B)
{
    const int H = d->hidden;
    const size_t BH = (size_t)B * H;
    const RnnCache v = rnn_cache((float *)cache, d, T, B);
    RnnScratch s = rnn_scratch(scratch, d, T, B);
    const DgViews dg = cellgemm_dg_views(s.dg, d, 0, T, B);
    BackPass bp = cellgemm_back_prepare(s.pack, &dg, p->w_hh, p->w_ih, d, T, B, dx != NULL);
    for (int t = T - 1; t >= 0; t--) {
        float *dt = dh + t * BH; /* becomes the pre-activation gradient */
        rnn_step_backward(dt, h + t * BH, BH, d->act == NONLIN_RELU);
        cellgemm_back_step(dh, dx, dt, dt, &bp, d, t, T, B);
        cellgemm_poke(d);
    }
    cellgemm_weight_grads(dx, g, s.pack, s.ones, &bp, dh, dh, x, h, state0 ? v.h0 : NULL, p, d, T,
                          B);
}

/* ---- LSTM: gates i, f, g, o; c_t = f c_{t-1} + i g; h_t = o tanh(c_t) ------ */

/* One step: g [B, 4H] pre-activations without bias in, activated out;
 * bias [4H] = b_ih + b_hh; c, tc (= tanh c), h [B, H] out; cp [B, H] the
 * previous cell state (c0 at t = 0). */
VEC_CLONES static void lstm_step_forward(float *restrict g, float *restrict c,
                                         float *restrict tc, float *restrict h,
                                         const float *restrict bias, const float *restrict cp,
                                         int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *gb = g + (size_t)b * 4 * H;
        for (int j = 0; j < 4 * H; j++) gb[j] += bias[j];
        vec_sigmoid(gb, 2 * (size_t)H); /* i, f */
        vec_tanh(gb + 2 * H, H);        /* g */
        vec_sigmoid(gb + 3 * H, H);     /* o */
        const float *gi = gb, *gf = gb + H, *gg = gb + 2 * H;
        float *cb = c + (size_t)b * H, *tb = tc + (size_t)b * H;
        const float *cpb = cp + (size_t)b * H;
        for (int j = 0; j < H; j++) cb[j] = tb[j] = gf[j] * cpb[j] + gi[j] * gg[j];
    }
    vec_tanh(tc, (size_t)B * H);
    for (int b = 0; b < B; b++) {
        const float *go = g + (size_t)b * 4 * H + 3 * H, *tb = tc + (size_t)b * H;
        float *hb = h + (size_t)b * H;
        for (int j = 0; j < H; j++) hb[j] = go[j] * tb[j];
    }
}

/* One step back: dg [B, 4H] pre-activation gradients out; dc [B, H] the
 * cell gradient carried from t+1 in, to t-1 out. */
VEC_CLONES static void lstm_step_backward(float *restrict dg, float *restrict dc,
                                          const float *restrict g, const float *restrict tc,
                                          const float *restrict cp, const float *restrict dh,
                                          int B, int H)
{
    for (int b = 0; b < B; b++) {
        const float *gi = g + (size_t)b * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
        const float *tcb = tc + (size_t)b * H, *cpb = cp + (size_t)b * H;
        const float *dhb = dh + (size_t)b * H;
        float *dcb = dc + (size_t)b * H, *out = dg + (size_t)b * 4 * H;
        for (int j = 0; j < H; j++) {
            float dcv = dcb[j] + dhb[j] * go[j] * (1.0f - tcb[j] * tcb[j]);
            out[j] = dcv * gg[j] * gi[j] * (1.0f - gi[j]);
            out[H + j] = dcv * cpb[j] * gf[j] * (1.0f - gf[j]);
            out[2 * H + j] = dcv * gi[j] * (1.0f - gg[j] * gg[j]);
            out[3 * H + j] = dhb[j] * tcb[j] * go[j] * (1.0f - go[j]);
            dcb[j] = dcv * gf[j];
        }
    }
}

/* The LSTM's cache, kept from forward for backward. */
typedef struct LstmCache {
    float *gates;  /* [T, B, 4H] gates i, f, g, o after activation */
    float *c;      /* [T, B, H] cell state */
    float *tc;     /* [T, B, H] tanh(c) */
    float *state;  /* [2, B, H] the initial h0, c0 (zeros without them) */
    float *bias;   /* [4H] b_ih + b_hh */
    float *pack;   /* [cell_pack_floats(d, T, B, 0)] forward packing space */
    size_t floats; /* the whole cache: cell_cache_floats */
} LstmCache;

/* The LSTM's backward scratch. */
typedef struct LstmScratch {
    float *dg;     /* [cellgemm_dg_floats(d, 1, T, B)] pre-activation gradients (DgViews) */
    float *dc;     /* [B, H] cell gradient carried from t+1 to t */
    float *ones;   /* [cellgemm_ones_floats] for the bias gradients' column sums */
    float *pack;   /* [cell_pack_floats(d, T, B, 1)] backward packing space */
    size_t floats; /* the whole scratch: cell_scratch_floats */
} LstmScratch;

/* Views of an LSTM cache at base (NULL: sizes only). */
static LstmCache lstm_cache(float *base, const CellDims *d, int T, int B)
{
    const size_t TB = (size_t)T * B, H = (size_t)d->hidden;
    Carver c = {base, 0};
    LstmCache v;
    v.gates = cellgemm_carve(&c, TB * 4 * H);
    v.c = cellgemm_carve(&c, TB * H);
    v.tc = cellgemm_carve(&c, TB * H);
    v.state = cellgemm_carve(&c, cell_state_floats(d, B));
    v.bias = cellgemm_carve(&c, 4 * H);
    v.pack = cellgemm_carve(&c, cell_pack_floats(d, T, B, 0));
    v.floats = c.used;
    return v;
}

/* Views of an LSTM scratch at base (NULL: sizes only). */
static LstmScratch lstm_scratch(float *base, const CellDims *d, int T, int B)
{
    const size_t H = (size_t)d->hidden;
    Carver c = {base, 0};
    LstmScratch v;
    v.dg = cellgemm_carve(&c, cellgemm_dg_floats(d, 1, T, B));
    v.dc = cellgemm_carve(&c, (size_t)B * H);
    v.ones = cellgemm_carve(&c, cellgemm_ones_floats(T, B));
    v.pack = cellgemm_carve(&c, cell_pack_floats(d, T, B, 1));
    v.floats = c.used;
    return v;
}

static void lstm_forward(float *h, float *cache, const float *x, const float *state0,
                         const LayerParams *p, const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = 4 * H, given = state0 != NULL;
    const size_t TB = (size_t)T * B, BH = (size_t)B * H;
    LstmCache v = lstm_cache(cache, d, T, B);
    const GemmIsa isa = d->isa;
    keep_state0(v.state, state0, d, B);
    cellgemm_fill_rows(v.bias, p->b_ih, p->b_hh, 1, GH);
    cellgemm_input(v.gates, v.pack, x, p->w_ih, (int)TB, GH, d->in, 0, d);
    Recur w = cellgemm_recur_prepare(v.pack, p->w_hh, d, given ? T : T - 1, 0, isa);
    for (int t = 0; t < T; t++) {
        float *gt = v.gates + (size_t)t * B * GH, *ht = h + t * BH;
        if (t > 0 || given) cellgemm_recur(gt, t > 0 ? ht - BH : v.state, &w, B, GH, H, 1);
        lstm_step_forward(gt, v.c + t * BH, v.tc + t * BH, ht, v.bias,
                          t > 0 ? v.c + (t - 1) * BH : v.state + BH, B, H);
    }
}

/* backward only reads the cache: its views are cast from const */
static void lstm_backward(float *dx, LayerParams *g, float *dh, float *scratch,
                          const float *x, const float *state0, const float *h,
                          const float *cache, const LayerParams *p, const CellDims *d, int T,
                          int B)
{
    const int H = d->hidden, GH = 4 * H;
    const size_t BH = (size_t)B * H;
    const LstmCache v = lstm_cache((float *)cache, d, T, B);
    LstmScratch s = lstm_scratch(scratch, d, T, B);
    const DgViews dg = cellgemm_dg_views(s.dg, d, 1, T, B);
    BackPass bp = cellgemm_back_prepare(s.pack, &dg, p->w_hh, p->w_ih, d, T, B, dx != NULL);
    memset(s.dc, 0, sizeof(float) * BH);
    for (int t = T - 1; t >= 0; t--) {
        float *dgt = dg.dg[0] + (size_t)(t % dg.slots) * dg.step;
        lstm_step_backward(dgt, s.dc, v.gates + (size_t)t * B * GH, v.tc + t * BH,
                           t > 0 ? v.c + (t - 1) * BH : v.state + BH, dh + t * BH, B, H);
        cellgemm_back_step(dh, dx, dgt, dgt, &bp, d, t, T, B);
        cellgemm_poke(d);
    }
    cellgemm_weight_grads(dx, g, s.pack, s.ones, &bp, dg.dg[0], dg.dg[0], x, h,
                          state0 ? v.state : NULL, p, d, T, B);
}

/* ---- GRU: r, z = sigmoid(..), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
 *      h_t = (1 - z) n + z h_{t-1} ---------------------------------------- */

/* One step: g [B, 3H] input projections without bias in, r, z, n out;
 * hp [B, 3H] the recurrent projections without bias; b_ih, b_hh [3H];
 * hn [B, H] out (W_hn h + b_hn); h [B, H] out; hprev [B, H] (h0 at t = 0). */
VEC_CLONES static void gru_step_forward(float *restrict g, float *restrict hn,
                                        float *restrict h, const float *restrict hp,
                                        const float *restrict b_ih, const float *restrict b_hh,
                                        const float *restrict hprev, int B, int H)
{
    for (int b = 0; b < B; b++) {
        float *gb = g + (size_t)b * 3 * H;
        const float *hb = hp + (size_t)b * 3 * H;
        for (int j = 0; j < 2 * H; j++) gb[j] = (gb[j] + b_ih[j]) + (hb[j] + b_hh[j]);
        vec_sigmoid(gb, 2 * (size_t)H); /* r, z */
        float *n = gb + 2 * H, *hnb = hn + (size_t)b * H;
        const float *r = gb;
        for (int j = 0; j < H; j++) {
            hnb[j] = hb[2 * H + j] + b_hh[2 * H + j];
            n[j] = (n[j] + b_ih[2 * H + j]) + r[j] * hnb[j];
        }
        vec_tanh(n, H);
        const float *z = gb + H, *prev = hprev + (size_t)b * H;
        float *o = h + (size_t)b * H;
        for (int j = 0; j < H; j++) o[j] = n[j] + z[j] * (prev[j] - n[j]);
    }
}

/* One step back: dgi, dgh [B, 3H] gradients of the input and recurrent
 * projections out; dhp [B, H] += the direct path to h_{t-1}. */
VEC_CLONES static void gru_step_backward(float *restrict dgi, float *restrict dgh,
                                         float *restrict dhp, const float *restrict g,
                                         const float *restrict hn,
                                         const float *restrict hprev,
                                         const float *restrict dh, int B, int H)
{
    for (int b = 0; b < B; b++) {
        const float *r = g + (size_t)b * 3 * H, *z = r + H, *n = r + 2 * H;
        const float *hnb = hn + (size_t)b * H, *hpv = hprev + (size_t)b * H;
        const float *dhb = dh + (size_t)b * H;
        float *dp = dhp + (size_t)b * H;
        float *oi = dgi + (size_t)b * 3 * H, *oh = dgh + (size_t)b * 3 * H;
        for (int j = 0; j < H; j++) {
            float dpn = dhb[j] * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
            float dpr = dpn * hnb[j] * r[j] * (1.0f - r[j]);
            float dpz = dhb[j] * (hpv[j] - n[j]) * z[j] * (1.0f - z[j]);
            oi[j] = oh[j] = dpr;
            oi[H + j] = oh[H + j] = dpz;
            oi[2 * H + j] = dpn;
            oh[2 * H + j] = dpn * r[j];
            dp[j] += dhb[j] * z[j];
        }
    }
}

/* The GRU's cache, kept from forward for backward. */
typedef struct GruCache {
    float *gates;  /* [T, B, 3H] input projection, then r, z, n */
    float *hn;     /* [T, B, H] W_hn h_{t-1} + b_hn */
    float *hp;     /* [B, 3H] this step's recurrent projection (forward only) */
    float *h0;     /* [B, H] the initial state (zeros without one) */
    float *zeros;  /* [B, 3H] the projection of a zero initial state */
    float *pack;   /* [cell_pack_floats(d, T, B, 0)] forward packing space */
    size_t floats; /* the whole cache: cell_cache_floats */
} GruCache;

/* The GRU's backward scratch. */
typedef struct GruScratch {
    float *dg;     /* [cellgemm_dg_floats(d, 2, T, B)] gradients of the input and
                    * recurrent projections, dgi and dgh (DgViews) */
    float *sink;   /* [B, H] where the t = 0 step sends d h_{-1} */
    float *ones;   /* [cellgemm_ones_floats] for the bias gradients' column sums */
    float *pack;   /* [cell_pack_floats(d, T, B, 1)] backward packing space */
    size_t floats; /* the whole scratch: cell_scratch_floats */
} GruScratch;

/* Views of a GRU cache at base (NULL: sizes only). */
static GruCache gru_cache(float *base, const CellDims *d, int T, int B)
{
    const size_t TB = (size_t)T * B, H = (size_t)d->hidden;
    Carver c = {base, 0};
    GruCache v;
    v.gates = cellgemm_carve(&c, TB * 3 * H);
    v.hn = cellgemm_carve(&c, TB * H);
    v.hp = cellgemm_carve(&c, (size_t)B * 3 * H);
    v.h0 = cellgemm_carve(&c, (size_t)B * H);
    v.zeros = cellgemm_carve(&c, (size_t)B * 3 * H);
    v.pack = cellgemm_carve(&c, cell_pack_floats(d, T, B, 0));
    v.floats = c.used;
    return v;
}

/* Views of a GRU scratch at base (NULL: sizes only). */
static GruScratch gru_scratch(float *base, const CellDims *d, int T, int B)
{
    const size_t H = (size_t)d->hidden;
    Carver c = {base, 0};
    GruScratch v;
    v.dg = cellgemm_carve(&c, cellgemm_dg_floats(d, 2, T, B));
    v.sink = cellgemm_carve(&c, (size_t)B * H);
    v.ones = cellgemm_carve(&c, cellgemm_ones_floats(T, B));
    v.pack = cellgemm_carve(&c, cell_pack_floats(d, T, B, 1));
    v.floats = c.used;
    return v;
}

static void gru_forward(float *h, float *cache, const float *x, const float *state0,
                        const LayerParams *p, const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = 3 * H, given = state0 != NULL;
    const size_t TB = (size_t)T * B, BH = (size_t)B * H;
    GruCache v = gru_cache(cache, d, T, B);
    const GemmIsa isa = d->isa;
    keep_state0(v.h0, state0, d, B);
    if (!given) memset(v.zeros, 0, sizeof(float) * B * GH);
    cellgemm_input(v.gates, v.pack, x, p->w_ih, (int)TB, GH, d->in, 0, d);
    Recur w = cellgemm_recur_prepare(v.pack, p->w_hh, d, given ? T : T - 1, 0, isa);
    for (int t = 0; t < T; t++) {
        float *ht = h + t * BH;
        const float *hprev = t > 0 ? ht - BH : v.h0;
        int recur = t > 0 || given;
        if (recur) cellgemm_recur(v.hp, hprev, &w, B, GH, H, 0);
        gru_step_forward(v.gates + (size_t)t * B * GH, v.hn + t * BH, ht,
                         recur ? v.hp : v.zeros, p->b_ih, p->b_hh, hprev, B, H);
    }
}

/* backward only reads the cache: its views are cast from const */
static void gru_backward(float *dx, LayerParams *g, float *dh, float *scratch,
                         const float *x, const float *state0, const float *h,
                         const float *cache, const LayerParams *p, const CellDims *d, int T,
                         int B)
{
    const int H = d->hidden, GH = 3 * H;
    const size_t BH = (size_t)B * H;
    const GruCache v = gru_cache((float *)cache, d, T, B);
    GruScratch s = gru_scratch(scratch, d, T, B);
    const DgViews dg = cellgemm_dg_views(s.dg, d, 2, T, B);
    BackPass bp = cellgemm_back_prepare(s.pack, &dg, p->w_hh, p->w_ih, d, T, B, dx != NULL);
    for (int t = T - 1; t >= 0; t--) {
        const size_t at = (size_t)(t % dg.slots) * dg.step;
        float *dgi_t = dg.dg[0] + at, *dgh_t = dg.dg[1] + at;
        gru_step_backward(dgi_t, dgh_t, t > 0 ? dh + (t - 1) * BH : s.sink,
                          v.gates + (size_t)t * B * GH, v.hn + t * BH,
                          t > 0 ? h + (t - 1) * BH : v.h0, dh + t * BH, B, H);
        cellgemm_back_step(dh, dx, dgi_t, dgh_t, &bp, d, t, T, B);
        cellgemm_poke(d);
    }
    cellgemm_weight_grads(dx, g, s.pack, s.ones, &bp, dg.dg[0], dg.dg[1], x, h,
                          state0 ? v.h0 : NULL, p, d, T, B);
}

size_t cell_cache_floats(const CellDims *d, int T, int B)
{
    switch (d->kind) {
    case CELL_LSTM: return lstm_cache(NULL, d, T, B).floats;
    case CELL_GRU: return gru_cache(NULL, d, T, B).floats;
    default: return rnn_cache(NULL, d, T, B).floats;
    }
}

size_t cell_scratch_floats(const CellDims *d, int T, int B)
{
    switch (d->kind) {
    case CELL_LSTM: return lstm_scratch(NULL, d, T, B).floats;
    case CELL_GRU: return gru_scratch(NULL, d, T, B).floats;
    default: return rnn_scratch(NULL, d, T, B).floats;
    }
}

void cell_forward(float *h, float *cache, const float *x, const float *state0,
                  const LayerParams *p, const CellDims *d, int T, int B)
{
    CHECK(T > 0 && B > 0);
    switch (d->kind) {
    case CELL_LSTM: lstm_forward(h, cache, x, state0, p, d, T, B); break;
    case CELL_GRU: gru_forward(h, cache, x, state0, p, d, T, B); break;
    default: rnn_forward(h, cache, x, state0, p, d, T, B); break;
    }
}

void cell_backward(float *dx, LayerParams *g, float *dh, float *scratch, const float *x,
                   const float *state0, const float *h, const float *cache,
                   const LayerParams *p, const CellDims *d, int T, int B)
{
    CHECK(T > 0 && B > 0);
    switch (d->kind) {
    case CELL_LSTM: lstm_backward(dx, g, dh, scratch, x, state0, h, cache, p, d, T, B); break;
    case CELL_GRU: gru_backward(dx, g, dh, scratch, x, state0, h, cache, p, d, T, B); break;
    default: rnn_backward(dx, g, dh, scratch, x, state0, h, cache, p, d, T, B); break;
    }
}

void cell_state_final(float *state, const float *h, const float *cache, const CellDims *d,
                      int T, int B)
{
    CHECK(T > 0 && B > 0);
    const size_t BH = (size_t)B * d->hidden;
    memcpy(state, h + (T - 1) * BH, sizeof(float) * BH);
    if (d->kind == CELL_LSTM) {
        const LstmCache v = lstm_cache((float *)cache, d, T, B);
        memcpy(state + BH, v.c + (T - 1) * BH, sizeof(float) * BH);
    }
}
