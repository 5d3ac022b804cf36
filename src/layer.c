/* layer.c - one recurrent layer in one or both directions (see layer.h). */
#include "layer.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

float *layer_buf_grow(LayerBuf *p, size_t n)
{
    xgrow_floats(&p->p, &p->cap, n);
    return p->p;
}

void layer_buf_free(LayerBuf *p)
{
    free(p->p);
    p->p = NULL;
    p->cap = 0;
}

void layer_work_free(LayerWork *w)
{
    for (int i = 0; i < LAYER_MAX_DIRS; i++) {
        layer_buf_free(&w->cache[i]);
        layer_buf_free(&w->hdir[i]);
    }
    layer_buf_free(&w->xrev);
}

void layer_scratch_free(LayerScratch *s)
{
    layer_buf_free(&s->cell);
    for (int i = 0; i < LAYER_MAX_DIRS; i++) layer_buf_free(&s->dh[i]);
    layer_buf_free(&s->dxrev);
}

/* Row b's valid steps, reversed within its length when reverse:
 * dst[t, b] (+)= src[reverse ? n-1-t : t, b] for t < n = lengths[b];
 * without add, dst[t, b] = 0 for t >= n. Rows of `width` floats, at
 * strides ld_dst and ld_src between (t, b) positions. With reverse, the map
 * is its own inverse. */
static void copy_steps(float *dst, size_t ld_dst, const float *src, size_t ld_src,
                       const int32_t *lengths, int T, int B, int width, int reverse, int add)
{
    const int n = width;
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            float *o = dst + ((size_t)t * B + b) * ld_dst;
            int len = lengths[b];
            if (t >= len) {
                if (!add) memset(o, 0, sizeof(float) * n);
                continue;
            }
            const float *i = src + ((size_t)(reverse ? len - 1 - t : t) * B + b) * ld_src;
            if (add)
                for (int j = 0; j < n; j++) o[j] += i[j];
            else
                memcpy(o, i, sizeof(float) * n);
        }
}

void layer_forward(float *out, LayerWork *w, const float *x, const float *state0,
                   const LayerParams *p, const int32_t *lengths, const CellDims *d, int dirs,
                   int T, int B)
{
    CHECK(dirs == 1 || (dirs == 2 && !state0));
    const int H = d->hidden, In = d->in;
    const size_t TB = (size_t)T * B, cache = cell_cache_floats(d, T, B);
    if (dirs == 1) {
        cell_forward(out, layer_buf_grow(&w->cache[0], cache), x, state0, &p[0], d, T, B);
        return;
    }
    float *hf = layer_buf_grow(&w->hdir[0], TB * H), *hr = layer_buf_grow(&w->hdir[1], TB * H);
    float *xr = layer_buf_grow(&w->xrev, TB * In);
    cell_forward(hf, layer_buf_grow(&w->cache[0], cache), x, NULL, &p[0], d, T, B);
    copy_steps(xr, In, x, In, lengths, T, B, In, 1, 0);
    cell_forward(hr, layer_buf_grow(&w->cache[1], cache), xr, NULL, &p[1], d, T, B);
    copy_steps(out, 2 * (size_t)H, hf, H, lengths, T, B, H, 0, 0);
    copy_steps(out + H, 2 * (size_t)H, hr, H, lengths, T, B, H, 1, 0);
}

void layer_backward(float *dx, LayerParams *g, float *dout, LayerScratch *s, const float *x,
                    const float *state0, const float *out, const LayerWork *w,
                    const LayerParams *p, const int32_t *lengths, const CellDims *d, int dirs,
                    int T, int B)
{
    CHECK(dirs == 1 || (dirs == 2 && !state0));
    const int H = d->hidden, In = d->in;
    const size_t TB = (size_t)T * B;
    float *scratch = layer_buf_grow(&s->cell, cell_scratch_floats(d, T, B));
    if (dirs == 1) {
        cell_backward(dx, &g[0], dout, scratch, x, state0, out, w->cache[0].p, &p[0], d, T, B);
        return;
    }
    float *dhf = layer_buf_grow(&s->dh[0], TB * H), *dhr = layer_buf_grow(&s->dh[1], TB * H);
    copy_steps(dhf, H, dout, 2 * (size_t)H, lengths, T, B, H, 0, 0);
    copy_steps(dhr, H, dout + H, 2 * (size_t)H, lengths, T, B, H, 1, 0);
    float *dxr = dx ? layer_buf_grow(&s->dxrev, TB * In) : NULL;
    cell_backward(dx, &g[0], dhf, scratch, x, NULL, w->hdir[0].p, w->cache[0].p, &p[0], d, T,
                  B);
    cell_backward(dxr, &g[1], dhr, scratch, w->xrev.p, NULL, w->hdir[1].p, w->cache[1].p, &p[1],
                  d, T, B);
    if (dx) copy_steps(dx, In, dxr, In, lengths, T, B, In, 1, 1);
}

size_t layer_work_floats(const CellDims *d, int dirs, int T, int B)
{
    size_t TB = (size_t)T * B, f = (size_t)dirs * cell_cache_floats(d, T, B);
    if (dirs == 2) f += TB * (2 * (size_t)d->hidden + (size_t)d->in);
    return f;
}

size_t layer_scratch_floats(const CellDims *d, int dirs, int T, int B)
{
    size_t TB = (size_t)T * B, f = cell_scratch_floats(d, T, B);
    if (dirs == 2) f += TB * (2 * (size_t)d->hidden + (size_t)d->in);
    return f;
}
