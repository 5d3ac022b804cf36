/* checkpoint.c - save and load checkpoints (see checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5io.h"

const char *checkpoint_input_name(InputKind k)
{
    return k == INPUT_TOKENS ? "tokens" : "dense";
}

const char *checkpoint_loss_name(LossKind k)
{
    return k == LOSS_MSE ? "mse" : "ce";
}

const char *checkpoint_target_name(TargetMode t)
{
    return t == TARGET_LAST ? "last" : "step";
}

/* Write each parameter-shaped slice of buf under group/<name>. */
static int write_tensors(hid_t f, const char *group, const ParamTable *t, const float *buf,
                         Error *e)
{
    char path[128];
    for (int i = 0; i < t->count; i++) {
        const ParamInfo *p = &t->p[i];
        size_t dims[2] = {(size_t)p->rows, (size_t)p->cols};
        snprintf(path, sizeof path, "%s/%s", group, p->name);
        if (h5io_write_f32_checked(f, path, buf + p->offset, p->cols ? 2 : 1, dims, e))
            return EXIT_FAIL;
    }
    return 0;
}

static int write_spec(hid_t f, const ModelSpec *s)
{
    int rc = 0;
    rc |= h5io_write_attr_i64(f, "/", "format_version", CHECKPOINT_FORMAT);
    rc |= h5io_write_attr_str(f, "/", "cell", cell_name(s->cell));
    rc |= h5io_write_attr_str(f, "/", "nonlinearity", s->act == NONLIN_RELU ? "relu" : "tanh");
    rc |= h5io_write_attr_str(f, "/", "input", checkpoint_input_name(s->input));
    rc |= h5io_write_attr_i64(f, "/", "vocab_size", s->vocab);
    rc |= h5io_write_attr_i64(f, "/", "embed", s->embed);
    rc |= h5io_write_attr_i64(f, "/", "features", s->features);
    rc |= h5io_write_attr_i64(f, "/", "hidden", s->hidden);
    rc |= h5io_write_attr_i64(f, "/", "layers", s->layers);
    rc |= h5io_write_attr_i64(f, "/", "out", s->out);
    rc |= h5io_write_attr_str(f, "/", "loss", checkpoint_loss_name(s->loss));
    rc |= h5io_write_attr_str(f, "/", "target", checkpoint_target_name(s->target));
    rc |= h5io_write_attr_f64(f, "/", "dropout", s->dropout);
    rc |= h5io_write_attr_f64(f, "/", "out_dropout", s->out_dropout);
    return rc;
}

static int write_state(hid_t f, const TrainState *st)
{
    int rc = 0;
    rc |= h5io_write_attr_i64(f, "/", "epoch", st->epoch);
    rc |= h5io_write_attr_i64(f, "/", "batch_in_epoch", st->batch_in_epoch);
    rc |= h5io_write_attr_i64(f, "/", "step", st->step);
    rc |= h5io_write_attr_f64(f, "/", "best_metric", st->best_metric);
    rc |= h5io_write_attr_i64(f, "/", "best_epoch", st->best_epoch);
    rc |= h5io_write_attr_i64(f, "/", "bad_epochs", st->bad_epochs);
    rc |= h5io_write_attr_i64(f, "/", "seed", (int64_t)st->seed);
    rc |= h5io_write_attr_i64(f, "/", "world_size", st->world_size);
    rc |= h5io_write_attr_f64(f, "/", "part_loss", st->part_loss);
    rc |= h5io_write_attr_f64(f, "/", "part_count", st->part_count);
    rc |= h5io_write_attr_f64(f, "/", "part_correct", st->part_correct);
    rc |= h5io_write_attr_f64(f, "/", "part_abs_err", st->part_abs_err);
    rc |= h5io_write_attr_f64(f, "/", "part_norm_sum", st->part_norm_sum);
    rc |= h5io_write_attr_i64(f, "/", "part_steps", st->part_steps);
    rc |= h5io_write_attr_i64(f, "/", "part_seqs", st->part_seqs);
    rc |= h5io_write_attr_i64(f, "/", "part_skipped", st->part_skipped);
    char hex[24];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)st->run_id);
    rc |= h5io_write_attr_str(f, "/", "run_id", hex);
    const DataIdentity *ids[2] = {&st->data, &st->val};
    static const char *const pre[2] = {"data", "val"};
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s_file", pre[i]);
        rc |= h5io_write_attr_str(f, "/", name, ids[i]->file);
        snprintf(name, sizeof name, "%s_rows", pre[i]);
        rc |= h5io_write_attr_i64(f, "/", name, ids[i]->rows);
        snprintf(name, sizeof name, "%s_bytes", pre[i]);
        rc |= h5io_write_attr_i64(f, "/", name, (int64_t)ids[i]->bytes);
        snprintf(name, sizeof name, "%s_fingerprint", pre[i]);
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)ids[i]->hash);
        rc |= h5io_write_attr_str(f, "/", name, hex);
    }
    return rc;
}

