/* dataset.c - schema checks and loading (see dataset.h). */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5io.h"

_Static_assert(sizeof(hid_t) == sizeof(int64_t), "an hid_t fits Dataset.file_id");

/* "inputs" under group as an absolute path. */
static void member(char *out, size_t len, const char *group, const char *name)
{
    if (strcmp(group, "/") == 0)
        snprintf(out, len, "/%s", name);
    else
        snprintf(out, len, "%s/%s", group, name);
}

int dataset_has_group_in(const H5Input *in, const char *name)
{
    char path[300];
    member(path, sizeof path, name, "inputs");
    return h5io_exists(in->file, path);
}

/* The length of the file part of spec: "F:/group" when F exists and the
 * whole spec does not. */
static size_t spec_file_len(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    size_t flen = strlen(spec);
    if (colon && access(spec, F_OK) != 0) {
        char head[4096];
        size_t hl = (size_t)(colon - spec);
        if (hl < sizeof head) {
            memcpy(head, spec, hl);
            head[hl] = '\0';
            if (access(head, F_OK) == 0) flen = hl;
        }
    }
    return flen;
}

/* The group of spec (the file part is flen long) in the open file in. */
static int resolve_group(char *group, size_t group_len, const H5Input *in, const char *spec,
                         size_t flen, DatasetRole role, Error *e)
{
    if (spec[flen] == ':') {
        const char *g = spec + flen + 1;
        if (strlen(g) + 2 >= group_len) return error_set(e, EXIT_USAGE, "%s: group too long", spec);
        snprintf(group, group_len, "%s%s", g[0] == '/' ? "" : "/", g);
        size_t gl = strlen(group);
        if (gl > 1 && group[gl - 1] == '/') group[gl - 1] = '\0';
        return 0;
    }
    static const char *const train[] = {"/", "/train", NULL};
    static const char *const val[] = {"/", "/val", "/test", NULL};
    static const char *const eval[] = {"/", "/test", "/val", "/train", NULL};
    const char *const *prefs = role == ROLE_TRAIN ? train : role == ROLE_VAL ? val : eval;
    for (int i = 0; prefs[i]; i++) {
        if (dataset_has_group_in(in, prefs[i])) {
            snprintf(group, group_len, "%s", prefs[i]);
            return 0;
        }
    }
    return error_set(e, EXIT_USAGE,
                     "%s: no dataset found: neither the root nor %s holds 'inputs'", in->path,
                     role == ROLE_TRAIN ? "/train" : role == ROLE_VAL ? "/val or /test"
                                                                       : "/test, /val or /train");
}

int dataset_resolve_in(H5Input *in, char *group, size_t group_len, const char *spec,
                       DatasetRole role, Error *e)
{
    in->file = -1;
    size_t flen = spec_file_len(spec);
    if (flen == 0) return error_set(e, EXIT_USAGE, "empty dataset path");
    if (flen >= DATASET_PATH) return error_set(e, EXIT_USAGE, "%s: path too long", spec);
    char file[DATASET_PATH];
    memcpy(file, spec, flen);
    file[flen] = '\0';
    if (h5io_input_open(in, file, e)) return EXIT_USAGE;
    int rc = resolve_group(group, group_len, in, spec, flen, role, e);
    if (rc) h5io_input_close(in);
    return rc;
}

int dataset_resolve(char *file, size_t file_len, char *group, size_t group_len,
                    const char *spec, DatasetRole role, Error *e)
{
    size_t flen = spec_file_len(spec);
    if (flen && flen >= file_len) return error_set(e, EXIT_USAGE, "%s: path too long", spec);
    H5Input in;
    if (dataset_resolve_in(&in, group, group_len, spec, role, e)) return EXIT_USAGE;
    snprintf(file, file_len, "%s", in.path);
    h5io_input_close(&in);
    return 0;
}

/* An integer attribute from the group, else from the root. */
static int group_attr_int(int64_t *v, hid_t f, const char *group, const char *attr)
{
    if (h5io_read_attr_i64(v, f, group, attr) == 0) return 0;
    return h5io_read_attr_i64(v, f, "/", attr);
}

