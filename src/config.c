/* config.c - reading, writing and comparing the options of the table in
 * cfgopts.c (see config.h). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "cfgopts.h"
#include "cfgtext.h"
#include "schedule.h"

#define OFF(f) offsetof(Config, f)
#define OPTS (cfgopts_table())
#define NOPTS (cfgopts_count())
/* The longest value text: a CFG_PATH string of \xHH escapes in quotes. */
#define VALUE_MAX (4 * CFG_PATH + 8)


const char *config_optimizer_name(int optimizer)
{
    return types_enum_name(&OPTIM_KIND_NAMES, optimizer);
}

const char *config_monitor_name(int monitor)
{
    return types_enum_name(&MONITOR_NAMES, monitor);
}

static int find_opt(const char *name)
{
    for (int i = 0; i < NOPTS; i++)
        if (strcmp(OPTS[i].name, name) == 0) return i;
    return -1;
}

/* Is option o written by config_write? Not resume nor the flags: they are
 * properties of one launch. */
static int is_written(const OptDef *o)
{
    return o->type != OT_FLAG && o->offset != OFF(resume);
}

/* The names of t joined by '|' ("rnn|lstm|gru"), for help and messages. */
static void join_names(char *out, size_t len, const EnumNames *t)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < t->count && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "|" : "", t->names[i]);
}

/* ---- values as text ----------------------------------------------------- */

/* The value of option o in c as config_write writes it (out: VALUE_MAX). */
static void format_value(char *out, const OptDef *o, const Config *c)
{
    const char *base = (const char *)c + o->offset;
    switch (o->type) {
    case OT_STR:
        if (cfgtext_needs_quotes(base))
            cfgtext_format_quoted(out, base);
        else
            snprintf(out, VALUE_MAX, "%s", base);
        break;
    case OT_INT:
    case OT_FLAG: snprintf(out, VALUE_MAX, "%d", *(const int *)base); break;
    case OT_I64: snprintf(out, VALUE_MAX, "%lld", (long long)*(const int64_t *)base); break;
    case OT_U64:
        snprintf(out, VALUE_MAX, "%llu", (unsigned long long)*(const uint64_t *)base);
        break;
    case OT_SIZE: cfgtext_format_size(out, VALUE_MAX, *(const uint64_t *)base); break;
    case OT_DBL: cfgtext_format_double(out, VALUE_MAX, *(const double *)base); break;
    case OT_ENUM:
        snprintf(out, VALUE_MAX, "%s", types_enum_name(o->choices, *(const int *)base));
        break;
    }
}

/* Copy src to dst (len > 0), cut at a UTF-8 character boundary and ended
 * with "..." when it does not fit. */
static void copy_cut(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n < len) {
        memcpy(dst, src, n + 1);
        return;
    }
    size_t keep = len > 4 ? len - 4 : 0;
    while (keep > 0 && ((unsigned char)src[keep] & 0xc0) == 0x80) keep--;
    memcpy(dst, src, keep);
    snprintf(dst + keep, len - keep, "...");
}

/* ---- setting options ---------------------------------------------------- */

/* Setting an option of each type from text: base points at o's field in
 * Config, `where` names the source for messages. 0, or EXIT_USAGE. */

static int set_str(char *base, const OptDef *o, const char *value, const char *where, Error *e)
{
    if (strlen(value) >= CFG_PATH)
        return error_set(e, EXIT_USAGE, "%s: value of '%s' is too long", where, o->name);
    strcpy(base, value);
    return 0;
}

static int set_enum(int *base, const OptDef *o, const char *value, const char *where, Error *e)
{
    int k = types_enum_index(o->choices, value);
    if (k < 0) {
        char names[256];
        join_names(names, sizeof names, o->choices);
        return error_set(e, EXIT_USAGE, "%s: '%s' must be one of %s, got '%s'", where, o->name,
                         names, value);
    }
    *base = k;
    return 0;
}

static int set_flag(int *base, const OptDef *o, const char *value, const char *where, Error *e)
{
    if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
        return error_set(e, EXIT_USAGE, "%s: '%s' is a flag: give --%s alone (or =1, =0), "
                         "got '%s'", where, o->name, o->name, value);
    *base = value[0] == '1';
    return 0;
}

