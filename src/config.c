/* config.c - the option table and its readers (see config.h). */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "memest.h"

typedef enum OptType { OT_STR, OT_INT, OT_I64, OT_U64, OT_DBL, OT_ENUM, OT_SIZE } OptType;

typedef struct OptDef {
    const char *name;
    OptType type;
    size_t offset;
    const char *def;      /* default, as text */
    const char *choices;  /* OT_ENUM: "a|b|c", value = index */
    double lo, hi;        /* numeric range, inclusive */
    const char *help;
} OptDef;

#define OFF(f) offsetof(Config, f)
#define BIG 1e18

static const OptDef OPTS[] = {
    {"data", OT_STR, OFF(data), "", NULL, 0, 0,
     "training data: F.h5 or F.h5:/group (default: the root if it has 'inputs', else "
     "/train); empty: the built-in counting task"},
    {"val", OT_STR, OFF(val), "", NULL, 0, 0,
     "validation data (default: the /val group of the data file if there is one)"},
    {"val-split", OT_DBL, OFF(val_split), "0", NULL, 0, 0.99,
     "hold out this fraction of the LAST rows of data for validation instead"},
    {"cell", OT_ENUM, OFF(cell), "rnn", "rnn|lstm|gru", 0, 0, "recurrent cell"},
    {"nonlinearity", OT_ENUM, OFF(nonlinearity), "tanh", "tanh|relu", 0, 0,
     "activation of the rnn cell"},
    {"hidden", OT_INT, OFF(hidden), "16", NULL, 1, 65536, "hidden size H"},
    {"layers", OT_INT, OFF(layers), "1", NULL, 1, 16, "stacked recurrent layers"},
    {"dropout", OT_DBL, OFF(dropout), "0", NULL, 0, 0.99,
     "dropout on the outputs of every layer but the last (as nn.RNN)"},
    {"out-dropout", OT_DBL, OFF(out_dropout), "0", NULL, 0, 0.99,
     "dropout on the input of the fc head"},
    {"embed", OT_INT, OFF(embed), "8", NULL, 1, 65536,
     "embedding size for token input (ignored for dense input)"},
    {"target", OT_ENUM, OFF(target), "auto", "auto|step|last", 0, 0,
     "predict at every valid step or at the last valid step; auto: from the targets' shape"},
    {"epochs", OT_INT, OFF(epochs), "10", NULL, 1, 1e9, "passes over the training data"},
    {"batch-size", OT_INT, OFF(batch_size), "32", NULL, 1, 1e9,
     "GLOBAL batch size, summed over all ranks"},
    {"lr", OT_DBL, OFF(lr), "0.01", NULL, 1e-12, 1e6, "learning rate"},
    {"optimizer", OT_ENUM, OFF(optimizer), "adam", "adam|adamw|sgd", 0, 0,
     "as torch.optim (Adam betas 0.9/0.999, eps 1e-8)"},
    {"momentum", OT_DBL, OFF(momentum), "0", NULL, 0, 0.9999, "sgd momentum"},
    {"weight-decay", OT_DBL, OFF(weight_decay), "-1", NULL, -1, 1e6,
     "L2 penalty (adam, sgd) or decoupled decay (adamw); default -1 means torch's "
     "default: 0, or 0.01 for adamw"},
    {"clip-grad-norm", OT_DBL, OFF(clip_grad_norm), "0", NULL, 0, BIG,
     "clip the global gradient norm to this (0: off)"},
    {"patience", OT_INT, OFF(patience), "0", NULL, 0, 1e9,
     "stop after this many epochs without improvement of the monitored metric (0: off)"},
    {"min-delta", OT_DBL, OFF(min_delta), "0", NULL, 0, BIG,
     "smallest change that counts as an improvement"},
    {"monitor", OT_ENUM, OFF(monitor), "val_loss", "val_loss|val_acc", 0, 0,
     "metric for early stopping and best.h5 (without validation data: the training loss or "
     "accuracy)"},
    {"seed", OT_U64, OFF(seed), "1", NULL, 0, 0,
     "seed of initialisation, shuffling and dropout"},
    {"shuffle", OT_INT, OFF(shuffle), "1", NULL, 0, 1, "1: new order each epoch; 0: file order"},
    {"max-steps", OT_I64, OFF(max_steps), "0", NULL, 0, 9e18,
     "stop after this many optimizer steps (0: no limit)"},
    {"run-dir", OT_STR, OFF(run_dir), "", NULL, 0, 0,
     "where config, metrics.csv and checkpoints go (default: runs/<date>-<time>)"},
    {"checkpoint-every", OT_INT, OFF(checkpoint_every), "1", NULL, 0, 1e9,
     "write ckpt-epochNNNN.h5 every this many epochs (0: only last.h5 and best.h5)"},
    {"keep", OT_INT, OFF(keep), "2", NULL, 1, 1e9,
     "numbered checkpoints to keep (last.h5 and best.h5 are always kept)"},
    {"resume", OT_STR, OFF(resume), "", NULL, 0, 0,
     "auto: continue from the newest intact checkpoint of run-dir, if any; or a checkpoint "
     "file"},
    {"init", OT_STR, OFF(init), "", NULL, 0, 0,
     "start from the /params of this checkpoint (an rnn_dist or from_pytorch.py file)"},
    {"threads", OT_INT, OFF(threads), "1", NULL, 1, 1024, "OpenBLAS threads per rank"},
    {"on-nan", OT_ENUM, OFF(on_nan), "stop", "stop|skip", 0, 0,
     "a non-finite loss or gradient (every rank agrees): stop, with the state before it in "
     "last.h5 (exit 3); or skip that update and count it in metrics.csv"},
    {"on-save-error", OT_ENUM, OFF(on_save_error), "stop", "stop|continue", 0, 0,
     "a checkpoint that cannot be written (disk full...): stop (exit 1; the previous "
     "checkpoints stay intact) or warn, train on and retry at the next save"},
    {"comm-timeout", OT_DBL, OFF(comm_timeout), "600", NULL, 0, 1e9,
     "watchdog: a collective that waits longer than this many seconds (a stuck rank or "
     "network) ends the job naming the operation and step (0: wait forever); keep it above "
     "the longest checkpoint write"},
    {"max-memory", OT_SIZE, OFF(max_memory), "0", NULL, 0, 0,
     "refuse (exit 2) a run whose estimated memory per rank is over this: bytes, or with K, M, "
     "G, T (powers of 1024: 512M, 1.5G); 0: what this process may use (its cgroup's limit or "
     "MemAvailable, the smaller) shared by the ranks on this host"},
};
#define NOPTS ((int)(sizeof OPTS / sizeof OPTS[0]))
_Static_assert(sizeof OPTS / sizeof OPTS[0] <= sizeof((Config *)0)->set, "Config.set too small");

