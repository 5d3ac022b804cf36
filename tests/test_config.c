/* test_config.c - option defaults, command line, INI file, precedence,
 * validation messages, strict decimal numbers, sizes, flags, duplicate keys,
 * non-regular config files, quoting, the effective-config round trip and the
 * resume comparison (config_diff). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "testutil.h"

static int parse(Config *c, Error *e, const char *line)
{
    char buf[1024], *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *tok = strtok(buf, " "); tok && argc < 32; tok = strtok(NULL, " "))
        argv[argc++] = tok;
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
    expect_error("--lr nan", "'lr' must be a decimal number, got 'nan'");
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

/* Parse an explicit argv (tokens may hold blanks), then validate. */
static int parse_argv(Config *c, Error *e, int argc, const char *const *args)
{
    char *argv[16];
    for (int i = 0; i < argc; i++) argv[i] = (char *)args[i];
    config_defaults(c);
    int rc = config_parse_args(c, argc, argv, e);
    return rc ? rc : config_validate(c, e);
}

/* A temporary file holding text; its name in path (a 32-byte buffer). */
static void write_temp(char *path, const char *text)
{
    snprintf(path, 32, "/tmp/rnn_cfg_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* config_read_file of text on defaults: its return code, message in e. */
static int read_temp(Config *c, Error *e, const char *text, char *path)
{
    write_temp(path, text);
    config_defaults(c);
    e->code = 0;
    e->msg[0] = '\0';
    int rc = config_read_file(c, path, e);
    unlink(path);
    return rc;
}

static void test_strict_numbers(void **state)
{
    (void)state;
    expect_error("--lr 0x10", "--lr: 'lr' must be a decimal number, got '0x10'");
    expect_error("--lr inf", "'lr' must be a decimal number, got 'inf'");
    expect_error("--lr -inf", "'lr' must be a decimal number, got '-inf'");
    expect_error("--lr infinity", "'lr' must be a decimal number, got 'infinity'");
    expect_error("--lr +0.5", "'lr' must be a decimal number, got '+0.5'");
    expect_error("--lr --5", "'lr' must be a decimal number, got '--5'");
    expect_error("--lr 1e", "'lr' must be a decimal number, got '1e'");
    expect_error("--lr 1e+", "'lr' must be a decimal number, got '1e+'");
    expect_error("--lr .", "'lr' must be a decimal number, got '.'");
    expect_error("--lr 1.5.", "'lr' must be a decimal number, got '1.5.'");
    expect_error("--lr 0x1p3", "'lr' must be a decimal number, got '0x1p3'");
    expect_error("--lr 1,5", "'lr' must be a decimal number, got '1,5'");
    expect_error("--lr 1e400", "'lr' must be in [1e-12, 1e+06], got 1e400");
    expect_error("--hidden 0x10", "--hidden: 'hidden' must be an integer, got '0x10'");
    expect_error("--hidden +5", "'hidden' must be an integer, got '+5'");
    expect_error("--hidden --5", "'hidden' must be an integer, got '--5'");
    expect_error("--hidden 1.", "'hidden' must be an integer, got '1.'");
    expect_error("--hidden 1e3", "'hidden' must be an integer, got '1e3'");
    expect_error("--hidden -", "'hidden' must be an integer, got '-'");
    expect_error("--hidden 99999999999999999999",
                 "'hidden' must be in 1..65536, got 99999999999999999999");
    expect_error("--max-steps -1", "'max-steps' must be in 0..");
    expect_error("--seed +3", "'seed' must be a non-negative integer, got '+3'");
    expect_error("--seed 18446744073709551616",
                 "'seed' must be at most 18446744073709551615, got '18446744073709551616'");

    /* blanks around a number are not part of it */
    const char *lead[] = {"--hidden", " 5"}, *trail[] = {"--hidden", "5 "},
               *lr_lead[] = {"--lr", " 0.5"}, *lr_trail[] = {"--lr=0.5 "};
    Config c;
    Error e;
    assert_int_equal(parse_argv(&c, &e, 2, lead), EXIT_USAGE);
    assert_string_equal(e.msg, "--hidden: 'hidden' must be an integer, got ' 5'");
    assert_int_equal(parse_argv(&c, &e, 2, trail), EXIT_USAGE);
    assert_string_equal(e.msg, "--hidden: 'hidden' must be an integer, got '5 '");
    assert_int_equal(parse_argv(&c, &e, 2, lr_lead), EXIT_USAGE);
    assert_string_equal(e.msg, "--lr: 'lr' must be a decimal number, got ' 0.5'");
    assert_int_equal(parse_argv(&c, &e, 1, lr_trail), EXIT_USAGE);
    assert_string_equal(e.msg, "--lr: 'lr' must be a decimal number, got '0.5 '");

    /* every decimal form is accepted */
    assert_int_equal(parse(&c, &e, "--lr 1e3 --dropout .5 --clip-grad-norm 1. --comm-timeout 1E-3 "
                                   "--min-delta 2.5e+2 --weight-decay -1 --hidden 007 "
                                   "--max-steps 9000000000000000000 --val-split 0.0"),
                     0);
    assert_true(c.lr == 1000.0);
    assert_true(c.dropout == 0.5);
    assert_true(c.clip_grad_norm == 1.0);
    assert_true(c.comm_timeout == 1e-3);
    assert_true(c.min_delta == 250.0);
    assert_true(c.weight_decay == -1.0);
    assert_int_equal(c.hidden, 7); /* decimal, not octal */
    assert_true(c.max_steps == 9000000000000000000LL);
    assert_true(c.val_split == 0.0);

    /* the same rules in a file, with file:line */
    char path[32], want[128];
    assert_int_equal(read_temp(&c, &e, "epochs = 3\nlr = 0x10\n", path), EXIT_USAGE);
    snprintf(want, sizeof want, "%s:2: 'lr' must be a decimal number, got '0x10'", path);
    assert_string_equal(e.msg, want);
    assert_int_equal(read_temp(&c, &e, "hidden = +5\n", path), EXIT_USAGE);
    snprintf(want, sizeof want, "%s:1: 'hidden' must be an integer, got '+5'", path);
    assert_string_equal(e.msg, want);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    Config c;
    Error e;
    char path[32], want[128];
    assert_int_equal(read_temp(&c, &e, "lr = 0.1\nhidden = 3\n# lr = 5\n\nepochs = 2\n"
                                       "[more]\nlr = 0.2\n",
                               path),
                     EXIT_USAGE);
    snprintf(want, sizeof want, "%s:7: 'lr' is already set at line 1", path);
    assert_string_equal(e.msg, want);
    /* the '_' and '-' spellings are one key */
    assert_int_equal(read_temp(&c, &e, "batch_size = 8\nepochs = 2\nbatch-size = 9\n", path),
                     EXIT_USAGE);
    snprintf(want, sizeof want, "%s:3: 'batch-size' is already set at line 1", path);
    assert_string_equal(e.msg, want);
    /* stored config text: the same rule, named by its source */
    config_defaults(&c);
    assert_int_equal(config_read_text(&c, "hidden = 4\nhidden = 5\n", "C.h5: stored config", &e),
                     EXIT_USAGE);
    assert_string_equal(e.msg, "C.h5: stored config:2: 'hidden' is already set at line 1");
    /* a key in the file and on the command line: the command line wins */
    write_temp(path, "lr = 0.1\nhidden = 3\n");
    char line[128];
    snprintf(line, sizeof line, "--lr 0.2 --config %s --hidden 5", path);
    assert_int_equal(parse(&c, &e, line), 0);
    unlink(path);
    assert_true(c.lr == 0.2);
    assert_int_equal(c.hidden, 5);
}

static void test_not_regular_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/rnn_cfgdir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    Config c;
    Error e = {0, ""};
    char want[160], fifo[64];
    config_defaults(&c);
    assert_int_equal(config_read_file(&c, dir, &e), EXIT_USAGE);
    snprintf(want, sizeof want, "%s: cannot read config file: it is a directory", dir);
    assert_non_null(strstr(e.msg, want));
    assert_null(strchr(e.msg, '\n'));
    assert_string_equal(c.config, ""); /* nothing read */
    /* a FIFO with no writer is refused at once, never waited on */
    snprintf(fifo, sizeof fifo, "%s/f", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20);
    assert_int_equal(config_read_file(&c, fifo, &e), EXIT_USAGE);
    alarm(0);
    snprintf(want, sizeof want, "%s: cannot read config file: it is a FIFO", fifo);
    assert_non_null(strstr(e.msg, want));
    unlink(fifo);
    /* through the command line */
    char line[128];
    snprintf(line, sizeof line, "--config %s", dir);
    expect_error(line, "it is a directory");
    expect_error("--config /dev/null", "/dev/null: cannot read config file: it is a device");
    rmdir(dir);
    /* a NUL byte: not a text file */
    char path[32];
    write_temp(path, "hidden = 4\nlr");
    FILE *f = fopen(path, "a");
    fputc('\0', f);
    fclose(f);
    config_defaults(&c);
    assert_int_equal(config_read_file(&c, path, &e), EXIT_USAGE);
    snprintf(want, sizeof want, "%s:2: a NUL byte: not a text file", path);
    assert_string_equal(e.msg, want);
    unlink(path);
}

static void test_flags(void **state)
{
    (void)state;
    Config c;
    Error e;
    assert_int_equal(parse(&c, &e, "--hidden 3"), 0);
    assert_int_equal(c.fresh, 0);
    assert_int_equal(parse(&c, &e, "--fresh --hidden 3"), 0); /* takes no argument */
    assert_int_equal(c.fresh, 1);
    assert_int_equal(c.hidden, 3);
    assert_true(config_is_set(&c, "fresh"));
    assert_int_equal(parse(&c, &e, "--hidden 3 --fresh"), 0);
    assert_int_equal(c.fresh, 1);
    assert_int_equal(parse(&c, &e, "--fresh=1"), 0);
    assert_int_equal(c.fresh, 1);
    assert_int_equal(parse(&c, &e, "--fresh --fresh=0"), 0);
    assert_int_equal(c.fresh, 0);
    expect_error("--fresh 1", "unexpected argument '1' (--fresh is a flag and takes no value");
    expect_error("--fresh=yes", "--fresh: 'fresh' is a flag: give --fresh alone (or =1, =0), "
                                "got 'yes'");
    expect_error("--fresh= ", "'fresh' is a flag");
    expect_error("--resume auto --fresh", "give either --resume or --fresh");
    /* never in a file, never written */
    char path[32], want[160];
    assert_int_equal(read_temp(&c, &e, "hidden = 3\nfresh = 1\n", path), EXIT_USAGE);
    snprintf(want, sizeof want,
             "%s:2: fresh is a property of one launch: give --fresh on the command line", path);
    assert_string_equal(e.msg, want);
    assert_int_equal(parse(&c, &e, "--fresh --init x.h5"), 0);
    char *text = tu_config_text(&c);
    assert_null(strstr(text, "fresh"));
    assert_null(strstr(text, "resume"));
    assert_non_null(strstr(text, "\ninit = x.h5\n"));
    free(text);
    char v[16];
    config_value_text(v, sizeof v, &c, "fresh");
    assert_string_equal(v, "1");
}

/* max-memory from text: rc, and the bytes in *v. */
static int size_of(uint64_t *v, const char *text, Error *e)
{
    const char *args[] = {"--max-memory", text};
    Config c;
    int rc = parse_argv(&c, e, 2, args);
    *v = c.max_memory;
    return rc;
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t bytes;
        const char *written;
    } good[] = {
        {"0", 0, "0"},
        {"123", 123, "123"},
        {"1K", 1024, "1K"},
        {"1KB", 1024, "1K"},
        {"1KiB", 1024, "1K"},
        {"1k", 1024, "1K"},
        {"512M", 512ull << 20, "512M"},
        {"8G", 8ull << 30, "8G"},
        {"8GiB", 8ull << 30, "8G"},
        {"1.5G", 1536ull << 20, "1536M"},
        {"0.5K", 512, "512"},
        {"2048M", 2ull << 30, "2G"},
        {"2t", 2ull << 40, "2T"},
        {"16777215T", 16777215ull << 40, "16777215T"},
        {"0G", 0, "0"},
        {"18446744073709551615", UINT64_MAX, "18446744073709551615"},
    };
    Error e;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v = 1;
        if (size_of(&v, good[i].text, &e) != 0) fail_msg("'%s': %s", good[i].text, e.msg);
        if (v != good[i].bytes)
            fail_msg("'%s': %llu bytes, expected %llu", good[i].text, (unsigned long long)v,
                     (unsigned long long)good[i].bytes);
        Config c, d;
        config_defaults(&c);
        c.max_memory = v;
        char text[64], line[128];
        config_value_text(text, sizeof text, &c, "max-memory");
        assert_string_equal(text, good[i].written);
        snprintf(line, sizeof line, "max-memory = %s\n", text);
        config_defaults(&d);
        assert_int_equal(config_read_text(&d, line, "t", &e), 0);
        assert_true(d.max_memory == v);
    }
    static const char *const bad[] = {"8Q", "-1G", "1e400", "1.5", "0x10", "G", "1.G", " 8G",
                                      "8G ", "8Gb", "8GG", "8iB", "+8G", "", "1e3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        char want[128];
        snprintf(want, sizeof want, "--max-memory: 'max-memory' must be a size such as 512M, "
                 "1.5G or 0 (bytes; suffixes K, M, G, T), got '%s'", bad[i]);
        if (size_of(&v, bad[i], &e) != EXIT_USAGE || strcmp(e.msg, want) != 0)
            fail_msg("'%s': '%s'", bad[i], e.msg);
    }
    static const char *const big[] = {"16777216T", "18446744073709551616", "99999999999999999999K",
                                      "16777216.5T"};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        uint64_t v;
        if (size_of(&v, big[i], &e) != EXIT_USAGE || !strstr(e.msg, "'max-memory' is too large"))
            fail_msg("'%s': '%s'", big[i], e.msg);
    }
}

