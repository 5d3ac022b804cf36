/* test_stream.c - the stream of stateful training (src/stream.h) against a
 * direct computation: the test concatenates the valid steps of the rows
 * itself and checks every element of every step's batch (column j at
 * offset i*bptt + t), token and dense inputs, class and value targets,
 * resident and streamed, a whole group and a view; the ranks' batches put
 * together give the 1-rank batch column by column; the refusals (fewer
 * elements than columns, targets per sequence); a short last step and the
 * dropped tail; ranks without columns; and a rank reads only the rows
 * that hold its columns; and the columns PyTorch's side made of the
 * stateful fixtures (tests/fixtures/stateful_<cell>.h5) are this stream's.
 * Padded steps hold values no valid step has, so a batch that takes
 * padding fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataset.h"
#include "h5io.h"
#include "stream.h"
#include "testutil.h"

/* A test file: N rows of T steps; F = 0: token inputs, else F features;
 * O = 0: class targets per step, else O values per step; last: targets per
 * sequence instead (to be refused). */
typedef struct Spec {
    int N, T, F, O, last;
    const int32_t *lengths;
} Spec;

static const int32_t TOK_LENGTHS[] = {6, 1, 4, 6, 2, 5, 3}; /* S = 27 */
static const Spec TOKENS = {7, 6, 0, 0, 0, TOK_LENGTHS};
static const int32_t DENSE_LENGTHS[] = {4, 2, 1, 3, 4}; /* S = 14 */
static const Spec DENSE = {5, 4, 2, 3, 0, DENSE_LENGTHS};

/* The values of row k, step t: distinct at every valid step, another value
 * at padded ones. */
static int valid(const Spec *sp, int k, int t) { return t < sp->lengths[k]; }
static int32_t tok_at(const Spec *sp, int k, int t)
{
    return valid(sp, k, t) ? k * sp->T + t + 1 : 0;
}
static int32_t class_at(const Spec *sp, int k, int t)
{
    return valid(sp, k, t) ? sp->N * sp->T - (k * sp->T + t) : 0;
}
static float x_at(const Spec *sp, int k, int t, int f)
{
    return valid(sp, k, t) ? (float)(1000 * k + 10 * t + f) + 0.5f : -1.0f;
}
static float value_at(const Spec *sp, int k, int t, int o)
{
    return valid(sp, k, t) ? -(float)(1000 * k + 10 * t + o) - 0.25f : 12345.0f;
}

static void write_file(const char *path, const Spec *sp)
{
    const size_t N = (size_t)sp->N, T = (size_t)sp->T, F = (size_t)sp->F, O = (size_t)sp->O;
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, path, &e), 0);
    int32_t *ti = calloc(N * T, sizeof(int32_t)), *tc = calloc(N * T, sizeof(int32_t));
    float *x = calloc(N * T * (F ? F : 1), sizeof(float));
    float *y = calloc(N * T * (O ? O : 1), sizeof(float));
    for (int k = 0; k < sp->N; k++)
        for (int t = 0; t < sp->T; t++) {
            size_t at = (size_t)k * T + (size_t)t;
            ti[at] = tok_at(sp, k, t);
            tc[at] = class_at(sp, k, t);
            for (size_t q = 0; q < F; q++) x[at * F + q] = x_at(sp, k, t, (int)q);
            for (size_t q = 0; q < O; q++) y[at * O + q] = value_at(sp, k, t, (int)q);
        }
    size_t d2[2] = {N, T}, dx[3] = {N, T, F}, dy[3] = {N, T, O}, dl[1] = {N};
    if (F)
        assert_int_equal(h5io_write_f32(f, "inputs", x, 3, dx, &e), 0);
    else
        assert_int_equal(h5io_write_i32(f, "inputs", ti, 2, d2, &e), 0);
    if (sp->last)
        assert_int_equal(h5io_write_i32(f, "targets", tc, 1, dl, &e), 0);
    else if (O)
        assert_int_equal(h5io_write_f32(f, "targets", y, 3, dy, &e), 0);
    else
        assert_int_equal(h5io_write_i32(f, "targets", tc, 2, d2, &e), 0);
    assert_int_equal(h5io_write_i32(f, "lengths", sp->lengths, 1, dl, &e), 0);
    assert_int_equal(h5io_write_attr_i64(f, "/", "vocab_size", sp->N * sp->T + 1), 0);
    assert_int_equal(h5io_write_attr_i64(f, "/", "num_classes", sp->N * sp->T + 1), 0);
    H5Fclose(f);
    free(ti), free(tc), free(x), free(y);
}

