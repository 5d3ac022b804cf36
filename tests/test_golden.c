/* test_golden.c - rnn_dist against PyTorch, on the fixtures that
 * scripts/make_fixtures.py wrote with torch (tests/fixtures/README.md).
 *
 * For each of the 16 cases (4 cells x 4 input/head/loss variants): forward
 * outputs and loss, every gradient, and the parameters and losses after 3
 * steps of Adam, AdamW, SGD with momentum and weight decay, and Adam with
 * gradient clipping; RMSprop and SGD with Nesterov momentum on a case
 * each, and cross-entropy with class weights (issue 13's files). Both sides
 * compute in float32, in different summation orders, so values are compared
 * with
 *     |ours - torch| <= ATOL + RTOL * |torch|
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "gradcheck.h"
#include "h5io.h"
#include "model.h"
#include "optim.h"
#include "testutil.h"

#define ATOL 2e-5
#define RTOL 2e-4
#define LOSS_RTOL 1e-5

static const char *const CELLS[] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};
static const char *const VARIANTS[] = {"tok_step_ce", "dense_last_ce", "dense_step_mse",
                                       "dense_last_mse"};
static const char *const OPTS[] = {"adam", "adamw", "sgd", "adam_clip"};

/* A fixture: the model spec, the batch (time-major), the initial params. */
typedef struct Fixture {
    char path[1024];
    hid_t f;
    ModelSpec spec;
    int B, T;
    GradcheckBatch tb;
    float *class_weight; /* /data/class_weights [O] when present, else NULL */
} Fixture;

/* Open tests/fixtures/<name>.h5. */
static void fixture_open(Fixture *fx, const char *name)
{
    snprintf(fx->path, sizeof fx->path, "%s", tu_path("fixtures/"));
    strncat(fx->path, name, sizeof fx->path - strlen(fx->path) - 1);
    strncat(fx->path, ".h5", sizeof fx->path - strlen(fx->path) - 1);
    Error e;
    if (checkpoint_read_spec(&fx->spec, fx->path, &e)) fail_msg("%s", e.msg);
    assert_int_equal(h5io_open_read(&fx->f, fx->path, &e), 0);
    int64_t B, T;
    assert_int_equal(h5io_read_attr_i64(&B, fx->f, "/", "batch"), 0);
    assert_int_equal(h5io_read_attr_i64(&T, fx->f, "/", "steps"), 0);
    fx->B = (int)B;
    fx->T = (int)T;
    /* random batch for the buffers, then overwritten with the fixture's data */
    gradcheck_batch_random(&fx->tb, &fx->spec, fx->T, fx->B, 0, 1);
    const ModelSpec *s = &fx->spec;
    size_t BT = (size_t)B * T, F = (size_t)(s->features ? s->features : 1), O = (size_t)s->out;
    int step = s->target == TARGET_STEP;
    float *xf = xalloc_floats(BT * F), *yv = xalloc_floats(BT * O);
    int32_t *xi = xcalloc(BT, sizeof(int32_t)), *yc = xcalloc(BT, sizeof(int32_t));
    assert_int_equal(h5io_read_i32(fx->tb.lengths, fx->f, "/data/lengths", 0, B, fx->path, &e), 0);
    if (s->input == INPUT_TOKENS)
        assert_int_equal(h5io_read_i32(xi, fx->f, "/data/inputs", 0, B, fx->path, &e), 0);
    else
        assert_int_equal(h5io_read_f32(xf, fx->f, "/data/inputs", 0, B, fx->path, &e), 0);
    if (s->loss == LOSS_CE)
        assert_int_equal(h5io_read_i32(yc, fx->f, "/data/targets", 0, B, fx->path, &e), 0);
    else
        assert_int_equal(h5io_read_f32(yv, fx->f, "/data/targets", 0, B, fx->path, &e), 0);
    /* batch-first [B, T, ...] -> time-major [T, B, ...] */
    for (size_t b = 0; b < (size_t)B; b++)
        for (size_t t = 0; t < (size_t)T; t++) {
            size_t src = b * T + t, dst = t * B + b;
            fx->tb.tokens[dst] = xi[src];
            memcpy(fx->tb.x + dst * F, xf + src * F, sizeof(float) * F);
            if (step) {
                fx->tb.y_class[dst] = yc[src];
                memcpy(fx->tb.y_value + dst * O, yv + src * O, sizeof(float) * O);
            }
        }
    fx->class_weight = NULL;
    if (H5Lexists(fx->f, "/data/class_weights", H5P_DEFAULT) > 0) {
        fx->class_weight = xalloc_floats(O);
        assert_int_equal(h5io_read_f32(fx->class_weight, fx->f, "/data/class_weights", 0, O,
                                       fx->path, &e), 0);
    }
    if (!step) {
        memcpy(fx->tb.y_class, yc, sizeof(int32_t) * B);
        memcpy(fx->tb.y_value, yv, sizeof(float) * B * O);
    }
    free(xf);
    free(yv);
    free(xi);
    free(yc);
}

