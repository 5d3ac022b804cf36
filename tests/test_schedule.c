/* test_schedule.c - the lr of every epoch under each lr-schedule against
 * torch.optim.lr_scheduler's (tests/fixtures/lr_schedules.h5, written by
 * scripts/make_fixtures.py), schedule none with a warmup, and the options'
 * checks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "h5io.h"
#include "schedule.h"
#include "testutil.h"

#define EPOCHS 30

static void read_f64(double *v, hid_t f, const char *group, const char *name)
{
    if (h5io_read_attr_f64(v, f, group, name)) fail_msg("%s: attribute %s missing", group, name);
}

static int read_int(hid_t f, const char *group, const char *name)
{
    int64_t v;
    if (h5io_read_attr_i64(&v, f, group, name)) fail_msg("%s: attribute %s missing", group, name);
    return (int)v;
}

static int read_enum(hid_t f, const char *group, const char *name, const EnumNames *t)
{
    char s[32];
    if (h5io_read_attr_str(s, sizeof s, f, group, name)) fail_msg("%s: %s missing", group, name);
    int v = types_enum_index(t, s);
    if (v < 0) fail_msg("%s: %s '%s' unknown", group, name, s);
    return v;
}

/* The train options of fixture group `group` (the fixture's epochs). */
static Config case_config(hid_t f, const char *group)
{
    Config c;
    config_defaults(&c);
    c.epochs = EPOCHS;
    c.lr_schedule = read_enum(f, group, "lr_schedule", &LR_SCHEDULE_NAMES);
    c.monitor = read_enum(f, group, "monitor", &MONITOR_NAMES);
    read_f64(&c.lr, f, group, "lr");
    read_f64(&c.lr_gamma, f, group, "lr_gamma");
    read_f64(&c.lr_min, f, group, "lr_min");
    read_f64(&c.lr_factor, f, group, "lr_factor");
    c.lr_step = read_int(f, group, "lr_step");
    c.lr_patience = read_int(f, group, "lr_patience");
    c.warmup_epochs = read_int(f, group, "warmup_epochs");
    Error e;
    if (config_validate(&c, &e)) fail_msg("%s: %s", group, e.msg);
    return c;
}

/* The lrs of epochs 1..EPOCHS as train.c steps them (the plateau fed each
 * epoch's monitored value when monitored is not NULL). */
static void run_schedule(double *lrs, const ScheduleSpec *s, const double *monitored)
{
    LrState st = schedule_state_init(s);
    for (int e = 1; e <= EPOCHS; e++) {
        lrs[e - 1] = schedule_lr(s, e, &st);
        if (monitored) schedule_plateau_update(&st, s, e, monitored[e - 1]);
    }
}

static void check_case(const char *group)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tu_path("fixtures/lr_schedules.h5"));
    h5io_init();
    hid_t f;
    Error e;
    if (h5io_open_read(&f, path, &e)) fail_msg("%s", e.msg);
    assert_int_equal(read_int(f, "/", "epochs"), EPOCHS);
    Config c = case_config(f, group);
    ScheduleSpec s = schedule_spec_from_config(&c);
    double want[EPOCHS], got[EPOCHS], monitored[EPOCHS];
    assert_int_equal(h5io_read_attr_f64_n(want, EPOCHS, f, group, "lrs"), 0);
    int plateau = c.lr_schedule == LR_SCHEDULE_PLATEAU;
    if (plateau)
        assert_int_equal(h5io_read_attr_f64_n(monitored, EPOCHS, f, group, "monitored"), 0);
    H5Fclose(f);
    run_schedule(got, &s, plateau ? monitored : NULL);
    for (int i = 0; i < EPOCHS; i++)
        if (!(fabs(got[i] - want[i]) <= 1e-12 * fabs(want[i])))
            fail_msg("%s epoch %d: lr %.17g, torch %.17g", group, i + 1, got[i], want[i]);
}

static void test_step(void **state) { (void)state; check_case("step"); }
static void test_step_warmup(void **state) { (void)state; check_case("step_warmup"); }
static void test_cosine(void **state) { (void)state; check_case("cosine"); }
static void test_cosine_warmup(void **state) { (void)state; check_case("cosine_warmup"); }
static void test_plateau(void **state) { (void)state; check_case("plateau"); }
static void test_plateau_max_warmup(void **state)
{
    (void)state;
    check_case("plateau_max_warmup");
}

/* schedule none: the lr, after a warmup if any. */
static void test_none(void **state)
{
    (void)state;
    Config c;
    config_defaults(&c);
    c.lr = 0.3;
    c.warmup_epochs = 3;
    ScheduleSpec s = schedule_spec_from_config(&c);
    LrState st = schedule_state_init(&s);
    assert_true(schedule_lr(&s, 1, &st) == 0.3 * 1 / 3);
    assert_true(schedule_lr(&s, 3, &st) == 0.3);
    assert_true(schedule_lr(&s, 4, &st) == 0.3);
    assert_int_equal(schedule_plateau_update(&st, &s, 4, 1.0), 0);
}

static void expect_invalid(const Config *c, const char *words)
{
    Error e;
    assert_int_equal(config_validate(c, &e), EXIT_USAGE);
    if (!strstr(e.msg, words)) fail_msg("message '%s' lacks '%s'", e.msg, words);
}

static void test_bad_options(void **state)
{
    (void)state;
    Config c;
    config_defaults(&c);
    c.lr = 0.1;
    c.lr_min = 0.2;
    expect_invalid(&c, "lr-min 0.2 is above lr 0.1");
    config_defaults(&c);
    c.lr_factor = 1.0;
    expect_invalid(&c, "lr-factor");
    config_defaults(&c);
    c.warmup_epochs = c.epochs + 1;
    expect_invalid(&c, "warmup-epochs");
    char a0[] = "--lr-gamma", a1[] = "-0.5", *argv[] = {a0, a1};
    Error e;
    config_defaults(&c);
    assert_int_equal(config_parse_args(&c, 2, argv, &e), EXIT_USAGE);
    char b0[] = "--lr-schedule", b1[] = "linear", *argv2[] = {b0, b1};
    assert_int_equal(config_parse_args(&c, 2, argv2, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "none|step|cosine|plateau"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step),          cmocka_unit_test(test_step_warmup),
        cmocka_unit_test(test_cosine),        cmocka_unit_test(test_cosine_warmup),
        cmocka_unit_test(test_plateau),       cmocka_unit_test(test_plateau_max_warmup),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