/* Write sp's file as dir/name into path. */
static void make_file(char *path, size_t len, const TuDir *dir, const char *name, const Spec *sp)
{
    snprintf(path, len, "%s/%s", dir->path, name);
    write_file(path, sp);
}

/* Open rows [row0, row0 + n) of path (n = 0: to the end), streamed or resident. */
static void open_data(Dataset *ds, const char *path, int streamed, size_t row0, size_t n)
{
    Error e = {0, ""};
    int rc = streamed ? dataset_open_streamed(ds, path, "/", row0, n, 1, 0, 0, &e)
                      : dataset_open(ds, path, "/", row0, n, 1, &e);
    if (rc) fail_msg("%s", e.msg);
}

/* The stream as the test computes it: the (file row, step) of element p. */
typedef struct Flat {
    size_t S;
    int row[256], step[256];
} Flat;

static void flat_build(Flat *fl, const Spec *sp, size_t row0, size_t n)
{
    fl->S = 0;
    for (size_t k = row0; k < row0 + n; k++)
        for (int t = 0; t < sp->lengths[k]; t++) {
            fl->row[fl->S] = (int)k;
            fl->step[fl->S] = t;
            fl->S++;
        }
}

/* Components of batch slot (t, c): the input (token, or F features), then
 * the target (class, or O values). */
static int ncomp(const Spec *sp) { return (sp->F ? sp->F : 1) + (sp->O ? sp->O : 1); }

static double batch_comp(const Spec *sp, const Batch *b, int t, int c, int q)
{
    size_t slot = (size_t)t * (size_t)b->B + (size_t)c;
    int nin = sp->F ? sp->F : 1;
    if (q < nin) return sp->F ? b->x[slot * sp->F + q] : b->tokens[slot];
    q -= nin;
    return sp->O ? b->y_value[slot * sp->O + q] : b->y_class[slot];
}

static double expect_comp(const Spec *sp, int k, int t, int q)
{
    int nin = sp->F ? sp->F : 1;
    if (q < nin) return sp->F ? x_at(sp, k, t, q) : tok_at(sp, k, t);
    q -= nin;
    return sp->O ? value_at(sp, k, t, q) : class_at(sp, k, t);
}

/* Every element of every step of rank r's batches, from the concatenation. */
static void check_rank(Dataset *ds, const Spec *sp, int C, int bptt, int r, int R)
{
    Flat fl;
    flat_build(&fl, sp, ds->row0, ds->n);
    const size_t nb = fl.S / (size_t)C, c0 = (size_t)C * r / R, c1 = (size_t)C * (r + 1) / R;
    Stream s;
    Error e = {0, ""};
    assert_int_equal(stream_open(&s, ds, C, bptt, r, R, &e), 0);
    assert_int_equal(s.nb, nb);
    assert_int_equal(s.steps, (nb + bptt - 1) / bptt);
    for (int64_t i = 0; i < s.steps; i++) {
        const Batch *b = stream_batch(&s, i);
        size_t off = (size_t)i * bptt, Ti = nb - off < (size_t)bptt ? nb - off : (size_t)bptt;
        assert_int_equal(b->B, c1 - c0);
        assert_int_equal(b->T, Ti);
        assert_int_equal(stream_step_len(&s, i), Ti);
        assert_true(stream_target_count(&s, i) == (double)(Ti * C * (sp->O ? sp->O : 1)));
        for (int c = 0; c < b->B; c++) {
            assert_int_equal(b->lengths[c], Ti);
            assert_int_equal(b->sample[c], c0 + c);
            for (size_t t = 0; t < Ti; t++) {
                size_t p = (c0 + c) * nb + off + t;
                for (int q = 0; q < ncomp(sp); q++)
                    assert_true(batch_comp(sp, b, (int)t, c, q) ==
                                expect_comp(sp, fl.row[p], fl.step[p], q));
            }
        }
    }
    stream_free(&s);
}