/* The run id of an open checkpoint; 0 when it has none (written before
 * run ids). */
static uint64_t read_run_id(hid_t f)
{
    char hex[40];
    return h5io_read_attr_str(hex, sizeof hex, f, "/", "run_id") == 0 ? strtoull(hex, NULL, 16)
                                                                        : 0;
}

/* The run id and input identities (absent from checkpoints written before
 * them: run_id 0, rows -1). */
static void read_identity(TrainState *st, hid_t f)
{
    char hex[40];
    st->run_id = read_run_id(f);
    DataIdentity *ids[2] = {&st->data, &st->val};
    static const char *const pre[2] = {"data", "val"};
    for (int i = 0; i < 2; i++) {
        char name[32];
        int64_t bytes = 0;
        ids[i]->rows = -1;
        snprintf(name, sizeof name, "%s_rows", pre[i]);
        if (h5io_read_attr_i64(&ids[i]->rows, f, "/", name)) ids[i]->rows = -1;
        snprintf(name, sizeof name, "%s_file", pre[i]);
        h5io_read_attr_str(ids[i]->file, sizeof ids[i]->file, f, "/", name);
        snprintf(name, sizeof name, "%s_bytes", pre[i]);
        h5io_read_attr_i64(&bytes, f, "/", name);
        ids[i]->bytes = (uint64_t)bytes;
        snprintf(name, sizeof name, "%s_fingerprint", pre[i]);
        if (h5io_read_attr_str(hex, sizeof hex, f, "/", name) == 0)
            ids[i]->hash = strtoull(hex, NULL, 16);
    }
}

/* fsync a file or directory by path. */
static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int checkpoint_save(const char *path, const Model *m, const Optim *o, const TrainState *st,
                    const char *config_text, Error *e)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    hid_t f;
    errno = 0;
    if (h5io_create_checked(&f, tmp, NULL)) {
        int err = errno;
        unlink(tmp);
        return error_set(e, EXIT_FAIL, "%s: cannot write checkpoint: %s", path,
                         err ? strerror(err) : "HDF5 cannot create the file");
    }
    int rc = 0;
    if (write_tensors(f, "/params", &m->table, m->params, e)) rc = EXIT_FAIL;
    if (!rc && o) {
        hid_t g = h5io_group(f, "/optim");
        rc |= g < 0;
        if (g >= 0) H5Gclose(g);
        rc |= h5io_write_attr_str(f, "/optim", "optimizer", config_optimizer_name(o->spec.kind));
        rc |= h5io_write_attr_i64(f, "/optim", "step", o->step);
        if (!rc && o->m)
            rc = write_tensors(f, o->v ? "/optim/exp_avg" : "/optim/momentum_buffer", &m->table,
                               o->m, e);
        if (!rc && o->v) rc = write_tensors(f, "/optim/exp_avg_sq", &m->table, o->v, e);
    }
    if (!rc) rc = write_spec(f, &m->spec) | write_state(f, st);
    if (!rc && config_text) rc = h5io_write_attr_str(f, "/", "config", config_text);
    /* the completeness marker, last: a file without it was never finished */
    if (!rc) rc = h5io_write_attr_i64(f, "/", "complete", 1);
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) rc = -1;
    if (H5Fclose(f) < 0) rc = -1;
    if (!rc && fsync_path(tmp)) rc = -1;
    if (!rc && rename(tmp, path)) rc = -1;
    if (rc) {
        int err = errno;
        unlink(tmp);
        return error_set(e, EXIT_FAIL, "%s: cannot write checkpoint%s%s", path,
                         err ? ": " : "", err ? strerror(err) : "");
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    fsync_path(dirname(dir));
    return 0;
}