int dataset_count_rows_in(size_t *n, const H5Input *in, const char *group, Error *e)
{
    char path[300];
    member(path, sizeof path, group, "inputs");
    H5Shape s;
    if (h5io_shape(&s, in->file, path, in->path, e)) return EXIT_USAGE;
    *n = s.rank > 0 ? s.dims[0] : 0;
    return 0;
}

int dataset_count_rows(size_t *n, const char *file, const char *group, Error *e)
{
    H5Input in;
    if (h5io_input_open(&in, file, e)) return EXIT_USAGE;
    int rc = dataset_count_rows_in(n, &in, group, e);
    h5io_input_close(&in);
    return rc;
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    default: return "non-numeric";
    }
}

/* *out = integer attribute `attr` of ds's group (or the root), within lo..hi. */
static int require_count(int *out, hid_t f, const Dataset *ds, const char *attr, int64_t lo,
                         int64_t hi, const char *why, Error *e)
{
    int64_t v;
    if (group_attr_int(&v, f, ds->group, attr))
        return error_set(e, EXIT_USAGE, "%s: %s: integer attribute '%s' is missing (needed for %s)",
                         ds->file, ds->group, attr, why);
    if (v < lo || v > hi)
        return error_set(e, EXIT_USAGE, "%s: %s: %s = %lld is outside %lld..%lld", ds->file,
                         ds->group, attr, (long long)v, (long long)lo, (long long)hi);
    *out = (int)v;
    return 0;
}

/* Refuse a member whose data was never (fully) written: unwritten elements
 * read as fill values, and a hostile file can so declare billions of rows in
 * a few bytes. */
static int require_written(hid_t f, const char *name, const char *file, Error *e)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return error_set(e, EXIT_USAGE, "%s: cannot open dataset '%s'", file, name);
    int w = h5io_written(d);
    H5Dclose(d);
    if (w < 0)
        return error_set(e, EXIT_USAGE, "%s: %s: its storage cannot be read (damaged file?)",
                         file, name);
    if (w == 0)
        return error_set(e, EXIT_USAGE, "%s: %s: its data was never written, or only partly",
                         file, name);
    return 0;
}

/* The inputs member: its kind, rows, steps and features into ds; si its shape. */
static int check_inputs(Dataset *ds, H5Shape *si, hid_t f, Error *e)
{
    const char *file = ds->file, *in = ds->inputs_path;
    if (h5io_shape(si, f, in, file, e)) return EXIT_USAGE;
    if (si->cls == H5T_FLOAT && si->rank == 3) {
        ds->input = INPUT_DENSE;
        ds->F = (int)si->dims[2];
    } else if (si->cls == H5T_INTEGER && si->rank == 2) {
        ds->input = INPUT_TOKENS;
        ds->F = 1;
    } else {
        return error_set(e, EXIT_USAGE,
                         "%s: %s must be float [N, T, F] or integer token ids [N, T], found %s "
                         "of rank %d",
                         file, in, class_name(si->cls), si->rank);
    }
    size_t N = si->dims[0];
    if (N == 0) return error_set(e, EXIT_USAGE, "%s: %s is empty (0 rows)", file, in);
    /* rows are numbered in 32 bits (dropout keys, Batch.sample) */
    if (N > UINT32_MAX)
        return error_set(e, EXIT_USAGE, "%s: %s has %zu rows (at most %lu)", file, in, N,
                         (unsigned long)UINT32_MAX);
    if (si->dims[1] == 0 || si->dims[1] > 1000000)
        return error_set(e, EXIT_USAGE, "%s: %s has %zu steps (need 1..1000000)", file, in,
                         si->dims[1]);
    if (ds->input == INPUT_DENSE && (si->dims[2] == 0 || si->dims[2] > 1000000))
        return error_set(e, EXIT_USAGE, "%s: %s has %zu features (need 1..1000000)", file, in,
                         si->dims[2]);
    ds->T = (int)si->dims[1];
    ds->total_rows = N;
    /* a whole group must be addressable in memory: N x T x F x 8 bytes */
    if ((double)N * (double)si->dims[1] * (double)ds->F * 8.0 > 0x1p62)
        return error_set(e, EXIT_USAGE, "%s: %s has %zu x %zu x %d values (too large)", file, in,
                         N, si->dims[1], ds->F);
    return require_written(f, in, file, e);
}

