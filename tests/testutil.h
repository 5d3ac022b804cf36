/* testutil.h - helpers shared by the cmocka tests. */
#ifndef RNN_TESTUTIL_H
#define RNN_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* A batch and the arrays behind it, owned by the struct. */
typedef struct TestBatch {
    Batch b;
    float *x;
    int32_t *tokens, *lengths, *y_class;
    float *y_value;
    uint32_t *sample;
} TestBatch;

/* Random batch of B sequences x T steps for spec; varied = 1 gives random
 * lengths in 1..T (at least one sequence of length T), else all T. */
void tu_batch_random(TestBatch *tb, const ModelSpec *spec, int T, int B, int varied,
                     uint64_t seed);
void tu_batch_free(TestBatch *tb);

/* Uniform float in [lo, hi) from (seed, i). */
float tu_uniform(uint64_t seed, uint64_t i, float lo, float hi);

/* Absolute path of a file under tests/ (uses the TESTS_DIR environment
 * variable, default "tests"). Returns a static buffer. */
const char *tu_path(const char *rel);

#endif
