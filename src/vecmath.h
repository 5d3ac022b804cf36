/* vecmath.h - element-wise activations over float arrays, in place.
 * Written as plain loops the compiler can vectorise. */
#ifndef RNN_VECMATH_H
#define RNN_VECMATH_H

#include <stddef.h>

/* Compile a hot loop for AVX-512, AVX2 and baseline x86-64, chosen at load
 * time by the CPU's features. (Not "arch=haswell": GCC takes that clone only
 * on a CPU that is an Intel Haswell, never on an AMD or a later Intel, which
 * then ran the SSE2 clone.) Results are bit-identical across the variants
 * (no FMA contraction under -std=c11). Not under AddressSanitizer, nor
 * ThreadSanitizer (which crashes in the clones' resolvers, run before its
 * runtime is ready). VEC_CLONED: 1 when VEC_CLONES clones. */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define VEC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define VEC_CLONED 1
#else
#define VEC_CLONES
#define VEC_CLONED 0
#endif

/* x[i] = 1 / (1 + exp(-x[i])) for i in 0..n. */
void vec_sigmoid(float *x, size_t n);
/* x[i] = tanh(x[i]) for i in 0..n. */
void vec_tanh(float *x, size_t n);
/* x[i] = exp(x[i]) for i in 0..n (inputs clamped to [-87, 88]). */
void vec_exp(float *x, size_t n);
/* x[i] = max(x[i], 0) for i in 0..n. */
void vec_relu(float *x, size_t n);

typedef enum VecOp { VEC_SIGMOID, VEC_TANH, VEC_EXP } VecOp;

/* vec_sigmoid, vec_tanh or vec_exp computed `lanes` floats at a time (16:
 * AVX-512, 8: AVX2, 4: baseline; the functions above take the widest this
 * CPU runs), for tests: every width gives the same bits. Returns 0, or -1
 * (x untouched) when this CPU does not run that width. */
int vec_apply_lanes(VecOp op, int lanes, float *x, size_t n);

/* Per-process compute settings: flush denormals to zero (FTZ/DAZ) and run
 * OpenBLAS on `threads` threads. Call once before training. */
void vec_init_compute(int threads);

#endif
