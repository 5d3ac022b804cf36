/* cellgemm.c - buffer carving and the GEMMs the cells share (see cellgemm.h). */
#include "cellgemm.h"

#include <cblas.h>
#include <string.h>

#include "gemmbf16.h"

/* ---- precision bf16: the pass's packing space as bf16 ------------------- */

/* A bf16 packing space: the packed matrix, the staging of A's rows, and
 * (backward) a weight gradient's transpose. */
typedef struct Bf16Space {
    uint16_t *b;  /* [bf16_packed_count] */
    uint16_t *a;  /* [bf16_stage_count] */
    float *ct;    /* backward: [max(In, H), G*H] */
    uint16_t *ih; /* backward: W_ih packed for each step's dx [bf16_ih_count] */
} Bf16Space;

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* bf16 elements of the largest packed matrix of a pass (forward W_ih^T or
 * W_hh^T, backward W_hh; the backward's W_ih has its own place, its gate
 * gradients their panels), rounded up to 32: the staging after it starts
 * on 64 bytes. */
static size_t bf16_packed_count(const CellDims *d, int backward)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in;
    size_t n = backward ? gemm_bf16_packed_count(GH, H)
                        : max_size(gemm_bf16_packed_count(In, GH), gemm_bf16_packed_count(H, GH));
    return (n + 31) / 32 * 32;
}

/* bf16 elements of the staging: CELLGEMM_BF16_ROWS rows of the forward's
 * widest A (K = In or H), or a weight gradient's max(In, H) rows of
 * CELLGEMM_BF16_KCHUNK, rounded up to 32. */
static size_t bf16_stage_count(const CellDims *d)
{
    const int H = d->hidden, In = d->in, wide = In > H ? In : H;
    size_t n = max_size((size_t)CELLGEMM_BF16_ROWS * (size_t)gemm_bf16_kp(wide),
                        (size_t)wide * CELLGEMM_BF16_KCHUNK);
    return (n + 31) / 32 * 32;
}

/* Floats of a weight gradient's transpose: [max(In, H), G*H]. */
static size_t bf16_ct_floats(const CellDims *d)
{
    const int H = d->hidden, In = d->in;
    return (size_t)(In > H ? In : H) * (size_t)cell_gates(d->kind) * H;
}

/* bf16 elements of W_ih packed for the backward's dx (K = G*H, N = In). */
static size_t bf16_ih_count(const CellDims *d)
{
    return gemm_bf16_packed_count(cell_gates(d->kind) * d->hidden, d->in);
}

size_t cellgemm_bf16_floats(const CellDims *d, int backward)
{
    return (bf16_packed_count(d, backward) + bf16_stage_count(d)) / 2 +
           (backward ? bf16_ct_floats(d) + (bf16_ih_count(d) + 1) / 2 : 0);
}

static Bf16Space bf16_space(float *buf, const CellDims *d, int backward)
{
    Bf16Space s;
    s.b = (uint16_t *)buf;
    s.a = s.b + bf16_packed_count(d, backward);
    s.ct = backward ? (float *)(s.a + bf16_stage_count(d)) : NULL;
    s.ih = backward ? (uint16_t *)(s.ct + bf16_ct_floats(d)) : NULL;
    return s;
}

/* c[M, N] (+)= a[M, K] B on kernel k, B packed in bp, a's rows rounded to
 * bf16 in the staging CELLGEMM_BF16_ROWS at a time (a row's result does not
 * depend on the others). */
static void bf16_rows(float *c, int ldc, uint16_t *stage, const float *a, int lda,
                      const uint16_t *bp, int M, int N, int K, int add, GemmBf16 k)
{
    for (int m0 = 0; m0 < M; m0 += CELLGEMM_BF16_ROWS) {
        const int mc = M - m0 < CELLGEMM_BF16_ROWS ? M - m0 : CELLGEMM_BF16_ROWS;
        gemm_bf16_round_rows(stage, a + (size_t)m0 * lda, lda, mc, K);
        gemmprec_run(k, c + (size_t)m0 * ldc, ldc, stage, gemm_bf16_kp(K), bp, mc, N, K, add);
    }
}

/* Offset of chunk k0 / CELLGEMM_BF16_KCHUNK in the gate gradients' chunked
 * packing (Dg16's panels): every chunk before it is whole. */
