/* test_memest.c - memory estimates: equal to what model.c and optim.c
 * allocate (heap in use before and after real passes), growing as they
 * should with hidden, batch, steps and classes, training above evaluation;
 * the data window's bounds; sizes parsed and printed, and the train option
 * max-memory; /proc/meminfo and cgroup files parsed from given text; the
 * default limit. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#ifdef __SANITIZE_ADDRESS__
/* libasan's (GCC 12 ships no header declaring it) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "cfgtext.h"
#include "check.h"
#include "gradcheck.h"
#include "memest.h"
#include "model.h"
#include "optim.h"
#include "testutil.h"

/* Bytes of heap in use: glibc's count, or AddressSanitizer's allocator's
 * under make asan (glibc's then counts nothing). */
static size_t heap_in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* Bytes of the estimate's model parts (all but the runtime and the data). */
static uint64_t model_bytes(const Memest *est)
{
    uint64_t sum = 0;
    for (int i = 0; i < est->count; i++)
        if (est->part[i].kind != MEMEST_RUNTIME && est->part[i].kind != MEMEST_DATA)
            sum += est->part[i].bytes;
    return sum;
}

static uint64_t part_bytes(const Memest *est, MemestKind kind)
{
    uint64_t sum = 0;
    for (int i = 0; i < est->count; i++)
        if (est->part[i].kind == kind) sum += est->part[i].bytes;
    return sum;
}

static uint64_t part_named(const Memest *est, const char *prefix)
{
    for (int i = 0; i < est->count; i++)
        if (strncmp(est->part[i].name, prefix, strlen(prefix)) == 0) return est->part[i].bytes;
    fail_msg("no part named '%s...'", prefix);
    return 0;
}

static MemestRun run_of(const ModelSpec *s, int T, int B, int train)
{
    MemestRun r;
    memset(&r, 0, sizeof r);
    r.spec = *s;
    r.train = train;
    r.moments = train ? 2 : 0;
    r.T = T;
    r.batch = B;
    return r;
}

/* Heap a model of spec takes for passes on a batch of B x T: training
 * (forward, loss, backward, Adam state), evaluation (forward, loss) or
 * prediction (forward). */
static size_t measured(const ModelSpec *s, int T, int B, int train, int loss)
{
    GradcheckBatch gb;
    gradcheck_batch_random(&gb, s, T, B, 0, 7);
    Model m;
    Optim o;
    OptimSpec os = {OPTIM_ADAM, 1e-3, 0, 0, 0.9, 0.999, 1e-8, 0, 0.99};
    size_t h0 = heap_in_use();
    model_create(&m, s);
    model_init_params(&m, 3);
    if (train) optim_create(&o, &os, m.table.total);
    model_forward(&m, &gb.b, train, 1, 1);
    if (loss) model_loss(&m, &gb.b, train ? 1.0f / (float)(T * B) : 0.0f);
    if (train) model_backward(&m, &gb.b);
    size_t used = heap_in_use() - h0;
    if (train) optim_free(&o);
    model_free(&m);
    gradcheck_batch_free(&gb);
    return used;
}

static void assert_close(uint64_t est, size_t real)
{
    double ratio = (double)real / (double)est;
    if (ratio < 0.98 || ratio > 1.02)
        fail_msg("estimate %llu bytes, allocated %zu (ratio %.4f)", (unsigned long long)est,
                 real, ratio);
}

