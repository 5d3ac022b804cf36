/* rng.h - counter-based random numbers (Philox4x32-10).
 *
 * There is no generator state: every random number is a pure function of a
 * 64-bit seed and a 128-bit counter. Callers build the counter from what the
 * number is for (purpose, step, sample index, layer, time step, unit), so the
 * same number comes out on any rank, in any order, after any resume.
 */
#ifndef RNN_RNG_H
#define RNN_RNG_H

#include <stddef.h>
#include <stdint.h>

/* What a random stream is used for; part of every counter. */
typedef enum RngPurpose {
    RNG_INIT = 1,     /* parameter initialisation: (param index, element) */
    RNG_SHUFFLE = 2,  /* epoch order: (epoch, position) */
    RNG_DROPOUT = 3,  /* dropout masks: (step, sample, layer, time) */
    RNG_DATAGEN = 4,  /* built-in tasks: (task, row, column) */
    RNG_GENERATE = 5  /* generate's draws: (position of the new token) */
} RngPurpose;

/* Philox4x32-10: out[0..4) = bijection of counter ctr[0..4) under key. */
void rng_philox(uint32_t out[4], const uint32_t ctr[4], uint64_t key);

/* Four uniform floats in [0, 1) for (seed, purpose, a, b, c, d).
 * d is usually an element index divided by 4. */
void rng_uniform4(float out[4], uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b,
                  uint32_t c, uint32_t d);

/* One uniform double in [0, 1) (53 random bits) for (seed, purpose, a, b, c). */
double rng_uniform_f64(uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b, uint32_t c);

/* One standard normal double (Box-Muller) for (seed, purpose, a, b, c). */
double rng_normal(uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b, uint32_t c);

/* Element i of a uniform stream in [lo, hi) keyed by seed: synthetic test
 * data (gradient checks, unit tests), independent of the RngPurpose streams. */
float rng_uniform_at(uint64_t seed, uint64_t i, float lo, float hi);

/* Uniform integer in [0, n) without modulo bias, n >= 1. */
uint64_t rng_below(uint64_t n, uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b,
                   uint32_t c);

/* Permute order[0..n) in place exactly as the Fisher-Yates loop
 *   for i = n - 1 down to 1:
 *     swap order[i] and order[rng_below(i + 1, seed, purpose, a, (uint32_t)i,
 *                                       (uint32_t)(i >> 32))]
 * does, faster: the draws are made 16 at a time (Philox's rounds run over
 * lanes the compiler vectorises) and the swaps' rows are prefetched. */
void rng_shuffle(size_t *order, size_t n, uint64_t seed, RngPurpose purpose, uint32_t a);

#endif