static size_t chunk_at(int k0, int GH)
{
    return (size_t)(k0 / CELLGEMM_BF16_KCHUNK) *
           gemm_bf16_packed_count(CELLGEMM_BF16_KCHUNK, GH);
}

/* bf16 elements of one buffer of Dg16's panels: T*B rows of G*H columns
 * packed chunk by chunk. */
static size_t chunked_count(int TB, int GH)
{
    const int rest = TB % CELLGEMM_BF16_KCHUNK;
    return chunk_at(TB - rest, GH) + (rest ? gemm_bf16_packed_count(rest, GH) : 0);
}

/* Rows r0 .. r0 + n - 1 of the pass's gate gradients (bf16 rows ld apart)
 * into panels (Dg16's): each into its chunk. */
static void put_chunked(uint16_t *panels, const uint16_t *rows, int ld, int TB, int GH, int r0,
                        int n)
{
    while (n > 0) {
        const int k0 = r0 / CELLGEMM_BF16_KCHUNK * CELLGEMM_BF16_KCHUNK;
        const int kc = TB - k0 < CELLGEMM_BF16_KCHUNK ? TB - k0 : CELLGEMM_BF16_KCHUNK;
        const int m = k0 + kc - r0 < n ? k0 + kc - r0 : n;
        gemm_bf16_put_rows(panels + chunk_at(k0, GH), rows, ld, kc, GH, r0 - k0, m);
        rows += (size_t)m * ld;
        r0 += m;
        n -= m;
    }
}

/* b^T rounded into s.a [N, Kp] for rows k0 .. k0 + kc - 1 of the operand
 * b_r = h0[r] (zeros when h0 is NULL) for r < shift, else h[r - shift]:
 * the state each step's gate gradients meet (shift = B), or x (shift 0). */
static void round_chunk(uint16_t *out, const float *h, const float *h0, int N, int shift, int k0,
                        int kc)
{
    const int Kp = gemm_bf16_kp(kc), top = shift - k0 < kc ? shift - k0 : kc;
    if (top > 0) {
        if (h0)
            gemm_bf16_put_cols(out, Kp, h0 + (size_t)k0 * N, N, N, top);
        else
            for (int m = 0; m < N; m++) memset(out + (size_t)m * Kp, 0, sizeof(uint16_t) * top);
    }
    const int from = top > 0 ? top : 0;
    gemm_bf16_put_cols(out + from, Kp, h + (size_t)(k0 + from - shift) * N, N, N, kc - from);
    if (Kp > kc)
        for (int m = 0; m < N; m++) out[(size_t)m * Kp + kc] = 0;
}

/* c[G*H, N] += dG^T b from the gate gradients' chunked packing (panels)
 * as its transpose b^T dG, chunk by chunk: each chunk's b^T rounded into
 * s.a (round_chunk), its product summed into s.ct [N, G*H] (zeroed
 * first), which is then added to c: each element of c gets one fp32
 * addition of its sum over the chunks. */
static void bf16_grad(float *c, Bf16Space s, const uint16_t *panels, const float *h,
                      const float *h0, int N, int shift, int TB, int GH, GemmBf16 k)
{
    memset(s.ct, 0, sizeof(float) * (size_t)N * GH);
    for (int k0 = 0; k0 < TB; k0 += CELLGEMM_BF16_KCHUNK) {
        const int kc = TB - k0 < CELLGEMM_BF16_KCHUNK ? TB - k0 : CELLGEMM_BF16_KCHUNK;
        if (!h0 && k0 + kc <= shift) continue; /* zeros */
        round_chunk(s.a, h, h0, N, shift, k0, kc);
        gemmprec_run(k, s.ct, GH, s.a, gemm_bf16_kp(kc), panels + chunk_at(k0, GH), N, GH, kc, 1);
    }
    gemm_bf16_add_cols(c, N, s.ct, GH, GH, N);
}

/* With precision bf16, from the pass's gate gradients put step by step
 * (bp->g16): g_ih += dgi^T x, g_hh += dgh^T [h0; h[:-1]] (h0 NULL: zeros),
 * b_ih and b_hh += their column sums. */