static void test_matches_allocations(void **state)
{
    (void)state;
    ModelSpec specs[] = {
        /* LSTM on tokens, 2 layers, dropout between them and before the head */
        {CELL_LSTM, NONLIN_TANH, INPUT_TOKENS, 50, 24, 0, 96, 2, 300, LOSS_CE, TARGET_STEP, 0.3f,
         0.2f, 0},
        /* GRU on dense input, value at the last step */
        {CELL_GRU, NONLIN_TANH, INPUT_DENSE, 0, 0, 7, 130, 3, 5, LOSS_MSE, TARGET_LAST, 0.1f, 0, 0},
        /* the same, bidirectional */
        {CELL_GRU, NONLIN_TANH, INPUT_DENSE, 0, 0, 7, 130, 3, 5, LOSS_MSE, TARGET_LAST, 0.1f, 0, 1},
        /* bidirectional LSTM on tokens, per step, dropout */
        {CELL_LSTM, NONLIN_TANH, INPUT_TOKENS, 50, 24, 0, 40, 2, 30, LOSS_CE, TARGET_STEP, 0.3f,
         0.2f, 1},
        /* Elman RNN, many classes */
        {CELL_RNN, NONLIN_RELU, INPUT_TOKENS, 10, 8, 0, 16, 1, 20000, LOSS_CE, TARGET_STEP, 0, 0,
         0},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const int T = 17, B = 23;
        Memest est;
        MemestRun r = run_of(&specs[i], T, B, 1);
        memest_compute(&est, &r);
        assert_close(model_bytes(&est), measured(&specs[i], T, B, 1, 1));
        r = run_of(&specs[i], T, B, 0);
        memest_compute(&est, &r);
        assert_close(model_bytes(&est), measured(&specs[i], T, B, 0, 1));
        r.predict = 1;
        memest_compute(&est, &r);
        /* predict: no loss (no logit gradients); it also stages a batch of
         * outputs for the file, outside the model */
        assert_close(model_bytes(&est) - part_named(&est, "output rows"),
                     measured(&specs[i], T, B, 0, 0));
    }
}

static uint64_t total_of(const ModelSpec *s, int T, int B, int train)
{
    Memest est;
    MemestRun r = run_of(s, T, B, train);
    memest_compute(&est, &r);
    uint64_t sum = 0;
    for (int i = 0; i < est.count; i++) sum += est.part[i].bytes;
    assert_true(sum == est.total);
    return est.total;
}

static void test_grows(void **state)
{
    (void)state;
    ModelSpec s = {CELL_LSTM, NONLIN_TANH, INPUT_TOKENS, 100, 16, 0, 64, 1, 10, LOSS_CE,
                   TARGET_STEP, 0, 0, 0};
    uint64_t base = total_of(&s, 20, 32, 1);
    ModelSpec big = s;
    big.hidden = 128;
    assert_true(total_of(&big, 20, 32, 1) > base);
    assert_true(total_of(&s, 20, 64, 1) > base);
    assert_true(total_of(&s, 40, 32, 1) > base);
    big = s;
    big.out = 100000;
    uint64_t many = total_of(&big, 20, 32, 1);
    /* logits and their gradient [640 x 100000] and fc [100000 x 64] with its 3 copies */
    assert_true(many - base >= (uint64_t)2 * 640 * (100000 - 10) * 4 +
                                   (uint64_t)4 * (100000 - 10) * 64 * 4);
    Memest est;
    MemestRun r = run_of(&big, 20, 32, 1);
    memest_compute(&est, &r);
    const MemestPart *p = memest_largest(&est);
    assert_int_equal(p->kind, MEMEST_LOGITS);
    assert_string_equal(p->name, "logits [640 x 100000]");
    /* twice the batch: the T x B parts double, the weights stay */
    r.batch = 64;
    Memest twice;
    memest_compute(&twice, &r);
    assert_true(part_bytes(&twice, MEMEST_LOGITS) == 2 * part_bytes(&est, MEMEST_LOGITS));
    assert_true(part_bytes(&twice, MEMEST_HEAD) == part_bytes(&est, MEMEST_HEAD));
    /* training holds more than evaluation of the same shape; Adam > momentum > plain SGD */
    assert_true(total_of(&s, 20, 32, 1) > total_of(&s, 20, 32, 0));
    r = run_of(&s, 20, 32, 1);
    memest_compute(&est, &r);
    r.moments = 1;
    memest_compute(&twice, &r);
    assert_true(twice.total < est.total);
    assert_true(strstr(twice.part[2].name, "momentum") != NULL);
    /* the validation pass of training counts when its batch is larger */
    r = run_of(&s, 20, 32, 1);
    r.val_T = 20;
    r.val_batch = 256;
    memest_compute(&twice, &r);
    assert_true(twice.total > est.total);
}

