/* test_trainstate.c - the TrainState field table: it covers every field,
 * a checkpoint carries every field through it (save, then read back), an
 * older checkpoint without the optional fields loads with their defaults,
 * trainstate_diff names the field that differs, trainstate_keep_partial;
 * and the model attributes' table (every enum by name, mismatches named). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "h5io.h"
#include "testutil.h"

/* A state whose every field has a value of its own (none 0, none equal to
 * another), set through the table. */
static TrainState distinct_state(void)
{
    TrainState st;
    memset(&st, 0, sizeof st);
    int n;
    const StateField *f = trainstate_fields(&n);
    for (int i = 0; i < n; i++) {
        char *v = (char *)&st + f[i].offset;
        uint64_t u = 0x8000000000000000ULL | ((uint64_t)(i + 1) << 40) | (uint64_t)(i + 1);
        switch (f[i].type) {
        case STATE_I64: *(int64_t *)v = 1000 + i; break;
        case STATE_U64:
        case STATE_HEX: *(uint64_t *)v = u; break;
        case STATE_F64: *(double *)v = 0.25 + i; break;
        case STATE_STR: snprintf(v, f[i].size, "input #%d.h5", i); break;
        }
    }
    return st;
}

static ModelSpec small_spec(void)
{
    ModelSpec s = {CELL_GRU, NONLIN_TANH, INPUT_DENSE, 0, 0, 3, 4, 1, 2, LOSS_MSE, TARGET_LAST,
                   0, 0.5f, 0};
    return s;
}

static void save(const char *path, const ModelSpec *s, const TrainState *st)
{
    Model m;
    model_create(&m, s);
    model_init_params(&m, 1);
    Error e;
    assert_int_equal(checkpoint_save(path, &m, NULL, st, "hidden = 4\n", NULL, &e), 0);
    model_free(&m);
}

static void test_table_covers_every_field(void **state)
{
    (void)state;
    int n;
    const StateField *f = trainstate_fields(&n);
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        bytes += f[i].size;
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(f[i].name, f[j].name);
            assert_true(f[i].offset != f[j].offset);
        }
    }
    /* TrainState has no padding: a field missing from the table shows here */
    assert_int_equal(bytes, sizeof(TrainState));
}

static void test_every_field_round_trips(void **state)
{
    const TuDir *d = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/st.h5", d->path);
    ModelSpec s = small_spec();
    TrainState st = distinct_state(), back, loaded;
    save(path, &s, &st);
    char *text = NULL;
    Error e;
    assert_int_equal(checkpoint_read_state(&back, &text, path, &e), 0);
    assert_string_equal(text, "hidden = 4\n");
    free(text);
    const char *differs = trainstate_diff(&st, &back);
    if (differs) fail_msg("field %s did not round-trip", differs);
    Model m;
    model_create(&m, &s);
    assert_int_equal(checkpoint_load(&m, NULL, &loaded, path, &e), 0);
    assert_null(trainstate_diff(&st, &loaded));
    assert_int_equal(checkpoint_run_id(path), st.run_id);
    model_free(&m);
}

/* A checkpoint from before run ids and input identities: those fields take
 * their `missing` values; a missing required field is refused. */
static void test_older_checkpoint_defaults(void **state)
{
    const TuDir *d = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/old.h5", d->path);
    ModelSpec s = small_spec();
    TrainState st = distinct_state(), back;
    save(path, &s, &st);
    int n;
    const StateField *f = trainstate_fields(&n);
    hid_t h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(h >= 0);
    for (int i = 0; i < n; i++)
        if (!f[i].required) assert_true(H5Adelete(h, f[i].name) >= 0);
    H5Fclose(h);
    char *text = NULL;
    Error e;
    assert_int_equal(checkpoint_read_state(&back, &text, path, &e), 0);
    free(text);
    assert_int_equal(back.run_id, 0);
    assert_int_equal(back.data.rows, -1);
    assert_int_equal(back.val.rows, -1);
    assert_string_equal(back.data.file, "");
    assert_int_equal(back.data.hash, 0);
    assert_int_equal(back.step, st.step);
    assert_int_equal(back.part_seqs, st.part_seqs);

    h = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(H5Adelete(h, "part_seqs") >= 0);
    H5Fclose(h);
    assert_int_equal(checkpoint_read_state(&back, &text, path, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "training state attributes are missing"));
}

