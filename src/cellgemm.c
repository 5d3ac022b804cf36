/* cellgemm.c - buffer carving and the GEMMs the cells share (see cellgemm.h). */
#include "cellgemm.h"

#include <cblas.h>
#include <string.h>

float *cellgemm_carve(Carver *c, size_t n)
{
    float *v = c->base ? c->base + c->used : NULL;
    c->used += n;
    return v;
}

Recur cellgemm_recur_prepare(float *buf, const float *w_hh, const CellDims *d, int products,
                             int backward, GemmIsa isa)
{
    Recur r = {w_hh, NULL, isa};
    if (products < 1 || r.isa == GEMM_BLAS) return r;
    int H = d->hidden, GH = cell_gates(d->kind) * H;
    if (backward)
        gemm_pack(buf, w_hh, H, 0, GH, H);
    else
        gemm_pack(buf, w_hh, H, 1, H, GH);
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

void cellgemm_add_colsum(float *acc, const float *rows, float *ones, size_t n, int width)
{
    for (size_t r = 0; r < n; r++) ones[r] = 1.0f;
    cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, width, 1.0f, rows, width, ones, 1, 1.0f, acc,
                1);
}

void cellgemm_input(float *out, float *buf, const float *x, const float *w_ih, int TB, int GH,
                    int In, int add, GemmIsa isa)
{
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
    if (!w->packed)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, GH, H, 1.0f, h, H, w->w_hh, H,
                    add ? 1.0f : 0.0f, out, GH);
    else
        gemm_packed(out, GH, h, H, w->packed, B, GH, H, add, w->isa);
}

void cellgemm_recur_back(float *dh, const float *dg, const Recur *w, int B, int GH, int H)
{
    if (!w->packed)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, GH, 1.0f, dg, GH, w->w_hh,
                    H, 1.0f, dh, H);
    else
        gemm_packed(dh, H, dg, GH, w->packed, B, H, GH, 1, w->isa);
}

/* c[M, N] += a[K, M]^T b[K, N] on the packed kernels (AVX2 and AVX-512 give
 * the same bits: the kernel choice never changes a result), or OpenBLAS.
 * work: the pass's packing space. */
static void grad_tn(float *c, int ldc, float *work, const float *a, int lda, const float *b,
                    int ldb, int M, int N, int K, GemmIsa isa)
{
    if (isa == GEMM_BLAS)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, a, lda, b, ldb, 1.0f,
                    c, ldc);
    else
        gemm_tn(c, ldc, work, a, lda, b, ldb, M, N, K, isa);
}

void cellgemm_poke(const CellDims *d)
{
    if (d->poke.fn) d->poke.fn(d->poke.ctx);
}

void cellgemm_weight_grads(float *dx, LayerParams *g, float *buf, float *ones, const float *dgi,
                           const float *dgh, const float *x, const float *h, const float *h0,
                           const LayerParams *p, const CellDims *d, int T, int B, GemmIsa isa)
{
    const int H = d->hidden, GH = cell_gates(d->kind) * H, In = d->in;
    const size_t TB = (size_t)T * B;
    grad_tn(g->w_ih, In, buf, dgi, GH, x, In, GH, In, (int)TB, isa);
    cellgemm_poke(d);
    if (T > 1) grad_tn(g->w_hh, H, buf, dgh + (size_t)B * GH, GH, h, H, GH, H, (T - 1) * B, isa);
    if (h0) grad_tn(g->w_hh, H, buf, dgh, GH, h0, H, GH, H, B, isa);
    cellgemm_poke(d);
    cellgemm_add_colsum(g->b_ih, dgi, ones, TB, GH);
    cellgemm_add_colsum(g->b_hh, dgh, ones, TB, GH);
    if (!dx) return;
    if (isa == GEMM_BLAS) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)TB, In, GH, 1.0f, dgi, GH,
                    p->w_ih, In, 0.0f, dx, In);
        return;
    }
    gemm_pack(buf, p->w_ih, In, 0, GH, In);
    gemm_packed(dx, In, dgi, GH, buf, (int)TB, In, GH, 0, isa);
}
