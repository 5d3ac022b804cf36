/* test_datagen.c - the built-in tasks: determinism, schema (shapes, types,
 * attributes), the value rules of every task, label-noise rates, held-out
 * arith starts, and refusal of bad specs. Files go to a mkdtemp directory
 * that is removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "datagen.h"
#include "dataset.h"
#include "h5io.h"

typedef struct Dir {
    char path[256];
} Dir;

static int setup(void **state)
{
    Dir *d = xcalloc(1, sizeof *d);
    snprintf(d->path, sizeof d->path, "/tmp/test_datagen.XXXXXX");
    if (!mkdtemp(d->path)) return -1;
    h5io_init();
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    Dir *d = *state;
    DIR *dir = opendir(d->path);
    if (dir) {
        struct dirent *ent;
        char p[600];
        while ((ent = readdir(dir)) != NULL) {
            if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", d->path, ent->d_name);
            unlink(p);
        }
        closedir(dir);
    }
    rmdir(d->path);
    free(d);
    return 0;
}

/* Path of `name` in the test directory (static buffer, 4 in rotation). */
static const char *in_dir(void **state, const char *name)
{
    static char buf[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", ((Dir *)*state)->path, name);
    return buf[k];
}

/* Generate task into the test directory; fails the test on error. */
static const char *gen(void **state, const char *task, const char *name, long n, int T,
                       uint64_t seed)
{
    const char *path = in_dir(state, name);
    DatagenSpec s = {task, path, n, T, seed};
    Error e = {0, ""};
    int rc = datagen_run(&s, &e);
    if (rc) fail_msg("datagen %s: %s", task, e.msg);
    return path;
}

static int refused(void **state, const char *task, long n, int T, char *msg, size_t len)
{
    DatagenSpec s = {task, in_dir(state, "refused.h5"), n, T, 1};
    Error e = {0, ""};
    int rc = datagen_run(&s, &e);
    if (msg) snprintf(msg, len, "%s", e.msg);
    assert_int_equal(access(s.out, F_OK), -1); /* nothing written */
    return rc;
}

/* Open group of file with the schema checker; fails the test if refused. */
static void open_group(Dataset *ds, const char *file, const char *group)
{
    Error e = {0, ""};
    if (dataset_open(ds, file, group, 0, 0, 1, &e)) fail_msg("%s:%s: %s", file, group, e.msg);
}

static void expect_shape(hid_t f, const char *name, H5T_class_t cls, int rank, size_t d0,
                         size_t d1, size_t d2)
{
    H5Shape s;
    Error e;
    if (h5io_shape(&s, f, name, "file", &e)) fail_msg("%s", e.msg);
    assert_int_equal(s.cls, cls);
    assert_int_equal(s.size, 4);
    assert_int_equal(s.rank, rank);
    size_t want[3] = {d0, d1, d2};
    for (int i = 0; i < rank; i++) assert_int_equal(s.dims[i], want[i]);
}

static double attr_f64(hid_t f, const char *obj, const char *attr)
{
    double v = NAN;
    if (h5io_read_attr_f64(&v, f, obj, attr)) fail_msg("attribute %s of %s missing", attr, obj);
    return v;
}

static int64_t attr_i64(hid_t f, const char *obj, const char *attr)
{
    int64_t v = -1;
    if (h5io_read_attr_i64(&v, f, obj, attr)) fail_msg("attribute %s of %s missing", attr, obj);
    return v;
}

/* What one task's file must look like. */
typedef struct Expect {
    const char *task;
    int ngroups;       /* /train /val (/test) */
    size_t rows[3];
    int T, F;          /* F = 0: token inputs int32 [N, T] */
    int classes;       /* 0: value targets */
    int O;             /* value targets per step / sequence */
    int per_step;
    int vocab;
    const char *extra; /* an additional float attribute, or NULL */
    int lengths;       /* 1: each group has lengths int32 [N] */
} Expect;

static const char *const GROUPS[3] = {"train", "val", "test"};

static void check_schema(const char *path, const Expect *x, uint64_t seed)
{
    hid_t f;
    Error e;
    assert_int_equal(h5io_open_read(&f, path, &e), 0);
    char buf[600];
    assert_int_equal(h5io_read_attr_str(buf, sizeof buf, f, ".", "task"), 0);
    assert_string_equal(buf, x->task);
    assert_int_equal(attr_i64(f, ".", "seed"), (int64_t)seed);
    for (int k = 0; k < 4; k++) {
        const char *obj = k == 3 ? "." : GROUPS[k];
        if (k < 3 && k >= x->ngroups) {
            assert_false(h5io_exists(f, obj));
            continue;
        }
        assert_int_equal(h5io_read_attr_str(buf, sizeof buf, f, obj, "description"), 0);
        assert_true(strlen(buf) > 40 && strlen(buf) < 511);
        assert_non_null(strstr(buf, k == 3 ? x->task : GROUPS[k]));
        assert_non_null(strstr(buf, "best"));
        if (x->classes) {
            assert_int_equal(attr_i64(f, obj, "num_classes"), x->classes);
            double best = attr_f64(f, obj, "best_acc");
            assert_true(best > 0.5 && best <= 1.0);
            assert_false(h5io_attr_exists(f, obj, "noise_floor_rmse"));
        } else {
            assert_false(h5io_attr_exists(f, obj, "num_classes"));
            double r = attr_f64(f, obj, "noise_floor_rmse");
            double m = attr_f64(f, obj, "noise_floor_mse");
            assert_true(r >= 0 && fabs(m - r * r) < 1e-12);
            assert_false(h5io_attr_exists(f, obj, "best_acc"));
        }
        if (x->vocab)
            assert_int_equal(attr_i64(f, obj, "vocab_size"), x->vocab);
        else
            assert_false(h5io_attr_exists(f, obj, "vocab_size"));
        if (x->extra) assert_true(isfinite(attr_f64(f, obj, x->extra)));
    }
    const char *best = x->classes ? "best_acc" : "noise_floor_rmse";
    assert_true(attr_f64(f, ".", best) == attr_f64(f, "val", best));
    for (int k = 0; k < x->ngroups; k++) {
        char in[64], tg[64], ln[64];
        snprintf(in, sizeof in, "%s/inputs", GROUPS[k]);
        snprintf(tg, sizeof tg, "%s/targets", GROUPS[k]);
        snprintf(ln, sizeof ln, "%s/lengths", GROUPS[k]);
        size_t n = x->rows[k], T = (size_t)x->T;
        if (x->F)
            expect_shape(f, in, H5T_FLOAT, 3, n, T, (size_t)x->F);
        else
            expect_shape(f, in, H5T_INTEGER, 2, n, T, 0);
        if (x->classes)
            expect_shape(f, tg, H5T_INTEGER, x->per_step ? 2 : 1, n, T, 0);
        else if (x->per_step)
            expect_shape(f, tg, H5T_FLOAT, 3, n, T, (size_t)x->O);
        else
            expect_shape(f, tg, H5T_FLOAT, 2, n, (size_t)x->O, 0);
        if (x->lengths)
            expect_shape(f, ln, H5T_INTEGER, 1, n, 0, 0);
        else
            assert_false(h5io_exists(f, ln));
    }
    H5Fclose(f);
    for (int k = 0; k < x->ngroups; k++) { /* the trainer's own schema checks accept it */
        Dataset ds;
        char g[16];
        snprintf(g, sizeof g, "/%s", GROUPS[k]);
        open_group(&ds, path, g);
        assert_int_equal(ds.n, x->rows[k]);
        assert_int_equal(ds.kind, x->classes ? LOSS_CE : LOSS_MSE);
        dataset_close(&ds);
    }
}

static void test_schema(void **state)
{
    const Expect ex[] = {
        {"counting", 2, {800, 200, 0}, 4, 0, 10, 0, 1, 10, NULL, 0},
        {"seqclass", 2, {1000, 500, 0}, 5, 10, 2, 0, 0, 0, NULL, 0},
        {"stepclass", 2, {800, 200, 0}, 10, 5, 3, 0, 1, 0, NULL, 0},
        {"arith", 3, {800, 100, 100}, 5, 1, 0, 1, 1, 0, NULL, 0},
        {"sine", 2, {797, 197, 0}, 3, 1, 0, 1, 0, 0, "oracle_rmse", 0},
        {"adding", 2, {10000, 2000, 0}, 50, 2, 0, 1, 0, 0, "baseline_mse", 0},
        {"lookahead", 2, {1600, 400, 0}, 12, 0, 10, 0, 1, 10, "past_only_acc", 1},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        const char *p = gen(state, ex[i].task, "schema.h5", 0, 0, 1);
        check_schema(p, &ex[i], 1);
    }
    /* --n and --seq-len change the shapes */
    const Expect sized[] = {
        {"counting", 2, {40, 10, 0}, 7, 0, 10, 0, 1, 10, NULL, 0},
        {"seqclass", 2, {20, 10, 0}, 3, 10, 2, 0, 0, 0, NULL, 0},
        {"stepclass", 2, {16, 4, 0}, 2, 5, 3, 0, 1, 0, NULL, 0},
        {"arith", 3, {40, 5, 5}, 8, 1, 0, 1, 1, 0, NULL, 0},
        {"sine", 2, {395, 95, 0}, 5, 1, 0, 1, 0, 0, "oracle_rmse", 0},
        {"adding", 2, {30, 6, 0}, 2, 2, 0, 1, 0, 0, "baseline_mse", 0},
        {"lookahead", 2, {24, 6, 0}, 5, 0, 10, 0, 1, 10, "past_only_acc", 1},
    };
    const long n[] = {50, 30, 20, 50, 500, 30, 30};
    for (size_t i = 0; i < sizeof sized / sizeof sized[0]; i++) {
        const char *p = gen(state, sized[i].task, "sized.h5", n[i], sized[i].T, 7);
        check_schema(p, &sized[i], 7);
    }
}

/* Every member and attribute of a and b, byte for byte. Returns 1 when
 * all members are identical. */
static int same_members(const char *a, const char *b)
{
    static const char *const members[] = {"inputs", "targets"};
    static const char *const attrs[] = {"best_acc", "noise_floor_rmse", "oracle_rmse",
                                        "baseline_mse"};
    hid_t fa, fb;
    Error e;
    assert_int_equal(h5io_open_read(&fa, a, &e), 0);
    assert_int_equal(h5io_open_read(&fb, b, &e), 0);
    int same = 1;
    for (int k = 0; k < 3; k++) {
        for (int m = 0; m < 2; m++) {
            char name[64];
            snprintf(name, sizeof name, "%s/%s", GROUPS[k], members[m]);
            assert_int_equal(h5io_exists(fa, name), h5io_exists(fb, name));
            if (!h5io_exists(fa, name)) continue;
            H5Shape sa, sb;
            assert_int_equal(h5io_shape(&sa, fa, name, a, &e), 0);
            assert_int_equal(h5io_shape(&sb, fb, name, b, &e), 0);
            assert_memory_equal(&sa, &sb, sizeof sa);
            size_t count = 1;
            for (int i = 0; i < sa.rank; i++) count *= sa.dims[i];
            void *va = xcalloc(count, 4), *vb = xcalloc(count, 4);
            if (sa.cls == H5T_FLOAT) {
                assert_int_equal(h5io_read_f32(va, fa, name, 0, sa.dims[0], a, &e), 0);
                assert_int_equal(h5io_read_f32(vb, fb, name, 0, sb.dims[0], b, &e), 0);
            } else {
                assert_int_equal(h5io_read_i32(va, fa, name, 0, sa.dims[0], a, &e), 0);
                assert_int_equal(h5io_read_i32(vb, fb, name, 0, sb.dims[0], b, &e), 0);
            }
            same &= memcmp(va, vb, count * 4) == 0;
            free(va);
            free(vb);
        }
        for (int t = 0; t < 4 && k < 2; t++) {
            double x = NAN, y = NAN;
            int ra = h5io_read_attr_f64(&x, fa, GROUPS[k], attrs[t]);
            assert_int_equal(ra, h5io_read_attr_f64(&y, fb, GROUPS[k], attrs[t]));
            if (!ra) same &= memcmp(&x, &y, sizeof x) == 0;
        }
    }
    char da[600], db[600];
    assert_int_equal(h5io_read_attr_str(da, sizeof da, fa, ".", "description"), 0);
    assert_int_equal(h5io_read_attr_str(db, sizeof db, fb, ".", "description"), 0);
    same &= strcmp(da, db) == 0;
    H5Fclose(fa);
    H5Fclose(fb);
    return same;
}

static void test_determinism(void **state)
{
    static const char *const tasks[] = {"counting", "seqclass", "stepclass", "arith", "sine",
                                        "adding"};
    for (int i = 0; i < 6; i++) {
        const char *a = gen(state, tasks[i], "a.h5", 200, 0, 42);
        const char *b = gen(state, tasks[i], "b.h5", 200, 0, 42);
        const char *c = gen(state, tasks[i], "c.h5", 200, 0, 43);
        if (!same_members(a, b)) fail_msg("%s: same spec, different data", tasks[i]);
        if (same_members(a, c)) fail_msg("%s: different seed, same data", tasks[i]);
    }
    /* a row's values depend on its index only: a bigger file keeps the
     * first rows of /train (adding: /train is rows 0..n-1) */
    Dataset small, big;
    const char *a = gen(state, "adding", "a.h5", 100, 20, 5);
    const char *b = gen(state, "adding", "b.h5", 300, 20, 5);
    open_group(&small, a, "/train");
    open_group(&big, b, "/train");
    assert_memory_equal(small.x, big.x, 100 * 20 * 2 * sizeof(float));
    assert_memory_equal(small.y_value, big.y_value, 100 * sizeof(float));
    dataset_close(&small);
    dataset_close(&big);
    /* no temporary file is left behind */
    DIR *dir = opendir(((Dir *)*state)->path);
    struct dirent *ent;
    while ((ent = readdir(dir)) != NULL) assert_null(strstr(ent->d_name, ".tmp"));
    closedir(dir);
}

static void test_counting_rule(void **state)
{
    const char *p = gen(state, "counting", "counting.h5", 0, 0, 3);
    size_t seen[10] = {0};
    for (int k = 0; k < 2; k++) {
        Dataset ds;
        open_group(&ds, p, k ? "/val" : "/train");
        assert_int_equal(ds.input, INPUT_TOKENS);
        assert_int_equal(ds.vocab, 10);
        for (size_t i = 0; i < ds.n; i++) {
            const int32_t *x = ds.tokens + i * 4, *y = ds.y_class + i * 4;
            seen[x[0]]++;
            for (int t = 0; t < 4; t++) {
                assert_true(x[t] >= 0 && x[t] < 10);
                assert_int_equal(y[t], (x[t] + 1) % 10);
                if (t) assert_int_equal(x[t], (x[t - 1] + 1) % 10);
            }
        }
        dataset_close(&ds);
    }
    for (int d = 0; d < 10; d++) assert_true(seen[d] > 60 && seen[d] < 140); /* ~100 each */
}

static void test_arith_rule_and_held_out(void **state)
{
    const char *p = gen(state, "arith", "arith.h5", 2000, 0, 4);
    float *starts[3];
    size_t counts[3];
    for (int k = 0; k < 3; k++) {
        Dataset ds;
        char g[16];
        snprintf(g, sizeof g, "/%s", GROUPS[k]);
        open_group(&ds, p, g);
        counts[k] = ds.n;
        starts[k] = xalloc_floats(ds.n);
        for (size_t i = 0; i < ds.n; i++) {
            const float *x = ds.x + i * 5, *y = ds.y_value + i * 5;
            for (int t = 0; t < 5; t++) {
                assert_true(x[t] == x[0] + (float)t);
                assert_true(y[t] == x[t] + 1.0f);
            }
            float s = x[0];
            assert_true(s >= 0.0f && s < 10.0f);
            int whole = (int)s;
            double m = ((double)s - whole) * 65536; /* starts are multiples of 2^-16 */
            assert_true(m == floor(m));
            if (k == 0) {
                assert_true(m < 26214 || m >= 39322); /* [k, k+0.4) and [k+0.6, k+1) */
            } else {
                assert_true(m >= 26214 && m < 39322);
                assert_int_equal(whole % 2, k == 2); /* val: even k, test: odd k */
            }
            starts[k][i] = s;
        }
        dataset_close(&ds);
    }
    assert_int_equal(counts[0], 1600);
    assert_int_equal(counts[1], 200);
    assert_int_equal(counts[2], 200);
    /* held-out starts are disjoint from the train starts, and within their range */
    float lo = 10.0f, hi = 0.0f;
    for (size_t i = 0; i < counts[0]; i++) {
        lo = fminf(lo, starts[0][i]);
        hi = fmaxf(hi, starts[0][i]);
    }
    for (int k = 1; k < 3; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            assert_true(starts[k][i] > lo && starts[k][i] < hi);
            for (size_t j = 0; j < counts[0]; j++) assert_true(starts[k][i] != starts[0][j]);
        }
    for (int k = 0; k < 3; k++) free(starts[k]);
}

static void test_adding_rule(void **state)
{
    const int T = 60;
    const char *p = gen(state, "adding", "adding.h5", 2000, T, 5);
    for (int k = 0; k < 2; k++) {
        Dataset ds;
        open_group(&ds, p, k ? "/val" : "/train");
        assert_int_equal(ds.n, k ? 400 : 2000);
        double se = 0;
        for (size_t i = 0; i < ds.n; i++) {
            const float *x = ds.x + i * (size_t)T * 2;
            int first = 0, second = 0;
            float sum = 0;
            for (int t = 0; t < T; t++) {
                assert_true(x[2 * t] >= 0.0f && x[2 * t] < 1.0f);
                assert_true(x[2 * t + 1] == 0.0f || x[2 * t + 1] == 1.0f);
                if (x[2 * t + 1] == 1.0f) {
                    if (t < T / 2)
                        first++;
                    else
                        second++;
                    sum += x[2 * t];
                }
            }
            assert_int_equal(first, 1);
            assert_int_equal(second, 1);
            assert_true(ds.y_value[i] == sum);
            se += (ds.y_value[i] - 1.0) * (ds.y_value[i] - 1.0);
        }
        assert_true(fabs(se / (double)ds.n - 1.0 / 6.0) < 0.02);
        dataset_close(&ds);
    }
}

/* lookahead: lengths in T/2..T, the target of valid step t is the token at
 * min(t + 2, n - 1), padded targets 0, padded inputs tokens too (not all
 * 0), and past_only_acc = (1 + 0.1 (n - 1)) summed over rows / valid steps. */
static void test_lookahead_rule(void **state)
{
    const int T = 12;
    const char *p = gen(state, "lookahead", "lookahead.h5", 500, T, 9);
    hid_t f;
    Error e;
    assert_int_equal(h5io_open_read(&f, p, &e), 0);
    for (int k = 0; k < 2; k++) {
        Dataset ds;
        open_group(&ds, p, k ? "/val" : "/train");
        assert_true(ds.has_lengths);
        double past = 0, steps = 0;
        size_t padded_nonzero = 0, short_rows = 0;
        for (size_t i = 0; i < ds.n; i++) {
            const int32_t *x = ds.tokens + i * T, *y = ds.y_class + i * T;
            int n = ds.lengths[i];
            assert_true(n >= T / 2 && n <= T);
            short_rows += n < T;
            for (int t = 0; t < T; t++) {
                assert_true(x[t] >= 0 && x[t] < 10);
                if (t < n)
                    assert_int_equal(y[t], x[t + 2 < n ? t + 2 : n - 1]);
                else {
                    assert_int_equal(y[t], 0);
                    padded_nonzero += x[t] != 0;
                }
            }
            past += 1.0 + 0.1 * (n - 1);
            steps += n;
        }
        assert_true(short_rows > ds.n / 2 && padded_nonzero > 0);
        assert_true(fabs(attr_f64(f, GROUPS[k], "past_only_acc") - past / steps) < 1e-12);
        dataset_close(&ds);
    }
    H5Fclose(f);
}

/* Observed rate of labels that disagree with the rule, checked against the
 * nominal rate within 5 standard deviations; best_acc = 1 - that rate. */
static void check_noise(const char *p, const char *group, size_t wrong, size_t total,
                        double nominal)
{
    double rate = (double)wrong / (double)total;
    double sd = sqrt(nominal * (1 - nominal) / (double)total);
    if (fabs(rate - nominal) > 5 * sd)
        fail_msg("%s: label noise %.4f, nominal %.2f (sd %.4f)", group, rate, nominal, sd);
    hid_t f;
    Error e;
    assert_int_equal(h5io_open_read(&f, p, &e), 0);
    assert_true(fabs(attr_f64(f, group + 1, "best_acc") - (1.0 - rate)) < 1e-12);
    H5Fclose(f);
}

static void test_seqclass_noise(void **state)
{
    const char *p = gen(state, "seqclass", "seqclass.h5", 9000, 0, 6);
    for (int k = 0; k < 2; k++) {
        Dataset ds;
        const char *g = k ? "/val" : "/train";
        open_group(&ds, p, g);
        size_t wrong = 0, ones = 0;
        for (size_t i = 0; i < ds.n; i++) {
            const float *x = ds.x + i * 5 * 10;
            double sum = 0;
            for (int t = 0; t < 5; t++) sum += (double)x[t * 10] - (double)x[t * 10 + 1];
            assert_true(fabs(sum) >= 1.0 - 1e-5); /* the class margin */
            wrong += ds.y_class[i] != (sum > 0);
            ones += ds.y_class[i] == 1;
        }
        check_noise(p, g, wrong, ds.n, 0.10);
        assert_true(fabs((double)ones / (double)ds.n - 0.5) < 0.05);
        dataset_close(&ds);
    }
}

static void test_stepclass_noise(void **state)
{
    const char *p = gen(state, "stepclass", "stepclass.h5", 3000, 0, 8);
    for (int k = 0; k < 2; k++) {
        Dataset ds;
        const char *g = k ? "/val" : "/train";
        open_group(&ds, p, g);
        size_t wrong = 0, per_class[3] = {0};
        for (size_t i = 0; i < ds.n; i++) {
            const float *x = ds.x + i * 10 * 5;
            for (int t = 0; t < 10; t++) {
                double v = (double)x[t * 5] + (t ? (double)x[(t - 1) * 5 + 1] : 0.0);
                assert_true(fabs(fabs(v) - 0.6) >= 0.2 - 1e-5); /* the gap at the boundaries */
                int c = v < -0.6 ? 0 : v > 0.6 ? 2 : 1;
                int y = ds.y_class[i * 10 + (size_t)t];
                assert_true(y >= 0 && y < 3);
                wrong += y != c;
                per_class[y]++;
            }
        }
        check_noise(p, g, wrong, ds.n * 10, 0.05);
        for (int c = 0; c < 3; c++) assert_true(per_class[c] > ds.n * 10 / 5);
        dataset_close(&ds);
    }
}

static void test_sine(void **state)
{
    const char *p = gen(state, "sine", "sine.h5", 0, 0, 1);
    for (int k = 0; k < 2; k++) {
        Dataset ds;
        open_group(&ds, p, k ? "/val" : "/train");
        assert_int_equal(ds.target, TARGET_LAST);
        for (size_t i = 0; i < ds.n; i++) {
            const float *w = ds.x + i * 3;
            for (int t = 0; t < 3; t++) assert_true(w[t] >= -1.0f && w[t] <= 3.0f);
            if (i + 1 < ds.n) { /* consecutive windows of one series */
                assert_true(w[3] == w[1] && w[4] == w[2]);
                assert_true(ds.y_value[i] == w[5]);
            }
        }
        dataset_close(&ds);
    }
    hid_t f;
    Error e;
    assert_int_equal(h5io_open_read(&f, p, &e), 0);
    double bayes = attr_f64(f, ".", "noise_floor_rmse"), oracle = attr_f64(f, ".", "oracle_rmse");
    /* the window-3 Bayes floor lies between knowing t and a constant guess */
    assert_true(bayes > oracle && bayes > 0.55 && bayes < 0.7);
    assert_true(fabs(oracle - sqrt(1.0 / 3.0)) < 0.05);
    H5Fclose(f);
}

static void test_bad_specs(void **state)
{
    char msg[1024];
    assert_int_equal(refused(state, "nosuch", 0, 0, msg, sizeof msg), EXIT_USAGE);
    assert_non_null(strstr(msg, "nosuch"));
    assert_non_null(strstr(msg, "counting"));
    assert_int_equal(refused(state, NULL, 0, 0, NULL, 0), EXIT_USAGE);
    assert_int_equal(refused(state, "counting", 5, 0, msg, sizeof msg), EXIT_USAGE);
    assert_non_null(strstr(msg, "10.."));
    assert_int_equal(refused(state, "seqclass", 9, 0, NULL, 0), EXIT_USAGE);
    assert_int_equal(refused(state, "arith", 9, 0, NULL, 0), EXIT_USAGE);
    assert_int_equal(refused(state, "adding", 0, 1, msg, sizeof msg), EXIT_USAGE);
    assert_non_null(strstr(msg, "2..100000"));
    assert_int_equal(refused(state, "adding", 0, 100001, NULL, 0), EXIT_USAGE);
    assert_int_equal(refused(state, "counting", 0, 1001, NULL, 0), EXIT_USAGE);
    assert_int_equal(refused(state, "sine", 0, 101, NULL, 0), EXIT_USAGE);
    assert_int_equal(refused(state, "sine", 15, 3, msg, sizeof msg), EXIT_USAGE);
    assert_non_null(strstr(msg, "16.."));
    assert_int_equal(refused(state, "sine", 2000000, 3, NULL, 0), EXIT_USAGE);
    assert_int_equal(refused(state, "adding", 1L << 40, 0, NULL, 0), EXIT_USAGE);
    DatagenSpec s = {"counting", "/nonexistent-dir/x.h5", 0, 0, 1};
    Error e = {0, ""};
    assert_int_equal(datagen_run(&s, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "/nonexistent-dir/x.h5"));
    s.out = "";
    assert_int_equal(datagen_run(&s, &e), EXIT_USAGE);
    /* the smallest accepted sizes work */
    gen(state, "counting", "small.h5", 10, 1, 1);
    gen(state, "sine", "small.h5", 16, 3, 1);
    gen(state, "adding", "small.h5", 10, 2, 1);
}

static void test_print_tasks(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    datagen_print_tasks(f);
    fclose(f);
    static const char *const tasks[] = {"counting", "seqclass", "stepclass", "arith", "sine",
                                        "adding", "lookahead"};
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    assert_int_equal(lines, 7);
    for (int i = 0; i < 7; i++) assert_non_null(strstr(buf, tasks[i]));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_counting_rule),
        cmocka_unit_test(test_arith_rule_and_held_out),
        cmocka_unit_test(test_adding_rule),
        cmocka_unit_test(test_seqclass_noise),
        cmocka_unit_test(test_stepclass_noise),
        cmocka_unit_test(test_sine),
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_print_tasks),
        cmocka_unit_test(test_lookahead_rule),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