static void test_data_window(void **state)
{
    (void)state;
    const size_t W = DATASET_WINDOW_BYTES, rb = 400, per = rb + MEMEST_ROW_OVERHEAD;
    /* a million rows: the lengths and cache slots of all, a window of ~8 MiB of rows */
    assert_true(memest_data_bytes(1000000, 500000, 32, rb, 0) == 8000000 + (W / rb) * per);
    /* training also keeps the epoch order, and the next epoch's made ahead */
    assert_true(memest_data_bytes(1000000, 500000, 32, rb, 1) == 16000000 + (W / rb) * per);
    assert_true(memest_data_bytes(1000000, 500000, 32, rb, 2) == 24000000 + (W / rb) * per);
    /* a small share bounds the window; a huge batch widens it */
    assert_true(memest_data_bytes(100, 50, 8, rb, 0) == 800 + 50 * per);
    assert_true(memest_data_bytes(1000000, 500000, 100000, rb, 0) == 8000000 + 100000 * per);
}

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v = 1;
    assert_int_equal(cfgtext_parse_size(&v, "8G"), 0);
    assert_true(v == (uint64_t)8 << 30);
    assert_int_equal(cfgtext_parse_size(&v, "512M"), 0);
    assert_true(v == (uint64_t)512 << 20);
    assert_int_equal(cfgtext_parse_size(&v, "1.5G"), 0);
    assert_true(v == (uint64_t)3 << 29);
    assert_int_equal(cfgtext_parse_size(&v, "0"), 0);
    assert_true(v == 0);
    assert_int_equal(cfgtext_parse_size(&v, "4096"), 0);
    assert_true(v == 4096);
    assert_int_equal(cfgtext_parse_size(&v, "2t"), 0);
    assert_true(v == (uint64_t)2 << 40);
    assert_int_equal(cfgtext_parse_size(&v, "64k"), 0);
    assert_true(v == 65536);
    const char *bad[] = {"8Q", "-1G", "0x10", "", "G", "1.", "8GBB", " 8G", "8G ", "1e9",
                         "nan", "16777216T", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 77;
        if (cfgtext_parse_size(&v, bad[i]) == 0) fail_msg("'%s' was accepted", bad[i]);
        assert_true(v == 77);
    }
}

static void test_config_option(void **state)
{
    (void)state;
    Config c;
    Error e = {0, ""};
    char a0[] = "--max-memory", a1[] = "1.5G", b1[] = "8Q";
    char *ok_args[] = {a0, a1}, *bad_args[] = {a0, b1};
    config_defaults(&c);
    assert_true(c.max_memory == 0);
    assert_int_equal(config_parse_args(&c, 2, ok_args, &e), 0);
    assert_true(c.max_memory == (uint64_t)3 << 29);
    char *text = tu_config_text(&c);
    assert_non_null(strstr(text, "\nmax-memory = 1536M\n"));
    free(text);
    config_defaults(&c);
    assert_int_equal(config_parse_args(&c, 2, bad_args, &e), EXIT_USAGE);
    assert_string_equal(e.msg, "--max-memory: 'max-memory' must be a size such as 512M, 1.5G or "
                               "0 (bytes; suffixes K, M, G, T), got '8Q'");
}

static void test_format_size(void **state)
{
    (void)state;
    char s[32];
    memest_format_size(s, sizeof s, 0);
    assert_string_equal(s, "0 B");
    memest_format_size(s, sizeof s, 1023);
    assert_string_equal(s, "1023 B");
    memest_format_size(s, sizeof s, 1024);
    assert_string_equal(s, "1 KiB");
    memest_format_size(s, sizeof s, 1536);
    assert_string_equal(s, "1.5 KiB");
    memest_format_size(s, sizeof s, (uint64_t)1 << 20);
    assert_string_equal(s, "1 MiB");
    memest_format_size(s, sizeof s, (uint64_t)(24.3 * (1 << 30)));
    assert_string_equal(s, "24.3 GiB");
    memest_format_size(s, sizeof s, ((uint64_t)1 << 20) - 1);
    assert_string_equal(s, "1 MiB");
}

static void test_meminfo(void **state)
{
    (void)state;
    uint64_t v = 0;
    const char *text = "MemTotal:       24683584 kB\n"
                       "MemFree:        24339008 kB\n"
                       "MemAvailable:   24327996 kB\n"
                       "Buffers:           12345 kB\n";
    assert_int_equal(memest_parse_meminfo(&v, text), 0);
    assert_true(v == (uint64_t)24327996 * 1024);
    assert_int_equal(memest_parse_meminfo(&v, "MemTotal: 1 kB\nMemFree: 1 kB\n"), -1);
    assert_int_equal(memest_parse_meminfo(&v, "MemAvailable: lots\n"), -1);
    assert_int_equal(memest_parse_meminfo(&v, "XMemAvailable: 5 kB\n"), -1);
}