static const int COLUMNS[] = {1, 2, 3, 5, 7};
static const int BPTTS[] = {1, 2, 3, 4, 10};

/* (a) every element, every step, for tokens and dense, resident and
 * streamed, the whole group and a view of rows 1..3, on 1 to 3 ranks. */
static void batches_are_the_columns(void **state)
{
    const Spec *specs[] = {&TOKENS, &DENSE};
    for (int si = 0; si < 2; si++) {
        char path[300];
        make_file(path, sizeof path, *state, si ? "dense.h5" : "tok.h5", specs[si]);
        const size_t views[2][2] = {{0, 0}, {1, 3}};
        for (int v = 0; v < 2; v++)
            for (int streamed = 0; streamed < 2; streamed++) {
                /* one open serves every stream (each makes the view hold its rows) */
                Dataset ds;
                open_data(&ds, path, streamed, views[v][0], views[v][1]);
                Flat fl;
                flat_build(&fl, specs[si], ds.row0, ds.n);
                for (size_t ci = 0; ci < sizeof COLUMNS / sizeof *COLUMNS; ci++)
                    for (size_t bi = 0; bi < sizeof BPTTS / sizeof *BPTTS; bi++)
                        for (int R = 1; R <= 3; R++)
                            for (int r = 0; r < R; r++)
                                if (fl.S >= (size_t)COLUMNS[ci])
                                    check_rank(&ds, specs[si], COLUMNS[ci], BPTTS[bi], r, R);
                dataset_close(&ds);
            }
    }
}

/* (b) the ranks' batches of each step, put side by side, are the 1-rank
 * batch: columns, values and sample ids. */
static void ranks_together_are_one_rank(void **state)
{
    char path[300];
    make_file(path, sizeof path, *state, "tok.h5", &TOKENS);
    const Spec *sp = &TOKENS;
    const int C = 5, bptt = 2, Q = ncomp(sp);
    Dataset ds;
    Error e = {0, ""};
    open_data(&ds, path, 1, 0, 0);
    Stream one;
    assert_int_equal(stream_open(&one, &ds, C, bptt, 0, 1, &e), 0);
    const int64_t steps = one.steps;
    double *want = calloc((size_t)steps * bptt * C * Q, sizeof(double));
    for (int64_t i = 0; i < steps; i++) {
        const Batch *b = stream_batch(&one, i);
        for (int t = 0; t < b->T; t++)
            for (int c = 0; c < C; c++)
                for (int q = 0; q < Q; q++)
                    want[(((size_t)i * bptt + t) * C + c) * Q + q] = batch_comp(sp, b, t, c, q);
    }
    stream_free(&one);
    for (int R = 2; R <= 4; R++) {
        int *seen = calloc((size_t)steps * C, sizeof(int));
        for (int r = 0; r < R; r++) {
            Stream s;
            assert_int_equal(stream_open(&s, &ds, C, bptt, r, R, &e), 0);
            assert_int_equal(s.steps, steps);
            for (int64_t i = 0; i < steps; i++) {
                const Batch *b = stream_batch(&s, i);
                for (int c = 0; c < b->B; c++) {
                    int j = (int)b->sample[c];
                    seen[i * C + j]++;
                    for (int t = 0; t < b->T; t++)
                        for (int q = 0; q < Q; q++)
                            assert_true(batch_comp(sp, b, t, c, q) ==
                                        want[(((size_t)i * bptt + t) * C + j) * Q + q]);
                }
            }
            stream_free(&s);
        }
        for (int64_t k = 0; k < steps * C; k++) assert_int_equal(seen[k], 1);
        free(seen);
    }
    free(want);
    dataset_close(&ds);
}