static int set_u64(uint64_t *base, const OptDef *o, const char *value, const char *where,
                   Error *e)
{
    if (!cfgtext_is_decimal_int(value, 0))
        return error_set(e, EXIT_USAGE, "%s: '%s' must be a non-negative integer, got '%s'",
                         where, o->name, value);
    errno = 0;
    unsigned long long v = strtoull(value, NULL, 10);
    if (errno == ERANGE)
        return error_set(e, EXIT_USAGE, "%s: '%s' must be at most %llu, got '%s'", where,
                         o->name, (unsigned long long)UINT64_MAX, value);
    *base = (uint64_t)v;
    return 0;
}

/* OT_INT (an int field) and OT_I64 (an int64_t field), within o's range. */
static int set_int(char *base, const OptDef *o, const char *value, const char *where, Error *e)
{
    if (!cfgtext_is_decimal_int(value, 1))
        return error_set(e, EXIT_USAGE, "%s: '%s' must be an integer, got '%s'", where, o->name,
                         value);
    errno = 0;
    long long v = strtoll(value, NULL, 10);
    if (errno == ERANGE || (double)v < o->lo || (double)v > o->hi)
        return error_set(e, EXIT_USAGE, "%s: '%s' must be in %.0f..%.0f, got %s", where, o->name,
                         o->lo, o->hi, value);
    if (o->type == OT_INT)
        *(int *)base = (int)v;
    else
        *(int64_t *)base = (int64_t)v;
    return 0;
}

static int set_dbl(double *base, const OptDef *o, const char *value, const char *where, Error *e)
{
    if (!cfgtext_is_decimal_real(value))
        return error_set(e, EXIT_USAGE, "%s: '%s' must be a decimal number, got '%s'", where,
                         o->name, value);
    double v = strtod(value, NULL); /* underflow: the nearest double, maybe 0 */
    if (isinf(v) || v < o->lo || v > o->hi)
        return error_set(e, EXIT_USAGE, "%s: '%s' must be in [%g, %g], got %s", where, o->name,
                         o->lo, o->hi, value);
    *base = v;
    return 0;
}

static int set_size(uint64_t *base, const OptDef *o, const char *value, const char *where,
                    Error *e)
{
    uint64_t v = 0;
    int rc = cfgtext_parse_size(&v, value);
    if (rc < 0)
        return error_set(e, EXIT_USAGE, "%s: '%s' must be a size such as 512M, 1.5G or 0 "
                         "(bytes; suffixes K, M, G, T), got '%s'", where, o->name, value);
    if (rc > 0)
        return error_set(e, EXIT_USAGE,
                         "%s: '%s' is too large (the limit is 2^64 - 1 bytes), got '%s'", where,
                         o->name, value);
    *base = v;
    return 0;
}

