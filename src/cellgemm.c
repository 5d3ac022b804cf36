/* cellgemm.c - buffer carving and the GEMMs the cells share (see cellgemm.h). */
#include "cellgemm.h"

#include <cblas.h>
#include <string.h>

#include "gemmbf16.h"

/* ---- precision bf16: the pass's packing space as bf16 ------------------- */

/* A bf16 packing space: the packed matrix, the staging of A's rows, and
 * (backward) a weight gradient's transpose. */
typedef struct Bf16Space {
    uint16_t *b; /* [bf16_packed_count] */
    uint16_t *a; /* [bf16_stage_count] */
    float *ct;   /* backward: [max(In, H), G*H] */
} Bf16Space;

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* bf16 elements of the largest packed matrix of a pass (backward: W_hh,
 * W_ih, and a chunk of CELLGEMM_BF16_KCHUNK rows of the gate gradients),
 * rounded up to 32: the staging after it starts on 64 bytes. */
static size_t bf16_packed_count(const CellDims *d, int backward)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in;
    size_t n;
    if (backward)
        n = max_size(max_size(gemm_bf16_packed_count(GH, H), gemm_bf16_packed_count(GH, In)),
                     gemm_bf16_packed_count(CELLGEMM_BF16_KCHUNK, GH));
    else
        n = max_size(gemm_bf16_packed_count(In, GH), gemm_bf16_packed_count(H, GH));
    return (n + 31) / 32 * 32;
}

/* bf16 elements of the staging: CELLGEMM_BF16_ROWS rows of the widest A
 * (K = In, H or G*H), or a weight gradient's max(In, H) rows of
 * CELLGEMM_BF16_KCHUNK, rounded up to 32. */
static size_t bf16_stage_count(const CellDims *d)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in;
    size_t n = max_size((size_t)CELLGEMM_BF16_ROWS * (size_t)gemm_bf16_kp(In > GH ? In : GH),
                        (size_t)(In > H ? In : H) * CELLGEMM_BF16_KCHUNK);
    return (n + 31) / 32 * 32;
}

/* Floats of a weight gradient's transpose: [max(In, H), G*H]. */
static size_t bf16_ct_floats(const CellDims *d)
{
    const int H = d->hidden, In = d->in;
    return (size_t)(In > H ? In : H) * (size_t)cell_gates(d->kind) * H;
}

size_t cellgemm_bf16_floats(const CellDims *d, int backward)
{
    return (bf16_packed_count(d, backward) + bf16_stage_count(d)) / 2 +
           (backward ? bf16_ct_floats(d) : 0);
}