/* (c) numbers worked out by hand: S = 27 in 5 columns is nb = 5 (2 steps
 * dropped), bptt 2 gives 3 steps, the last of 1; column 4 starts at
 * element 20 = row 5 (file rows 0..4 hold 6+1+4+6+2 = 19), step 1. */
static void short_last_step_and_dropped_tail(void **state)
{
    char path[300];
    make_file(path, sizeof path, *state, "tok.h5", &TOKENS);
    Dataset ds;
    Error e = {0, ""};
    open_data(&ds, path, 0, 0, 0);
    Stream s;
    assert_int_equal(stream_open(&s, &ds, 5, 2, 0, 1, &e), 0);
    assert_int_equal(s.elements, 27);
    assert_int_equal(s.nb, 5);
    assert_int_equal(s.steps, 3);
    assert_int_equal(stream_step_len(&s, 0), 2);
    assert_int_equal(stream_step_len(&s, 2), 1);
    const Batch *b = stream_batch(&s, 0);
    assert_int_equal(b->tokens[0 * 5 + 4], tok_at(&TOKENS, 5, 1));
    assert_int_equal(b->tokens[1 * 5 + 4], tok_at(&TOKENS, 5, 2));
    /* column 1 = elements 5..9: row 0 step 5, row 1 step 0, row 2 steps 0..2 */
    assert_int_equal(b->tokens[0 * 5 + 1], tok_at(&TOKENS, 0, 5));
    assert_int_equal(b->tokens[1 * 5 + 1], tok_at(&TOKENS, 1, 0));
    b = stream_batch(&s, 2);
    assert_int_equal(b->T, 1);
    assert_int_equal(b->tokens[4], tok_at(&TOKENS, 6, 0)); /* element 24 */
    /* the dropped elements 25, 26 (row 6, steps 1, 2) are in no batch */
    for (int64_t i = 0; i < s.steps; i++) {
        b = stream_batch(&s, i);
        for (int k = 0; k < b->T * b->B; k++) {
            assert_int_not_equal(b->tokens[k], tok_at(&TOKENS, 6, 1));
            assert_int_not_equal(b->tokens[k], tok_at(&TOKENS, 6, 2));
        }
    }
    stream_free(&s);
    dataset_close(&ds);
}

/* (c) refusals: fewer elements than columns; targets per sequence. */
static void refusals(void **state)
{
    char path[300];
    make_file(path, sizeof path, *state, "tok.h5", &TOKENS);
    Dataset ds;
    Error e = {0, ""};
    open_data(&ds, path, 0, 0, 0);
    Stream s;
    assert_int_equal(stream_open(&s, &ds, 27, 4, 0, 1, &e), 0); /* nb = 1: one step */
    assert_int_equal(s.nb, 1);
    assert_int_equal(s.steps, 1);
    stream_free(&s);
    assert_int_equal(stream_open(&s, &ds, 28, 4, 0, 1, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "has 27 steps"));
    assert_non_null(strstr(e.msg, "fewer than the 28 columns"));
    assert_null(s.prefix);
    dataset_close(&ds);
    /* view rows 1..2: 1 + 4 = 5 steps, 6 columns */
    open_data(&ds, path, 0, 1, 2);
    assert_int_equal(stream_plan(&s, &ds, 6, 1, 0, 1, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "has 5 steps"));
    dataset_close(&ds);
    Spec last = TOKENS;
    last.last = 1;
    make_file(path, sizeof path, *state, "last.h5", &last);
    open_data(&ds, path, 0, 0, 0);
    assert_int_equal(stream_open(&s, &ds, 2, 4, 0, 1, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "targets are one per sequence"));
    dataset_close(&ds);
}

/* (c) C < R: 2 columns on 4 ranks; ranks 0 and 2 hold none but have the
 * same steps and step lengths; ranks 1 and 3 hold columns 0 and 1. */