/* The targets member (when required, or present): kind, mode and O into
 * ds; si is the inputs' shape. */
static int check_targets(Dataset *ds, const H5Shape *si, hid_t f, Error *e)
{
    const char *file = ds->file, *in = ds->inputs_path, *tg = ds->targets_path;
    if (!ds->has_targets && !h5io_exists(f, tg)) return 0;
    ds->has_targets = 1;
    size_t N = si->dims[0];
    H5Shape st;
    if (h5io_shape(&st, f, tg, file, e)) return EXIT_USAGE;
    if (st.cls == H5T_INTEGER && (st.rank == 1 || st.rank == 2)) {
        ds->kind = LOSS_CE;
        ds->target = st.rank == 2 ? TARGET_STEP : TARGET_LAST;
    } else if (st.cls == H5T_FLOAT && (st.rank == 2 || st.rank == 3)) {
        ds->kind = LOSS_MSE;
        ds->target = st.rank == 3 ? TARGET_STEP : TARGET_LAST;
        ds->O = (int)st.dims[st.rank - 1];
        if (ds->O < 1 || st.dims[st.rank - 1] > 1000000)
            return error_set(e, EXIT_USAGE, "%s: %s has %zu values per target", file, tg,
                             st.dims[st.rank - 1]);
        if ((double)N * (double)(st.rank == 3 ? si->dims[1] : 1) * (double)ds->O * 8.0 > 0x1p62)
            return error_set(e, EXIT_USAGE, "%s: %s has too many values", file, tg);
    } else {
        return error_set(e, EXIT_USAGE,
                         "%s: %s must be integer classes [N, T] / [N] or float values [N, T, O] "
                         "/ [N, O], found %s of rank %d",
                         file, tg, class_name(st.cls), st.rank);
    }
    if (st.dims[0] != N)
        return error_set(e, EXIT_USAGE, "%s: %s has %zu rows but %s has %zu", file, tg,
                         st.dims[0], in, N);
    if (ds->target == TARGET_STEP && st.dims[1] != si->dims[1])
        return error_set(e, EXIT_USAGE, "%s: %s has %zu steps but %s has %zu", file, tg,
                         st.dims[1], in, si->dims[1]);
    return require_written(f, tg, file, e);
}

/* The optional lengths member: integer [N], written. */
static int check_lengths_member(Dataset *ds, size_t N, hid_t f, Error *e)
{
    const char *file = ds->file, *in = ds->inputs_path, *ln = ds->lengths_path;
    ds->has_lengths = h5io_exists(f, ln);
    if (!ds->has_lengths) return 0;
    H5Shape sl;
    if (h5io_shape(&sl, f, ln, file, e)) return EXIT_USAGE;
    if (sl.cls != H5T_INTEGER || sl.rank != 1)
        return error_set(e, EXIT_USAGE, "%s: %s must be integer [N], found %s of rank %d",
                         file, ln, class_name(sl.cls), sl.rank);
    if (sl.dims[0] != N)
        return error_set(e, EXIT_USAGE, "%s: %s has %zu rows but %s has %zu", file, ln,
                         sl.dims[0], in, N);
    return require_written(f, ln, file, e);
}

/* Shapes and attributes; fills ds's metadata. */
static int check_schema(Dataset *ds, hid_t f, Error *e)
{
    const char *g = ds->group;
    if (strcmp(g, "/") != 0 && !h5io_exists(f, g))
        return error_set(e, EXIT_USAGE, "%s: group '%s' is missing", ds->file, g);
    H5Shape si;
    if (check_inputs(ds, &si, f, e) || check_targets(ds, &si, f, e) ||
        check_lengths_member(ds, si.dims[0], f, e))
        return EXIT_USAGE;
    if (ds->input == INPUT_TOKENS &&
        require_count(&ds->vocab, f, ds, "vocab_size", 1, 100000000, "token inputs", e))
        return EXIT_USAGE;
    if (ds->has_targets && ds->kind == LOSS_CE) {
        if (require_count(&ds->num_classes, f, ds, "num_classes", 2, 10000000, "class targets", e))
            return EXIT_USAGE;
        ds->O = ds->num_classes;
    }
    if (h5io_read_attr_str(ds->description, sizeof ds->description, f, g, "description"))
        h5io_read_attr_str(ds->description, sizeof ds->description, f, "/", "description");
    return 0;
}

