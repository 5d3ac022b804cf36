/* checkpoint_attrs.c - the model and training-state attributes of a
 * checkpoint, from their tables (see checkpoint_attrs.h). */
#include "checkpoint_attrs.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

/* ---- the model spec ------------------------------------------------------ */

typedef enum SpecType { SPEC_ENUM, SPEC_INT, SPEC_REAL } SpecType;

/* Which models a field is compared for (checkpoint_attrs_spec_mismatch). */
typedef enum SpecApplies { FOR_ALL, FOR_RNN_CELL, FOR_TOKENS, FOR_DENSE, FOR_NONE } SpecApplies;

typedef struct SpecField {
    const char *name;        /* attribute name */
    SpecType type;           /* enums are stored by name */
    size_t offset;           /* in ModelSpec: an int (or enum) field, a float for SPEC_REAL */
    const EnumNames *names;  /* SPEC_ENUM */
    int lo, hi;              /* SPEC_INT: the accepted range */
    SpecApplies applies;
    int since;               /* 1: added later; missing (an older file) reads as 0 */
} SpecField;

_Static_assert(sizeof(CellKind) == sizeof(int) && sizeof(Nonlin) == sizeof(int) &&
                   sizeof(InputKind) == sizeof(int) && sizeof(LossKind) == sizeof(int) &&
                   sizeof(TargetMode) == sizeof(int),
               "ModelSpec's enums are read and written as int");

#define SPEC_AT(f) offsetof(ModelSpec, f)
/* In the order they are written; read and compared enums first, then the
 * integers (so the first missing or differing one is named as before). */
static const SpecField SPEC[] = {
    {"cell", SPEC_ENUM, SPEC_AT(cell), &CELL_KIND_NAMES, 0, 0, FOR_ALL, 0},
    {"nonlinearity", SPEC_ENUM, SPEC_AT(act), &NONLIN_NAMES, 0, 0, FOR_RNN_CELL, 0},
    {"input", SPEC_ENUM, SPEC_AT(input), &INPUT_KIND_NAMES, 0, 0, FOR_ALL, 0},
    {"vocab_size", SPEC_INT, SPEC_AT(vocab), NULL, 0, 100000000, FOR_TOKENS, 0},
    {"embed", SPEC_INT, SPEC_AT(embed), NULL, 0, 65536, FOR_TOKENS, 0},
    {"features", SPEC_INT, SPEC_AT(features), NULL, 0, 1000000, FOR_DENSE, 0},
    {"hidden", SPEC_INT, SPEC_AT(hidden), NULL, 1, 65536, FOR_ALL, 0},
    {"layers", SPEC_INT, SPEC_AT(layers), NULL, 1, MODEL_MAX_LAYERS, FOR_ALL, 0},
    {"out", SPEC_INT, SPEC_AT(out), NULL, 1, 10000000, FOR_ALL, 0},
    {"loss", SPEC_ENUM, SPEC_AT(loss), &LOSS_KIND_NAMES, 0, 0, FOR_ALL, 0},
    {"target", SPEC_ENUM, SPEC_AT(target), &TARGET_MODE_NAMES, 0, 0, FOR_ALL, 0},
    {"dropout", SPEC_REAL, SPEC_AT(dropout), NULL, 0, 0, FOR_NONE, 0},
    {"out_dropout", SPEC_REAL, SPEC_AT(out_dropout), NULL, 0, 0, FOR_NONE, 0},
    {"bidirectional", SPEC_INT, SPEC_AT(bidirectional), NULL, 0, 1, FOR_ALL, 1},
};
#define NSPEC ((int)(sizeof SPEC / sizeof SPEC[0]))

static int spec_int(const ModelSpec *s, const SpecField *d)
{
    return *(const int *)((const char *)s + d->offset);
}

int checkpoint_attrs_write_spec(hid_t f, const ModelSpec *s)
{
    int rc = h5io_write_attr_i64(f, "/", "format_version", CHECKPOINT_FORMAT);
    for (int i = 0; i < NSPEC; i++) {
        const SpecField *d = &SPEC[i];
        if (d->type == SPEC_ENUM)
            rc |= h5io_write_attr_str(f, "/", d->name, types_enum_name(d->names, spec_int(s, d)));
        else if (d->type == SPEC_INT)
            rc |= h5io_write_attr_i64(f, "/", d->name, spec_int(s, d));
        else
            rc |= h5io_write_attr_f64(f, "/", d->name,
                                      *(const float *)((const char *)s + d->offset));
    }
    return rc;
}

/* One enum or integer attribute into its int field of s. */
static int read_spec_field(ModelSpec *s, hid_t f, const SpecField *d, const char *path, Error *e)
{
    int *v = (int *)((char *)s + d->offset);
    char text[64];
    int64_t x;
    int missing = d->type == SPEC_ENUM ? h5io_read_attr_str(text, sizeof text, f, "/", d->name)
                                       : h5io_read_attr_i64(&x, f, "/", d->name);
    if (missing && d->since) {
        *v = 0;
        return 0;
    }
    if (missing)
        return error_set(e, EXIT_USAGE, "%s: checkpoint attribute '%s' is missing", path,
                         d->name);
    if (d->type == SPEC_ENUM) {
        *v = types_enum_index(d->names, text);
        if (*v < 0)
            return error_set(e, EXIT_USAGE, "%s: checkpoint attribute %s = '%s' is unknown",
                             path, d->name, text);
        return 0;
    }
    if (x < d->lo || x > d->hi)
        return error_set(e, EXIT_USAGE, "%s: checkpoint attribute %s = %lld is outside %d..%d",
                         path, d->name, (long long)x, d->lo, d->hi);
    *v = (int)x;
    return 0;
}

