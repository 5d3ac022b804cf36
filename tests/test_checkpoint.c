/* test_checkpoint.c - save/load round trip of parameters, optimizer state and
 * training state; refusal of another model's checkpoint; params-only load;
 * no temporary file left behind; damage (truncation, every bit flip of a
 * sample of offsets, a missing completeness marker) detected on load. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "h5io.h"
#include "rng.h"
#include "testutil.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    h5io_init();
    snprintf(dir, sizeof dir, "/tmp/rnn_ckpt_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static ModelSpec spec(CellKind cell, int hidden)
{
    ModelSpec s = {cell, NONLIN_TANH, INPUT_TOKENS, 11, 5, 0, hidden, 2, 4, LOSS_CE, TARGET_STEP,
                   0.1f, 0.2f, 0};
    return s;
}

static void test_round_trip(void **state)
{
    (void)state;
    ModelSpec s = spec(CELL_LSTM, 6);
    Model m;
    model_create(&m, &s);
    model_init_params(&m, 3);
    OptimSpec os = {OPTIM_ADAM, 0.01, 0, 0, 0.9, 0.999, 1e-8, 0, 0.99};
    Optim o;
    optim_create(&o, &os, m.table.total);
    for (int i = 0; i < m.table.count; i++) {
        const ParamInfo *p = &m.table.p[i];
        for (size_t k = 0; k < (size_t)p->rows * (p->cols ? p->cols : 1); k++)
            m.grads[p->offset + k] = rng_uniform_at(1, p->offset + k, -1, 1);
    }
    optim_step(&o, m.params, m.grads);
    optim_step(&o, m.params, m.grads);
    TrainState st = {7, 3, 123, 0.25, 5, 2, 42, 4, 1.5, 2.5, 3.5, 4.5, 5.5, 6, 7, 8,
                     0xfedcba9876543210ULL, {"data #1.h5", 1000, 123456, 0x8000000000000001ULL},
                     {"", 0, 0, 0}, {0, 0, 0}, 0};
    char path[128];
    snprintf(path, sizeof path, "%s/c.h5", dir);
    Error e;
    assert_int_equal(checkpoint_save(path, &m, &o, &st, "hidden = 6\n", NULL, &e), 0);

    ModelSpec s2;
    assert_int_equal(checkpoint_read_spec(&s2, path, &e), 0);
    assert_int_equal(s2.cell, CELL_LSTM);
    assert_int_equal(s2.hidden, 6);
    assert_int_equal(s2.vocab, 11);
    assert_true(s2.dropout == 0.1f && s2.out_dropout == 0.2f);
    Model m2;
    model_create(&m2, &s2);
    Optim o2;
    optim_create(&o2, &os, m2.table.total);
    TrainState st2;
    assert_int_equal(checkpoint_load(&m2, &o2, &st2, path, &e), 0);
    assert_memory_equal(m.params, m2.params, sizeof(float) * m.table.total);
    assert_memory_equal(o.m, o2.m, sizeof(float) * 2 * m.table.total);
    assert_int_equal(o2.step, 2);
    assert_memory_equal(&st, &st2, sizeof st);

    /* an SGD run cannot resume an Adam checkpoint */
    OptimSpec sgd = {OPTIM_SGD, 0.1, 0.9, 0, 0.9, 0.999, 1e-8, 0, 0.99};
    Optim o3;
    optim_create(&o3, &sgd, m2.table.total);
    assert_int_equal(checkpoint_load(&m2, &o3, &st2, path, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "optimizer is 'adam', this run uses 'sgd'"));

    /* no temporary file left */
    DIR *dd = opendir(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dd)))
        if (de->d_name[0] != '.') {
            files++;
            assert_null(strstr(de->d_name, "tmp"));
        }
    closedir(dd);
    assert_int_equal(files, 1);
    optim_free(&o);
    optim_free(&o2);
    optim_free(&o3);
    model_free(&m);
    model_free(&m2);
}