const char *config_optimizer_name(int optimizer)
{
    return optimizer == OPTIM_ADAMW ? "adamw" : optimizer == OPTIM_SGD ? "sgd" : "adam";
}

const char *config_monitor_name(int monitor)
{
    return monitor == MONITOR_VAL_ACC ? "val_acc" : "val_loss";
}

static int find_opt(const char *name)
{
    for (int i = 0; i < NOPTS; i++)
        if (strcmp(OPTS[i].name, name) == 0) return i;
    return -1;
}

/* Index of `value` in "a|b|c", or -1. */
static int enum_index(const char *choices, const char *value)
{
    int idx = 0;
    size_t n = strlen(value);
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, value, n) == 0) return idx;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

/* Set option i from text; `where` names the source for messages. */
static int set_opt(Config *c, int i, const char *value, const char *where, Error *e)
{
    const OptDef *o = &OPTS[i];
    char *base = (char *)c + o->offset;
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case OT_STR:
        if (strlen(value) >= CFG_PATH)
            return error_set(e, EXIT_USAGE, "%s: value of '%s' is too long", where, o->name);
        strcpy(base, value);
        break;
    case OT_ENUM: {
        int k = enum_index(o->choices, value);
        if (k < 0)
            return error_set(e, EXIT_USAGE, "%s: '%s' must be one of %s, got '%s'", where,
                             o->name, o->choices, value);
        *(int *)base = k;
        break;
    }
    case OT_U64: {
        if (value[0] == '-')
            return error_set(e, EXIT_USAGE, "%s: '%s' must be a non-negative integer, got '%s'",
                             where, o->name, value);
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end)
            return error_set(e, EXIT_USAGE, "%s: '%s' must be a non-negative integer, got '%s'",
                             where, o->name, value);
        *(uint64_t *)base = (uint64_t)v;
        break;
    }
    case OT_SIZE:
        if (memest_parse_size((uint64_t *)base, value))
            return error_set(e, EXIT_USAGE, "%s: '%s' must be a size such as 512M, 1.5G or 0 "
                             "(auto), got '%s'", where, o->name, value);
        break;
    case OT_INT:
    case OT_I64: {
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            return error_set(e, EXIT_USAGE, "%s: '%s' must be an integer, got '%s'", where,
                             o->name, value);
        if ((double)v < o->lo || (double)v > o->hi)
            return error_set(e, EXIT_USAGE, "%s: '%s' must be in %.0f..%.0f, got %lld", where,
                             o->name, o->lo, o->hi, v);
        if (o->type == OT_INT)
            *(int *)base = (int)v;
        else
            *(int64_t *)base = (int64_t)v;
        break;
    }
    case OT_DBL: {
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            return error_set(e, EXIT_USAGE, "%s: '%s' must be a number, got '%s'", where,
                             o->name, value);
        if (v < o->lo || v > o->hi)
            return error_set(e, EXIT_USAGE, "%s: '%s' must be in [%g, %g], got %g", where,
                             o->name, o->lo, o->hi, v);
        *(double *)base = v;
        break;
    }
    }
    return 0;
}

