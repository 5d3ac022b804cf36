/* test_config.c - option defaults, command line, INI file, precedence,
 * validation messages and the effective-config round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static int parse(Config *c, Error *e, const char *line)
{
    char buf[1024], *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *tok = strtok(buf, " "); tok && argc < 32; tok = strtok(NULL, " ")) argv[argc++] = tok;
    config_defaults(c);
    int rc = config_parse_args(c, argc, argv, e);
    return rc ? rc : config_validate(c, e);
}

static void test_defaults(void **state)
{
    (void)state;
    Config c;
    config_defaults(&c);
    assert_int_equal(c.hidden, 16);
    assert_int_equal(c.layers, 1);
    assert_int_equal(c.batch_size, 32);
    assert_int_equal(c.optimizer, OPTIM_ADAM);
    assert_true(c.lr == 0.01);
    assert_int_equal(c.threads, 1);
    assert_true(config_weight_decay(&c) == 0.0);
    c.optimizer = OPTIM_ADAMW;
    assert_true(config_weight_decay(&c) == 0.01); /* torch.optim.AdamW's default */
}

static void test_command_line(void **state)
{
    (void)state;
    Config c;
    Error e;
    assert_int_equal(parse(&c, &e, "--hidden 64 --cell=lstm --lr 3e-4 --seed 18446744073709551615"
                                   " --dropout 0.25 --max-steps 99 --target last"),
                     0);
    assert_int_equal(c.hidden, 64);
    assert_int_equal(c.cell, 1);
    assert_true(c.lr == 3e-4);
    assert_true(c.seed == 18446744073709551615ull);
    assert_true(c.dropout == 0.25);
    assert_true(c.max_steps == 99);
    assert_int_equal(c.target, TARGET_CHOICE_LAST);
    assert_true(config_is_set(&c, "hidden"));
    assert_false(config_is_set(&c, "layers"));
}

static void expect_error(const char *line, const char *part)
{
    Config c;
    Error e = {0, ""};
    int rc = parse(&c, &e, line);
    if (rc != EXIT_USAGE || !strstr(e.msg, part))
        fail_msg("'%s': rc %d, message '%s', expected '%s'", line, rc, e.msg, part);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("--hidden 0", "'hidden' must be in 1..65536, got 0");
    expect_error("--hidden 12x", "'hidden' must be an integer, got '12x'");
    expect_error("--layers 17", "'layers' must be in 1..16");
    expect_error("--cell tree", "'cell' must be one of rnn|lstm|gru, got 'tree'");
    expect_error("--lr 0", "'lr' must be in");
    expect_error("--lr nan", "'lr' must be a number");
    expect_error("--dropout 1", "'dropout' must be in [0, 0.99]");
    expect_error("--seed -3", "'seed' must be a non-negative integer");
    expect_error("--hiden 3", "unknown option '--hiden'");
    expect_error("--hidden", "option --hidden needs a value");
    expect_error("hidden 3", "unexpected argument 'hidden'");
    expect_error("--momentum 0.9", "momentum applies to optimizer sgd only");
    expect_error("--cell gru --nonlinearity relu", "nonlinearity relu applies to cell rnn only");
    expect_error("--val v.h5 --val-split 0.1", "either val or val-split");
    expect_error("--resume auto --init x.h5", "either resume or init");
    expect_error("--config /nonexistent.ini", "/nonexistent.ini: cannot open config file");
}

static void test_file_and_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/rnn_cfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\n[train]\nhidden = 40 # trailing\nbatch_size = 8\n\ncell = gru\n");
    fclose(f);
    Config c;
    Error e;
    char line[256];
    snprintf(line, sizeof line, "--hidden 7 --config %s", path);
    assert_int_equal(parse(&c, &e, line), 0);
    assert_int_equal(c.hidden, 7);     /* the command line wins, wherever --config is */
    assert_int_equal(c.batch_size, 8); /* underscores accepted for dashes */
    assert_int_equal(c.cell, 2);
    /* bad line: file:line in the message */
    f = fopen(path, "w");
    fprintf(f, "hidden = 4\nlayers = many\n");
    fclose(f);
    config_defaults(&c);
    assert_int_equal(config_read_file(&c, path, &e), EXIT_USAGE);
    char want[300];
    snprintf(want, sizeof want, "%s:2: 'layers' must be an integer, got 'many'", path);
    assert_string_equal(e.msg, want);
    f = fopen(path, "w");
    fprintf(f, "just words\n");
    fclose(f);
    assert_int_equal(config_read_file(&c, path, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, ":1: expected 'key = value'"));
    unlink(path);
}

/* config_write's output read back gives the same options. */
static void test_round_trip(void **state)
{
    (void)state;
    Config a, b;
    Error e;
    assert_int_equal(parse(&a, &e, "--hidden 33 --cell lstm --lr 0.00123 --data x.h5 --patience 4 "
                                   "--monitor val_acc --weight-decay 0.5 --shuffle 0"),
                     0);
    char path[] = "/tmp/rnn_cfg_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    config_write(f, &a);
    fclose(f);
    config_defaults(&b);
    assert_int_equal(config_read_file(&b, path, &e), 0);
    unlink(path);
    assert_int_equal(b.hidden, 33);
    assert_int_equal(b.cell, 1);
    assert_true(b.lr == 0.00123);
    assert_string_equal(b.data, "x.h5");
    assert_int_equal(b.patience, 4);
    assert_int_equal(b.monitor, MONITOR_VAL_ACC);
    assert_true(b.weight_decay == 0.5);
    assert_int_equal(b.shuffle, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_command_line),
        cmocka_unit_test(test_bad_values),     cmocka_unit_test(test_file_and_precedence),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
