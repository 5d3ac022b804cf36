/* test_generate.c - generate's draw (generate_pick: greedy, ties, top-k,
 * temperature, u mapped through the cumulative softmax) and the vocabulary
 * (vocab_split of UTF-8 and bytes, vocab_encode and its refusals). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "generate.h"
#include "vocab.h"

static void test_greedy_and_ties(void **state)
{
    (void)state;
    GenChoice s[4];
    const float l[4] = {1.0f, 3.0f, 3.0f, -2.0f};
    assert_int_equal(generate_pick(s, l, 4, 0.0, 0, 0.99), 1); /* lowest id of the tie */
    assert_int_equal(generate_pick(s, l, 4, 1.0, 1, 0.99), 1); /* top-k 1 = greedy */
    assert_int_equal(generate_pick(s, l, 4, 5.0, 1, 0.0), 1);
}

static void test_cumulative_softmax(void **state)
{
    (void)state;
    GenChoice s[3];
    const float l[3] = {0.0f, (float)log(3.0), 0.0f}; /* p = 0.2, 0.6, 0.2 */
    /* ranked: id 1 (0.6), id 0 (0.2), id 2 (0.2) */
    assert_int_equal(generate_pick(s, l, 3, 1.0, 0, 0.0), 1);
    assert_int_equal(generate_pick(s, l, 3, 1.0, 0, 0.59), 1);
    assert_int_equal(generate_pick(s, l, 3, 1.0, 0, 0.61), 0);
    assert_int_equal(generate_pick(s, l, 3, 1.0, 0, 0.79), 0);
    assert_int_equal(generate_pick(s, l, 3, 1.0, 0, 0.81), 2);
    assert_int_equal(generate_pick(s, l, 3, 1.0, 0, 0.999999), 2);
    /* top-k 2 keeps ids 1 and 0: p = 0.75, 0.25 */
    assert_int_equal(generate_pick(s, l, 3, 1.0, 2, 0.74), 1);
    assert_int_equal(generate_pick(s, l, 3, 1.0, 2, 0.76), 0);
    assert_int_equal(generate_pick(s, l, 3, 1.0, 2, 0.999999), 0);
    /* temperature 2 flattens: p ~ 0.268, 0.464, 0.268 */
    assert_int_equal(generate_pick(s, l, 3, 2.0, 0, 0.45), 1);
    assert_int_equal(generate_pick(s, l, 3, 2.0, 0, 0.48), 0);
}

/* A vocabulary over the given bytes (owned copies). */
static void make_vocab(Vocab *v, const char *units, size_t n, int byte_level)
{
    memset(v, 0, sizeof *v);
    v->bytes = malloc(n);
    memcpy(v->bytes, units, n);
    v->nbytes = n;
    v->byte_level = byte_level;
}

static void test_vocab_utf8(void **state)
{
    (void)state;
    Vocab v;
    Error e = {0, ""};
    make_vocab(&v, "\n ab\xc3\xa9\xe2\x82\xac", 9, 0); /* \n, ' ', a, b, é, € */
    assert_int_equal(vocab_split(&v, "v", &e), 0);
    assert_int_equal(v.size, 6);
    int32_t *ids = NULL;
    size_t n = 0;
    assert_int_equal(vocab_encode(&ids, &n, &v, "b\xe2\x82\xac a\xc3\xa9\n", "--prime", &e), 0);
    const int32_t want[] = {3, 5, 1, 2, 4, 0};
    assert_int_equal(n, 6);
    assert_memory_equal(ids, want, sizeof want);
    free(ids);
    assert_int_equal(vocab_encode(&ids, &n, &v, "ax", "--prime", &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "'x' (U+0078, at byte 1) is not in the vocabulary"));
    assert_int_equal(vocab_encode(&ids, &n, &v, "a\xc3", "--prime", &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "not UTF-8 at byte 1"));
    vocab_free(&v);
    make_vocab(&v, "ab\xff", 3, 0); /* not UTF-8 at char level */
    assert_int_equal(vocab_split(&v, "v.h5", &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "v.h5: attribute 'vocab' is not UTF-8 at byte 2"));
    vocab_free(&v);
    make_vocab(&v, "\xc0\xaf", 2, 0); /* an overlong '/' */
    assert_int_equal(vocab_split(&v, "v.h5", &e), EXIT_USAGE);
    vocab_free(&v);
}

static void test_vocab_bytes(void **state)
{
    (void)state;
    Vocab v;
    Error e = {0, ""};
    make_vocab(&v, "\x00" "a\xe9\xff", 4, 1);
    assert_int_equal(vocab_split(&v, "v", &e), 0);
    assert_int_equal(v.size, 4);
    int32_t *ids = NULL;
    size_t n = 0;
    assert_int_equal(vocab_encode(&ids, &n, &v, "\xff\xe9" "a", "--prime", &e), 0);
    const int32_t want[] = {3, 2, 1};
    assert_int_equal(n, 3);
    assert_memory_equal(ids, want, sizeof want);
    free(ids);
    assert_int_equal(vocab_encode(&ids, &n, &v, "ab", "--prime", &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "byte 0x62 (at byte 1) is not in the vocabulary"));
    vocab_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy_and_ties),
        cmocka_unit_test(test_cumulative_softmax),
        cmocka_unit_test(test_vocab_utf8),
        cmocka_unit_test(test_vocab_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