static void grads_bf16(LayerParams *g, float *buf, const BackPass *bp, const float *x,
                       const float *h, const float *h0, const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, TB = T * B;
    const Dg16 *v = &bp->g16;
    Bf16Space s = bf16_space(buf, d, 1);
    bf16_grad(g->w_ih, s, v->panels[0], x, NULL, d->in, 0, TB, GH, d->bf16);
    cellgemm_poke(d);
    bf16_grad(g->w_hh, s, v->panels[1], h, h0, H, B, TB, GH, d->bf16);
    cellgemm_poke(d);
    for (int j = 0; j < GH; j++) g->b_ih[j] += v->sums[0][j];
    for (int j = 0; j < GH; j++) g->b_hh[j] += v->sums[1][j];
}

/* Step t of a bf16 backward pass (cellgemm_back_step). */
static void back_step_bf16(float *dh, float *dx, const float *dgi_t, const float *dgh_t,
                           const BackPass *bp, const CellDims *d, int t, int T, int B)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, TB = T * B;
    const Dg16 *v = &bp->g16;
    const int two = v->rows[1] != v->rows[0], ld = v->ld;
    const float *src[2] = {dgi_t, dgh_t};
    const size_t slot = (size_t)(t % bp->group) * B * ld;
    for (int i = two ? 0 : 1; i < 2; i++) {
        if (t == T - 1) memset(v->sums[i], 0, sizeof(float) * GH);
        gemm_bf16_round_rows_sum(v->rows[i] + slot, v->sums[i], src[i], GH, B, GH);
        put_chunked(v->panels[i], v->rows[i] + slot, ld, TB, GH, t * B, B);
    }
    if (t > 0)
        gemmprec_run(bp->w.bf16, dh + (size_t)(t - 1) * B * H, H, v->rows[1] + slot, ld,
                     bp->w.packed16, B, H, GH, 1);
    if (bp->ih16 && t % bp->group == 0) /* steps t .. t + n - 1: their rows in order */
        gemmprec_run(d->bf16, dx + (size_t)t * B * d->in, d->in, v->rows[0], ld, bp->ih16,
                     (T - t < bp->group ? T - t : bp->group) * B, d->in, GH, 0);
}

/* ---- the products of a pass ---------------------------------------------- */

float *cellgemm_carve(Carver *c, size_t n)
{
    float *v = c->base ? c->base + c->used : NULL;
    c->used += n;
    return v;
}

Recur cellgemm_recur_prepare(float *buf, const float *w_hh, const CellDims *d, int products,
                             int backward, GemmIsa isa)
{
    Recur r = {w_hh, NULL, isa, GEMM_BF16_OFF, NULL, NULL};
    const int H = d->hidden, GH = cell_gates(d->kind) * H;
    /* backward: B = w_hh [GH, H]; forward: B = w_hh^T [H, GH] */
    const int trans = !backward, K = backward ? GH : H, N = backward ? H : GH;
    if (products >= 1 && d->bf16 != GEMM_BF16_OFF) {
        Bf16Space s = bf16_space(buf, d, backward);
        gemm_bf16_pack(s.b, w_hh, H, trans, K, N);
        r.bf16 = d->bf16;
        r.packed16 = s.b;
        r.a16 = s.a;
        return r;
    }
    if (products < 1 || r.isa == GEMM_BLAS) return r;
    gemm_pack(buf, w_hh, H, trans, K, N);
    r.packed = buf;
    return r;
}

void cellgemm_fill_rows(float *rows, const float *a, const float *b, size_t n, int width)
{
    for (size_t r = 0; r < n; r++) {
        float *o = rows + r * width;
        if (b)
            for (int j = 0; j < width; j++) o[j] = a[j] + b[j];
        else
            memcpy(o, a, sizeof(float) * width);
    }
}

size_t cellgemm_ones_floats(int T, int B)
{
    return (size_t)T * (size_t)B;
}

void cellgemm_add_colsum(float *acc, const float *rows, float *ones, size_t n, int width)
{
    for (size_t r = 0; r < n; r++) ones[r] = 1.0f;
    cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, width, 1.0f, rows, width, ones, 1, 1.0f, acc,
                1);
}