int checkpoint_attrs_read_spec(ModelSpec *s, hid_t f, const char *path, Error *e)
{
    memset(s, 0, sizeof *s);
    for (SpecType pass = SPEC_ENUM; pass <= SPEC_INT; pass++)
        for (int i = 0; i < NSPEC; i++)
            if (SPEC[i].type == pass && read_spec_field(s, f, &SPEC[i], path, e))
                return EXIT_USAGE;
    for (int i = 0; i < NSPEC; i++) {
        double d = 0;
        if (SPEC[i].type == SPEC_REAL && h5io_read_attr_f64(&d, f, "/", SPEC[i].name) == 0)
            *(float *)((char *)s + SPEC[i].offset) = (float)d;
    }
    if (s->input == INPUT_TOKENS && (s->vocab < 1 || s->embed < 1))
        return error_set(e, EXIT_USAGE, "%s: token model needs vocab_size and embed >= 1", path);
    if (s->input == INPUT_DENSE && s->features < 1)
        return error_set(e, EXIT_USAGE, "%s: dense model needs features >= 1", path);
    return 0;
}

/* Is field d compared for this run's model? */
static int spec_applies(const SpecField *d, const ModelSpec *run)
{
    switch (d->applies) {
    case FOR_ALL: return 1;
    case FOR_RNN_CELL: return run->cell == CELL_RNN;
    case FOR_TOKENS: return run->input == INPUT_TOKENS;
    case FOR_DENSE: return run->input == INPUT_DENSE;
    case FOR_NONE: return 0;
    }
    return 0;
}

int checkpoint_attrs_spec_mismatch(const ModelSpec *run, const ModelSpec *stored,
                                   const char *path, Error *e)
{
    for (SpecType pass = SPEC_ENUM; pass <= SPEC_INT; pass++)
        for (int i = 0; i < NSPEC; i++) {
            const SpecField *d = &SPEC[i];
            int a = spec_int(run, d), b = spec_int(stored, d);
            if (d->type != pass || !spec_applies(d, run) || a == b) continue;
            if (pass == SPEC_ENUM)
                return error_set(e, EXIT_USAGE, "%s: checkpoint is of another model: %s is "
                                 "'%s' there, '%s' in this run", path, d->name,
                                 types_enum_name(d->names, b), types_enum_name(d->names, a));
            return error_set(e, EXIT_USAGE, "%s: checkpoint is of another model: %s is %lld "
                             "there, %lld in this run", path, d->name, (long long)b,
                             (long long)a);
        }
    return 0;
}

/* ---- the training state -------------------------------------------------- */

int checkpoint_attrs_write_state(hid_t f, const TrainState *st)
{
    int n, rc = 0;
    const StateField *fd = trainstate_fields(&n);
    for (int i = 0; i < n; i++) {
        const void *v = (const char *)st + fd[i].offset;
        char hex[24];
        switch (fd[i].type) {
        case STATE_I64: rc |= h5io_write_attr_i64(f, "/", fd[i].name, *(const int64_t *)v); break;
        case STATE_U64:
            rc |= h5io_write_attr_i64(f, "/", fd[i].name, (int64_t) * (const uint64_t *)v);
            break;
        case STATE_F64: rc |= h5io_write_attr_f64(f, "/", fd[i].name, *(const double *)v); break;
        case STATE_HEX:
            snprintf(hex, sizeof hex, "%016llx", (unsigned long long)*(const uint64_t *)v);
            rc |= h5io_write_attr_str(f, "/", fd[i].name, hex);
            break;
        case STATE_STR: rc |= h5io_write_attr_str(f, "/", fd[i].name, (const char *)v); break;
        }
    }
    return rc;
}

/* Read field d of st from f; on failure it holds d->missing (or ""). */
static int read_state_field(TrainState *st, hid_t f, const StateField *d)
{
    void *v = (char *)st + d->offset;
    char hex[40];
    int rc = -1;
    switch (d->type) {
    case STATE_I64:
    case STATE_U64:
        rc = h5io_read_attr_i64((int64_t *)v, f, "/", d->name);
        if (rc) *(int64_t *)v = d->missing;
        break;
    case STATE_F64:
        rc = h5io_read_attr_f64((double *)v, f, "/", d->name);
        if (rc) *(double *)v = (double)d->missing;
        break;
    case STATE_HEX:
        rc = h5io_read_attr_str(hex, sizeof hex, f, "/", d->name);
        *(uint64_t *)v = rc ? (uint64_t)d->missing : strtoull(hex, NULL, 16);
        break;
    case STATE_STR:
        rc = h5io_read_attr_str((char *)v, d->size, f, "/", d->name);
        if (rc) *(char *)v = '\0';
        break;
    }
    return rc;
}

int checkpoint_attrs_read_state(TrainState *st, hid_t f, const char *path, Error *e)
{
    int n;
    const StateField *fd = trainstate_fields(&n);
    memset(st, 0, sizeof *st);
    for (int i = 0; i < n; i++)
        if (read_state_field(st, f, &fd[i]) && fd[i].required)
            return error_set(e, EXIT_USAGE, "%s: training state attributes are missing "
                             "(not a checkpoint of rnn_dist train?)", path);
    if (st->epoch < 0 || st->step < 0 || st->batch_in_epoch < 0)
        return error_set(e, EXIT_USAGE, "%s: negative epoch/step in checkpoint", path);
    return 0;
}

uint64_t checkpoint_attrs_run_id(hid_t f)
{
    int n;
    const StateField *fd = trainstate_fields(&n);
    TrainState st;
    for (int i = 0; i < n; i++)
        if (strcmp(fd[i].name, "run_id") == 0) {
            read_state_field(&st, f, &fd[i]);
            return st.run_id;
        }
    return 0;
}
