/* generate.h - `rnn_dist generate`: sample text from a next-token model (a
 * checkpoint with token input and per-step class targets over its own
 * vocabulary, as trained on a scripts/text2h5.py dataset).
 *
 * Each new token is drawn from softmax(logits / temperature) of the model's
 * output at the last step of the text so far (its last `context` tokens),
 * truncated to the top_k most likely; temperature 0 takes the most likely
 * (greedy). The draw for the i-th new token is the counter-based
 * rng_uniform_f64(seed, RNG_GENERATE, i, 0, 0): the text is a pure function
 * of the checkpoint, the vocabulary, the options and the seed.
 */
#ifndef RNN_GENERATE_H
#define RNN_GENERATE_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* Context used when GenerateSpec.context is 0. */
#define GENERATE_CONTEXT 256

typedef struct GenerateSpec {
    const char *checkpoint; /* an rnn_dist checkpoint */
    const char *data;       /* F.h5[:/group] holding `vocab`; NULL: the checkpoint's
                             * training data */
    const char *prime;      /* the text to continue, at least one token */
    long length;            /* tokens to generate, >= 0 */
    double temperature;     /* >= 0; 0: greedy */
    long top_k;             /* >= 0; 0: every token */
    uint64_t seed;
    long context;           /* tokens the model sees per step, >= 1 (0: GENERATE_CONTEXT) */
} GenerateSpec;

/* Read the model and the vocabulary, continue g->prime by g->length tokens
 * and write the prime, the new text and a newline to out. 0, or EXIT_USAGE
 * (one line in e) for a checkpoint that is not a next-token model, a missing
 * vocabulary or one of another size, a prime that is empty or holds a
 * character not in the vocabulary. */
int generate_run(FILE *out, const GenerateSpec *g, Error *e);

/* A candidate token (generate_pick's scratch). */
typedef struct GenChoice {
    float logit;
    int id;
} GenChoice;

/* The token drawn from logits[0 .. n): temperature 0 (or top_k 1) gives the
 * argmax (the lowest id on a tie); otherwise the tokens are ranked by logit
 * (ties: lower id first), the first top_k kept (0: all), and the one where
 * the cumulative softmax(logit / temperature) first exceeds u (in [0, 1))
 * times the total is taken. scratch: [n]. */
int generate_pick(GenChoice *scratch, const float *logits, int n, double temperature, long top_k,
                  double u);

#endif