void cellgemm_input(float *out, float *buf, const float *x, const float *w_ih, int TB, int GH,
                    int In, int add, const CellDims *d)
{
    const GemmIsa isa = d->isa;
    if (d->bf16_in != GEMM_BF16_OFF) {
        Bf16Space s = bf16_space(buf, d, 0);
        gemm_bf16_pack(s.b, w_ih, In, 1, In, GH);
        bf16_rows(out, GH, s.a, x, In, s.b, TB, GH, In, add, d->bf16_in);
        return;
    }
    if (isa == GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, TB, GH, In, 1.0f, x, In, w_ih, In,
                    add ? 1.0f : 0.0f, out, GH);
        return;
    }
    gemm_pack(buf, w_ih, In, 1, In, GH);
    gemm_packed(out, GH, x, In, buf, TB, GH, In, add, isa);
}

void cellgemm_recur(float *out, const float *h, const Recur *w, int B, int GH, int H, int add)
{
    if (w->packed16)
        bf16_rows(out, GH, w->a16, h, H, w->packed16, B, GH, H, add, w->bf16);
    else if (!w->packed)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, GH, H, 1.0f, h, H, w->w_hh, H,
                    add ? 1.0f : 0.0f, out, GH);
    else
        gemm_packed(out, GH, h, H, w->packed, B, GH, H, add, w->isa);
}

/* dh += dg w_hh, for one step.
 *   dh in/out [B, H];  dg in [B, GH] */
static void recur_back(float *dh, const float *dg, const Recur *w, int B, int GH, int H)
{
    if (!w->packed)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, GH, 1.0f, dg, GH, w->w_hh,
                    H, 1.0f, dh, H);
    else
        gemm_packed(dh, H, dg, GH, w->packed, B, H, GH, 1, w->isa);
}

void cellgemm_poke(const CellDims *d)
{
    if (d->poke.fn) d->poke.fn(d->poke.ctx);
}

int cellgemm_on_panels(const CellDims *d)
{
    return d->bf16 == GEMM_BF16_OFF && d->isa != GEMM_BLAS;
}

/* The gate gradients of a pass in panels (gemm.h), in groups that meet
 * different inputs: one group of all G*H columns (RNN, LSTM); the GRU's
 * r and z columns (the same in dgi and dgh), dgi's n columns and dgh's n
 * columns. Each group's column sums (the bias gradients) come with it. */
typedef struct GatePanels {
    int groups;    /* 0 off the packed fp32 kernels */
    int cols[3];   /* columns of each group */
    float *ap[3];  /* [gemm_panels_floats(cols, T*B)] */
    float *sum[3]; /* [cols] */
    size_t floats; /* all of them */
} GatePanels;

/* Views of a pass's gate panels at base (NULL: sizes only), sized for the
 * packed fp32 kernels whichever kernel runs (a buffer sized once serves
 * every kernel choice), none with precision bf16. */
static GatePanels gate_panels(float *base, const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, TB = T * B;
    Carver c = {base, 0};
    GatePanels v = {d->kind == CELL_GRU ? 3 : 1, {GH, H, H}, {NULL}, {NULL}, 0};
    if (d->kind == CELL_GRU) v.cols[0] = 2 * H;
    if (d->bf16 != GEMM_BF16_OFF) v.groups = 0;
    for (int i = 0; i < v.groups; i++) {
        v.ap[i] = cellgemm_carve(&c, gemm_panels_floats(v.cols[i], TB));
        v.sum[i] = cellgemm_carve(&c, (size_t)v.cols[i]);
    }
    v.floats = c.used;
    return v;
}

/* Steps whose dx one product takes on the packed kernels: enough for
 * CELLGEMM_DX_ROWS rows (a product of a few rows streams all of W_ih for
 * little work), at most T. */
static int dx_steps(int T, int B)
{
    int n = (CELLGEMM_DX_ROWS + B - 1) / B;
    return n < T ? n : T;
}

/* Floats of a bf16 pass's Dg16 (one buffer each, or two for the GRU): the
 * rows of `slots` steps, the panels of all steps, the sums. */
static size_t dg16_floats(const CellDims *d, int bufs, int T, int B, int slots)
{
    const int GH = cell_gates(d->kind) * d->hidden;
    const size_t n = (size_t)slots * B * gemm_bf16_kp(GH) + chunked_count(T * B, GH);
    return (size_t)(bufs > 1 ? 2 : 1) * ((n + 1) / 2 + (size_t)GH);
}