static void ranks_without_columns(void **state)
{
    char path[300];
    make_file(path, sizeof path, *state, "tok.h5", &TOKENS);
    Dataset ds;
    Error e = {0, ""};
    open_data(&ds, path, 1, 0, 0);
    for (int r = 0; r < 4; r++) {
        Stream s;
        assert_int_equal(stream_open(&s, &ds, 2, 4, r, 4, &e), 0);
        assert_int_equal(s.nb, 13);
        assert_int_equal(s.steps, 4);
        int has = r == 1 || r == 3;
        assert_int_equal(s.c1 - s.c0, has);
        for (int64_t i = 0; i < s.steps; i++) {
            const Batch *b = stream_batch(&s, i);
            assert_int_equal(b->B, has);
            assert_int_equal(b->T, i < 3 ? 4 : 1);
            assert_true(stream_target_count(&s, i) == 2.0 * b->T);
            if (has) assert_int_equal(b->sample[0], r / 2);
        }
        stream_free(&s);
    }
    check_rank(&ds, &TOKENS, 2, 4, 1, 4);
    check_rank(&ds, &TOKENS, 2, 4, 3, 4);
    dataset_close(&ds);
}

/* (d) a streamed rank holds exactly the rows with an element of its
 * columns, found here from the lengths: row k (its elements
 * [pre, pre + len)) is needed when that meets [c0*nb, c1*nb). Taking every
 * step reads nothing more (no reload, the same rows held). */
static void reads_only_its_rows(void **state)
{
    char path[300];
    make_file(path, sizeof path, *state, "tok.h5", &TOKENS);
    for (size_t ci = 0; ci < sizeof COLUMNS / sizeof *COLUMNS; ci++)
        for (int R = 1; R <= 4; R++)
            for (int r = 0; r < R; r++) {
                const size_t C = (size_t)COLUMNS[ci], nb = 27 / C;
                const size_t lo = C * r / R * nb, hi = C * (r + 1) / R * nb;
                size_t want[8], m = 0, pre = 0;
                for (int k = 0; k < TOKENS.N; k++) {
                    size_t len = (size_t)TOKENS.lengths[k];
                    if (lo < hi && pre < hi && pre + len > lo) want[m++] = (size_t)k;
                    pre += len;
                }
                Dataset ds;
                Error e = {0, ""};
                open_data(&ds, path, 1, 0, 0);
                assert_int_equal(ds.n_cached, 0);
                Stream s;
                assert_int_equal(stream_open(&s, &ds, (int)C, 3, r, R, &e), 0);
                assert_int_equal(ds.n_cached, m);
                for (size_t k = 0; k < m; k++) assert_int_equal(ds.cached[k], want[k]);
                for (int64_t i = 0; i < s.steps; i++) stream_batch(&s, i);
                assert_int_equal(ds.reloads, 0);
                assert_int_equal(ds.n_cached, m);
                for (size_t k = 0; k < m; k++) assert_int_equal(ds.cached[k], want[k]);
                stream_free(&s);
                dataset_close(&ds);
            }
}

/* The counter (d) relies on counts: when another user of the Dataset made it
 * hold other rows, the next batch reads the rank's rows again, counts it,
 * and is still right. */
static void a_replaced_cache_is_read_again(void **state)
{
    char path[300];
    make_file(path, sizeof path, *state, "tok.h5", &TOKENS);
    Dataset ds;
    Error e = {0, ""};
    open_data(&ds, path, 1, 0, 0);
    Stream s;
    assert_int_equal(stream_open(&s, &ds, 3, 2, 0, 2, &e), 0); /* column 0: rows 0..2 */
    assert_int_equal(s.row_hi, 3);
    size_t other[2] = {5, 6};
    dataset_load(&ds, other, 2);
    const Batch *b = stream_batch(&s, 1); /* elements 2, 3: row 0 steps 2, 3 */
    assert_int_equal(ds.reloads, 1);
    assert_int_equal(b->tokens[0], tok_at(&TOKENS, 0, 2));
    assert_int_equal(b->tokens[1], tok_at(&TOKENS, 0, 3));
    stream_batch(&s, 2);
    assert_int_equal(ds.reloads, 1);
    stream_free(&s);
    dataset_close(&ds);
}

