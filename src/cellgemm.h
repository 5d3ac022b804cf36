/* cellgemm.h - what the three recurrent cells share (internal to the cell
 * module: cell.c is its only user; other modules use cell.h): carving one
 * caller-owned buffer into named views, and the products of a pass through
 * time, each on the pass's GEMM kernel (gemm.h's packed kernels where the CPU
 * has them, OpenBLAS when the kernel is GEMM_BLAS).
 *
 * Shapes as in cell.h: time-major rows (row t*B + b), G*H gate columns
 * (GH), weights as PyTorch's w_ih [GH, In], w_hh [GH, H].
 */
#ifndef RNN_CELLGEMM_H
#define RNN_CELLGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "cell.h"
#include "gemm.h"

/* Consecutive views of one buffer, laid out in order; with base NULL the
 * views stay NULL and only `used` counts (for the sizing functions). */
typedef struct Carver {
    float *base;
    size_t used; /* floats laid out so far */
} Carver;

/* Rows of A a bf16 product rounds at a time (the bf16 staging's height). */
#define CELLGEMM_BF16_ROWS 256
/* Rows of the long dimension (time x batch) per weight-gradient product:
 * each such chunk's sum is added to the gradient's in fp32. */
#define CELLGEMM_BF16_KCHUNK 1024

/* The recurrent weights of one pass: packed once when the packed kernel
 * runs, else used as they are; with precision bf16 packed in bf16, each
 * step's operand rounded into a16. */
typedef struct Recur {
    const float *w_hh;   /* [G*H, H] */
    const float *packed; /* gemm_pack of w_hh (or w_hh^T); NULL: use OpenBLAS */
    GemmIsa isa;         /* the kernel that runs on packed */
    GemmBf16 bf16;       /* not GEMM_BF16_OFF: products on packed16 instead */
    const uint16_t *packed16; /* gemm_bf16_pack of w_hh (or w_hh^T) */
    uint16_t *a16;       /* staging of the step's rows in bf16 */
} Recur;

/* Floats of a pass's packing space (cell_pack_floats) with precision bf16:
 * the largest bf16 packed matrix of the pass, the staging of A's rows in
 * bf16, and (backward) a weight gradient's transpose in fp32. */
size_t cellgemm_bf16_floats(const CellDims *d, int backward);

/* The next view of n floats of c (NULL when c->base is NULL). */
float *cellgemm_carve(Carver *c, size_t n);

/* The recurrent weights of a pass that runs `products` recurrent products
 * (forward: h w_hh^T, T - 1 from a zero state, T from a given one;
 * backward: dg w_hh, T - 1), packed into buf when isa is a packed kernel and
 * products > 0.
 *   buf  out [cell_pack_floats(d, T, B, backward)] */
Recur cellgemm_recur_prepare(float *buf, const float *w_hh, const CellDims *d, int products,
                             int backward, GemmIsa isa);

/* rows[r, :] = a[:] + b[:] (b may be NULL) for r in 0..n.
 *   rows out [n, width];  a, b in [width] */
void cellgemm_fill_rows(float *rows, const float *a, const float *b, size_t n, int width);

/* Floats of cellgemm_weight_grads' `ones` scratch: max(T*B, G*H). */
size_t cellgemm_sums_floats(const CellDims *d, int T, int B);

/* acc[:] += sum over r of rows[r, :], as rows^T ones.
 *   acc in/out [width];  rows in [n, width];  ones scratch [n] */
void cellgemm_add_colsum(float *acc, const float *rows, float *ones, size_t n, int width);

/* out = x w_ih^T (+ out when add), with w_ih^T packed into buf: on
 * d->bf16_in when set, else on kernel d->isa, or OpenBLAS when that is
 * GEMM_BLAS.
 *   out out [TB, GH];  buf scratch (the pass's packing space);  x in [TB, In] */
void cellgemm_input(float *out, float *buf, const float *x, const float *w_ih, int TB, int GH,
                    int In, int add, const CellDims *d);

/* out = h w_hh^T (+ out when add), for one step.
 *   out out [B, GH];  h in [B, H] */
void cellgemm_recur(float *out, const float *h, const Recur *w, int B, int GH, int H, int add);

/* dh += dg w_hh, for one step.
 *   dh in/out [B, H];  dg in [B, GH] */
void cellgemm_recur_back(float *dh, const float *dg, const Recur *w, int B, int GH, int H);

/* d->poke.fn(d->poke.ctx) if there is one (cell.h, CellPoke). */
void cellgemm_poke(const CellDims *d);

/* The weight gradients and dx from the pre-activation gradients of all
 * steps, ACCUMULATED into g (dx overwritten; NULL to skip):
 *   g_ih += dgi^T x,  g_hh += dgh[1:]^T h[:-1] (+ dgh[0]^T h0),
 *   b_ih += column sums of dgi,  b_hh += those of dgh,  dx = dgi w_ih.
 *   dgi, dgh in [T*B, GH] (the same buffer for RNN and LSTM)
 *   x in [T*B, In];  h in [T*B, H]
 *   h0   in [B, H] the initial hidden state; NULL: zeros, its term skipped
 *   ones scratch [cellgemm_sums_floats];  buf: the pass's packing space
 *   (cell_pack_floats)
 * On the packed kernels (fp32) the gate gradients are packed once for W_ih
 * and W_hh together, their column sums taken as they are packed
 * (gemm_tn_parts); the GRU's r and z columns, the same in dgi and dgh, once. */
void cellgemm_weight_grads(float *dx, LayerParams *g, float *buf, float *ones, const float *dgi,
                           const float *dgh, const float *x, const float *h, const float *h0,
                           const LayerParams *p, const CellDims *d, int T, int B, GemmIsa isa);

#endif