static void test_diff_names_the_field(void **state)
{
    (void)state;
    TrainState a = distinct_state();
    a.best_metric = NAN;
    TrainState b = a;
    assert_null(trainstate_diff(&a, &b)); /* NAN equals itself */
    /* bytes after a string's end do not count */
    b.data.file[sizeof b.data.file - 1] = 'x';
    assert_null(trainstate_diff(&a, &b));
    int n;
    const StateField *f = trainstate_fields(&n);
    for (int i = 0; i < n; i++) {
        b = a;
        ((unsigned char *)&b + f[i].offset)[0] ^= 1;
        const char *name = trainstate_diff(&a, &b);
        assert_non_null(name);
        assert_string_equal(name, f[i].name);
    }
}

static void test_keep_partial(void **state)
{
    (void)state;
    TrainState st;
    memset(&st, 0, sizeof st);
    st.part_seqs = 64; /* the part before a resume */
    LossSums sums = {1.5, 10, 7, 0.25, 9.5};
    trainstate_keep_partial(&st, 1, &sums, 2.5, 3, 96, 1);
    assert_true(st.part_loss == 1.5 && st.part_count == 10 && st.part_correct == 7 &&
                st.part_abs_err == 0.25 && st.part_norm_sum == 2.5 && st.part_weight == 9.5);
    assert_int_equal(st.part_steps, 3);
    assert_int_equal(st.part_seqs, 160);
    assert_int_equal(st.part_skipped, 1);
    trainstate_keep_partial(&st, 0, &sums, 2.5, 3, 96, 1);
    TrainState zero;
    memset(&zero, 0, sizeof zero);
    assert_null(trainstate_diff(&st, &zero));
}

/* Every enum of the spec is stored by its name and read back; a field that
 * differs is named with both values (names for enums). */
static void test_spec_table(void **state)
{
    const TuDir *d = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/spec.h5", d->path);
    ModelSpec s = {CELL_RNN, NONLIN_RELU, INPUT_TOKENS, 7, 3, 0, 5, 2, 4, LOSS_MSE, TARGET_LAST,
                   0.25f, 0.5f, 0};
    TrainState st = distinct_state();
    save(path, &s, &st);
    ModelSpec back;
    Error e;
    assert_int_equal(checkpoint_read_spec(&back, path, &e), 0);
    assert_memory_equal(&back, &s, sizeof s);
    hid_t h;
    assert_int_equal(h5io_open_read(&h, path, &e), 0);
    char text[32];
    static const struct {
        const char *attr, *value;
    } names[] = {{"cell", "rnn"}, {"nonlinearity", "relu"}, {"input", "tokens"},
                 {"loss", "mse"}, {"target", "last"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(h5io_read_attr_str(text, sizeof text, h, "/", names[i].attr), 0);
        assert_string_equal(text, names[i].value);
    }
    H5Fclose(h);
    const struct {
        ModelSpec s;
        const char *msg;
    } cases[] = {
        {{CELL_RNN, NONLIN_TANH, INPUT_TOKENS, 7, 3, 0, 5, 2, 4, LOSS_MSE, TARGET_LAST, 0, 0, 0},
         "nonlinearity is 'relu' there, 'tanh' in this run"},
        {{CELL_RNN, NONLIN_RELU, INPUT_TOKENS, 7, 3, 0, 5, 2, 4, LOSS_MSE, TARGET_STEP, 0, 0, 0},
         "target is 'last' there, 'step' in this run"},
        {{CELL_RNN, NONLIN_RELU, INPUT_TOKENS, 8, 3, 0, 5, 2, 4, LOSS_MSE, TARGET_LAST, 0, 0, 0},
         "vocab_size is 7 there, 8 in this run"},
        {{CELL_RNN, NONLIN_RELU, INPUT_TOKENS, 7, 3, 0, 5, 2, 4, LOSS_MSE, TARGET_LAST, 0, 0, 1},
         "bidirectional is 0 there, 1 in this run"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Model m;
        model_create(&m, &cases[i].s);
        assert_int_equal(checkpoint_load(&m, NULL, NULL, path, &e), EXIT_USAGE);
        if (!strstr(e.msg, cases[i].msg)) fail_msg("message '%s'", e.msg);
        model_free(&m);
    }
    /* the dropouts are not compared */
    ModelSpec other = s;
    other.dropout = 0;
    Model m;
    model_create(&m, &other);
    assert_int_equal(checkpoint_load(&m, NULL, NULL, path, &e), 0);
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_every_field),
        cmocka_unit_test_setup_teardown(test_every_field_round_trips, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_older_checkpoint_defaults, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test(test_diff_names_the_field),
        cmocka_unit_test(test_keep_partial),
        cmocka_unit_test_setup_teardown(test_spec_table, tu_dir_setup, tu_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