/* The view row held in slot i of the row data. */
static size_t row_of_slot(const Dataset *ds, size_t i)
{
    return ds->streamed ? ds->cached[i] : i;
}

/* Check the lengths of every view row; indices in messages are group rows. */
static int check_lengths(Dataset *ds, Error *e)
{
    for (size_t i = 0; i < ds->n; i++) {
        int len = ds->lengths[i];
        if (len < 1 || len > ds->T) {
            ds->bad_row = (int64_t)(ds->row0 + i);
            return error_set(e, EXIT_USAGE, "%s: %s[%zu] = %d is outside 1..%d", ds->file,
                             ds->lengths_path, ds->row0 + i, len, ds->T);
        }
    }
    return 0;
}

/* Check the values held in slots [s0, s1); indices in messages are rows of
 * the group. Lengths are checked already. */
static int check_values(Dataset *ds, size_t s0, size_t s1, Error *e)
{
    const char *file = ds->file;
    const char *in = ds->inputs_path, *tg = ds->targets_path;
    const size_t T = (size_t)ds->T, F = (size_t)ds->F, O = (size_t)ds->O;
    for (size_t i = s0; i < s1; i++) {
        size_t row = ds->row0 + row_of_slot(ds, i);
        int len = ds->lengths[row_of_slot(ds, i)];
        ds->bad_row = (int64_t)row;
        /* inputs: every position (padding flows through the cells too) */
        for (size_t t = 0; t < T; t++) {
            if (ds->input == INPUT_TOKENS) {
                int32_t tok = ds->tokens[i * T + t];
                if (tok < 0 || tok >= ds->vocab)
                    return error_set(e, EXIT_USAGE,
                                     "%s: %s[%zu, %zu] = %d is outside the vocabulary 0..%d", file,
                                     in, row, t, tok, ds->vocab - 1);
            } else {
                for (size_t k = 0; k < F; k++) {
                    float x = ds->x[(i * T + t) * F + k];
                    if (!isfinite(x))
                        return error_set(e, EXIT_USAGE, "%s: %s[%zu, %zu, %zu] is %s", file, in,
                                         row, t, k, isnan(x) ? "NaN" : "Inf");
                }
            }
        }
        if (!ds->has_targets) continue;
        /* targets: valid positions only (padding may hold anything) */
        size_t steps = ds->target == TARGET_STEP ? (size_t)len : 1;
        for (size_t t = 0; t < steps; t++) {
            size_t at = ds->target == TARGET_STEP ? i * T + t : i;
            if (ds->kind == LOSS_CE) {
                int32_t y = ds->y_class[at];
                if (y < 0 || y >= ds->num_classes) {
                    if (ds->target == TARGET_STEP)
                        return error_set(e, EXIT_USAGE,
                                         "%s: %s[%zu, %zu] = %d is outside the classes 0..%d",
                                         file, tg, row, t, y, ds->num_classes - 1);
                    return error_set(e, EXIT_USAGE, "%s: %s[%zu] = %d is outside the classes 0..%d",
                                     file, tg, row, y, ds->num_classes - 1);
                }
            } else {
                for (size_t k = 0; k < O; k++) {
                    float y = ds->y_value[at * O + k];
                    if (isfinite(y)) continue;
                    if (ds->target == TARGET_STEP)
                        return error_set(e, EXIT_USAGE, "%s: %s[%zu, %zu, %zu] is %s", file, tg,
                                         row, t, k, isnan(y) ? "NaN" : "Inf");
                    return error_set(e, EXIT_USAGE, "%s: %s[%zu, %zu] is %s", file, tg, row, k,
                                     isnan(y) ? "NaN" : "Inf");
                }
            }
        }
    }
    ds->bad_row = -1;
    return 0;
}

/* Read the lengths of the view (or T for every row without them). */
static int read_lengths(Dataset *ds, hid_t f, Error *e)
{
    ds->lengths = xalloc_rows(ds->n * sizeof(int32_t)); /* read at random, as the rows */
    if (ds->has_lengths)
        return h5io_read_i32(ds->lengths, f, ds->lengths_path, ds->row0, ds->n, ds->file, e);
    for (size_t i = 0; i < ds->n; i++) ds->lengths[i] = ds->T;
    return 0;
}

