/* vecmath.h - element-wise activations over float arrays, in place.
 * Written as plain loops the compiler can vectorise. */
#ifndef RNN_VECMATH_H
#define RNN_VECMATH_H

#include <stddef.h>

/* x[i] = 1 / (1 + exp(-x[i])) for i in 0..n. */
void vec_sigmoid(float *x, size_t n);
/* x[i] = tanh(x[i]) for i in 0..n. */
void vec_tanh(float *x, size_t n);
/* x[i] = max(x[i], 0) for i in 0..n. */
void vec_relu(float *x, size_t n);

/* Per-process compute settings: flush denormals to zero (FTZ/DAZ) and run
 * OpenBLAS on `threads` threads. Call once before training. */
void vec_init_compute(int threads);

#endif