static void fixture_close(Fixture *fx)
{
    gradcheck_batch_free(&fx->tb);
    free(fx->class_weight);
    H5Fclose(fx->f);
}

/* Read group/<name> for every parameter into a buffer laid out as m's. */
static void read_params(float *buf, const Model *m, hid_t f, const char *group, const char *path)
{
    Error e;
    char name[160];
    for (int i = 0; i < m->table.count; i++) {
        const ParamInfo *p = &m->table.p[i];
        snprintf(name, sizeof name, "%s/%s", group, p->name);
        if (h5io_read_f32(buf + p->offset, f, name, 0, (size_t)p->rows, path, &e))
            fail_msg("%s", e.msg);
    }
}

/* Count elements outside the tolerance; print the worst. */
static int compare(const float *ours, const float *ref, size_t n, const char *what,
                   const char *path)
{
    int bad = 0;
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)ours[i] - ref[i]) - RTOL * fabs((double)ref[i]);
        if (!(d <= ATOL)) bad++;
        if (!(d <= worst)) {
            worst = d;
            at = i;
        }
    }
    if (bad)
        print_error("%s: %s: %d of %zu values differ, worst [%zu] ours %.8g torch %.8g\n", path,
                    what, bad, n, at, ours[at], ref[at]);
    return bad;
}

static int compare_params(const Model *m, const float *ours, const float *ref, const char *what,
                          const char *path)
{
    int bad = 0;
    char label[160];
    for (int i = 0; i < m->table.count; i++) {
        const ParamInfo *p = &m->table.p[i];
        snprintf(label, sizeof label, "%s %s", what, p->name);
        bad += compare(ours + p->offset, ref + p->offset,
                       (size_t)p->rows * (p->cols ? p->cols : 1), label, path);
    }
    return bad;
}

static double mean_loss_and_grads(Model *m, const Batch *b)
{
    model_zero_grads(m);
    model_forward(m, b, 0, 0, 0);
    double weight = model_batch_weight(&m->spec, m->class_weight, b);
    LossSums s = model_loss(m, b, (float)(1.0 / weight));
    model_backward(m, b);
    return s.loss / s.weight;
}

static int check_forward_and_grads(Fixture *fx)
{
    Model m;
    model_create(&m, &fx->spec);
    m.class_weight = fx->class_weight;
    read_params(m.params, &m, fx->f, "/init", fx->path);
    const Batch *b = &fx->tb.b;
    double loss = mean_loss_and_grads(&m, b);
    Error e;
    int bad = 0;
    /* outputs: ours are [T*B, O] (step) or [B, O] (last), torch's batch-first */
    const int B = fx->B, T = fx->T, O = fx->spec.out;
    int step = fx->spec.target == TARGET_STEP;
    size_t n = (size_t)(step ? B * T : B) * O;
    float *ref = xalloc_floats(n), *ours = xalloc_floats(n);
    assert_int_equal(h5io_read_f32(ref, fx->f, "/forward/outputs", 0, B, fx->path, &e), 0);
    for (int r = 0; r < m.rows; r++) {
        int t = step ? r / B : 0, i = step ? r % B : r;
        size_t dst = (size_t)(step ? i * T + t : i) * O;
        memcpy(ours + dst, m.logits + (size_t)r * O, sizeof(float) * O);
    }
    bad += compare(ours, ref, n, "forward outputs", fx->path);
    double ref_loss = 0;
    hid_t ds = H5Dopen2(fx->f, "/forward/loss", H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &ref_loss) >= 0);
    H5Dclose(ds);
    if (fabs(loss - ref_loss) > LOSS_RTOL * fabs(ref_loss)) {
        print_error("%s: loss ours %.9g torch %.9g\n", fx->path, loss, ref_loss);
        bad++;
    }
    float *gref = xalloc_floats(m.table.total);
    read_params(gref, &m, fx->f, "/grads", fx->path);
    bad += compare_params(&m, m.grads, gref, "grad", fx->path);
    free(gref);
    free(ref);
    free(ours);
    model_free(&m);
    return bad;
}