size_t cellgemm_dg_floats(const CellDims *d, int bufs, int T, int B)
{
    const size_t GH = (size_t)cell_gates(d->kind) * (size_t)d->hidden;
    size_t all = (size_t)bufs * (size_t)T * (size_t)B * GH;
    if (d->bf16 != GEMM_BF16_OFF)
        return (size_t)bufs * dx_steps(T, B) * B * GH + dg16_floats(d, bufs, T, B, dx_steps(T, B));
    size_t some = (size_t)bufs * (size_t)dx_steps(T, B) * (size_t)B * GH +
                  gate_panels(NULL, d, T, B).floats;
    return max_size(all, some);
}

DgViews cellgemm_dg_views(float *region, const CellDims *d, int bufs, int T, int B)
{
    const size_t GH = (size_t)cell_gates(d->kind) * (size_t)d->hidden;
    const int bf16 = d->bf16 != GEMM_BF16_OFF, panels = cellgemm_on_panels(d);
    const int slots = panels || bf16 ? dx_steps(T, B) : T;
    const size_t each = (size_t)slots * (size_t)B * GH;
    DgViews v = {{region, region + (bufs > 1 ? each : 0)}, NULL, (size_t)B * GH, slots,
                 {{NULL, NULL}, gemm_bf16_kp((int)GH), {NULL, NULL}, {NULL, NULL}}};
    if (panels) v.panels = region + (size_t)bufs * each;
    if (!bf16) return v;
    float *at = region + (size_t)bufs * each;
    const size_t n = (size_t)slots * B * v.g16.ld + chunked_count(T * B, (int)GH);
    for (int i = 0; i < (bufs > 1 ? 2 : 1); i++, at += (n + 1) / 2 + GH) {
        v.g16.rows[i] = (uint16_t *)at;
        v.g16.panels[i] = v.g16.rows[i] + (size_t)slots * B * v.g16.ld;
        v.g16.sums[i] = at + (n + 1) / 2;
    }
    if (bufs < 2) { /* dgi's and dgh's are one */
        v.g16.rows[1] = v.g16.rows[0];
        v.g16.panels[1] = v.g16.panels[0];
        v.g16.sums[1] = v.g16.sums[0];
    }
    return v;
}

size_t cellgemm_back_floats(const CellDims *d)
{
    if (d->bf16 != GEMM_BF16_OFF) return 0;
    const int GH = cell_gates(d->kind) * d->hidden;
    return gemm_packed_floats(GH, d->hidden) + gemm_packed_floats(GH, d->in);
}

BackPass cellgemm_back_prepare(float *buf, const DgViews *dg, const float *w_hh,
                               const float *w_ih, const CellDims *d, int T, int B, int dx)
{
    BackPass bp = {cellgemm_recur_prepare(buf, w_hh, d, T - 1, 1, d->isa), NULL, NULL, 1,
                   dg->g16, NULL};
    if (d->bf16 != GEMM_BF16_OFF) {
        bp.group = dx_steps(T, B);
        if (dx) {
            Bf16Space s = bf16_space(buf, d, 1);
            gemm_bf16_pack(s.ih, w_ih, d->in, 0, cell_gates(d->kind) * d->hidden, d->in);
            bp.ih16 = s.ih;
        }
        return bp;
    }
    if (!cellgemm_on_panels(d)) return bp;
    const int GH = cell_gates(d->kind) * d->hidden;
    bp.panels = dg->panels;
    bp.group = dx_steps(T, B);
    if (dx) {
        float *ih = buf + gemm_packed_floats(GH, d->hidden);
        gemm_pack(ih, w_ih, d->in, 0, GH, d->in);
        bp.ih = ih;
    }
    return bp;
}