/* b read back from a's config_write equals a, field by field. */
static void assert_same_config(const Config *a, const Config *b)
{
    assert_string_equal(a->data, b->data);
    assert_string_equal(a->val, b->val);
    assert_string_equal(a->run_dir, b->run_dir);
    assert_string_equal(a->init, b->init);
    const double da[] = {a->val_split, a->dropout, a->out_dropout, a->lr, a->momentum,
                         a->weight_decay, a->clip_grad_norm, a->min_delta, a->comm_timeout};
    const double db[] = {b->val_split, b->dropout, b->out_dropout, b->lr, b->momentum,
                         b->weight_decay, b->clip_grad_norm, b->min_delta, b->comm_timeout};
    for (size_t i = 0; i < sizeof da / sizeof da[0]; i++)
        if (memcmp(&da[i], &db[i], sizeof da[i]) != 0)
            fail_msg("double %zu: %.17g read back as %.17g", i, da[i], db[i]);
    assert_true(a->seed == b->seed);
    assert_true(a->max_steps == b->max_steps);
    assert_true(a->max_memory == b->max_memory);
    const int ia[] = {a->cell, a->nonlinearity, a->hidden, a->layers, a->embed, a->target,
                      a->epochs, a->batch_size, a->optimizer, a->patience, a->monitor,
                      a->shuffle, a->checkpoint_every, a->keep, a->threads, a->on_nan,
                      a->on_save_error};
    const int ib[] = {b->cell, b->nonlinearity, b->hidden, b->layers, b->embed, b->target,
                      b->epochs, b->batch_size, b->optimizer, b->patience, b->monitor,
                      b->shuffle, b->checkpoint_every, b->keep, b->threads, b->on_nan,
                      b->on_save_error};
    for (size_t i = 0; i < sizeof ia / sizeof ia[0]; i++)
        if (ia[i] != ib[i]) fail_msg("int %zu: %d read back as %d", i, ia[i], ib[i]);
}