static int check_optimizer(Fixture *fx, const char *opt)
{
    char group[64], name[96];
    snprintf(group, sizeof group, "/steps/%s", opt);
    char kind[16] = "";
    double lr = 0, momentum = 0, wd = 0, clip = 0;
    int64_t steps = 0, nesterov = 0;
    assert_int_equal(h5io_read_attr_str(kind, sizeof kind, fx->f, group, "optimizer"), 0);
    assert_int_equal(h5io_read_attr_f64(&lr, fx->f, group, "lr"), 0);
    assert_int_equal(h5io_read_attr_f64(&momentum, fx->f, group, "momentum"), 0);
    assert_int_equal(h5io_read_attr_f64(&wd, fx->f, group, "weight_decay"), 0);
    assert_int_equal(h5io_read_attr_f64(&clip, fx->f, group, "clip_grad_norm"), 0);
    assert_int_equal(h5io_read_attr_i64(&steps, fx->f, group, "steps"), 0);
    if (H5Aexists_by_name(fx->f, group, "nesterov", H5P_DEFAULT) > 0)
        assert_int_equal(h5io_read_attr_i64(&nesterov, fx->f, group, "nesterov"), 0);
    int kind_id = types_enum_index(&OPTIM_KIND_NAMES, kind);
    assert_true(kind_id >= 0);
    OptimSpec os = {kind_id, lr, momentum, wd, 0.9, 0.999, 1e-8, (int)nesterov, 0.99};
    Model m;
    model_create(&m, &fx->spec);
    m.class_weight = fx->class_weight;
    read_params(m.params, &m, fx->f, "/init", fx->path);
    Optim o;
    optim_create(&o, &os, m.table.total);
    double *ref_losses = calloc((size_t)steps, sizeof(double));
    snprintf(name, sizeof name, "%s/losses", group);
    hid_t ds = H5Dopen2(fx->f, name, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ref_losses) >= 0);
    H5Dclose(ds);
    int bad = 0, clipped = 0;
    for (int64_t k = 0; k < steps; k++) {
        double loss = mean_loss_and_grads(&m, &fx->tb.b);
        if (fabs(loss - ref_losses[k]) > 10 * LOSS_RTOL * fabs(ref_losses[k]) + 1e-7) {
            print_error("%s: %s step %lld loss ours %.9g torch %.9g\n", fx->path, opt,
                        (long long)k, loss, ref_losses[k]);
            bad++;
        }
        if (clip > 0) {
            double norm = optim_grad_norm(m.grads, m.table.total);
            clipped += norm > clip;
            optim_clip(m.grads, m.table.total, norm, clip);
        }
        optim_step(&o, m.params, m.grads);
    }
    if (clip > 0 && !clipped) {
        print_error("%s: %s: clipping never triggered\n", fx->path, opt);
        bad++;
    }
    float *ref = xalloc_floats(m.table.total);
    snprintf(name, sizeof name, "%s/params", group);
    read_params(ref, &m, fx->f, name, fx->path);
    bad += compare_params(&m, m.params, ref, opt, fx->path);
    free(ref);
    free(ref_losses);
    optim_free(&o);
    model_free(&m);
    return bad;
}

static void run_cell(const char *cell)
{
    int bad = 0;
    for (int v = 0; v < 4; v++) {
        Fixture fx;
        char name[64];
        snprintf(name, sizeof name, "%s_%s", cell, VARIANTS[v]);
        fixture_open(&fx, name);
        bad += check_forward_and_grads(&fx);
        for (int o = 0; o < 4; o++) bad += check_optimizer(&fx, OPTS[o]);
        fixture_close(&fx);
    }
    assert_int_equal(bad, 0);
}

static void test_rnn_tanh(void **state)
{
    (void)state;
    run_cell(CELLS[0]);
}

static void test_rnn_relu(void **state)
{
    (void)state;
    run_cell(CELLS[1]);
}

static void test_lstm(void **state)
{
    (void)state;
    run_cell(CELLS[2]);
}

static void test_gru(void **state)
{
    (void)state;
    run_cell(CELLS[3]);
}

