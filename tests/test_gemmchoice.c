/* test_gemmchoice.c - the GEMM kernel chosen by measuring: RNN_DIST_GEMM
 * forces one without measuring; otherwise every packed kernel this CPU runs
 * is timed and the fastest taken; precision bf16's kernels are timed beside
 * the fp32 kernel, which the line names as faster when it is; and the choice
 * never changes a result (the packed kernels give the same bits through a
 * whole cell pass). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cell.h"
#include "check.h"
#include "gemmchoice.h"
#include "gemmprec.h"
#include "model.h"

static ModelSpec lstm_spec(int layers)
{
    ModelSpec s;
    memset(&s, 0, sizeof s);
    s.cell = CELL_LSTM;
    s.act = NONLIN_TANH;
    s.input = INPUT_DENSE;
    s.features = 24;
    s.hidden = 40;
    s.layers = layers;
    s.out = 3;
    s.loss = LOSS_CE;
    s.target = TARGET_LAST;
    return s;
}

static void test_forced(void **state)
{
    (void)state;
    ModelSpec s = lstm_spec(2);
    GemmChoice c;
    char text[200];
    const char *names[] = {"blas", "avx2", "avx512"};
    for (int want = GEMM_BLAS; want <= GEMM_AVX512; want++) {
        setenv("RNN_DIST_GEMM", names[want], 1);
        gemmchoice_measure(&c, &s, 10, 8);
        assert_int_equal(c.forced, 1);
        assert_int_equal(c.count, 0); /* nothing timed */
        GemmIsa expect = (GemmIsa)want < gemm_isa_best() ? (GemmIsa)want : gemm_isa_best();
        assert_int_equal(c.isa, expect);
        gemmchoice_describe(text, sizeof text, &c);
        assert_non_null(strstr(text, "(RNN_DIST_GEMM)"));
        assert_non_null(strstr(text, gemm_isa_name(expect)));
    }
    /* an unknown value forces nothing */
    setenv("RNN_DIST_GEMM", "fastest", 1);
    gemmchoice_measure(&c, &s, 10, 8);
    assert_int_equal(c.forced, 0);
    unsetenv("RNN_DIST_GEMM");
}

/* The line for each kind of choice, whatever this CPU runs: an untimed only
 * kernel shows no time. */
static void test_describe(void **state)
{
    (void)state;
    char text[200];
    GemmChoice only = {.isa = GEMM_AVX2, .count = 1, .cand = {GEMM_AVX2}};
    gemmchoice_describe(text, sizeof text, &only);
    assert_string_equal(text, "gemm avx2 (the only kernel here)");
    GemmChoice blas = {.isa = GEMM_BLAS};
    gemmchoice_describe(text, sizeof text, &blas);
    assert_string_equal(text, "gemm blas (no AVX2 + FMA here)");
    GemmChoice two = {.isa = GEMM_AVX512, .count = 2, .cand = {GEMM_AVX2, GEMM_AVX512},
                      .seconds = {1.43e-3, 155e-6}};
    gemmchoice_describe(text, sizeof text, &two);
    assert_string_equal(text, "gemm avx512 (measured: avx2 1.43 ms, avx512 155 us)");
    GemmChoice bf16 = {.isa = GEMM_AVX512, .bf16 = GEMM_BF16_AVX512, .count = 1,
                       .cand = {GEMM_AVX512}, .cand16 = {GEMM_BF16_AVX512},
                       .seconds = {3.1e-3}, .fp32_seconds = 1.8e-3};
    gemmchoice_describe(text, sizeof text, &bf16);
    assert_string_equal(text, "gemm avx512-bf16 (the only kernel here, 3.1 ms; fp32 avx512 "
                              "1.8 ms: precision fp32 is faster here)");
}

static void test_measured(void **state)
{
    (void)state;
    unsetenv("RNN_DIST_GEMM");
    const GemmIsa best = gemm_isa_best();
    for (int layers = 1; layers <= 3; layers++) {
        ModelSpec s = lstm_spec(layers);
        GemmChoice c;
        char text[200];
        gemmchoice_measure(&c, &s, 50, 16);
        assert_int_equal(c.forced, 0);
        gemmchoice_describe(text, sizeof text, &c);
        if (best != GEMM_AVX512) {
            /* one packed kernel at most: nothing to compare */
            assert_int_equal(c.isa, best);
            assert_true(c.count < 2);
            assert_string_equal(strstr(text, "("), best == GEMM_BLAS ? "(no AVX2 + FMA here)"
                                                                     : "(the only kernel here)");
            continue;
        }
        assert_int_equal(c.count, 2);
        assert_int_equal(c.cand[0], GEMM_AVX2);
        assert_int_equal(c.cand[1], GEMM_AVX512);
        assert_true(c.seconds[0] > 0 && c.seconds[1] > 0);
        GemmIsa faster = c.seconds[1] < c.seconds[0] ? GEMM_AVX512 : GEMM_AVX2;
        assert_int_equal(c.isa, faster);
        assert_non_null(strstr(text, "measured: avx2 "));
        assert_non_null(strstr(text, ", avx512 "));
        print_message("%d layer(s): %s\n", layers, text);
    }
}