static void test_awkward_round_trip(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "runs/a b #c",      "x.h5;y",          "line\nbreak",     "\"quoted\" and \\back\\",
        "trailing space ",  "\tleading tab",   "données/日本語.h5", "#start",
        "ctl\x01\x7f end",  "C:\\data\\x.h5",  "ends with \\",    "a = b",
        "\"",               " ",               "cr\r",            "semi; colon #hash"};
    const size_t np = sizeof paths / sizeof paths[0];
    for (size_t i = 0; i < np; i++) {
        Config a, b, d;
        Error e;
        config_defaults(&a);
        snprintf(a.data, sizeof a.data, "%s", paths[i]);
        snprintf(a.val, sizeof a.val, "%s", paths[(i + 1) % np]);
        snprintf(a.run_dir, sizeof a.run_dir, "%s", paths[(i + 2) % np]);
        snprintf(a.init, sizeof a.init, "%s", paths[(i + 3) % np]);
        a.lr = 0.1;
        a.min_delta = 1e-7;
        a.dropout = 0.3;
        a.clip_grad_norm = 1 / 3.0;
        a.comm_timeout = 5e-324;
        a.out_dropout = 0.1 + 0.2;
        a.val_split = 0.7;
        a.weight_decay = 1e6;
        a.momentum = 0.9999;
        a.seed = UINT64_MAX;
        a.max_steps = 9000000000000000000LL;
        a.max_memory = (3ull << 30) + 1;
        char *text = tu_config_text(&a);
        /* through a file ... */
        char path[32];
        write_temp(path, text);
        config_defaults(&b);
        if (config_read_file(&b, path, &e)) fail_msg("%s\n%s", e.msg, text);
        unlink(path);
        assert_same_config(&a, &b);
        /* ... and as the stored text of a checkpoint; written again, the same bytes */
        config_defaults(&d);
        if (config_read_text(&d, text, "stored", &e)) fail_msg("%s\n%s", e.msg, text);
        assert_same_config(&a, &d);
        char *again = tu_config_text(&d);
        assert_string_equal(text, again);
        free(again);
        free(text);
    }
    /* the texts as written */
    static const struct {
        double v;
        const char *text;
    } doubles[] = {{0.3, "0.3"},        {0.1, "0.1"},         {1e-7, "1e-07"},
                   {1 / 3.0, "0.3333333333333333"},           {5e-324, "5e-324"},
                   {1e300, "1e+300"},   {600, "600"},         {0.1 + 0.2, "0.30000000000000004"},
                   {-1, "-1"},          {1e16, "10000000000000000"}, {1e17, "1e+17"},
                   {0.0001, "0.0001"},  {123456.75, "123456.75"}};
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        Config c;
        config_defaults(&c);
        c.clip_grad_norm = doubles[i].v;
        char text[64];
        config_value_text(text, sizeof text, &c, "clip-grad-norm");
        if (strcmp(text, doubles[i].text) != 0)
            fail_msg("%.17g written as '%s', expected '%s'", doubles[i].v, text, doubles[i].text);
        assert_true(strtod(text, NULL) == doubles[i].v);
    }
    static const struct {
        const char *path, *text;
    } strings[] = {{"", ""},
                   {"plain/x.h5", "plain/x.h5"},
                   {"C:\\x", "C:\\x"},
                   {"a b #c", "\"a b #c\""},
                   {"x;y", "\"x;y\""},
                   {"a\"b", "a\"b"},
                   {"\"a", "\"\\\"a\""},
                   {" x", "\" x\""},
                   {"x\t", "\"x\\t\""},
                   {"a\nb\\", "\"a\\nb\\\\\""},
                   {"\x01", "\"\\x01\""},
                   {"日本", "日本"}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        Config c;
        config_defaults(&c);
        snprintf(c.run_dir, sizeof c.run_dir, "%s", strings[i].path);
        char text[64];
        config_value_text(text, sizeof text, &c, "run-dir");
        assert_string_equal(text, strings[i].text);
    }
}

