/* cell.h - recurrent cells (Elman RNN, LSTM, GRU): forward and backward
 * through time for one layer over a whole batch.
 *
 * Layout: time-major. A sequence batch is [T, B, n] (row t*B + b). Weights
 * are PyTorch's: w_ih [G*H, In], w_hh [G*H, H], b_ih [G*H], b_hh [G*H], with
 * G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: gates r, z, n).
 * The initial hidden (and cell) state is zero, as nn.RNN's default.
 *
 * Speed: the input projection of all T steps is one GEMM, each step's
 * recurrent projection of all gates is one GEMM, and the weight gradients are
 * GEMMs over the whole sequence. The recurrent GEMMs use W_hh packed once per
 * pass (gemm.h) where the CPU has AVX2 + FMA, OpenBLAS elsewhere. The caller owns every buffer; sizes come
 * from cell_cache_floats() and cell_scratch_floats().
 */
#ifndef RNN_CELL_H
#define RNN_CELL_H

#include <stddef.h>

#include "types.h"

/* The shape of one layer. */
typedef struct CellDims {
    CellKind kind;
    Nonlin act;   /* CELL_RNN only */
    int in;       /* input features of this layer */
    int hidden;   /* H */
} CellDims;

/* Views of one layer's parameters (or of their gradients) in the model's
 * contiguous buffer. Not owned. */
typedef struct LayerParams {
    float *w_ih;  /* [G*H, In] */
    float *w_hh;  /* [G*H, H]  */
    float *b_ih;  /* [G*H]     */
    float *b_hh;  /* [G*H]     */
} LayerParams;

/* Number of gates G of a cell kind: 1, 4 or 3. */
int cell_gates(CellKind kind);
/* Name of a cell kind as in the command line: "rnn", "lstm", "gru"
 * (CELL_KIND_NAMES). */
const char *cell_name(CellKind kind);

/* Floats of the activation cache cell_forward keeps for cell_backward
 * (with room for the packed recurrent weights). Each cell kind lays out its
 * cache and its scratch in one function of cell.c (named views), which
 * these sizes, the forward and the backward pass all use. */
size_t cell_cache_floats(const CellDims *d, int T, int B);
/* Floats of scratch cell_backward needs (with the packed weights). */
size_t cell_scratch_floats(const CellDims *d, int T, int B);
/* Floats of the packing space (gemm.h) inside the cache (backward = 0) or
 * the scratch (backward = 1): the part of each that grows with the weights,
 * not with T x B (memory estimates name it apart). */
size_t cell_pack_floats(const CellDims *d, int T, int B, int backward);

/* Forward through T steps.
 *   h     out [T, B, H]  hidden state after each step (the layer's output)
 *   cache out [cell_cache_floats]  activations kept for the backward pass
 *   x     in  [T, B, In]
 *   p     in  the layer's parameters
 */
void cell_forward(float *h, float *cache, const float *x, const LayerParams *p,
                  const CellDims *d, int T, int B);

/* Backward through T steps, for the forward pass that produced h and cache.
 *   dx      out [T, B, In] gradient w.r.t. x (overwritten); NULL to skip
 *   g       out parameter gradients, ACCUMULATED (+=) into the views
 *   dh      in  [T, B, H] gradient of the loss w.r.t. h; clobbered
 *   scratch     [cell_scratch_floats] work space
 *   x, h, cache, p: as given to / produced by cell_forward
 */
void cell_backward(float *dx, LayerParams *g, float *dh, float *scratch, const float *x,
                   const float *h, const float *cache, const LayerParams *p,
                   const CellDims *d, int T, int B);

#endif
