/* rng.c - Philox4x32-10 (Salmon et al., SC'11) and helpers (see rng.h). */
#include "rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Philox4x32-10 over `lanes` counters at once: lane l's counter is
 * (c0[l], c1[l], c2[l], c3[l]) and becomes its output. Inlined with a
 * constant lane count, the rounds' loop over lanes vectorises. */
__attribute__((always_inline)) static inline void philox_lanes(uint32_t *c0, uint32_t *c1,
                                                               uint32_t *c2, uint32_t *c3,
                                                               int lanes, uint64_t key)
{
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int r = 0; r < 10; r++) {
        for (int l = 0; l < lanes; l++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0[l];
            uint64_t p1 = (uint64_t)PHILOX_M1 * c2[l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c1[l] = (uint32_t)p1;
            c3[l] = (uint32_t)p0;
            c0[l] = n0;
            c2[l] = n2;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
}

void rng_philox(uint32_t out[4], const uint32_t ctr[4], uint64_t key)
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    philox_lanes(&c0, &c1, &c2, &c3, 1, key);
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* The counter is (a, b, c, d); the purpose selects the key, so streams of
 * different purposes never share a counter space. */
static uint64_t purpose_key(uint64_t seed, RngPurpose purpose)
{
    return seed ^ ((uint64_t)purpose * 0x9E3779B97F4A7C15ull);
}

static void rng_block(uint32_t out[4], uint64_t seed, RngPurpose purpose, uint32_t a,
                      uint32_t b, uint32_t c, uint32_t d)
{
    uint32_t ctr[4] = {a, b, c, d};
    rng_philox(out, ctr, purpose_key(seed, purpose));
}

void rng_uniform4(float out[4], uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b,
                  uint32_t c, uint32_t d)
{
    uint32_t r[4];
    rng_block(r, seed, purpose, a, b, c, d);
    for (int i = 0; i < 4; i++) out[i] = (float)(r[i] >> 8) * (1.0f / 16777216.0f);
}

double rng_uniform_f64(uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t r[4];
    rng_block(r, seed, purpose, a, b, c, 0);
    uint64_t bits = ((uint64_t)r[0] << 21) ^ (uint64_t)r[1];
    return (double)(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

double rng_normal(uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t r[4];
    rng_block(r, seed, purpose, a, b, c, 1);
    double u1 = ((double)r[0] + 1.0) * (1.0 / 4294967297.0); /* (0, 1] */
    double u2 = (double)r[1] * (1.0 / 4294967296.0);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Lemire's rejection on 64 bits: the draw (hi, lo) taken to [0, n) in *out;
 * 0 when it is rejected (a fresh draw is wanted). */
static int below_of(uint64_t *out, uint32_t hi, uint32_t lo, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)(((uint64_t)hi << 32) | lo) * n;
    uint64_t low = (uint64_t)m;
    *out = (uint64_t)(m >> 64);
    return low >= n || low >= (0 - n) % n;
}

uint64_t rng_below(uint64_t n, uint64_t seed, RngPurpose purpose, uint32_t a, uint32_t b,
                   uint32_t c)
{
    /* retrying with a fresh counter word */
    for (uint32_t attempt = 0;; attempt++) {
        uint32_t r[4];
        uint64_t out;
        rng_block(r, seed, purpose, a, b, c, 2 + attempt);
        if (below_of(&out, r[0], r[1], n)) return out;
    }
}

#define SHUFFLE_LANES 16
#define SHUFFLE_BLOCK 512 /* draws made ahead of the swaps */
#define SHUFFLE_AHEAD 16  /* swaps prefetched ahead */

/* j[i - lo] = rng_below(i + 1, seed, purpose, a, (uint32_t)i, (uint32_t)(i >> 32))
 * for i in [lo, hi), hi - lo <= SHUFFLE_BLOCK: rng_below's first attempt for
 * SHUFFLE_LANES positions at once; a rejected draw (rare) is redone by
 * rng_below itself. */
static void shuffle_draws(uint64_t *j, size_t lo, size_t hi, uint64_t seed, RngPurpose purpose,
                          uint32_t a)
{
    const uint64_t key = purpose_key(seed, purpose);
    for (size_t i0 = lo; i0 < hi; i0 += SHUFFLE_LANES) {
        uint32_t c0[SHUFFLE_LANES], c1[SHUFFLE_LANES], c2[SHUFFLE_LANES], c3[SHUFFLE_LANES];
        for (int l = 0; l < SHUFFLE_LANES; l++) {
            const uint64_t i = (uint64_t)i0 + (uint64_t)l;
            c0[l] = a;
            c1[l] = (uint32_t)i;
            c2[l] = (uint32_t)(i >> 32);
            c3[l] = 2; /* rng_below's first attempt */
        }
        philox_lanes(c0, c1, c2, c3, SHUFFLE_LANES, key);
        for (int l = 0; l < SHUFFLE_LANES && i0 + (size_t)l < hi; l++) {
            const uint64_t i = (uint64_t)i0 + (uint64_t)l;
            if (!below_of(&j[i - lo], c0[l], c1[l], i + 1))
                j[i - lo] = rng_below(i + 1, seed, purpose, a, (uint32_t)i, (uint32_t)(i >> 32));
        }
    }
}

void rng_shuffle(size_t *order, size_t n, uint64_t seed, RngPurpose purpose, uint32_t a)
{
    uint64_t j[SHUFFLE_BLOCK];
    for (size_t hi = n; hi > 1;) {
        const size_t lo = hi > SHUFFLE_BLOCK ? hi - SHUFFLE_BLOCK : 0;
        shuffle_draws(j, lo, hi, seed, purpose, a);
        for (size_t i = hi - 1; i >= lo && i > 0; i--) {
            if (i >= lo + SHUFFLE_AHEAD) __builtin_prefetch(&order[j[i - SHUFFLE_AHEAD - lo]], 1);
            const size_t k = (size_t)j[i - lo], t = order[i];
            order[i] = order[k];
            order[k] = t;
        }
        hi = lo;
    }
}

float rng_uniform_at(uint64_t seed, uint64_t i, float lo, float hi)
{
    float u[4];
    rng_uniform4(u, seed, RNG_DATAGEN, 0xABCDu, (uint32_t)(i >> 2), (uint32_t)(i >> 34), 0);
    return lo + (hi - lo) * u[i & 3];
}