static int read_str_attr(char *buf, size_t len, hid_t f, const char *name, const char *path,
                         Error *e)
{
    if (h5io_read_attr_str(buf, len, f, "/", name))
        return error_set(e, EXIT_USAGE, "%s: checkpoint attribute '%s' is missing", path, name);
    return 0;
}

static int read_int_attr(int *v, hid_t f, const char *name, int lo, int hi, const char *path,
                         Error *e)
{
    int64_t x;
    if (h5io_read_attr_i64(&x, f, "/", name))
        return error_set(e, EXIT_USAGE, "%s: checkpoint attribute '%s' is missing", path, name);
    if (x < lo || x > hi)
        return error_set(e, EXIT_USAGE, "%s: checkpoint attribute %s = %lld is outside %d..%d",
                         path, name, (long long)x, lo, hi);
    *v = (int)x;
    return 0;
}

/* Map a string attribute to an index in names[]. */
static int read_enum_attr(int *v, hid_t f, const char *name, const char *const *names, int n,
                          const char *path, Error *e)
{
    char s[64];
    if (read_str_attr(s, sizeof s, f, name, path, e)) return EXIT_USAGE;
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *v = i;
            return 0;
        }
    return error_set(e, EXIT_USAGE, "%s: checkpoint attribute %s = '%s' is unknown", path, name,
                     s);
}

static int read_spec_open(ModelSpec *s, hid_t f, const char *path, Error *e)
{
    static const char *const cells[] = {"rnn", "lstm", "gru"};
    static const char *const acts[] = {"tanh", "relu"};
    static const char *const inputs[] = {"dense", "tokens"};
    static const char *const losses[] = {"ce", "mse"};
    static const char *const targets[] = {"step", "last"};
    int cell, act, input, loss, target;
    memset(s, 0, sizeof *s);
    double d = 0, od = 0;
    if (read_enum_attr(&cell, f, "cell", cells, 3, path, e) ||
        read_enum_attr(&act, f, "nonlinearity", acts, 2, path, e) ||
        read_enum_attr(&input, f, "input", inputs, 2, path, e) ||
        read_enum_attr(&loss, f, "loss", losses, 2, path, e) ||
        read_enum_attr(&target, f, "target", targets, 2, path, e) ||
        read_int_attr(&s->vocab, f, "vocab_size", 0, 100000000, path, e) ||
        read_int_attr(&s->embed, f, "embed", 0, 65536, path, e) ||
        read_int_attr(&s->features, f, "features", 0, 1000000, path, e) ||
        read_int_attr(&s->hidden, f, "hidden", 1, 65536, path, e) ||
        read_int_attr(&s->layers, f, "layers", 1, MODEL_MAX_LAYERS, path, e) ||
        read_int_attr(&s->out, f, "out", 1, 10000000, path, e))
        return EXIT_USAGE;
    s->cell = (CellKind)cell;
    s->act = (Nonlin)act;
    s->input = (InputKind)input;
    s->loss = (LossKind)loss;
    s->target = (TargetMode)target;
    if (h5io_read_attr_f64(&d, f, "/", "dropout") == 0) s->dropout = (float)d;
    if (h5io_read_attr_f64(&od, f, "/", "out_dropout") == 0) s->out_dropout = (float)od;
    if (s->input == INPUT_TOKENS && (s->vocab < 1 || s->embed < 1))
        return error_set(e, EXIT_USAGE, "%s: token model needs vocab_size and embed >= 1", path);
    if (s->input == INPUT_DENSE && s->features < 1)
        return error_set(e, EXIT_USAGE, "%s: dense model needs features >= 1", path);
    return 0;
}

int checkpoint_read_spec_in(ModelSpec *spec, const H5Input *in, Error *e)
{
    return read_spec_open(spec, in->file, in->path, e);
}

int checkpoint_read_spec(ModelSpec *spec, const char *path, Error *e)
{
    H5Input in;
    if (h5io_input_open(&in, path, e)) return EXIT_USAGE;
    int rc = checkpoint_read_spec_in(spec, &in, e);
    h5io_input_close(&in);
    return rc;
}