void config_defaults(Config *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < NOPTS; i++) CHECK(set_opt(c, i, OPTS[i].def, "default", NULL) == 0);
}

int config_is_set(const Config *c, const char *name)
{
    int i = find_opt(name);
    return i >= 0 && c->set[i];
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        *--end = '\0';
    return s;
}

int config_read_file(Config *c, const char *path, Error *e)
{
    FILE *f = fopen(path, "r");
    if (!f) return error_set(e, EXIT_USAGE, "%s: cannot open config file: %s", path,
                             strerror(errno));
    char line[4096], where[CFG_PATH + 32];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            rc = error_set(e, EXIT_USAGE, "%s: line too long", where);
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';' || *s == '[') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = error_set(e, EXIT_USAGE, "%s: expected 'key = value', got '%s'", where, s);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        /* a trailing comment after the value */
        char *hash = strstr(value, " #");
        if (hash) *hash = '\0', value = trim(value);
        for (char *p = key; *p; p++)
            if (*p == '_') *p = '-';
        int i = find_opt(key);
        if (i < 0) {
            rc = error_set(e, EXIT_USAGE, "%s: unknown option '%s'", where, key);
            break;
        }
        rc = set_opt(c, i, value, where, e);
        if (!rc) c->set[i] = 1;
    }
    fclose(f);
    if (!rc) snprintf(c->config, sizeof c->config, "%s", path);
    return rc;
}

int config_parse_args(Config *c, int argc, char **argv, Error *e)
{
    /* the config file first, so the command line wins */
    for (int a = 0; a < argc; a++) {
        const char *file = NULL;
        if (strcmp(argv[a], "--config") == 0) {
            if (a + 1 >= argc) return error_set(e, EXIT_USAGE, "--config needs a file");
            file = argv[a + 1];
        } else if (strncmp(argv[a], "--config=", 9) == 0) {
            file = argv[a] + 9;
        }
        if (file && config_read_file(c, file, e)) return e ? e->code : EXIT_USAGE;
    }
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0)
            return error_set(e, EXIT_USAGE, "unexpected argument '%s' (options are --key value)",
                             arg);
        char key[128];
        const char *value = NULL, *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (klen >= sizeof key) return error_set(e, EXIT_USAGE, "unknown option '%s'", arg);
        memcpy(key, arg + 2, klen);
        key[klen] = '\0';
        if (eq) {
            value = eq + 1;
        } else {
            if (a + 1 >= argc) return error_set(e, EXIT_USAGE, "option --%s needs a value", key);
            value = argv[++a];
        }
        if (strcmp(key, "config") == 0) continue;
        int i = find_opt(key);
        if (i < 0)
            return error_set(e, EXIT_USAGE, "unknown option '--%s' (see rnn_dist --help)", key);
        char where[160];
        snprintf(where, sizeof where, "--%s", key);
        if (set_opt(c, i, value, where, e)) return e ? e->code : EXIT_USAGE;
        c->set[i] = 1;
    }
    return 0;
}