static void test_cgroup_limit(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(memest_parse_cgroup_limit(&v, "max\n"), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(memest_parse_cgroup_limit(&v, "8589934592\n"), 0);
    assert_true(v == (uint64_t)8 << 30);
    assert_int_equal(memest_parse_cgroup_limit(&v, "9223372036854771712"), 0);
    assert_true(v == 9223372036854771712ULL);
    assert_int_equal(memest_parse_cgroup_limit(&v, "maximum\n"), -1);
    assert_int_equal(memest_parse_cgroup_limit(&v, "-1\n"), -1);
    assert_int_equal(memest_parse_cgroup_limit(&v, ""), -1);
    assert_int_equal(memest_parse_cgroup_limit(&v, "12abc"), -1);
}

static void test_cgroup_find(void **state)
{
    (void)state;
    MemestCgroup cg[4];
    /* cgroup v2 only (systemd) */
    const char *v2 = "0::/user.slice/user-1000.slice/session-2.scope\n";
    const char *mi2 = "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
                      "25 22 0:22 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 "
                      "rw,nsdelegate,memory_recursiveprot\n";
    assert_int_equal(memest_cgroup_find(cg, 4, v2, mi2), 1);
    assert_string_equal(cg[0].dir, "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
    assert_string_equal(cg[0].mount, "/sys/fs/cgroup");
    assert_string_equal(cg[0].file, "memory.max");
    /* hybrid: v1 memory controller and an empty v2 hierarchy */
    const char *hy = "9:name=systemd:/\n4:memory:/process_api/0567cf\n3:cpuset:/\n0::/\n";
    const char *mihy = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                       "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                       "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
                       "rw,memory\n"
                       "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
    assert_int_equal(memest_cgroup_find(cg, 4, hy, mihy), 2);
    assert_string_equal(cg[0].dir, "/sys/fs/cgroup/memory/process_api/0567cf");
    assert_string_equal(cg[0].file, "memory.limit_in_bytes");
    assert_string_equal(cg[1].dir, "/sys/fs/cgroup/unified");
    assert_string_equal(cg[1].file, "memory.max");
    /* a container: the mount's root is the process's own cgroup */
    const char *ns = "0::/docker/abc123\n";
    const char *mins = "700 600 0:30 /docker/abc123 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup "
                       "rw\n";
    assert_int_equal(memest_cgroup_find(cg, 4, ns, mins), 1);
    assert_string_equal(cg[0].dir, "/sys/fs/cgroup");
    /* v1 with the memory controller joined to others */
    const char *v1 = "5:cpuacct,memory,cpu:/batch/job42\n";
    const char *mi1 = "40 30 0:40 / /cg/mem rw - cgroup cgroup rw,cpu,cpuacct,memory\n";
    assert_int_equal(memest_cgroup_find(cg, 4, v1, mi1), 1);
    assert_string_equal(cg[0].dir, "/cg/mem/batch/job42");
    /* no memory hierarchy mounted */
    assert_int_equal(memest_cgroup_find(cg, 4, "4:memory:/x\n", mi2), 0);
}

static void test_limit(void **state)
{
    (void)state;
    uint64_t one = 0, two = 0;
    char why[256];
    assert_int_equal(memest_limit(&one, why, sizeof why, 1), 0);
    assert_true(one > ((uint64_t)16 << 20) && one < UINT64_MAX);
    assert_null(strstr(why, "shared by"));
    assert_int_equal(memest_limit(&two, why, sizeof why, 2), 0);
    assert_non_null(strstr(why, "shared by 2 ranks on this host"));
    /* MemAvailable moves a little between the reads */
    assert_true(two > one / 2 - one / 20 && two < one / 2 + one / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_allocations), cmocka_unit_test(test_grows),
        cmocka_unit_test(test_data_window),         cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_config_option),       cmocka_unit_test(test_format_size),
        cmocka_unit_test(test_meminfo),             cmocka_unit_test(test_cgroup_limit),
        cmocka_unit_test(test_cgroup_find),         cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests_name("memest", tests, NULL, NULL);
}