static void test_quoted_values(void **state)
{
    (void)state;
    Config c;
    Error e;
    char path[32], want[200];
    assert_int_equal(read_temp(&c, &e, "run-dir = \"a # b\" # comment\r\ndata = x.h5 ; note\n"
                                       "val = a;b#c\ninit = \"\\x41\\t\\\"\\\\\"\n"
                                       "optimizer = \"sgd\"\n",
                               path),
                     0);
    assert_string_equal(c.run_dir, "a # b");
    assert_string_equal(c.data, "x.h5");
    assert_string_equal(c.val, "a;b#c");
    assert_string_equal(c.init, "A\t\"\\");
    assert_int_equal(c.optimizer, OPTIM_SGD);
    assert_int_equal(read_temp(&c, &e, "hidden = 3\nrun-dir = \"abc\n", path), EXIT_USAGE);
    snprintf(want, sizeof want, "%s:2: the value of 'run-dir' has no closing quote", path);
    assert_string_equal(e.msg, want);
    assert_int_equal(read_temp(&c, &e, "run-dir = \"ab\\", path), EXIT_USAGE);
    snprintf(want, sizeof want, "%s:1: the value of 'run-dir' has no closing quote", path);
    assert_string_equal(e.msg, want);
    assert_int_equal(read_temp(&c, &e, "run-dir = \"a\\qb\"\n", path), EXIT_USAGE);
    snprintf(want, sizeof want, "%s:1: unknown escape '\\q' in the value of 'run-dir'", path);
    assert_non_null(strstr(e.msg, want));
    assert_int_equal(read_temp(&c, &e, "run-dir = \"a\\x00\"\n", path), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "unknown escape '\\x'"));
    assert_int_equal(read_temp(&c, &e, "run-dir = \"a\" b\n", path), EXIT_USAGE);
    snprintf(want, sizeof want, "%s:1: text after the closing quote of 'run-dir': 'b'", path);
    assert_string_equal(e.msg, want);
    /* a config written before quoting and shortest doubles still reads */
    config_defaults(&c);
    assert_int_equal(config_read_text(&c, "dropout = 0.29999999999999999\nlr = 0.01\n"
                                          "comm-timeout = 600\n", "old", &e),
                     0);
    assert_true(c.dropout == 0.3);
}

