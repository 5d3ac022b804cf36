/* stateful.c - the streams and the carried state of stateful training (see
 * stateful.h). */
#include "stateful.h"

#include <stdlib.h>
#include <string.h>

#include "evaluate.h"

/* Floats of one (layer, S-part) block of a state of B columns: B * H. */
static size_t block(const Stateful *sf, size_t B)
{
    return B * (size_t)sf->spec.hidden;
}

/* S: 2 for LSTM (h, then c), else 1. */
static size_t parts(const Stateful *sf)
{
    return sf->spec.cell == CELL_LSTM ? 2 : 1;
}

int stateful_open(Stateful *sf, Dataset *train, Dataset *val, const ModelSpec *spec,
                  int columns, int bptt, int rank, int ranks, Error *e)
{
    memset(sf, 0, sizeof *sf);
    CHECK(model_dirs(spec) == 1);
    sf->spec = *spec;
    if (stream_open(&sf->train, train, columns, bptt, rank, ranks, e)) return EXIT_USAGE;
    if (val && stream_open(&sf->val, val, columns, bptt, rank, ranks, e)) {
        stream_free(&sf->train);
        return EXIT_USAGE;
    }
    sf->on = 1;
    sf->has_val = val != NULL;
    sf->n = model_state_floats(spec, (int)(sf->train.c1 - sf->train.c0));
    sf->vn = val ? model_state_floats(spec, (int)(sf->val.c1 - sf->val.c0)) : 0;
    /* one float at least: a rank without columns holds an empty state */
    sf->carry = xcalloc(sf->n + 1, sizeof(float));
    sf->next = xcalloc(sf->n + 1, sizeof(float));
    sf->vcarry = xcalloc(sf->vn + 1, sizeof(float));
    return 0;
}

void stateful_reset(Stateful *sf)
{
    memset(sf->carry, 0, sizeof(float) * sf->n);
}

const Batch *stateful_batch(Stateful *sf, int64_t i)
{
    const Batch *b = stream_batch(&sf->train, i);
    return b->B > 0 ? b : NULL;
}

void stateful_keep(Stateful *sf, const Model *m)
{
    if (sf->n) model_state_final(sf->next, m);
}

void stateful_advance(Stateful *sf)
{
    float *t = sf->carry;
    sf->carry = sf->next;
    sf->next = t;
}

LossSums stateful_validate(Stateful *sf, Model *m, const Dist *d)
{
    LossSums sum = {0, 0, 0, 0, 0};
    memset(sf->vcarry, 0, sizeof(float) * sf->vn);
    for (int64_t i = 0; i < sf->val.steps; i++) {
        const Batch *b = stream_batch(&sf->val, i);
        if (b->B == 0) continue;
        model_forward_state(m, b, sf->vcarry, 0, 0, 0);
        LossSums s = model_loss(m, b, 0.0f);
        model_sums_add(&sum, &s);
        model_state_final(sf->vcarry, m);
    }
    evaluate_allreduce(&sum, d);
    return sum;
}

void stateful_dims(size_t dims[4], const Stateful *sf)
{
    dims[0] = (size_t)sf->spec.layers;
    dims[1] = parts(sf);
    dims[2] = sf->train.columns;
    dims[3] = (size_t)sf->spec.hidden;
}

/* Copy between this rank's state [L, S, c1-c0, H] and the global one
 * [L, S, C, H]: to_global 1 writes the rank's columns into global, 0 reads
 * them from it. */
static void map_columns(float *global, float *local, const Stateful *sf, int to_global)
{
    const size_t mine = sf->train.c1 - sf->train.c0, C = sf->train.columns;
    const size_t nblocks = (size_t)sf->spec.layers * parts(sf);
    for (size_t k = 0; k < nblocks; k++) {
        float *g = global + k * block(sf, C) + block(sf, sf->train.c0);
        float *l = local + k * block(sf, mine);
        if (to_global)
            memcpy(g, l, sizeof(float) * block(sf, mine));
        else
            memcpy(l, g, sizeof(float) * block(sf, mine));
    }
}

void stateful_gather(float *global, const Stateful *sf, const Dist *d)
{
    size_t dims[4];
    stateful_dims(dims, sf);
    const size_t total = dims[0] * dims[1] * dims[2] * dims[3];
    memset(global, 0, sizeof(float) * total);
    map_columns(global, sf->carry, sf, 1);
    /* every element comes from one rank, the others add exact zeros */
    dist_allreduce_sum_f32(d, global, total);
}

void stateful_scatter(Stateful *sf, const float *global)
{
    map_columns((float *)global, sf->carry, sf, 0); /* only read in this direction */
}

void stateful_free(Stateful *sf)
{
    stream_free(&sf->train);
    stream_free(&sf->val);
    free(sf->carry);
    free(sf->next);
    free(sf->vcarry);
    memset(sf, 0, sizeof *sf);
}
