/* test_rng.c - the counter-based generator: Philox4x32-10 against the
 * known-answer vectors of its authors (Random123's kat_vectors), and
 * rng_shuffle equal to the plain Fisher-Yates loop over rng_below that it
 * replaces (its draws made 16 at a time, in blocks of 512), for lengths
 * around the lane and block sizes, several seeds and epochs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rng.h"

static void philox_known_answers(void **state)
{
    (void)state;
    const struct {
        uint32_t ctr[4];
        uint64_t key; /* k0 | k1 << 32 */
        uint32_t out[4];
    } kat[] = {
        {{0, 0, 0, 0}, 0, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
        {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
         0xffffffffffffffffull,
         {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
        {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
         0x299f31d0a4093822ull,
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        rng_philox(out, kat[i].ctr, kat[i].key);
        assert_memory_equal(out, kat[i].out, sizeof out);
    }
}

/* The loop rng_shuffle must equal (epochplan.c's before it). */
static void shuffle_reference(size_t *order, size_t n, uint64_t seed, uint32_t a)
{
    for (size_t i = n - 1; n > 1 && i > 0; i--) {
        size_t j = (size_t)rng_below(i + 1, seed, RNG_SHUFFLE, a, (uint32_t)i,
                                     (uint32_t)(i >> 32));
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void shuffle_equals_fisher_yates(void **state)
{
    (void)state;
    const size_t lengths[] = {0, 1, 2, 3, 15, 16, 17, 511, 512, 513, 1024, 1025, 5000, 100003};
    const uint64_t seeds[] = {0, 3, 0xfedcba9876543210ull};
    size_t *got = malloc(100003 * sizeof(size_t)), *want = malloc(100003 * sizeof(size_t));
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++)
        for (size_t si = 0; si < sizeof seeds / sizeof seeds[0]; si++)
            for (uint32_t epoch = 1; epoch <= 2; epoch++) {
                const size_t n = lengths[li];
                for (size_t i = 0; i < n; i++) got[i] = want[i] = i * 7 + 1;
                shuffle_reference(want, n, seeds[si], epoch);
                rng_shuffle(got, n, seeds[si], RNG_SHUFFLE, epoch);
                assert_memory_equal(got, want, (n ? n : 1) * sizeof(size_t));
            }
    /* another purpose is another permutation */
    for (size_t i = 0; i < 1000; i++) got[i] = want[i] = i;
    rng_shuffle(got, 1000, 3, RNG_SHUFFLE, 1);
    rng_shuffle(want, 1000, 3, RNG_DROPOUT, 1);
    assert_true(memcmp(got, want, 1000 * sizeof(size_t)) != 0);
    free(got);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(philox_known_answers),
        cmocka_unit_test(shuffle_equals_fisher_yates),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
