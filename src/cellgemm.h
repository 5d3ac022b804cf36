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

/* Floats of cellgemm_weight_grads' `ones` scratch (the bias gradients as
 * column sums off the packed fp32 kernels): T*B. */
size_t cellgemm_ones_floats(int T, int B);

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

/* d->poke.fn(d->poke.ctx) if there is one (cell.h, CellPoke). */
void cellgemm_poke(const CellDims *d);

/* Whether d's backward runs on the packed fp32 kernels step by step: each
 * step's dx and its gate gradients put into panels while they are in the
 * cache (then a pass keeps one step's gate gradients, not all of them);
 * else (precision bf16, OpenBLAS) the weight gradients and dx come after
 * the pass, from the gate gradients of all steps as stored. */
int cellgemm_on_panels(const CellDims *d);

/* Rows of dx one product takes at least on the packed kernels (steps
 * grouped when B is smaller). */
#define CELLGEMM_DX_ROWS 64

/* With precision bf16, a backward pass's gate gradients as the products
 * read them: buffer 0 dgi's, 1 dgh's (the same unless GRU). */
typedef struct Dg16 {
    uint16_t *rows[2];   /* the rows rounded to bf16 [slots * B, ld] of the
                          * steps of one dx product, as DgViews' dg */
    int ld;              /* gemm_bf16_kp(G*H) */
    uint16_t *panels[2]; /* all T*B rows packed as B (gemm_bf16_pack) chunk
                          * by chunk of CELLGEMM_BF16_KCHUNK rows, each step's
                          * put as it comes (gemm_bf16_put_rows) */
    float *sums[2];      /* [G*H] their column sums: the bias gradients */
} Dg16;

/* A backward pass's gate gradients, in one region of
 * cellgemm_dg_floats: `bufs` buffers of G*H columns (RNN 0: its gradients
 * live in dh; LSTM 1; GRU 2: dgi and dgh), each of `slots` steps' rows:
 * every step's off the packed fp32 kernels; on them the few steps one dx
 * product takes, followed by the panels (cellgemm_back_step puts each
 * step's there). Step t's rows: dg[i] + (t % slots) * step. */
typedef struct DgViews {
    float *dg[2];  /* [slots * B, G*H] each */
    float *panels; /* the panels; NULL off the packed fp32 kernels */
    size_t step;   /* floats of one step's rows: B*G*H */
    int slots;     /* T, or on the packed fp32 kernels and with precision bf16
                    * ceil(64 / B) at most T */
    Dg16 g16;      /* precision bf16: the gate gradients in bf16 (rows NULL in fp32) */
} DgViews;

/* Floats of the region: in fp32 the larger of the two layouts (one size
 * serves every kernel choice); with precision bf16 the slots and Dg16. */
size_t cellgemm_dg_floats(const CellDims *d, int bufs, int T, int B);

/* The views of a region for d's kernel. */
DgViews cellgemm_dg_views(float *region, const CellDims *d, int bufs, int T, int B);

/* Floats of the packing space a backward pass needs during its steps: W_hh
 * and W_ih packed side by side for the packed fp32 kernels (0 with
 * precision bf16: cellgemm_bf16_floats). */
size_t cellgemm_back_floats(const CellDims *d);

/* A backward pass's products (cellgemm_back_prepare). */
typedef struct BackPass {
    Recur w;         /* W_hh, for each step's dh_{t-1} += dg_t W_hh */
    const float *ih; /* W_ih packed, for each step's dx; NULL: dx after the pass or none */
    float *panels;   /* the gate gradients' panels; NULL off the packed fp32 kernels */
    int group;       /* steps per dx product (DgViews' slots) */
    Dg16 g16;        /* precision bf16: DgViews' */
    const uint16_t *ih16; /* precision bf16: W_ih packed for each step's dx */
} BackPass;

/* The products of a backward pass of T steps, packed into buf (the pass's
 * packing space, cell_pack_floats); on the packed fp32 kernels W_ih too
 * when dx is wanted. dg: the pass's gate gradients (its panels, its bf16
 * rows). */
BackPass cellgemm_back_prepare(float *buf, const DgViews *dg, const float *w_hh,
                               const float *w_ih, const CellDims *d, int T, int B, int dx);

/* Step t of a backward pass, after its gate gradients: dh[t-1] += dgh_t
 * W_hh (t > 0), and when W_ih is packed (bp->ih or bp->ih16) and t is a
 * multiple of bp->group, dx of steps t .. t + group - 1 (their gradients in
 * the slots after step t's): dx[t] = dgi_t W_ih. On the packed fp32
 * kernels the gate gradients are also put into the panels (t = T - 1
 * first, their column sums taken on the way); with precision bf16 they
 * are rounded into bp->g16's rows (which dh's and dx's products read),
 * put into its panels, and summed into its sums.
 *   dh in/out [T, B, H] the pass's (step t - 1's rows updated)
 *   dx out [T, B, In] the pass's (NULL when W_ih is not packed)
 *   dgi_t, dgh_t in [B, G*H] step t's (the same buffer for RNN and LSTM) */
void cellgemm_back_step(float *dh, float *dx, const float *dgi_t, const float *dgh_t,
                        const BackPass *bp, const CellDims *d, int t, int T, int B);

/* The weight gradients from the pre-activation gradients of all steps,
 * ACCUMULATED into g, and (on OpenBLAS; the packed fp32 and the bf16
 * kernels took it step by step) dx, overwritten (NULL to skip):
 *   g_ih += dgi^T x,  g_hh += dgh[1:]^T h[:-1] (+ dgh[0]^T h0),
 *   b_ih += column sums of dgi,  b_hh += those of dgh,  dx = dgi w_ih.
 *   bp   the pass's: on the packed fp32 kernels the gate gradients come from
 *        its panels (dgi, dgh unread), packed once for W_ih and W_hh
 *        together (gemm_tn_panels), the GRU's r and z columns (the same in
 *        dgi and dgh) once; their column sums were taken as they were put;
 *        with precision bf16 likewise from its g16 panels and sums
 *   dgi, dgh in [T*B, GH] (the same buffer for RNN and LSTM)
 *   x in [T*B, In];  h in [T*B, H]
 *   h0   in [B, H] the initial hidden state; NULL: zeros, its term skipped
 *   ones scratch [cellgemm_ones_floats];  buf: the pass's packing space */
void cellgemm_weight_grads(float *dx, LayerParams *g, float *buf, float *ones,
                           const BackPass *bp, const float *dgi, const float *dgh,
                           const float *x, const float *h, const float *h0, const LayerParams *p,
                           const CellDims *d, int T, int B);

#endif