/* Issue 13's optimizers (tests/fixtures/README.md): RMSprop with and
 * without weight decay, SGD with Nesterov momentum. */
static void test_rmsprop_nesterov(void **state)
{
    (void)state;
    static const char *const FILES[][3] = {{"optim_rmsprop", "rmsprop", "rmsprop_wd"},
                                           {"sgd_nesterov", "sgd_nesterov", NULL}};
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        Fixture fx;
        fixture_open(&fx, FILES[i][0]);
        bad += check_forward_and_grads(&fx);
        for (int j = 1; j < 3 && FILES[i][j]; j++) bad += check_optimizer(&fx, FILES[i][j]);
        fixture_close(&fx);
    }
    assert_int_equal(bad, 0);
}

/* Class weights (nn.CrossEntropyLoss(weight=w)): the weighted loss, its
 * gradients and 3 steps of Adam and SGD; the fixture must carry the weights. */
static void test_class_weights(void **state)
{
    (void)state;
    Fixture fx;
    fixture_open(&fx, "ce_class_weights");
    assert_non_null(fx.class_weight);
    int bad = check_forward_and_grads(&fx);
    bad += check_optimizer(&fx, "adam");
    bad += check_optimizer(&fx, "sgd");
    fixture_close(&fx);
    assert_int_equal(bad, 0);
}

/* Bidirectional models (tests/fixtures/README.md): every cell on padded
 * rows, both heads, 1 and 2 layers; forward (padded steps too, which the
 * packed torch model leaves at fc(0)), loss, gradients, 3 steps of Adam and
 * SGD. */
static void test_bidirectional(void **state)
{
    (void)state;
    static const char *const CELL_TAG[] = {"rnn_tanh", "lstm", "gru"};
    static const char *const VARIANT[] = {"tok_step_ce", "dense_last_ce", "dense_step_mse"};
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 3; v++) {
            Fixture fx;
            char name[64];
            snprintf(name, sizeof name, "bidir_%s_%s", CELL_TAG[c], VARIANT[v]);
            fixture_open(&fx, name);
            assert_int_equal(fx.spec.bidirectional, 1);
            bad += check_forward_and_grads(&fx);
            bad += check_optimizer(&fx, "adam");
            bad += check_optimizer(&fx, "sgd");
            fixture_close(&fx);
        }
    assert_int_equal(bad, 0);
}

/* Read a whole dataset of n values of the fixture into buf (int32 or double). */
static void read_whole(void *buf, hid_t type, hid_t f, const char *name)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(ds);
}

/* The carried state after the run against /state_final/h (and /c for
 * lstm), [L, C, H] each; ours is [L, S, C, H]. */
static int compare_state(const float *state, const ModelSpec *s, int C, hid_t f,
                         const char *path)
{
    const size_t parts = s->cell == CELL_LSTM ? 2 : 1, block = (size_t)C * s->hidden;
    const size_t n = (size_t)s->layers * block;
    float *ref = xalloc_floats(n), *ours = xalloc_floats(n);
    int bad = 0;
    for (size_t part = 0; part < parts; part++) {
        for (int k = 0; k < s->layers; k++)
            memcpy(ours + (size_t)k * block, state + ((size_t)k * parts + part) * block,
                   sizeof(float) * block);
        read_whole(ref, H5T_NATIVE_FLOAT, f, part ? "/state_final/c" : "/state_final/h");
        bad += compare(ours, ref, n, part ? "final state c" : "final state h", path);
    }
    free(ref);
    free(ours);
    return bad;
}

/* Stateful training against PyTorch (tests/fixtures/README.md, stateful):
 * word_language_model's loop over the fixture's /stream (time-major
 * [nb, C] tokens and next tokens), bptt steps at a time, the state carried
 * detached from step to step and zeroed at each pass, Adam: every step's
 * loss, the first step's gradients, the final parameters and state. */