/* Integrity of an open checkpoint file (see checkpoint_verify). */
static int verify_open(hid_t f, const char *path, Error *e)
{
    int64_t version = 0, complete = 0;
    if (h5io_read_attr_i64(&version, f, "/", "format_version"))
        return error_set(e, EXIT_USAGE, "%s: damaged checkpoint: no format_version "
                         "(not written by rnn_dist train?)", path);
    if (version != CHECKPOINT_FORMAT)
        return error_set(e, EXIT_USAGE, "%s: checkpoint format_version %lld, this rnn_dist "
                         "reads %d", path, (long long)version, CHECKPOINT_FORMAT);
    if (h5io_read_attr_i64(&complete, f, "/", "complete") || complete != 1)
        return error_set(e, EXIT_USAGE, "%s: damaged checkpoint: no completeness marker "
                         "(its writing never finished)", path);
    char bad[300];
    if (h5io_read_all(f, 1, bad, sizeof bad))
        return error_set(e, EXIT_USAGE, "%s: damaged checkpoint: %s", path, bad);
    return 0;
}

int checkpoint_verify_in(const H5Input *in, Error *e)
{
    return verify_open(in->file, in->path, e);
}

int checkpoint_open_verified(H5Input *in, const char *path, Error *e)
{
    if (h5io_input_open(in, path, e)) {
        /* missing, or a FIFO, a directory...: say so as it is */
        if (access(path, F_OK) != 0 || h5io_check_regular(path, NULL)) return EXIT_USAGE;
        /* the reason without its "PATH: " prefix */
        char why[sizeof e->msg];
        size_t n = strlen(path);
        int prefixed = strncmp(e->msg, path, n) == 0 && strncmp(e->msg + n, ": ", 2) == 0;
        snprintf(why, sizeof why, "%s", prefixed ? e->msg + n + 2 : e->msg);
        return error_set(e, EXIT_USAGE, "%s: damaged checkpoint: %s", path, why);
    }
    int rc = checkpoint_verify_in(in, e);
    if (rc) h5io_input_close(in);
    return rc;
}

int checkpoint_verify(const char *path, Error *e)
{
    H5Input in;
    if (checkpoint_open_verified(&in, path, e)) return EXIT_USAGE;
    h5io_input_close(&in);
    return 0;
}

uint64_t checkpoint_run_id(const char *path)
{
    hid_t f;
    Error e = {0, ""};
    if (h5io_open_read(&f, path, &e)) return 0;
    uint64_t id = read_run_id(f);
    H5Fclose(f);
    return id;
}

/* Is group/<name> of parameter p a float tensor of p's shape? */
static int check_tensor(hid_t f, const char *name, const ParamInfo *p, const char *path,
                        Error *e)
{
    H5Shape s;
    if (h5io_shape(&s, f, name, path, e)) return EXIT_USAGE;
    int rank = p->cols ? 2 : 1;
    if (s.cls == H5T_FLOAT && s.rank == rank && s.dims[0] == (size_t)p->rows &&
        (rank == 1 || s.dims[1] == (size_t)p->cols))
        return 0;
    if (rank == 2)
        return error_set(e, EXIT_USAGE,
                         "%s: %s has shape %s[%zu%s%zu] but the model needs float [%d, %d]",
                         path, name, s.cls == H5T_FLOAT ? "float" : "non-float", s.dims[0],
                         s.rank > 1 ? ", " : "", s.rank > 1 ? s.dims[1] : 0, p->rows, p->cols);
    return error_set(e, EXIT_USAGE, "%s: %s has rank %d, %zu rows but the model needs "
                     "float [%d]", path, name, s.rank, s.dims[0], p->rows);
}

int checkpoint_check_params_in(const ModelSpec *spec, const H5Input *in, Error *e)
{
    ParamTable t;
    model_param_table(&t, spec);
    char name[128];
    int rc = 0;
    for (int i = 0; i < t.count && !rc; i++) {
        snprintf(name, sizeof name, "/params/%s", t.p[i].name);
        rc = check_tensor(in->file, name, &t.p[i], in->path, e);
    }
    return rc;
}

