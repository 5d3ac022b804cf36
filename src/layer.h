/* layer.h - one recurrent layer in one direction or both (PyTorch's
 * bidirectional=True), over a padded batch that behaves as a packed one.
 *
 * Directions D = 1 or 2. The layer's output is [T, B, D*H]: columns [0, H)
 * the forward direction's state after each step, columns [H, 2H) the reverse
 * direction's. The reverse direction reads each sequence backwards from its
 * own last valid step: for row b of length n = lengths[b], reverse step t
 * (t < n) sees input step n-1-t and its output lands at step n-1-t, as
 * nn.LSTM(bidirectional=True) on a pack_padded_sequence computes it. At the
 * padded steps t >= n the whole output is 0, as pad_packed_sequence fills it
 * (with D = 1 it holds whatever the cell computed there: no valid step of
 * any layer depends on a padded one either way).
 *
 * With D = 1 the layer is exactly cell_forward/cell_backward on the caller's
 * buffers (no copies). With D = 2 each direction runs cell_forward on its own
 * buffers (the reverse one on the input reversed row by row) and the output
 * is assembled from the two; the backward pass splits the output gradient
 * the same way and sums the two input gradients.
 */
#ifndef RNN_LAYER_H
#define RNN_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "cell.h"

#define LAYER_MAX_DIRS 2

/* A float buffer that grows to the largest size asked for (the model's
 * workspace uses it too). Owned. */
typedef struct LayerBuf {
    float *p;
    size_t cap;
} LayerBuf;

/* What one layer keeps from its forward pass for its backward pass. Owned;
 * zero-initialise, release with layer_work_free. */
typedef struct LayerWork {
    LayerBuf cache[LAYER_MAX_DIRS]; /* each direction's cell cache */
    LayerBuf hdir[LAYER_MAX_DIRS];  /* D = 2: [T, B, H] each direction's cell output
                                     * (the reverse one in reversed time) */
    LayerBuf xrev;                  /* D = 2: [T, B, In] the input reversed per row */
} LayerWork;

/* Backward work space shared by all layers. Owned; zero-initialise,
 * release with layer_scratch_free. */
typedef struct LayerScratch {
    LayerBuf cell;                  /* cell_backward's scratch */
    LayerBuf dh[LAYER_MAX_DIRS];    /* D = 2: [T, B, H] each direction's output gradient */
    LayerBuf dxrev;                 /* D = 2: [T, B, In] the reverse direction's dx */
} LayerScratch;

/* p->p grown to at least n floats (contents kept only up to the old size);
 * returns p->p. */
float *layer_buf_grow(LayerBuf *p, size_t n);

/* Release p's buffer (and zero it). */
void layer_buf_free(LayerBuf *p);

/* Release a LayerWork's / LayerScratch's buffers (and zero it). */
void layer_work_free(LayerWork *w);
void layer_scratch_free(LayerScratch *s);

/* Forward through T steps, in D directions.
 *   out     out [T, B, D*H]  the layer's output (see above)
 *   w       out what backward needs (grown as needed)
 *   x       in  [T, B, In]   kept by the caller until layer_backward
 *   state0  in  [cell_state_floats(d, B)] the initial state (detached, as
 *               cell_forward's), D = 1 only; NULL: zeros
 *   p       in  [D]          each direction's parameters
 *   lengths in  [B]          valid steps of each row, 1..T
 */
void layer_forward(float *out, LayerWork *w, const float *x, const float *state0,
                   const LayerParams *p, const int32_t *lengths, const CellDims *d, int dirs,
                   int T, int B);

/* Backward through T steps of the last layer_forward on w.
 *   dx      out [T, B, In] gradient w.r.t. x (overwritten); NULL to skip
 *   g       out [D] parameter gradients, ACCUMULATED (+=)
 *   dout    in  [T, B, D*H] gradient w.r.t. out; clobbered
 *   s           work space (grown as needed)
 *   state0  in  NULL exactly when layer_forward's was (cell_backward's rule:
 *               the forward kept the state's values; the buffer may have changed)
 *   x, out, w, p, lengths: as given to / produced by layer_forward
 */
void layer_backward(float *dx, LayerParams *g, float *dout, LayerScratch *s, const float *x,
                    const float *state0, const float *out, const LayerWork *w,
                    const LayerParams *p, const int32_t *lengths, const CellDims *d, int dirs,
                    int T, int B);

/* Floats layer_forward keeps in a LayerWork, and layer_backward's scratch,
 * for these shapes (memory estimates). */
size_t layer_work_floats(const CellDims *d, int dirs, int T, int B);
size_t layer_scratch_floats(const CellDims *d, int dirs, int T, int B);

#endif
