/* dgpart.c - the groups of a generated dataset and their writing (see dgpart.h). */
#include "dgpart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h5io.h"

void dgpart_init(DgPart *p, const char *name, size_t n, int T, int F, int O, int per_step)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    p->n = n;
    p->T = T;
    p->F = F;
    p->O = O;
    p->per_step = per_step;
    p->extra = NAN;
    size_t steps = per_step ? (size_t)T : 1;
    if (F)
        p->x = xalloc_floats(n * (size_t)T * (size_t)F);
    else
        p->tok = xcalloc(n * (size_t)T, sizeof *p->tok);
    if (O)
        p->yv = xalloc_floats(n * steps * (size_t)O);
    else
        p->yc = xcalloc(n * steps, sizeof *p->yc);
}

void dgpart_add_lengths(DgPart *p)
{
    p->len = xcalloc(p->n ? p->n : 1, sizeof *p->len);
    for (size_t i = 0; i < p->n; i++) p->len[i] = p->T;
}

static void part_free(DgPart *p)
{
    free(p->len);
    free(p->x);
    free(p->tok);
    free(p->yc);
    free(p->yv);
    memset(p, 0, sizeof *p);
}

static int attr_fail(Error *e, const char *obj, const char *attr)
{
    return error_set(e, EXIT_FAIL, "datagen: cannot write attribute %s of %s", attr, obj);
}

/* The ceiling attributes of a group or the root: best_acc for classes,
 * noise_floor_rmse and noise_floor_mse for values. */
static int write_best(hid_t loc, const char *obj, int classes, double best, Error *e)
{
    if (classes)
        return h5io_write_attr_f64(loc, obj, "best_acc", best) ? attr_fail(e, obj, "best_acc") : 0;
    if (h5io_write_attr_f64(loc, obj, "noise_floor_rmse", best))
        return attr_fail(e, obj, "noise_floor_rmse");
    if (h5io_write_attr_f64(loc, obj, "noise_floor_mse", best * best))
        return attr_fail(e, obj, "noise_floor_mse");
    return 0;
}

/* Write p as group /p->name: inputs, targets and the attributes. extra_name
 * (may be NULL) names p->extra. */
static int part_write(hid_t file, const DgPart *p, int classes, int vocab, const char *extra_name,
                      Error *e)
{
    hid_t g = h5io_group(file, p->name);
    if (g < 0) return error_set(e, EXIT_FAIL, "datagen: cannot create group /%s", p->name);
    size_t in_dims[3] = {p->n, (size_t)p->T, (size_t)p->F};
    size_t y_dims[3] = {p->n, 0, 0};
    int y_rank = 1;
    if (p->per_step) y_dims[y_rank++] = (size_t)p->T;
    if (p->O) y_dims[y_rank++] = (size_t)p->O;
    int rc = p->F ? h5io_write_f32(g, "inputs", p->x, 3, in_dims, e)
                  : h5io_write_i32(g, "inputs", p->tok, 2, in_dims, e);
    if (!rc)
        rc = p->O ? h5io_write_f32(g, "targets", p->yv, y_rank, y_dims, e)
                  : h5io_write_i32(g, "targets", p->yc, y_rank, y_dims, e);
    if (!rc && p->len) rc = h5io_write_i32(g, "lengths", p->len, 1, in_dims, e);
    if (!rc && h5io_write_attr_str(g, ".", "description", p->desc))
        rc = attr_fail(e, p->name, "description");
    if (!rc && classes && h5io_write_attr_i64(g, ".", "num_classes", classes))
        rc = attr_fail(e, p->name, "num_classes");
    if (!rc && vocab && h5io_write_attr_i64(g, ".", "vocab_size", vocab))
        rc = attr_fail(e, p->name, "vocab_size");
    if (!rc) rc = write_best(g, ".", classes, p->best, e);
    if (!rc && extra_name && h5io_write_attr_f64(g, ".", extra_name, p->extra))
        rc = attr_fail(e, p->name, extra_name);
    H5Gclose(g);
    return rc;
}

int dgpart_write(hid_t file, uint64_t seed, const char *task, const char *desc,
                 const DgPart *parts, int nparts, int classes, int vocab,
                 const char *extra_name, Error *e)
{
    if (h5io_write_attr_str(file, ".", "task", task)) return attr_fail(e, "/", "task");
    if (h5io_write_attr_i64(file, ".", "seed", (int64_t)seed)) return attr_fail(e, "/", "seed");
    if (h5io_write_attr_str(file, ".", "description", desc))
        return attr_fail(e, "/", "description");
    if (classes && h5io_write_attr_i64(file, ".", "num_classes", classes))
        return attr_fail(e, "/", "num_classes");
    if (vocab && h5io_write_attr_i64(file, ".", "vocab_size", vocab))
        return attr_fail(e, "/", "vocab_size");
    if (write_best(file, ".", classes, parts[1].best, e)) return e->code;
    if (extra_name && h5io_write_attr_f64(file, ".", extra_name, parts[1].extra))
        return attr_fail(e, "/", extra_name);
    for (int k = 0; k < nparts; k++)
        if (part_write(file, &parts[k], classes, vocab, extra_name, e)) return e->code;
    return 0;
}

void dgpart_free(DgPart *parts, int nparts)
{
    for (int k = 0; k < nparts; k++) part_free(&parts[k]);
}
