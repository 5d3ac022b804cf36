/* cell.h - recurrent cells (Elman RNN, LSTM, GRU): forward and backward
 * through time for one layer over a whole batch.
 *
 * Layout: time-major. A sequence batch is [T, B, n] (row t*B + b). Weights
 * are PyTorch's: w_ih [G*H, In], w_hh [G*H, H], b_ih [G*H], b_hh [G*H], with
 * G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: gates r, z, n).
 * The initial hidden (and cell) state is zero, as nn.RNN's default, or given
 * (state0), as nn.RNN(x, h0) / nn.LSTM(x, (h0, c0)): a state is [B, H] (h)
 * for RNN and GRU, [2, B, H] (h, then c) for LSTM, cell_state_floats() floats.
 * A given state is detached, as a truncated-BPTT chunk's: the parameter
 * gradients take every term through which it enters the first step, and no
 * gradient w.r.t. it is produced. cell_state_final() gives the state after
 * the last step, to start the next chunk from (the chunked forward passes give
 * the same h as one forward over the whole sequence).
 *
 * Speed: the input projection of all T steps is one GEMM, each step's
 * recurrent projection of all gates is one GEMM, and the weight gradients are
 * GEMMs over the whole sequence. The recurrent GEMMs use W_hh packed once per
 * pass (gemm.h) where the CPU has AVX2 + FMA, OpenBLAS elsewhere. The caller
 * owns every buffer; sizes come from cell_cache_floats() and
 * cell_scratch_floats().
 */
#ifndef RNN_CELL_H
#define RNN_CELL_H

#include <stddef.h>

#include "gemm.h"
#include "gemmprec.h"
#include "types.h"

/* fn(ctx), called by cell_backward once per time step (and between its
 * weight-gradient products), so that transfers started before the pass
 * (the all-reduce of the layers above, allreduce.h) move on while it
 * computes; fn NULL: nothing is called. */
typedef struct CellPoke {
    void (*fn)(void *ctx);
    void *ctx;
} CellPoke;

/* The shape of one layer, and how its pass runs. */
typedef struct CellDims {
    CellKind kind;
    Nonlin act;     /* CELL_RNN only */
    int in;         /* input features of this layer */
    int hidden;     /* H */
    GemmIsa isa;    /* the kernel of its products (gemm.h): the model's choice */
    GemmBf16 bf16;  /* precision bf16: the kernel of its products instead
                     * (gemmprec.h); GEMM_BF16_OFF: fp32 on isa */
    GemmBf16 bf16_in; /* the kernel of the forward input projection x W_ih^T:
                       * bf16, or GEMM_BF16_OFF for fp32 on isa (layer 0:
                       * the data's own values, model_layer_dims) */
    CellPoke poke;  /* backward only; {NULL, NULL}: none */
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

/* Floats of a state (state0, cell_state_final): B*H, 2*B*H for LSTM. */
size_t cell_state_floats(const CellDims *d, int B);

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
 *   h      out [T, B, H]  hidden state after each step (the layer's output)
 *   cache  out [cell_cache_floats]  activations kept for the backward pass,
 *              with a copy of the initial state
 *   x      in  [T, B, In]
 *   state0 in  [cell_state_floats] the initial state; NULL: zeros (the first
 *              step's recurrent product is skipped, as before states existed)
 *   p      in  the layer's parameters
 */
void cell_forward(float *h, float *cache, const float *x, const float *state0,
                  const LayerParams *p, const CellDims *d, int T, int B);

/* Backward through T steps, for the forward pass that produced h and cache.
 *   dx      out [T, B, In] gradient w.r.t. x (overwritten); NULL to skip
 *   g       out parameter gradients, ACCUMULATED (+=) into the views
 *   dh      in  [T, B, H] gradient of the loss w.r.t. h; clobbered
 *   scratch     [cell_scratch_floats] work space
 *   state0  in  the pointer given to cell_forward: NULL there must be NULL
 *               here (the zero state's terms are skipped), non-NULL there
 *               non-NULL here. Only that is read: the state's values come from
 *               the cache's copy, so the caller may overwrite its buffer in
 *               between (e.g. with cell_state_final, to carry it on).
 *   x, h, cache, p: as given to / produced by cell_forward
 */
void cell_backward(float *dx, LayerParams *g, float *dh, float *scratch, const float *x,
                   const float *state0, const float *h, const float *cache,
                   const LayerParams *p, const CellDims *d, int T, int B);

/* The state after step T-1 of the forward pass that produced h and cache
 * (same T and B), in state0's layout: h[T-1], and for LSTM c[T-1].
 *   state  out [cell_state_floats]; may be the buffer given as state0, not
 *              part of h or cache */
void cell_state_final(float *state, const float *h, const float *cache, const CellDims *d,
                      int T, int B);

#endif
