/* trainstate.c - the field table of TrainState (see trainstate.h). */
#include "trainstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(name, type, member, required, missing)                                         \
    {                                                                                         \
        name, type, offsetof(TrainState, member), sizeof(((TrainState *)0)->member), required, \
            missing                                                                           \
    }
#define REQUIRED(type, member) FIELD(#member, type, member, 1, 0)
/* An input's identity (absent before identities: rows -1, the rest 0). */
#define IDENTITY(pre)                                                                         \
    FIELD(#pre "_file", STATE_STR, pre.file, 0, 0),                                          \
        FIELD(#pre "_rows", STATE_I64, pre.rows, 0, -1),                                     \
        FIELD(#pre "_bytes", STATE_U64, pre.bytes, 0, 0),                                    \
        FIELD(#pre "_fingerprint", STATE_HEX, pre.hash, 0, 0)

static const StateField FIELDS[] = {
    REQUIRED(STATE_I64, epoch),
    REQUIRED(STATE_I64, batch_in_epoch),
    REQUIRED(STATE_I64, step),
    REQUIRED(STATE_F64, best_metric),
    REQUIRED(STATE_I64, best_epoch),
    REQUIRED(STATE_I64, bad_epochs),
    REQUIRED(STATE_U64, seed),
    REQUIRED(STATE_I64, world_size),
    REQUIRED(STATE_F64, part_loss),
    REQUIRED(STATE_F64, part_count),
    REQUIRED(STATE_F64, part_correct),
    REQUIRED(STATE_F64, part_abs_err),
    REQUIRED(STATE_F64, part_norm_sum),
    REQUIRED(STATE_I64, part_steps),
    REQUIRED(STATE_I64, part_seqs),
    REQUIRED(STATE_I64, part_skipped),
    FIELD("run_id", STATE_HEX, run_id, 0, 0),
    IDENTITY(data),
    IDENTITY(val),
    /* absent before lr schedules: such a run had none, so the values are unused */
    FIELD("lr_now", STATE_F64, sched.lr, 0, 0),
    FIELD("lr_best", STATE_F64, sched.best, 0, 0),
    FIELD("lr_bad_epochs", STATE_I64, sched.bad_epochs, 0, 0),
    /* absent before class weights: read as -1.0 (TRAINSTATE_WEIGHT_UNKNOWN),
     * which epoch_start (train.c) takes as part_count */
    FIELD("part_weight", STATE_F64, part_weight, 0, -1),
};

const StateField *trainstate_fields(int *count)
{
    *count = (int)(sizeof FIELDS / sizeof FIELDS[0]);
    return FIELDS;
}

void trainstate_field_text(char *out, size_t len, const TrainState *st, const StateField *f)
{
    const char *p = (const char *)st + f->offset;
    int64_t i;
    uint64_t u;
    double d;
    switch (f->type) {
    case STATE_I64:
        memcpy(&i, p, sizeof i);
        snprintf(out, len, "%lld", (long long)i);
        return;
    case STATE_U64:
        memcpy(&u, p, sizeof u);
        snprintf(out, len, "%llu", (unsigned long long)u);
        return;
    case STATE_HEX:
        memcpy(&u, p, sizeof u);
        snprintf(out, len, "%016llx", (unsigned long long)u);
        return;
    case STATE_F64:
        memcpy(&d, p, sizeof d);
        /* the shortest form that reads back to the same double */
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(out, len, "%.*g", prec, d);
            if (strtod(out, NULL) == d || d != d) return;
        }
        return;
    case STATE_STR:
        snprintf(out, len, "%.*s", (int)f->size, p);
        return;
    }
}

const char *trainstate_diff(const TrainState *a, const TrainState *b)
{
    int n;
    const StateField *f = trainstate_fields(&n);
    for (int i = 0; i < n; i++) {
        const char *pa = (const char *)a + f[i].offset, *pb = (const char *)b + f[i].offset;
        int same = f[i].type == STATE_STR ? strncmp(pa, pb, f[i].size) == 0
                                          : memcmp(pa, pb, f[i].size) == 0;
        if (!same) return f[i].name;
    }
    return NULL;
}

void trainstate_keep_partial(TrainState *st, int partial, const LossSums *sums, double norm_sum,
                             int64_t steps, int64_t seqs, int64_t skipped)
{
    st->part_loss = partial ? sums->loss : 0;
    st->part_count = partial ? sums->count : 0;
    st->part_weight = partial ? sums->weight : 0;
    st->part_correct = partial ? sums->correct : 0;
    st->part_abs_err = partial ? sums->abs_err : 0;
    st->part_norm_sum = partial ? norm_sum : 0;
    st->part_steps = partial ? steps : 0;
    st->part_seqs = partial ? st->part_seqs + seqs : 0;
    st->part_skipped = partial ? skipped : 0;
}
