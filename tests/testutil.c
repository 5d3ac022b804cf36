/* testutil.c - helpers shared by the cmocka tests (see testutil.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "rng.h"

float tu_uniform(uint64_t seed, uint64_t i, float lo, float hi)
{
    float u[4];
    rng_uniform4(u, seed, RNG_DATAGEN, 0xABCDu, (uint32_t)(i >> 2), (uint32_t)(i >> 34), 0);
    return lo + (hi - lo) * u[i & 3];
}

void tu_batch_random(TestBatch *tb, const ModelSpec *s, int T, int B, int varied,
                     uint64_t seed)
{
    size_t TB = (size_t)T * B, k = 0;
    tb->x = xalloc_floats(TB * (s->features ? s->features : 1));
    tb->tokens = xcalloc(TB, sizeof(int32_t));
    tb->lengths = xcalloc(B, sizeof(int32_t));
    tb->y_class = xcalloc(TB, sizeof(int32_t));
    tb->y_value = xalloc_floats(TB * s->out);
    tb->sample = xcalloc(B, sizeof(uint32_t));
    for (size_t i = 0; i < TB * (s->features ? s->features : 1); i++)
        tb->x[i] = tu_uniform(seed, k++, -1.0f, 1.0f);
    for (size_t i = 0; i < TB; i++) {
        tb->tokens[i] = (int32_t)(tu_uniform(seed, k++, 0.0f, 1.0f) * s->vocab);
        if (s->vocab && tb->tokens[i] >= s->vocab) tb->tokens[i] = s->vocab - 1;
        tb->y_class[i] = (int32_t)(tu_uniform(seed, k++, 0.0f, 1.0f) * s->out);
        if (tb->y_class[i] >= s->out) tb->y_class[i] = s->out - 1;
    }
    for (size_t i = 0; i < TB * s->out; i++) tb->y_value[i] = tu_uniform(seed, k++, -1.0f, 1.0f);
    for (int i = 0; i < B; i++) {
        int len = T;
        if (varied && i > 0) len = 1 + (int)(tu_uniform(seed, k++, 0.0f, 1.0f) * T);
        tb->lengths[i] = len > T ? T : len;
        tb->sample[i] = (uint32_t)(100 + 7 * i);
    }
    Batch b = {B, T, s->input == INPUT_DENSE ? tb->x : NULL,
               s->input == INPUT_TOKENS ? tb->tokens : NULL, tb->lengths,
               s->loss == LOSS_CE ? tb->y_class : NULL, s->loss == LOSS_MSE ? tb->y_value : NULL,
               tb->sample};
    tb->b = b;
}

void tu_batch_free(TestBatch *tb)
{
    free(tb->x);
    free(tb->tokens);
    free(tb->lengths);
    free(tb->y_class);
    free(tb->y_value);
    free(tb->sample);
}

const char *tu_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("TESTS_DIR");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests", rel);
    return buf;
}