/* A Dataset that holds nothing yet: its names, no rows. */
static void view_init(Dataset *ds, const char *file, const char *group, int need_targets)
{
    memset(ds, 0, sizeof *ds);
    ds->bad_row = -1;
    ds->has_targets = need_targets; /* check_schema: 1 = targets required */
    snprintf(ds->file, sizeof ds->file, "%s", file);
    snprintf(ds->group, sizeof ds->group, "%s", group && group[0] ? group : "/");
    member(ds->inputs_path, sizeof ds->inputs_path, ds->group, "inputs");
    member(ds->targets_path, sizeof ds->targets_path, ds->group, "targets");
    member(ds->lengths_path, sizeof ds->lengths_path, ds->group, "lengths");
}

/* Common start of both opens: names, schema, the view's bounds, lengths.
 * On failure the caller closes ds. */
static int open_view(Dataset *ds, const H5Input *in, const char *group, size_t row0, size_t n,
                     int need_targets, Error *e)
{
    view_init(ds, in->path, group, need_targets);
    int rc = check_schema(ds, in->file, e);
    if (!rc && (row0 >= ds->total_rows || (n && row0 + n > ds->total_rows)))
        rc = error_set(e, EXIT_USAGE, "%s: %s has %zu rows, cannot take rows %zu..%zu", in->path,
                       ds->group, ds->total_rows, row0, row0 + (n ? n : 1) - 1);
    if (!rc) {
        ds->row0 = row0;
        ds->n = n ? n : ds->total_rows - row0;
        rc = read_lengths(ds, in->file, e);
    }
    if (!rc) rc = check_lengths(ds, e);
    return rc;
}

size_t dataset_row_bytes(const Dataset *ds)
{
    size_t T = (size_t)ds->T, per = ds->target == TARGET_STEP ? T : 1;
    size_t in = ds->input == INPUT_TOKENS ? T * sizeof(int32_t) : T * ds->F * sizeof(float);
    size_t tg = !ds->has_targets ? 0
                : ds->kind == LOSS_CE ? per * sizeof(int32_t)
                                      : per * ds->O * sizeof(float);
    return in + tg;
}

int dataset_open_streamed_in(Dataset *ds, const H5Input *in, const char *group, size_t row0,
                             size_t n, int need_targets, size_t check_lo, size_t check_hi,
                             Error *e)
{
    int rc = open_view(ds, in, group, row0, n, need_targets, e);
    if (rc) {
        dataset_close(ds);
        return rc;
    }
    H5Iinc_ref(in->file); /* ds's own reference, dropped by dataset_close */
    ds->streamed = 1;
    ds->slot_index = xcalloc(ds->n, sizeof(uint32_t));
    memset(ds->slot_index, 0xff, ds->n * sizeof(uint32_t));
    ds->file_id = (int64_t)in->file;
    if (check_hi > ds->n) check_hi = ds->n;
    /* check this process's share a bounded chunk at a time */
    size_t chunk = DATASET_WINDOW_BYTES / (dataset_row_bytes(ds) ? dataset_row_bytes(ds) : 1);
    if (chunk < 1) chunk = 1;
    size_t *rows = xcalloc(chunk, sizeof(size_t));
    for (size_t a = check_lo; !rc && a < check_hi; a += chunk) {
        size_t m = check_hi - a < chunk ? check_hi - a : chunk;
        for (size_t i = 0; i < m; i++) rows[i] = a + i;
        rc = dataset_read_rows(ds, rows, m, e);
        if (!rc) rc = check_values(ds, 0, m, e);
    }
    free(rows);
    for (size_t i = 0; i < ds->n_cached; i++) ds->slot_index[ds->cached[i]] = UINT32_MAX;
    ds->n_cached = 0;
    if (rc) dataset_close(ds);
    return rc;
}

void dataset_rows_free(Dataset *ds)
{
    free(ds->x), free(ds->tokens), free(ds->y_class), free(ds->y_value);
    ds->x = ds->y_value = NULL;
    ds->tokens = ds->y_class = NULL;
}

