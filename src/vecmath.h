/* vecmath.h - element-wise activations over float arrays, in place.
 * Written as plain loops the compiler can vectorise. */
#ifndef RNN_VECMATH_H
#define RNN_VECMATH_H

#include <stddef.h>

/* Compile a hot loop for AVX-512, AVX2+FMA and baseline x86-64, chosen at
 * load time. Results are bit-identical across the variants (no FMA
 * contraction under -std=c11). */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define VEC_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define VEC_CLONES
#endif

/* x[i] = 1 / (1 + exp(-x[i])) for i in 0..n. */
void vec_sigmoid(float *x, size_t n);
/* x[i] = tanh(x[i]) for i in 0..n. */
void vec_tanh(float *x, size_t n);
/* x[i] = exp(x[i]) for i in 0..n (inputs clamped to [-87, 88]). */
void vec_exp(float *x, size_t n);
/* x[i] = max(x[i], 0) for i in 0..n. */
void vec_relu(float *x, size_t n);

/* Per-process compute settings: flush denormals to zero (FTZ/DAZ) and run
 * OpenBLAS on `threads` threads. Call once before training. */
void vec_init_compute(int threads);

#endif
