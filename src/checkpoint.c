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

#include "checkpoint_attrs.h"
#include "h5image.h"
#include "h5io.h"

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
                    const char *config_text, const CheckpointCarry *carry, Error *e)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    hid_t f;
    if (h5image_create(&f, NULL))
        return error_set(e, EXIT_FAIL, "%s: cannot write checkpoint: HDF5 cannot create the file",
                         path);
    int rc = 0;
    if (write_tensors(f, "/params", &m->table, m->params, e)) rc = EXIT_FAIL;
    if (!rc && o) {
        hid_t g = h5io_group(f, "/optim");
        rc |= g < 0;
        if (g >= 0) H5Gclose(g);
        rc |= h5io_write_attr_str(f, "/optim", "optimizer", config_optimizer_name(o->spec.kind));
        rc |= h5io_write_attr_i64(f, "/optim", "step", o->step);
        const char *first, *second;
        char group[64];
        optim_state_names(&first, &second, o);
        snprintf(group, sizeof group, "/optim/%s", first ? first : "");
        if (!rc && first) rc = write_tensors(f, group, &m->table, o->m, e);
        snprintf(group, sizeof group, "/optim/%s", second ? second : "");
        if (!rc && second) rc = write_tensors(f, group, &m->table, o->v, e);
    }
    if (!rc && carry &&
        h5io_write_f32_checked(f, "/state/carry", carry->data, 4, carry->dims, e))
        rc = EXIT_FAIL;
    if (!rc) rc = checkpoint_attrs_write_spec(f, &m->spec);
    if (!rc) rc = checkpoint_attrs_write_state(f, st);
    if (!rc && config_text) rc = h5io_write_attr_str(f, "/", "config", config_text);
    /* the completeness marker, last: a file without it was never finished */
    if (!rc) rc = h5io_write_attr_i64(f, "/", "complete", 1);
    /* built in memory, written by plain write(): a full disk is an error
     * here, never inside HDF5 */
    errno = 0;
    if (rc)
        H5Fclose(f);
    else if (h5image_save(f, tmp))
        rc = -1;
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

int checkpoint_read_spec_in(ModelSpec *spec, const H5Input *in, Error *e)
{
    return checkpoint_attrs_read_spec(spec, in->file, in->path, e);
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
    uint64_t id = checkpoint_attrs_run_id(f);
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

int checkpoint_read_state_in(TrainState *st, char **config_text, const H5Input *in, Error *e)
{
    *config_text = NULL;
    hid_t f = in->file;
    int rc = checkpoint_attrs_read_state(st, f, in->path, e);
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
    int rc = checkpoint_attrs_read_spec(&s, f, path, e);
    if (!rc) rc = checkpoint_attrs_spec_mismatch(&m->spec, &s, path, e);
    if (!rc) rc = read_tensors(m->params, f, "/params", &m->table, path, e);
    if (!rc && st) rc = checkpoint_attrs_read_state(st, f, path, e);
    if (!rc && o) {
        char name[32] = "";
        h5io_read_attr_str(name, sizeof name, f, "/optim", "optimizer");
        if (strcmp(name, config_optimizer_name(o->spec.kind)) != 0)
            rc = error_set(e, EXIT_USAGE, "%s: checkpoint optimizer is '%s', this run uses '%s'",
                           path, name, config_optimizer_name(o->spec.kind));
        if (!rc && h5io_read_attr_i64(&o->step, f, "/optim", "step"))
            rc = error_set(e, EXIT_USAGE, "%s: /optim step is missing", path);
        /* sgd without momentum has no buffer: momentum given on resume
         * starts it at zero, so its first step takes the gradient (as torch
         * does for a buffer it has not made yet) */
        const char *first, *second;
        char group[64];
        optim_state_names(&first, &second, o);
        snprintf(group, sizeof group, "/optim/%s", first ? first : "");
        if (!rc && first && (o->spec.kind != OPTIM_SGD || h5io_exists(f, group)))
            rc = read_tensors(o->m, f, group, &m->table, path, e);
        snprintf(group, sizeof group, "/optim/%s", second ? second : "");
        if (!rc && second) rc = read_tensors(o->v, f, group, &m->table, path, e);
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

int checkpoint_read_carry_in(float *data, const size_t dims[4], const H5Input *in, Error *e)
{
    H5Shape sh;
    Error ignored;
    if (!h5io_exists(in->file, "/state/carry") ||
        h5io_shape(&sh, in->file, "/state/carry", in->path, &ignored))
        return error_set(e, EXIT_USAGE, "%s: no /state/carry: not a checkpoint of stateful "
                         "training stopped mid-epoch", in->path);
    int same = sh.rank == 4;
    for (int i = 0; same && i < 4; i++) same = sh.dims[i] == dims[i];
    if (!same)
        return error_set(e, EXIT_USAGE, "%s: /state/carry is not [%zu, %zu, %zu, %zu] (layers, "
                         "h/c, batch-size columns, hidden)", in->path, dims[0], dims[1], dims[2],
                         dims[3]);
    return h5io_read_f32(data, in->file, "/state/carry", 0, dims[0], in->path, e) ? EXIT_USAGE
                                                                                 : 0;
}
