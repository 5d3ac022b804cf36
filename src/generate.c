/* generate.c - sample text from a next-token model (see generate.h). */
#include "generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "dataset.h"
#include "filestamp.h"
#include "model.h"
#include "rng.h"
#include "vocab.h"

/* Is the checkpoint's model a next-token model? */
static int check_model(const ModelSpec *s, const char *path, Error *e)
{
    const char *why = s->input != INPUT_TOKENS ? "dense input, not tokens"
                    : s->loss != LOSS_CE       ? "value targets (mse), not classes"
                    : s->target != TARGET_STEP ? "one target per sequence (target last)"
                    : s->out != s->vocab       ? "classes that are not its tokens"
                                               : NULL;
    if (why)
        return error_set(e, EXIT_USAGE, "%s: generate needs a next-token model (token input, a "
                         "class per step over its own vocabulary); this one has %s", path, why);
    return 0;
}

/* Read the model of the open checkpoint ck into *m (created here). */
static int load_model(Model *m, const H5Input *ck, Error *e)
{
    ModelSpec spec;
    if (checkpoint_read_spec_in(&spec, ck, e) || check_model(&spec, ck->path, e) ||
        checkpoint_check_params_in(&spec, ck, e))
        return EXIT_USAGE;
    model_create(m, &spec);
    if (checkpoint_load_params_in(m, ck, e)) {
        model_free(m);
        return EXIT_USAGE;
    }
    return 0;
}

/* The data file the checkpoint trained on, when it is still there and the
 * same file (size and fingerprint): its path in file[0 .. len). */
static int training_data(char *file, size_t len, const H5Input *ck, Error *e)
{
    TrainState st;
    char *config = NULL;
    if (checkpoint_read_state_in(&st, &config, ck, e)) return EXIT_USAGE;
    free(config);
    if (!st.data.file[0])
        return error_set(e, EXIT_USAGE, "%s names no training data: give --data F.h5 (the text "
                         "dataset with the vocabulary)", ck->path);
    uint64_t hash, bytes;
    Error why;
    if (filestamp_fingerprint(&hash, &bytes, st.data.file, &why))
        return error_set(e, EXIT_USAGE, "%s: its training data cannot be read (%s): give --data "
                         "F.h5 (the text dataset with the vocabulary)", ck->path, why.msg);
    if (hash != st.data.hash || bytes != st.data.bytes)
        return error_set(e, EXIT_USAGE, "%s: its training data %s has changed since: give --data "
                         "F.h5 (the text dataset with the vocabulary)", ck->path, st.data.file);
    snprintf(file, len, "%s", st.data.file);
    return 0;
}

/* The vocabulary of --data, else of the checkpoint's training data; its
 * size must be the model's. */
static int open_vocab(Vocab *v, const GenerateSpec *g, const H5Input *ck, int size, Error *e)
{
    char file[H5IO_PATH], group[256];
    if (!g->data && training_data(file, sizeof file, ck, e)) return EXIT_USAGE;
    H5Input in;
    if (dataset_resolve_in(&in, group, sizeof group, g->data ? g->data : file, ROLE_EVAL, e))
        return EXIT_USAGE;
    int rc = vocab_read_in(v, &in, group, e);
    if (!rc && v->size != size) {
        rc = error_set(e, EXIT_USAGE, "%s: its vocabulary has %d %ss, the model of %s %d: not the "
                       "data it was trained on", in.path, v->size,
                       v->byte_level ? "byte" : "character", ck->path, size);
        vocab_free(v);
    }
    h5io_input_close(&in);
    return rc ? EXIT_USAGE : 0;
}

/* Order candidates by logit, highest first; ties by id. */
static int by_logit(const void *a, const void *b)
{
    const GenChoice *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int generate_pick(GenChoice *scratch, const float *logits, int n, double temperature, long top_k,
                  double u)
{
    if (temperature <= 0.0 || top_k == 1) {
        int best = 0;
        for (int i = 1; i < n; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
    for (int i = 0; i < n; i++) scratch[i] = (GenChoice){logits[i], i};
    qsort(scratch, (size_t)n, sizeof *scratch, by_logit);
    int k = top_k > 0 && top_k < n ? (int)top_k : n;
    double total = 0.0, top = scratch[0].logit;
    for (int i = 0; i < k; i++) total += exp(((double)scratch[i].logit - top) / temperature);
    double goal = u * total, sum = 0.0;
    for (int i = 0; i < k; i++) {
        sum += exp(((double)scratch[i].logit - top) / temperature);
        if (sum > goal) return scratch[i].id;
    }
    return scratch[k - 1].id;
}

/* Continue the n tokens of text[] by g->length (text has room for them),
 * writing each new token to out as it comes. */
static void sample(FILE *out, Model *m, const Vocab *v, int32_t *text, size_t n,
                   const GenerateSpec *g)
{
    size_t context = g->context > 0 ? (size_t)g->context : GENERATE_CONTEXT;
    GenChoice *scratch = xcalloc((size_t)m->spec.out, sizeof *scratch);
    uint32_t sample_row = 0;
    for (long i = 0; i < g->length; i++, n++) {
        int32_t T = (int32_t)(n < context ? n : context);
        Batch b = {.B = 1, .T = T, .tokens = text + n - (size_t)T, .lengths = &T,
                   .sample = &sample_row};
        model_forward(m, &b, 0, 0, 0);
        double u = rng_uniform_f64(g->seed, RNG_GENERATE, (uint32_t)i, 0, 0);
        text[n] = generate_pick(scratch, m->logits + (size_t)(T - 1) * m->spec.out, m->spec.out,
                                g->temperature, g->top_k, u);
        vocab_write(out, v, text[n]);
        fflush(out);
    }
    free(scratch);
}

int generate_run(FILE *out, const GenerateSpec *g, Error *e)
{
    H5Input ck;
    Model m;
    Vocab v = {0};
    if (h5io_input_open(&ck, g->checkpoint, e)) return EXIT_USAGE;
    if (load_model(&m, &ck, e)) {
        h5io_input_close(&ck);
        return EXIT_USAGE;
    }
    int rc = open_vocab(&v, g, &ck, m.spec.vocab, e);
    h5io_input_close(&ck);
    int32_t *prime = NULL;
    size_t n = 0;
    if (!rc && !(rc = vocab_encode(&prime, &n, &v, g->prime, "--prime", e)) && n == 0)
        rc = error_set(e, EXIT_USAGE, "--prime: give at least one character to continue");
    if (!rc) {
        int32_t *text = xcalloc(n + (size_t)g->length, sizeof *text);
        memcpy(text, prime, n * sizeof *text);
        for (size_t i = 0; i < n; i++) vocab_write(out, &v, text[i]);
        sample(out, &m, &v, text, n, g);
        fputc('\n', out);
        fflush(out);
        free(text);
    }
    free(prime);
    vocab_free(&v);
    model_free(&m);
    return rc ? EXIT_USAGE : 0;
}