static void test_read_text_errors(void **state)
{
    (void)state;
    Config c;
    Error e;
    config_defaults(&c);
    assert_int_equal(config_read_text(&c, "# x\nhidden = x\n", "CKPT.h5: stored config", &e),
                     EXIT_USAGE);
    assert_string_equal(e.msg, "CKPT.h5: stored config:2: 'hidden' must be an integer, got 'x'");
    config_defaults(&c);
    assert_int_equal(config_read_text(&c, "hidden = 9", "t", &e), 0); /* no final newline */
    assert_int_equal(c.hidden, 9);
    assert_true(config_is_set(&c, "hidden"));
    assert_int_equal(config_read_text(&c, "", "t", &e), 0);
    assert_int_equal(c.hidden, 9); /* on top of the current values */
}

/* Every .ini file of configs/ loads and validates. */
static void test_shipped_configs(void **state)
{
    (void)state;
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", tu_path("../configs"));
    DIR *dir = opendir(dirpath);
    assert_non_null(dir);
    int n = 0;
    for (struct dirent *d; (d = readdir(dir));) {
        size_t len = strlen(d->d_name);
        if (len < 5 || strcmp(d->d_name + len - 4, ".ini") != 0) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, d->d_name);
        Config c;
        Error e;
        config_defaults(&c);
        if (config_read_file(&c, path, &e) || config_validate(&c, &e)) fail_msg("%s", e.msg);
        n++;
    }
    closedir(dir);
    assert_true(n >= 6);
}