static Bf16Space bf16_space(float *buf, const CellDims *d, int backward)
{
    Bf16Space s;
    s.b = (uint16_t *)buf;
    s.a = s.b + bf16_packed_count(d, backward);
    s.ct = backward ? (float *)(s.a + bf16_stage_count(d)) : NULL;
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

/* c[M, N] += a[K, M]^T b[K, N] on kernel k, as its transpose b^T a: the
 * long dimension K in chunks of CELLGEMM_BF16_KCHUNK rows, each chunk's b^T
 * rounded into s.a (N rows: b is the narrower, the layer's input or
 * state), its a packed into s.b (rows in pairs, as they lie), its product
 * summed into s.ct [N, M] (zeroed first), which is then added to c: each
 * element of c gets one fp32 addition of its sum over the chunks. */
static void bf16_tn(float *c, int ldc, Bf16Space s, const float *a, int lda, const float *b,
                    int ldb, int M, int N, int K, GemmBf16 k)
{
    memset(s.ct, 0, sizeof(float) * (size_t)N * M);
    for (int k0 = 0; k0 < K; k0 += CELLGEMM_BF16_KCHUNK) {
        const int kc = K - k0 < CELLGEMM_BF16_KCHUNK ? K - k0 : CELLGEMM_BF16_KCHUNK;
        gemm_bf16_round_cols(s.a, b + (size_t)k0 * ldb, ldb, N, kc);
        gemm_bf16_pack(s.b, a + (size_t)k0 * lda, lda, 0, kc, M);
        gemmprec_run(k, s.ct, M, s.a, gemm_bf16_kp(kc), s.b, N, M, kc, 1);
    }
    for (int m0 = 0; m0 < M; m0 += GEMM_BF16_NR)
        for (int n = 0; n < N; n++)
            for (int m = m0; m < M && m < m0 + GEMM_BF16_NR; m++)
                c[(size_t)m * ldc + n] += s.ct[(size_t)n * M + m];
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

size_t cellgemm_sums_floats(const CellDims *d, int T, int B)
{
    return max_size((size_t)T * (size_t)B, (size_t)cell_gates(d->kind) * (size_t)d->hidden);
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

void cellgemm_recur_back(float *dh, const float *dg, const Recur *w, int B, int GH, int H)
{
    if (w->packed16)
        bf16_rows(dh, H, w->a16, dg, GH, w->packed16, B, H, GH, 1, w->bf16);
    else if (!w->packed)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, GH, 1.0f, dg, GH, w->w_hh,
                    H, 1.0f, dh, H);
    else
        gemm_packed(dh, H, dg, GH, w->packed, B, H, GH, 1, w->isa);
}

/* c[M, N] += a[K, M]^T b[K, N] on d's bf16 kernel when set, else on the
 * packed kernels (AVX2 and AVX-512 give the same bits: the kernel choice
 * never changes a result), or OpenBLAS. work: the pass's packing space. */
static void grad_tn(float *c, int ldc, float *work, const float *a, int lda, const float *b,
                    int ldb, int M, int N, int K, const CellDims *d)
{
    if (d->bf16 != GEMM_BF16_OFF)
        bf16_tn(c, ldc, bf16_space(work, d, 1), a, lda, b, ldb, M, N, K, d->bf16);
    else if (d->isa == GEMM_BLAS)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, a, lda, b, ldb, 1.0f,
                    c, ldc);
    else
        gemm_tn(c, ldc, work, a, lda, b, ldb, M, N, K, d->isa);
}

void cellgemm_poke(const CellDims *d)
{
    if (d->poke.fn) d->poke.fn(d->poke.ctx);
}

/* g's weight and bias gradients on the packed kernels, A (the gate
 * gradients) packed once for W_ih and W_hh and summed into the biases as
 * it is packed. The GRU's r and z gradients are the same in dgi and dgh
 * (its n gradients differ): those columns go once, the n columns apart.
 *   sum scratch [G*H] */
static void grads_packed(LayerParams *g, float *buf, float *sum, const float *dgi,
                         const float *dgh, const float *x, const float *h, const float *h0,
                         const CellDims *d, int T, int B)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in, TB = T * B;
    /* W_hh meets step t's gate gradients with h_{t-1}: h0 (or zeros) at t = 0 */
    const int recur = T > 1 || h0 != NULL;
    const int shared = dgi == dgh ? GH : 2 * H; /* columns of dgi that dgh repeats */
    GemmTnPart parts[2] = {{g->w_ih, In, x, In, In, 0, NULL}, {g->w_hh, H, h, H, H, B, h0}};
    memset(sum, 0, sizeof(float) * (size_t)GH);
    gemm_tn_parts(sum, buf, dgi, GH, shared, TB, parts, recur ? 2 : 1, d->isa);
    for (int j = 0; j < shared; j++) g->b_hh[j] += sum[j];
    cellgemm_poke(d);
    if (shared < GH) { /* the GRU's n columns: dgi's with x, dgh's with h_{t-1} */
        parts[0].c += (size_t)shared * In;
        parts[1].c += (size_t)shared * H;
        gemm_tn_parts(sum + shared, buf, dgi + shared, GH, GH - shared, TB, parts, 1, d->isa);
        gemm_tn_parts(g->b_hh + shared, buf, dgh + shared, GH, GH - shared, TB, parts + 1,
                      recur, d->isa);
    }
    for (int j = 0; j < GH; j++) g->b_ih[j] += sum[j];
    cellgemm_poke(d);
}

void cellgemm_weight_grads(float *dx, LayerParams *g, float *buf, float *ones, const float *dgi,
                           const float *dgh, const float *x, const float *h, const float *h0,
                           const LayerParams *p, const CellDims *d, int T, int B, GemmIsa isa)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in;
    const size_t TB = (size_t)T * B;
    if (d->bf16 == GEMM_BF16_OFF && d->isa != GEMM_BLAS) {
        grads_packed(g, buf, ones, dgi, dgh, x, h, h0, d, T, B);
    } else {
        grad_tn(g->w_ih, In, buf, dgi, GH, x, In, GH, In, (int)TB, d);
        cellgemm_poke(d);
        if (T > 1)
            grad_tn(g->w_hh, H, buf, dgh + (size_t)B * GH, GH, h, H, GH, H, (T - 1) * B, d);
        if (h0) grad_tn(g->w_hh, H, buf, dgh, GH, h0, H, GH, H, B, d);
        cellgemm_poke(d);
        cellgemm_add_colsum(g->b_ih, dgi, ones, TB, GH);
        cellgemm_add_colsum(g->b_hh, dgh, ones, TB, GH);
    }
    if (!dx) return;
    if (d->bf16 != GEMM_BF16_OFF) {
        Bf16Space s = bf16_space(buf, d, 1);
        gemm_bf16_pack(s.b, p->w_ih, In, 0, GH, In);
        bf16_rows(dx, In, s.a, dgi, GH, s.b, (int)TB, In, GH, 0, d->bf16);
        return;
    }
    if (isa == GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)TB, In, GH, 1.0f, dgi, GH,
                    p->w_ih, In, 0.0f, dx, In);
        return;
    }
    gemm_pack(buf, p->w_ih, In, 0, GH, In);
    gemm_packed(dx, In, dgi, GH, buf, (int)TB, In, GH, 0, isa);
}