static int check_stateful(const char *cell)
{
    char path[1024];
    snprintf(path, sizeof path, "%sstateful_%s.h5", tu_path("fixtures/"), cell);
    Error e;
    ModelSpec spec;
    if (checkpoint_read_spec(&spec, path, &e)) fail_msg("%s", e.msg);
    hid_t f;
    assert_int_equal(h5io_open_read(&f, path, &e), 0);
    int64_t C, bptt, nb, passes, steps;
    double lr;
    assert_int_equal(h5io_read_attr_i64(&C, f, "/", "batch"), 0);
    assert_int_equal(h5io_read_attr_i64(&bptt, f, "/", "bptt"), 0);
    assert_int_equal(h5io_read_attr_i64(&nb, f, "/", "nb"), 0);
    assert_int_equal(h5io_read_attr_i64(&passes, f, "/", "passes"), 0);
    assert_int_equal(h5io_read_attr_i64(&steps, f, "/", "steps_per_pass"), 0);
    assert_int_equal(h5io_read_attr_f64(&lr, f, "/", "lr"), 0);
    int32_t *x = xcalloc((size_t)(nb * C), sizeof *x), *y = xcalloc((size_t)(nb * C), sizeof *y);
    int32_t *len = xcalloc((size_t)C, sizeof *len);
    uint32_t *sample = xcalloc((size_t)C, sizeof *sample);
    double *ref_loss = xcalloc((size_t)(passes * steps), sizeof *ref_loss);
    read_whole(x, H5T_NATIVE_INT32, f, "/stream/inputs");
    read_whole(y, H5T_NATIVE_INT32, f, "/stream/targets");
    read_whole(ref_loss, H5T_NATIVE_DOUBLE, f, "/losses");
    for (int64_t j = 0; j < C; j++) sample[j] = (uint32_t)j;
    Model m;
    model_create(&m, &spec);
    read_params(m.params, &m, f, "/init", path);
    OptimSpec os = {OPTIM_ADAM, lr, 0, 0, 0.9, 0.999, 1e-8, 0, 0.99};
    Optim o;
    optim_create(&o, &os, m.table.total);
    float *state = xalloc_floats(model_state_floats(&spec, (int)C));
    int bad = 0;
    for (int64_t pass = 0, k = 0; pass < passes; pass++) {
        memset(state, 0, sizeof(float) * model_state_floats(&spec, (int)C));
        for (int64_t i = 0; i < steps; i++, k++) {
            const int64_t Ti = bptt < nb - i * bptt ? bptt : nb - i * bptt;
            for (int64_t j = 0; j < C; j++) len[j] = (int32_t)Ti;
            const size_t at = (size_t)(i * bptt * C);
            Batch b = {(int)C, (int)Ti, NULL, x + at, len, y + at, NULL, sample};
            model_zero_grads(&m);
            model_forward_state(&m, &b, state, 1, 0, 0);
            LossSums s = model_loss(&m, &b, (float)(1.0 / (double)(Ti * C)));
            model_backward(&m, &b);
            double loss = s.loss / s.count;
            if (fabs(loss - ref_loss[k]) > 10 * LOSS_RTOL * fabs(ref_loss[k])) {
                print_error("%s: step %lld loss ours %.9g torch %.9g\n", path, (long long)k,
                            loss, ref_loss[k]);
                bad++;
            }
            if (k == 0) {
                float *g = xalloc_floats(m.table.total);
                read_params(g, &m, f, "/grads_step0", path);
                bad += compare_params(&m, m.grads, g, "step 0 grad", path);
                free(g);
            }
            model_state_final(state, &m);
            optim_step(&o, m.params, m.grads);
        }
    }
    float *ref = xalloc_floats(m.table.total);
    read_params(ref, &m, f, "/params_after", path);
    bad += compare_params(&m, m.params, ref, "params after", path);
    bad += compare_state(state, &spec, (int)C, f, path);
    free(ref);
    free(state);
    optim_free(&o);
    model_free(&m);
    free(x);
    free(y);
    free(len);
    free(sample);
    free(ref_loss);
    H5Fclose(f);
    return bad;
}

/* Stateful training of every cell (lstm, gru, rnn) against PyTorch. */
static void test_stateful(void **state)
{
    (void)state;
    int bad = 0;
    static const char *const CELL[] = {"lstm", "gru", "rnn"};
    for (int c = 0; c < 3; c++) bad += check_stateful(CELL[c]);
    assert_int_equal(bad, 0);
}

int main(void)
{
    h5io_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rnn_tanh),
        cmocka_unit_test(test_rnn_relu),
        cmocka_unit_test(test_lstm),
        cmocka_unit_test(test_gru),
        cmocka_unit_test(test_rmsprop_nesterov),
        cmocka_unit_test(test_class_weights),
        cmocka_unit_test(test_bidirectional),
        cmocka_unit_test(test_stateful),
    };
    return cmocka_run_group_tests_name("golden (PyTorch)", tests, NULL, NULL);
}