void cellgemm_back_step(float *dh, float *dx, const float *dgi_t, const float *dgh_t,
                        const BackPass *bp, const CellDims *d, int t, int T, int B)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H;
    if (bp->g16.rows[0]) {
        back_step_bf16(dh, dx, dgi_t, dgh_t, bp, d, t, T, B);
        return;
    }
    if (t > 0) recur_back(dh + (size_t)(t - 1) * B * H, dgh_t, &bp->w, B, GH, H);
    if (!bp->panels) return;
    if (bp->ih && t % bp->group == 0) { /* steps t .. t + n - 1: their rows follow dgi_t's */
        const int n = T - t < bp->group ? T - t : bp->group;
        gemm_packed(dx + (size_t)t * B * d->in, d->in, dgi_t, GH, bp->ih, n * B, d->in, GH, 0,
                    d->isa);
    }
    GatePanels v = gate_panels(bp->panels, d, T, B);
    /* the GRU's groups: dgi's r, z; dgi's n; dgh's n */
    const float *src[3] = {dgi_t, dgi_t + v.cols[0], dgh_t + v.cols[0]};
    for (int i = 0; i < v.groups; i++) {
        if (t == T - 1) memset(v.sum[i], 0, sizeof(float) * (size_t)v.cols[i]);
        gemm_panels_put(v.ap[i], v.sum[i], src[i], GH, v.cols[i], T * B, t * B, B);
    }
}

/* g's weight and bias gradients on the packed kernels from the gate
 * panels (every step put): A packed once for W_ih and W_hh, the GRU's r
 * and z columns (the same in dgi and dgh) once, its n columns apart. */
static void grads_panels(LayerParams *g, float *buf, float *panels, const float *x,
                         const float *h, const float *h0, const CellDims *d, int T, int B)
{
    const int H = d->hidden, In = d->in, TB = T * B;
    const GatePanels v = gate_panels(panels, d, T, B);
    /* W_hh meets step t's gate gradients with h_{t-1}: h0 (or zeros) at t = 0 */
    const int recur = T > 1 || h0 != NULL;
    GemmTnPart parts[2] = {{g->w_ih, In, x, In, In, 0, NULL}, {g->w_hh, H, h, H, H, B, h0}};
    gemm_tn_panels(buf, v.ap[0], v.cols[0], TB, parts, recur ? 2 : 1, d->isa);
    for (int j = 0; j < v.cols[0]; j++) g->b_hh[j] += v.sum[0][j];
    for (int j = 0; j < v.cols[0]; j++) g->b_ih[j] += v.sum[0][j];
    cellgemm_poke(d);
    if (v.groups == 1) return;
    /* the GRU's n columns: dgi's with x, dgh's with h_{t-1} */
    const int n0 = v.cols[0];
    parts[0].c += (size_t)n0 * In;
    parts[1].c += (size_t)n0 * H;
    gemm_tn_panels(buf, v.ap[1], H, TB, parts, 1, d->isa);
    if (recur) gemm_tn_panels(buf, v.ap[2], H, TB, parts + 1, 1, d->isa);
    for (int j = 0; j < H; j++) g->b_ih[n0 + j] += v.sum[1][j];
    for (int j = 0; j < H; j++) g->b_hh[n0 + j] += v.sum[2][j];
    cellgemm_poke(d);
}

void cellgemm_weight_grads(float *dx, LayerParams *g, float *buf, float *ones,
                           const BackPass *bp, const float *dgi, const float *dgh,
                           const float *x, const float *h, const float *h0, const LayerParams *p,
                           const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in;
    const size_t TB = (size_t)T * B;
    if (bp->panels) { /* dx came step by step */
        grads_panels(g, buf, bp->panels, x, h, h0, d, T, B);
        return;
    }
    if (bp->g16.rows[0]) { /* dx came step by step */
        grads_bf16(g, buf, bp, x, h, h0, d, T, B);
        return;
    }
    cellgemm_add_colsum(g->b_ih, dgi, ones, TB, GH);
    cellgemm_add_colsum(g->b_hh, dgh, ones, TB, GH);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, In, (int)TB, 1.0f, dgi, GH, x, In,
                1.0f, g->w_ih, In);
    cellgemm_poke(d);
    if (T > 1)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, (int)TB - B, 1.0f,
                    dgh + (size_t)B * GH, GH, h, H, 1.0f, g->w_hh, H);
    if (h0)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, B, 1.0f, dgh, GH, h0, H,
                    1.0f, g->w_hh, H);
    cellgemm_poke(d);
    if (!dx) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)TB, In, GH, 1.0f, dgi, GH,
                p->w_ih, In, 0.0f, dx, In);
}