/* Set option i from text; `where` names the source for messages. */
static int set_opt(Config *c, int i, const char *value, const char *where, Error *e)
{
    const OptDef *o = &OPTS[i];
    char *base = (char *)c + o->offset;
    switch (o->type) {
    case OT_STR: return set_str(base, o, value, where, e);
    case OT_ENUM: return set_enum((int *)base, o, value, where, e);
    case OT_FLAG: return set_flag((int *)base, o, value, where, e);
    case OT_U64: return set_u64((uint64_t *)base, o, value, where, e);
    case OT_INT:
    case OT_I64: return set_int(base, o, value, where, e);
    case OT_DBL: return set_dbl((double *)base, o, value, where, e);
    case OT_SIZE: return set_size((uint64_t *)base, o, value, where, e);
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

/* ---- config text ---------------------------------------------------------- */

/* One line of config text (modified in place). line_of[i]: the line that set
 * option i in this text, 0 if none. */
static int read_line(Config *c, char *line, int lineno, int *line_of, const char *source,
                     Error *e)
{
    char where[CFG_PATH + 64];
    snprintf(where, sizeof where, "%s:%d", source, lineno);
    char *s = cfgtext_skip_blanks(line);
    cfgtext_trim_end(s);
    if (!*s || *s == '#' || *s == ';' || *s == '[') return 0;
    char *eq = strchr(s, '=');
    if (!eq) return error_set(e, EXIT_USAGE, "%s: expected 'key = value', got '%s'", where, s);
    *eq = '\0';
    cfgtext_trim_end(s);
    for (char *p = s; *p; p++)
        if (*p == '_') *p = '-';
    int i = find_opt(s);
    if (i < 0) return error_set(e, EXIT_USAGE, "%s: unknown option '%s'", where, s);
    const OptDef *o = &OPTS[i];
    if (o->type == OT_FLAG)
        return error_set(e, EXIT_USAGE, "%s: %s is a property of one launch: give --%s on the "
                         "command line", where, o->name, o->name);
    if (line_of[i])
        return error_set(e, EXIT_USAGE, "%s: '%s' is already set at line %d", where, o->name,
                         line_of[i]);
    char *value = cfgtext_skip_blanks(eq + 1);
    if (*value == '"') {
        if (cfgtext_unquote(value, where, o->name, e)) return EXIT_USAGE;
    } else {
        for (char *p = value; *p; p++)
            if (cfgtext_is_blank(*p) && (p[1] == '#' || p[1] == ';')) {
                *p = '\0';
                break;
            }
        cfgtext_trim_end(value);
    }
    if (set_opt(c, i, value, where, e)) return EXIT_USAGE;
    c->set[i] = 1;
    line_of[i] = lineno;
    return 0;
}

/* Every line of text (modified in place). */
static int read_lines(Config *c, char *text, const char *source, Error *e)
{
    int line_of[CFGOPTS_MAX];
    memset(line_of, 0, sizeof line_of);
    int lineno = 0;
    for (char *line = text; line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (read_line(c, line, ++lineno, line_of, source, e)) return EXIT_USAGE;
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

int config_read_text(Config *c, const char *text, const char *where, Error *e)
{
    char *copy = strdup(text);
    CHECK(copy);
    int rc = read_lines(c, copy, where, e);
    free(copy);
    return rc;
}

int config_read_file(Config *c, const char *path, Error *e)
{
    char *text = NULL;
    if (cfgfile_read(&text, path, e)) return EXIT_USAGE;
    int rc = read_lines(c, text, path, e);
    free(text);
    if (!rc) snprintf(c->config, sizeof c->config, "%s", path);
    return rc;
}

/* ---- command line ----------------------------------------------------------- */

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
        if (file && config_read_file(c, file, e)) return EXIT_USAGE;
    }
    const char *flag = NULL; /* the previous argument, when it was a flag alone */
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0) {
            if (flag)
                return error_set(e, EXIT_USAGE, "unexpected argument '%s' (%s is a flag and "
                                 "takes no value: %s alone, or %s=0)", arg, flag, flag, flag);
            return error_set(e, EXIT_USAGE, "unexpected argument '%s' (options are --key value)",
                             arg);
        }
        flag = NULL;
        char key[128];
        const char *value = NULL, *eq = strchr(arg, '=');
        size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (klen >= sizeof key) return error_set(e, EXIT_USAGE, "unknown option '%s'", arg);
        memcpy(key, arg + 2, klen);
        key[klen] = '\0';
        if (strcmp(key, "config") == 0) {
            a += !eq; /* its value, read above */
            continue;
        }
        int i = find_opt(key);
        if (i < 0)
            return error_set(e, EXIT_USAGE, "unknown option '--%s' (see rnn_dist --help)", key);
        if (eq) {
            value = eq + 1;
        } else if (OPTS[i].type == OT_FLAG) {
            value = "1";
            flag = arg;
        } else {
            if (a + 1 >= argc) return error_set(e, EXIT_USAGE, "option --%s needs a value", key);
            value = argv[++a];
        }
        char where[160];
        snprintf(where, sizeof where, "--%s", key);
        if (set_opt(c, i, value, where, e)) return EXIT_USAGE;
        c->set[i] = 1;
    }
    return 0;
}

double config_weight_decay(const Config *c)
{
    if (c->weight_decay >= 0.0) return c->weight_decay;
    return c->optimizer == OPTIM_ADAMW ? 0.01 : 0.0;
}

int config_validate_launch(const Config *c, Error *e)
{
    if (c->weight_decay < 0.0 && c->weight_decay != -1.0)
        return error_set(e, EXIT_USAGE, "weight-decay must be >= 0 (or -1 for the default)");
    if ((size_t)c->hidden * 4 * (size_t)c->hidden > (size_t)1 << 31)
        return error_set(e, EXIT_USAGE, "hidden %d is too large", c->hidden);
    if (c->resume[0] && c->init[0])
        return error_set(e, EXIT_USAGE, "give either resume or init, not both");
    if (c->resume[0] && c->fresh)
        return error_set(e, EXIT_USAGE, "give either --resume or --fresh");
    return 0;
}