/* config_diff of the defaults against `line`: the one change expected. */
static void expect_change(const char *line, const char *name, ResumeRule rule)
{
    Config before, after;
    Error e;
    config_defaults(&before);
    if (parse(&after, &e, line)) fail_msg("'%s': %s", line, e.msg);
    ConfigChange ch[4];
    int n = config_diff(ch, 4, &before, &after);
    if (!name) {
        if (n != 0) fail_msg("'%s': %d changes (%s), expected none", line, n, ch[0].name);
        return;
    }
    if (n != 1 || strcmp(ch[0].name, name) != 0 || ch[0].rule != rule)
        fail_msg("'%s': %d changes, first %s rule %d; expected %s rule %d", line, n,
                 n ? ch[0].name : "-", n ? (int)ch[0].rule : -1, name, (int)rule);
}

static void test_diff_rules(void **state)
{
    (void)state;
    /* RESUME_LAUNCH: never compared */
    expect_change("--run-dir elsewhere", NULL, RESUME_LAUNCH);
    expect_change("--init x.h5", NULL, RESUME_LAUNCH);
    expect_change("--resume auto", NULL, RESUME_LAUNCH);
    expect_change("--fresh", NULL, RESUME_LAUNCH);
    expect_change("--max-memory 2G", NULL, RESUME_LAUNCH);
    expect_change("--lr 0.010", NULL, RESUME_LAUNCH); /* the same value, spelt otherwise */
    static const char *const fixed[][2] = {
        {"--cell gru", "cell"},          {"--nonlinearity relu", "nonlinearity"},
        {"--hidden 8", "hidden"},        {"--layers 2", "layers"},
        {"--dropout 0.1", "dropout"},    {"--out-dropout 0.1", "out-dropout"},
        {"--embed 4", "embed"},          {"--target last", "target"},
        {"--optimizer sgd", "optimizer"}, {"--monitor val_acc", "monitor"},
        {"--seed 7", "seed"},            {"--shuffle 0", "shuffle"},
        {"--val-split 0.2", "val-split"}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        expect_change(fixed[i][0], fixed[i][1], RESUME_FIXED);
    expect_change("--data d.h5", "data", RESUME_DATA);
    expect_change("--val v.h5", "val", RESUME_DATA);
    expect_change("--batch-size 64", "batch-size", RESUME_MIDEPOCH);
    static const char *const future[][2] = {
        {"--epochs 3", "epochs"},           {"--max-steps 9", "max-steps"},
        {"--patience 2", "patience"},       {"--min-delta 0.1", "min-delta"},
        {"--lr 0.5", "lr"},                 {"--optimizer sgd --momentum 0.5", NULL},
        {"--weight-decay 0", "weight-decay"}, {"--clip-grad-norm 1", "clip-grad-norm"},
        {"--checkpoint-every 0", "checkpoint-every"}, {"--keep 5", "keep"},
        {"--comm-timeout 5", "comm-timeout"}, {"--on-nan skip", "on-nan"},
        {"--on-save-error continue", "on-save-error"}, {"--threads 2", "threads"}};
    for (size_t i = 0; i < sizeof future / sizeof future[0]; i++)
        if (future[i][1]) expect_change(future[i][0], future[i][1], RESUME_FUTURE);
    /* momentum needs sgd: two changes, optimizer (fixed) then momentum (future) */
    Config before, after;
    Error e;
    config_defaults(&before);
    assert_int_equal(parse(&after, &e, "--optimizer sgd --momentum 0.5"), 0);
    ConfigChange ch[4];
    assert_int_equal(config_diff(ch, 4, &before, &after), 2);
    assert_string_equal(ch[0].name, "optimizer");
    assert_int_equal(ch[0].rule, RESUME_FIXED);
    assert_string_equal(ch[1].name, "momentum");
    assert_int_equal(ch[1].rule, RESUME_FUTURE);
    assert_string_equal(ch[1].before, "0");
    assert_string_equal(ch[1].after, "0.5");
}

static void test_diff_values_and_cap(void **state)
{
    (void)state;
    Config before, after;
    Error e;
    config_defaults(&before);
    assert_int_equal(parse(&after, &e, "--data y.h5 --hidden 32 --batch-size 64 --lr 0.001 "
                                       "--weight-decay 0 --run-dir r2 --max-memory 1G"),
                     0);
    ConfigChange ch[8];
    assert_int_equal(config_diff(ch, 8, &before, &after), 5);
    static const char *const names[] = {"data", "hidden", "batch-size", "lr", "weight-decay"};
    static const ResumeRule rules[] = {RESUME_DATA, RESUME_FIXED, RESUME_MIDEPOCH, RESUME_FUTURE,
                                       RESUME_FUTURE};
    static const char *const was[] = {"", "16", "32", "0.01", "-1"};
    static const char *const now[] = {"y.h5", "32", "64", "0.001", "0"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(ch[i].name, names[i]);
        assert_int_equal(ch[i].rule, rules[i]);
        assert_string_equal(ch[i].before, was[i]);
        assert_string_equal(ch[i].after, now[i]);
    }
    /* cap smaller than the count: the first cap entries, the full count */
    ConfigChange few[3];
    memset(few, 0, sizeof few);
    few[2].name = "untouched";
    assert_int_equal(config_diff(few, 2, &before, &after), 5);
    assert_string_equal(few[0].name, "data");
    assert_string_equal(few[1].name, "hidden");
    assert_string_equal(few[2].name, "untouched");
    assert_int_equal(config_diff(NULL, 0, &before, &after), 5);
    assert_int_equal(config_diff(ch, 8, &after, &after), 0);
    /* a long value is cut with "...", the comparison uses all of it */
    Config longer = before;
    memset(longer.data, 'a', 900);
    longer.data[900] = '\0';
    Config longer2 = longer;
    longer2.data[899] = 'b';
    assert_int_equal(config_diff(ch, 8, &longer, &longer2), 1);
    assert_int_equal(strlen(ch[0].before), sizeof ch[0].before - 1);
    assert_string_equal(ch[0].before + sizeof ch[0].before - 4, "...");
    assert_int_equal(strncmp(ch[0].before, ch[0].after, sizeof ch[0].before), 0);
    /* values as config_write writes them: quoted strings */
    snprintf(after.data, sizeof after.data, "a #b");
    assert_int_equal(config_diff(ch, 1, &before, &after), 5);
    assert_string_equal(ch[0].after, "\"a #b\"");
    char v[8];
    config_value_text(v, sizeof v, &after, "data");
    assert_string_equal(v, "\"a #b\"");
    config_value_text(v, 6, &after, "data");
    assert_string_equal(v, "\"a...");
    config_value_text(v, sizeof v, &after, "no-such-option");
    assert_string_equal(v, "");
    config_value_text(v, sizeof v, &after, "optimizer");
    assert_string_equal(v, "adam");
}

/* config_read_text of config_write's output gives back the same config. */
static void test_read_text_round_trip(void **state)
{
    (void)state;
    Config a, b;
    Error e;
    assert_int_equal(parse(&a, &e, "--cell gru --hidden 48 --layers 3 --dropout 0.3 --lr 3e-4 "
                                   "--optimizer adamw --weight-decay 0.05 --seed 42 "
                                   "--max-memory 1.5G --run-dir r#1 --val-split 0.1 "
                                   "--on-nan skip --target step --comm-timeout 0.25"),
                     0);
    char *text = tu_config_text(&a);
    assert_non_null(strstr(text, "\ndropout = 0.3\n"));
    assert_non_null(strstr(text, "\nmax-memory = 1536M\n"));
    assert_non_null(strstr(text, "\nrun-dir = \"r#1\"\n"));
    config_defaults(&b);
    assert_int_equal(config_read_text(&b, text, "CKPT.h5: stored config", &e), 0);
    free(text);
    assert_same_config(&a, &b);
    assert_int_equal(config_diff(NULL, 0, &a, &b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_command_line),
        cmocka_unit_test(test_bad_values),     cmocka_unit_test(test_file_and_precedence),
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_strict_numbers),
        cmocka_unit_test(test_duplicate_keys), cmocka_unit_test(test_not_regular_file),
        cmocka_unit_test(test_flags),          cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_awkward_round_trip), cmocka_unit_test(test_quoted_values),
        cmocka_unit_test(test_read_text_errors), cmocka_unit_test(test_shipped_configs),
        cmocka_unit_test(test_diff_rules),     cmocka_unit_test(test_diff_values_and_cap),
        cmocka_unit_test(test_read_text_round_trip),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