static void test_other_model_refused(void **state)
{
    (void)state;
    ModelSpec s = spec(CELL_GRU, 6);
    Model m;
    model_create(&m, &s);
    model_init_params(&m, 1);
    TrainState st = {1, 0, 10, NAN, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                     {"", 0, 0, 0}, {"", 0, 0, 0}, {0, 0, 0}, 0};
    char path[128];
    snprintf(path, sizeof path, "%s/g.h5", dir);
    Error e;
    assert_int_equal(checkpoint_save(path, &m, NULL, &st, NULL, NULL, &e), 0);
    const struct {
        ModelSpec s;
        const char *field;
    } cases[] = {
        {spec(CELL_LSTM, 6), "checkpoint is of another model: cell is 'gru' there, 'lstm' in "
                             "this run"},
        {spec(CELL_GRU, 7), "checkpoint is of another model: hidden is 6 there, 7 in this run"},
    };
    for (int i = 0; i < 2; i++) {
        Model other;
        model_create(&other, &cases[i].s);
        assert_int_equal(checkpoint_load(&other, NULL, NULL, path, &e), EXIT_USAGE);
        if (!strstr(e.msg, cases[i].field)) fail_msg("message '%s'", e.msg);
        model_free(&other);
    }
    /* params only (--init): a shape mismatch names the tensor */
    ModelSpec wide = spec(CELL_GRU, 8);
    Model w;
    model_create(&w, &wide);
    assert_int_equal(checkpoint_load_params(&w, path, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "/params/rnn.weight_ih_l0 has shape float[18, 5] but the model "
                                  "needs float [24, 5]"));
    model_free(&w);
    /* params only into the same shape works, and equals */
    Model same;
    model_create(&same, &s);
    assert_int_equal(checkpoint_load_params(&same, path, &e), 0);
    assert_memory_equal(same.params, m.params, sizeof(float) * m.table.total);
    model_free(&same);
    model_free(&m);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void spill(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* What the damage loop found (filled in a child process, see below). */
typedef struct DamageResult {
    int refused, harmless, cuts, cuts_refused;
    size_t bytes;
    char fail[1200]; /* room for an Error message */
} DamageResult;

/* Truncations and one flipped bit at offsets spread over the whole file:
 * each copy must be refused ("damaged checkpoint"), or, when the flip fell
 * on bytes that hold nothing, load to exactly the saved state; never load
 * to different numbers. */
static void damage_loop(DamageResult *r, const char *path, const char *bad, const Model *m,
                        const TrainState *st)
{
    Model back;
    model_create(&back, &m->spec);
    TrainState st2;
    Error e;
    unsigned char *b = slurp(path, &r->bytes);
    size_t n = r->bytes;
    for (size_t cut = 0; cut < n && !r->fail[0]; cut += n / 16 + 1) {
        spill(bad, b, cut);
        r->cuts++;
        if (checkpoint_verify(bad, &e) == EXIT_USAGE && strstr(e.msg, "damaged checkpoint"))
            r->cuts_refused++;
        else
            snprintf(r->fail, sizeof r->fail, "truncated at %zu: '%s'", cut, e.msg);
    }
    for (size_t off = 0; off < n && !r->fail[0]; off += 7) {
        b[off] ^= (unsigned char)(1u << (off % 8));
        spill(bad, b, n);
        b[off] ^= (unsigned char)(1u << (off % 8));
        if (checkpoint_load(&back, NULL, &st2, bad, &e) != 0) {
            r->refused++;
            continue;
        }
        r->harmless++;
        if (memcmp(back.params, m->params, sizeof(float) * m->table.total) != 0 ||
            st2.step != st->step || st2.epoch != st->epoch || st2.best_metric != st->best_metric)
            snprintf(r->fail, sizeof r->fail, "bit flip at offset %zu loaded different numbers",
                     off);
    }
    free(b);
    model_free(&back);
}

/* The damage loop runs in a child process: HDF5 leaks memory on the error
 * paths of corrupt files, which LeakSanitizer (make asan) would report at
 * the child's exit; _exit skips that, and the parent keeps its leak check. */
static void test_damage_detected(void **state)
{
    (void)state;
    ModelSpec s = spec(CELL_LSTM, 6);
    Model m, back;
    model_create(&m, &s);
    model_create(&back, &s);
    model_init_params(&m, 4);
    TrainState st = {3, 0, 30, 0.5, 2, 1, 9, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                     {"", 0, 0, 0}, {"", 0, 0, 0}, {0, 0, 0}, 0},
               st2;
    char path[128], bad[160];
    snprintf(path, sizeof path, "%s/d.h5", dir);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    Error e;
    assert_int_equal(checkpoint_save(path, &m, NULL, &st, "x = 1\n", NULL, &e), 0);
    assert_int_equal(checkpoint_verify(path, &e), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* this child is the crash containment here: no probe child per copy
         * (1900 forks took 35 s, 116 s under ASan) */
        setenv("RNN_DIST_PROBE", "0", 1);
        DamageResult r;
        memset(&r, 0, sizeof r);
        damage_loop(&r, path, bad, &m, &st);
        _exit(write(fds[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    DamageResult r;
    memset(&r, 0, sizeof r);
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof r)
        fail_msg("the damage loop died (status 0x%x): HDF5 crashed on a damaged file?", status);
    if (r.fail[0]) fail_msg("%s", r.fail);
    print_message("%zu-byte checkpoint: %d bit flips refused, %d in unused bytes loaded the same "
                  "state, %d of %d truncations refused\n",
                  r.bytes, r.refused, r.harmless, r.cuts_refused, r.cuts);
    assert_int_equal(r.cuts_refused, r.cuts);
    assert_true(r.refused > r.harmless);
    /* a write that never finished: no completeness marker */
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Adelete_by_name(f, "/", "complete", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    assert_int_equal(checkpoint_load(&back, NULL, &st2, path, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "damaged checkpoint: no completeness marker"));
    model_free(&m);
    model_free(&back);
}

static void test_missing_and_garbage(void **state)
{
    (void)state;
    Error e;
    ModelSpec s;
    char path[128];
    snprintf(path, sizeof path, "%s/none.h5", dir);
    assert_int_equal(checkpoint_read_spec(&s, path, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "cannot open"));
    snprintf(path, sizeof path, "%s/garbage.h5", dir);
    FILE *f = fopen(path, "w");
    fputs("not hdf5 at all", f);
    fclose(f);
    assert_int_equal(checkpoint_read_spec(&s, path, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "not an HDF5 file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_other_model_refused),
        cmocka_unit_test(test_damage_detected),
        cmocka_unit_test(test_missing_and_garbage),
    };
    return cmocka_run_group_tests_name("checkpoint", tests, setup, teardown);
}