int checkpoint_check_params(const ModelSpec *spec, const char *path, Error *e)
{
    H5Input in;
    if (h5io_input_open(&in, path, e)) return EXIT_USAGE;
    int rc = checkpoint_check_params_in(spec, &in, e);
    h5io_input_close(&in);
    return rc;
}

/* Read group/<name> for every parameter into buf, checking shapes. */
static int read_tensors(float *buf, hid_t f, const char *group, const ParamTable *t,
                        const char *path, Error *e)
{
    char name[128];
    for (int i = 0; i < t->count; i++) {
        const ParamInfo *p = &t->p[i];
        snprintf(name, sizeof name, "%s/%s", group, p->name);
        if (check_tensor(f, name, p, path, e)) return EXIT_USAGE;
        if (h5io_read_f32(buf + p->offset, f, name, 0, (size_t)p->rows, path, e))
            return EXIT_USAGE;
        size_t n = (size_t)p->rows * (p->cols ? p->cols : 1);
        for (size_t k = 0; k < n; k++)
            if (!isfinite(buf[p->offset + k]))
                return error_set(e, EXIT_USAGE, "%s: %s holds a non-finite value at %zu", path,
                                 name, k);
    }
    return 0;
}

int checkpoint_load_params_in(Model *m, const H5Input *in, Error *e)
{
    return read_tensors(m->params, in->file, "/params", &m->table, in->path, e);
}

int checkpoint_load_params(Model *m, const char *path, Error *e)
{
    H5Input in;
    if (h5io_input_open(&in, path, e)) return EXIT_USAGE;
    int rc = checkpoint_load_params_in(m, &in, e);
    h5io_input_close(&in);
    return rc;
}

/* Refuse a checkpoint whose model (spec b) is not this run's (spec a), naming
 * the first field that differs with both values. */
static int spec_mismatch(const ModelSpec *a, const ModelSpec *b, const char *path, Error *e)
{
    const char *field = NULL, *sa = NULL, *sb = NULL;
    long long ia = 0, ib = 0;
    if (a->cell != b->cell) {
        field = "cell";
        sa = cell_name(a->cell);
        sb = cell_name(b->cell);
    } else if (a->cell == CELL_RNN && a->act != b->act) {
        field = "nonlinearity";
        sa = a->act == NONLIN_RELU ? "relu" : "tanh";
        sb = b->act == NONLIN_RELU ? "relu" : "tanh";
    } else if (a->input != b->input) {
        field = "input";
        sa = checkpoint_input_name(a->input);
        sb = checkpoint_input_name(b->input);
    } else if (a->loss != b->loss) {
        field = "loss";
        sa = checkpoint_loss_name(a->loss);
        sb = checkpoint_loss_name(b->loss);
    } else if (a->target != b->target) {
        field = "target";
        sa = checkpoint_target_name(a->target);
        sb = checkpoint_target_name(b->target);
    } else {
        const struct {
            const char *name;
            int a, b, applies;
        } num[] = {
            {"vocab_size", a->vocab, b->vocab, a->input == INPUT_TOKENS},
            {"embed", a->embed, b->embed, a->input == INPUT_TOKENS},
            {"features", a->features, b->features, a->input == INPUT_DENSE},
            {"hidden", a->hidden, b->hidden, 1},
            {"layers", a->layers, b->layers, 1},
            {"out", a->out, b->out, 1},
        };
        for (size_t i = 0; i < sizeof num / sizeof num[0] && !field; i++)
            if (num[i].applies && num[i].a != num[i].b) {
                field = num[i].name;
                ia = num[i].a;
                ib = num[i].b;
            }
    }
    if (!field) return 0;
    if (sa)
        return error_set(e, EXIT_USAGE, "%s: checkpoint is of another model: %s is '%s' there, "
                         "'%s' in this run", path, field, sb, sa);
    return error_set(e, EXIT_USAGE, "%s: checkpoint is of another model: %s is %lld there, %lld "
                     "in this run", path, field, ib, ia);
}