void dataset_rows_alloc(Dataset *ds, size_t n)
{
    const size_t T = (size_t)ds->T, per = ds->target == TARGET_STEP ? T : 1;
    dataset_rows_free(ds);
    if (ds->input == INPUT_TOKENS)
        ds->tokens = xalloc_rows(n * T * sizeof(int32_t));
    else
        ds->x = xalloc_rows(n * T * (size_t)ds->F * sizeof(float));
    if (ds->has_targets && ds->kind == LOSS_CE)
        ds->y_class = xalloc_rows(n * per * sizeof(int32_t));
    else if (ds->has_targets)
        ds->y_value = xalloc_rows(n * per * (size_t)ds->O * sizeof(float));
}

/* Read every view row of the open file f into fresh row data (resident
 * layout: by view row). */
static int read_all(Dataset *ds, hid_t f, Error *e)
{
    const size_t N = ds->n, row0 = ds->row0;
    const char *in_path = ds->inputs_path, *tg = ds->targets_path, *file = ds->file;
    dataset_rows_alloc(ds, N);
    int rc = ds->input == INPUT_TOKENS ? h5io_read_i32(ds->tokens, f, in_path, row0, N, file, e)
                                       : h5io_read_f32(ds->x, f, in_path, row0, N, file, e);
    if (!rc && ds->has_targets)
        rc = ds->kind == LOSS_CE ? h5io_read_i32(ds->y_class, f, tg, row0, N, file, e)
                                 : h5io_read_f32(ds->y_value, f, tg, row0, N, file, e);
    return rc;
}

int dataset_open_in(Dataset *ds, const H5Input *in, const char *group, size_t row0, size_t n,
                    int need_targets, Error *e)
{
    int rc = open_view(ds, in, group, row0, n, need_targets, e);
    if (!rc) rc = read_all(ds, in->file, e);
    if (!rc) rc = check_values(ds, 0, ds->n, e);
    if (rc) dataset_close(ds);
    return rc;
}

int dataset_hold_all(Dataset *ds, Error *e)
{
    if (!ds->streamed) return 0;
    free(ds->cached);
    ds->cached = NULL;
    ds->n_cached = ds->cap_cached = 0;
    free(ds->slot_index);
    ds->slot_index = NULL;
    int rc = read_all(ds, (hid_t)ds->file_id, e);
    if (rc) return rc;
    H5Fclose((hid_t)ds->file_id);
    ds->file_id = 0;
    ds->streamed = 0;
    return 0;
}

int dataset_open_streamed(Dataset *ds, const char *file, const char *group, size_t row0,
                          size_t n, int need_targets, size_t check_lo, size_t check_hi,
                          Error *e)
{
    H5Input in;
    if (h5io_input_open(&in, file, e)) {
        view_init(ds, file, group, need_targets);
        return EXIT_USAGE;
    }
    int rc = dataset_open_streamed_in(ds, &in, group, row0, n, need_targets, check_lo, check_hi,
                                      e);
    h5io_input_close(&in);
    return rc;
}

int dataset_open(Dataset *ds, const char *file, const char *group, size_t row0, size_t n,
                 int need_targets, Error *e)
{
    H5Input in;
    if (h5io_input_open(&in, file, e)) {
        view_init(ds, file, group, need_targets);
        return EXIT_USAGE;
    }
    int rc = dataset_open_in(ds, &in, group, row0, n, need_targets, e);
    h5io_input_close(&in);
    return rc;
}

void dataset_close(Dataset *ds)
{
    if (ds->streamed && ds->file_id > 0) H5Fclose((hid_t)ds->file_id);
    ds->file_id = 0;
    free(ds->cached);
    ds->cached = NULL;
    free(ds->slot_index);
    ds->slot_index = NULL;
    ds->n_cached = ds->cap_cached = 0;
    free(ds->lengths);
    ds->lengths = NULL;
    dataset_rows_free(ds);
}

double dataset_target_count(const Dataset *ds, const size_t *rows, size_t n)
{
    if (!rows) n = ds->n;
    double count = 0;
    if (ds->target != TARGET_STEP || !ds->has_lengths) /* then every length is T */
        count = (double)n * (ds->target == TARGET_STEP ? ds->T : 1);
    else
        for (size_t i = 0; i < n; i++) count += ds->lengths[rows ? rows[i] : i];
    return ds->kind == LOSS_MSE ? count * ds->O : count;
}