/* PyTorch's side (tests/fixtures/stateful_<cell>.h5, make_fixtures.py): the
 * columns word_language_model's batchify made of the fixture's /data with
 * numpy, /stream/inputs and /stream/targets [nb, C], are the columns of
 * this stream, on 1 to 3 ranks; the file's nb, steps and losses agree. */
static void fixture_columns_match_torch(void **state)
{
    (void)state;
    h5io_init();
    const char *const cells[] = {"lstm", "gru", "rnn"};
    for (int ci = 0; ci < 3; ci++) {
        char path[1100], name[64];
        snprintf(name, sizeof name, "fixtures/stateful_%s.h5", cells[ci]);
        snprintf(path, sizeof path, "%s", tu_path(name));
        Error e = {0, ""};
        hid_t f;
        assert_int_equal(h5io_open_read(&f, path, &e), 0);
        int64_t C, bptt, nb, elements, per_pass, passes, steps;
        assert_int_equal(h5io_read_attr_i64(&C, f, "/", "batch"), 0);
        assert_int_equal(h5io_read_attr_i64(&bptt, f, "/", "bptt"), 0);
        assert_int_equal(h5io_read_attr_i64(&nb, f, "/", "nb"), 0);
        assert_int_equal(h5io_read_attr_i64(&elements, f, "/", "elements"), 0);
        assert_int_equal(h5io_read_attr_i64(&per_pass, f, "/", "steps_per_pass"), 0);
        assert_int_equal(h5io_read_attr_i64(&passes, f, "/", "passes"), 0);
        assert_int_equal(h5io_read_attr_i64(&steps, f, "/", "steps"), 0);
        H5Shape sh;
        assert_int_equal(h5io_shape(&sh, f, "/losses", path, &e), 0);
        assert_int_equal(sh.dims[0], steps);
        assert_int_equal(steps, passes * per_pass);
        int32_t *src = calloc((size_t)(nb * C), sizeof(int32_t));
        int32_t *tgt = calloc((size_t)(nb * C), sizeof(int32_t));
        assert_int_equal(h5io_read_i32(src, f, "/stream/inputs", 0, (size_t)nb, path, &e), 0);
        assert_int_equal(h5io_read_i32(tgt, f, "/stream/targets", 0, (size_t)nb, path, &e), 0);
        H5Fclose(f);
        Dataset ds;
        if (dataset_open(&ds, path, "/data", 0, 0, 1, &e)) fail_msg("%s", e.msg);
        for (int R = 1; R <= 3; R++)
            for (int r = 0; r < R; r++) {
                Stream s;
                assert_int_equal(stream_open(&s, &ds, (int)C, (int)bptt, r, R, &e), 0);
                assert_int_equal(s.elements, elements);
                assert_int_equal(s.nb, nb);
                assert_int_equal(s.steps, per_pass);
                for (int64_t i = 0; i < s.steps; i++) {
                    const Batch *b = stream_batch(&s, i);
                    for (int t = 0; t < b->T; t++)
                        for (int c = 0; c < b->B; c++) {
                            size_t at = ((size_t)(i * bptt) + t) * (size_t)C + b->sample[c];
                            assert_int_equal(b->tokens[t * b->B + c], src[at]);
                            assert_int_equal(b->y_class[t * b->B + c], tgt[at]);
                        }
                }
                stream_free(&s);
            }
        dataset_close(&ds);
        free(src);
        free(tgt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(batches_are_the_columns, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(ranks_together_are_one_rank, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test_setup_teardown(short_last_step_and_dropped_tail, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test_setup_teardown(refusals, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(ranks_without_columns, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(reads_only_its_rows, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(a_replaced_cache_is_read_again, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test(fixture_columns_match_torch),
    };
    return cmocka_run_group_tests_name("stream", tests, NULL, NULL);
}