/* precision bf16: the bf16 kernels timed (the only one too) and the fp32
 * kernel beside them, named in the line with "precision fp32 is faster
 * here" exactly when it was; forced by RNN_DIST_BF16: nothing timed. */
static void test_measured_bf16(void **state)
{
    (void)state;
    unsetenv("RNN_DIST_BF16");
    unsetenv("RNN_DIST_GEMM");
    ModelSpec s = lstm_spec(2);
    GemmChoice c;
    char text[200];
    gemmchoice_measure_bf16(&c, &s, 20, 16);
    if (c.count == 0) { /* no bf16 instruction here: refused before training */
        assert_int_equal(c.bf16, GEMM_BF16_OFF);
        skip();
    }
    assert_int_equal(c.forced, 0);
    assert_int_equal(c.isa, gemm_isa_best());
    assert_true(c.fp32_seconds > 0);
    double bf16 = c.seconds[0];
    for (int i = 0; i < c.count; i++) {
        assert_true(c.seconds[i] > 0);
        if (c.seconds[i] < bf16) bf16 = c.seconds[i];
    }
    gemmchoice_describe(text, sizeof text, &c);
    print_message("%s\n", text);
    char fp32[40];
    snprintf(fp32, sizeof fp32, "; fp32 %s ", gemm_isa_name(c.isa));
    assert_non_null(strstr(text, fp32));
    assert_true((strstr(text, ": precision fp32 is faster here)") != NULL) ==
                (c.fp32_seconds < bf16));
    assert_non_null(strstr(text, c.count == 1 ? "(the only kernel here, " : "(measured: "));
    setenv("RNN_DIST_BF16", gemmprec_name(c.bf16), 1);
    gemmchoice_measure_bf16(&c, &s, 20, 16);
    unsetenv("RNN_DIST_BF16");
    assert_int_equal(c.forced, 1);
    assert_true(c.count == 0 && c.fp32_seconds == 0);
    gemmchoice_describe(text, sizeof text, &c);
    assert_null(strstr(text, "fp32"));
}

/* h, dx and every gradient of one LSTM pass on kernel isa into out (the
 * floats of a buffer laid out by the caller's sizes). */
static void cell_pass(float *out, size_t n_out, GemmIsa isa)
{
    const int T = 30, B = 40, In = 50, H = 64, GH = 4 * H;
    CellDims d = {CELL_LSTM, NONLIN_TANH, In, H, isa, GEMM_BF16_OFF, GEMM_BF16_OFF, {NULL, NULL}};
    const size_t np = (size_t)GH * (In + H + 2), TB = (size_t)T * B;
    float *mem = xalloc_floats(2 * np + 2 * TB * In + 2 * TB * H + cell_cache_floats(&d, T, B) +
                               cell_scratch_floats(&d, T, B));
    LayerParams p = {mem, mem + GH * In, mem + GH * (In + H), mem + GH * (In + H + 1)};
    float *gm = mem + np;
    LayerParams g = {gm, gm + GH * In, gm + GH * (In + H), gm + GH * (In + H + 1)};
    float *x = gm + np, *dx = x + TB * In, *h = dx + TB * In, *dh = h + TB * H;
    float *cache = dh + TB * H, *scratch = cache + cell_cache_floats(&d, T, B);
    uint32_t r = 12345;
    for (size_t i = 0; i < np; i++, r = r * 1664525u + 1013904223u)
        mem[i] = (float)(r >> 8) / 16777216.0f * 0.4f - 0.2f;
    for (size_t i = 0; i < TB * In; i++, r = r * 1664525u + 1013904223u)
        x[i] = (float)(r >> 8) / 16777216.0f * 2.0f - 1.0f;
    for (size_t i = 0; i < TB * H; i++) dh[i] = 0.01f * (float)(i % 13);
    cell_forward(h, cache, x, NULL, &p, &d, T, B);
    cell_backward(dx, &g, dh, scratch, x, NULL, h, cache, &p, &d, T, B);
    assert_true(n_out == np + 2 * TB * H + TB * In);
    memcpy(out, gm, sizeof(float) * np);
    memcpy(out + np, h, sizeof(float) * TB * H);
    memcpy(out + np + TB * H, dh, sizeof(float) * TB * H);
    memcpy(out + np + 2 * TB * H, dx, sizeof(float) * TB * In);
    free(mem);
}

static void test_same_bits(void **state)
{
    (void)state;
    if (gemm_isa_best() != GEMM_AVX512) skip();
    /* shapes where OpenBLAS's own blocking would round differently */
    const size_t np = (size_t)256 * (50 + 64 + 2), n = np + 2 * 1200 * 64 + 1200 * 50;
    float *a = xalloc_floats(n), *b = xalloc_floats(n);
    cell_pass(a, n, GEMM_AVX2);
    cell_pass(b, n, GEMM_AVX512);
    assert_memory_equal(a, b, sizeof(float) * n);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forced),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_measured),
        cmocka_unit_test(test_measured_bf16),
        cmocka_unit_test(test_same_bits),
    };
    return cmocka_run_group_tests_name("gemmchoice", tests, NULL, NULL);
}