double config_weight_decay(const Config *c)
{
    if (c->weight_decay >= 0.0) return c->weight_decay;
    return c->optimizer == OPTIM_ADAMW ? 0.01 : 0.0;
}

int config_validate(const Config *c, Error *e)
{
    if (c->weight_decay < 0.0 && c->weight_decay != -1.0)
        return error_set(e, EXIT_USAGE, "weight-decay must be >= 0 (or -1 for the default)");
    if (c->momentum > 0.0 && c->optimizer != OPTIM_SGD)
        return error_set(e, EXIT_USAGE, "momentum applies to optimizer sgd only (got %s)",
                         config_optimizer_name(c->optimizer));
    if (config_is_set(c, "nonlinearity") && c->cell != 0 && c->nonlinearity != 0)
        return error_set(e, EXIT_USAGE, "nonlinearity relu applies to cell rnn only");
    if (c->val[0] && c->val_split > 0.0)
        return error_set(e, EXIT_USAGE, "give either val or val-split, not both");
    if (c->resume[0] && c->init[0])
        return error_set(e, EXIT_USAGE, "give either resume or init, not both");
    if ((size_t)c->hidden * 4 * (size_t)c->hidden > (size_t)1 << 31)
        return error_set(e, EXIT_USAGE, "hidden %d is too large", c->hidden);
    return 0;
}

static void print_value(FILE *f, const OptDef *o, const Config *c)
{
    const char *base = (const char *)c + o->offset;
    switch (o->type) {
    case OT_STR: fputs(base, f); break;
    case OT_INT: fprintf(f, "%d", *(const int *)base); break;
    case OT_I64: fprintf(f, "%lld", (long long)*(const int64_t *)base); break;
    case OT_U64:
    case OT_SIZE: fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)base); break;
    case OT_DBL: fprintf(f, "%.17g", *(const double *)base); break;
    case OT_ENUM: {
        int k = *(const int *)base;
        const char *p = o->choices;
        for (int i = 0; i < k && p; i++) {
            p = strchr(p, '|');
            if (p) p++;
        }
        if (p) fprintf(f, "%.*s", (int)(strchr(p, '|') ? strchr(p, '|') - p : (long)strlen(p)), p);
        break;
    }
    }
}

void config_write(FILE *f, const Config *c)
{
    fprintf(f, "# rnn_dist effective configuration (rnn_dist train --config this-file)\n");
    for (int i = 0; i < NOPTS; i++) {
        if (strcmp(OPTS[i].name, "resume") == 0) continue; /* a property of one launch */
        fprintf(f, "%s = ", OPTS[i].name);
        print_value(f, &OPTS[i], c);
        fputc('\n', f);
    }
}

void config_print_help(FILE *f)
{
    for (int i = 0; i < NOPTS; i++) {
        const OptDef *o = &OPTS[i];
        char left[64];
        const char *arg = o->type == OT_STR    ? "S"
                          : o->type == OT_DBL  ? "X"
                          : o->type == OT_SIZE ? "SIZE"
                                               : "N";
        if (o->type == OT_ENUM)
            snprintf(left, sizeof left, "--%s %s", o->name, o->choices);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, arg);
        fprintf(f, "  %-34s %s", left, o->help);
        if (o->def[0] && o->type != OT_ENUM) fprintf(f, " [%s]", o->def);
        if (o->type == OT_ENUM) fprintf(f, " [%s]", o->def);
        fputc('\n', f);
    }
}