int config_validate(const Config *c, Error *e)
{
    if (config_validate_launch(c, e)) return EXIT_USAGE;
    if (c->momentum > 0.0 && c->optimizer != OPTIM_SGD)
        return error_set(e, EXIT_USAGE, "momentum applies to optimizer sgd only (got %s)",
                         config_optimizer_name(c->optimizer));
    if (c->nesterov && !(c->optimizer == OPTIM_SGD && c->momentum > 0.0))
        return error_set(e, EXIT_USAGE, "nesterov needs optimizer sgd with momentum > 0 (as "
                         "torch.optim.SGD)");
    if (config_is_set(c, "nonlinearity") && c->cell != 0 && c->nonlinearity != 0)
        return error_set(e, EXIT_USAGE, "nonlinearity relu applies to cell rnn only");
    if (c->val[0] && c->val_split > 0.0)
        return error_set(e, EXIT_USAGE, "give either val or val-split, not both");
    if (c->stateful && c->bidirectional)
        return error_set(e, EXIT_USAGE, "stateful 1 carries each layer's state forward in "
                         "time: not with bidirectional 1");
    if (c->stateful && config_is_set(c, "shuffle") && c->shuffle)
        return error_set(e, EXIT_USAGE, "stateful 1 reads the stream in its order: shuffle 1 "
                         "does not apply (leave it out)");
    if (!c->stateful && config_is_set(c, "bptt"))
        return error_set(e, EXIT_USAGE, "bptt applies only with stateful 1");
    return schedule_validate(c, e);
}

/* ---- writing and comparing ---------------------------------------------------- */

void config_write(FILE *f, const Config *c)
{
    char value[VALUE_MAX];
    fprintf(f, "# rnn_dist effective configuration (rnn_dist train --config this-file)\n");
    for (int i = 0; i < NOPTS; i++) {
        if (!is_written(&OPTS[i])) continue;
        /* an option the run's mode leaves unused is left out, so the file
         * reads back (config_validate refuses bptt without stateful, shuffle
         * with it) */
        if ((OPTS[i].offset == OFF(bptt) && !c->stateful) ||
            (OPTS[i].offset == OFF(shuffle) && c->stateful))
            continue;
        format_value(value, &OPTS[i], c);
        fprintf(f, "%s = %s\n", OPTS[i].name, value);
    }
}

void config_value_text(char *out, size_t len, const Config *c, const char *name)
{
    if (len == 0) return;
    int i = find_opt(name);
    char value[VALUE_MAX] = "";
    if (i >= 0) format_value(value, &OPTS[i], c);
    copy_cut(out, len, value);
}

int config_diff(ConfigChange *out, int cap, const Config *before, const Config *after)
{
    char a[VALUE_MAX], b[VALUE_MAX];
    int n = 0;
    for (int i = 0; i < NOPTS; i++) {
        if (OPTS[i].rule == RESUME_LAUNCH) continue;
        format_value(b, &OPTS[i], before);
        format_value(a, &OPTS[i], after);
        if (strcmp(a, b) == 0) continue;
        if (n < cap) {
            out[n].name = OPTS[i].name;
            out[n].rule = OPTS[i].rule;
            copy_cut(out[n].before, sizeof out[n].before, b);
            copy_cut(out[n].after, sizeof out[n].after, a);
        }
        n++;
    }
    return n;
}

/* Bytes of option o's field in Config. */
static size_t field_size(const OptDef *o)
{
    switch (o->type) {
    case OT_STR: return CFG_PATH;
    case OT_I64: return sizeof(int64_t);
    case OT_U64:
    case OT_SIZE: return sizeof(uint64_t);
    case OT_DBL: return sizeof(double);
    default: return sizeof(int);
    }
}

void config_inherit(Config *c, const Config *stored)
{
    for (int i = 0; i < NOPTS; i++) {
        const OptDef *o = &OPTS[i];
        if (o->rule == RESUME_LAUNCH || c->set[i]) continue;
        memcpy((char *)c + o->offset, (const char *)stored + o->offset, field_size(o));
    }
}

void config_print_help(FILE *f)
{
    for (int i = 0; i < NOPTS; i++) {
        const OptDef *o = &OPTS[i];
        char left[64];
        const char *arg = o->type == OT_STR    ? " S"
                        : o->type == OT_DBL    ? " X"
                        : o->type == OT_SIZE   ? " SIZE"
                        : o->type == OT_FLAG   ? ""
                                               : " N";
        if (o->type == OT_ENUM) {
            char names[48];
            join_names(names, sizeof names, o->choices);
            snprintf(left, sizeof left, "--%s %s", o->name, names);
        } else
            snprintf(left, sizeof left, "--%s%s", o->name, arg);
        fprintf(f, "  %-34s %s", left, o->help);
        if (o->def[0] && o->type != OT_FLAG) fprintf(f, " [%s]", o->def);
        fputc('\n', f);
    }
}