static int read_state(TrainState *st, hid_t f, const char *path, Error *e)
{
    int64_t seed = 0;
    memset(st, 0, sizeof *st);
    if (h5io_read_attr_i64(&st->epoch, f, "/", "epoch") ||
        h5io_read_attr_i64(&st->batch_in_epoch, f, "/", "batch_in_epoch") ||
        h5io_read_attr_i64(&st->step, f, "/", "step") ||
        h5io_read_attr_f64(&st->best_metric, f, "/", "best_metric") ||
        h5io_read_attr_i64(&st->best_epoch, f, "/", "best_epoch") ||
        h5io_read_attr_i64(&st->bad_epochs, f, "/", "bad_epochs") ||
        h5io_read_attr_i64(&seed, f, "/", "seed") ||
        h5io_read_attr_i64(&st->world_size, f, "/", "world_size") ||
        h5io_read_attr_f64(&st->part_loss, f, "/", "part_loss") ||
        h5io_read_attr_f64(&st->part_count, f, "/", "part_count") ||
        h5io_read_attr_f64(&st->part_correct, f, "/", "part_correct") ||
        h5io_read_attr_f64(&st->part_abs_err, f, "/", "part_abs_err") ||
        h5io_read_attr_f64(&st->part_norm_sum, f, "/", "part_norm_sum") ||
        h5io_read_attr_i64(&st->part_steps, f, "/", "part_steps") ||
        h5io_read_attr_i64(&st->part_seqs, f, "/", "part_seqs") ||
        h5io_read_attr_i64(&st->part_skipped, f, "/", "part_skipped"))
        return error_set(e, EXIT_USAGE, "%s: training state attributes are missing "
                         "(not a checkpoint of rnn_dist train?)", path);
    if (st->epoch < 0 || st->step < 0 || st->batch_in_epoch < 0)
        return error_set(e, EXIT_USAGE, "%s: negative epoch/step in checkpoint", path);
    st->seed = (uint64_t)seed;
    read_identity(st, f);
    return 0;
}

int checkpoint_read_state_in(TrainState *st, char **config_text, const H5Input *in, Error *e)
{
    *config_text = NULL;
    hid_t f = in->file;
    int rc = read_state(st, f, in->path, e);
    enum { TEXT = 1 << 16 };
    char *text = xcalloc(TEXT, 1);
    if (!rc && h5io_read_attr_str(text, TEXT, f, "/", "config")) text[0] = '\0';
    if (rc) {
        free(text);
        return rc;
    }
    *config_text = text;
    return 0;
}

int checkpoint_read_state(TrainState *st, char **config_text, const char *path, Error *e)
{
    *config_text = NULL;
    H5Input in;
    if (checkpoint_open_verified(&in, path, e)) return EXIT_USAGE;
    int rc = checkpoint_read_state_in(st, config_text, &in, e);
    h5io_input_close(&in);
    return rc;
}

int checkpoint_load_in(Model *m, Optim *o, TrainState *st, const H5Input *in, Error *e)
{
    hid_t f = in->file;
    const char *path = in->path;
    ModelSpec s;
    int rc = read_spec_open(&s, f, path, e);
    if (!rc) rc = spec_mismatch(&m->spec, &s, path, e);
    if (!rc) rc = read_tensors(m->params, f, "/params", &m->table, path, e);
    if (!rc && st) rc = read_state(st, f, path, e);
    if (!rc && o) {
        char name[32] = "";
        h5io_read_attr_str(name, sizeof name, f, "/optim", "optimizer");
        if (strcmp(name, config_optimizer_name(o->spec.kind)) != 0)
            rc = error_set(e, EXIT_USAGE, "%s: checkpoint optimizer is '%s', this run uses '%s'",
                           path, name, config_optimizer_name(o->spec.kind));
        if (!rc && h5io_read_attr_i64(&o->step, f, "/optim", "step"))
            rc = error_set(e, EXIT_USAGE, "%s: /optim step is missing", path);
        if (!rc && o->m)
            rc = read_tensors(o->m, f, o->v ? "/optim/exp_avg" : "/optim/momentum_buffer",
                              &m->table, path, e);
        if (!rc && o->v) rc = read_tensors(o->v, f, "/optim/exp_avg_sq", &m->table, path, e);
    }
    return rc;
}

int checkpoint_load(Model *m, Optim *o, TrainState *st, const char *path, Error *e)
{
    H5Input in;
    if (checkpoint_open_verified(&in, path, e)) return EXIT_USAGE;
    int rc = checkpoint_load_in(m, o, st, &in, e);
    h5io_input_close(&in);
    return rc;
}
