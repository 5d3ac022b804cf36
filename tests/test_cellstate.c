/* test_cellstate.c - recurrent cells started from a given state (cell.h's
 * state0, cell_state_final), for every cell: RNN tanh, RNN relu, LSTM, GRU.
 *
 *   - chunks: a forward over T = 7 steps from a random state equals, bit for
 *     bit, a forward over steps 0..2 then one over 3..6 from the state
 *     cell_state_final gives (h and the final state: each row's products run
 *     in the same order whatever the rows around it, which the packed kernels
 *     promise (gemm.h) and OpenBLAS gives on these shapes); the first chunk's
 *     backward, run after its state buffer was overwritten with the carried
 *     state, gives the gradients it gives with the buffer intact (the
 *     backward reads the cache's copy);
 *   - gradients: the parameter gradients of L = sum(h * R) (R fixed random)
 *     for a forward from a NONZERO random state, every element of w_ih,
 *     w_hh, b_ih, b_hh, against central differences (gradcheck_element:
 *     Richardson-extrapolated, GRADCHECK_ATOL + GRADCHECK_RTOL |an|);
 *   - zero state: state0 = a zero buffer gives the bits of state0 = NULL
 *     (h, dx, every gradient, the final state);
 *   - kernels agree: the packed kernels' backward (gate gradients in
 *     panels, dx a few steps at a time) against OpenBLAS's, within fp32
 *     rounding, for B = 3, 40 (steps in groups of two) and 70;
 *   - the gradient check can fail: a gradient corrupted by 5% in one element
 *     of each tensor is flagged, and so is a backward that leaves out the
 *     given state's term of w_hh (told NULL).
 * Two shapes: In 5, H 4, B 3 and In 5, H 16, B 5. make unit runs it on every
 * GEMM kernel (RNN_DIST_GEMM: the CPU's best, avx2, blas).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cell.h"
#include "cellkinds.h"
#include "check.h"
#include "gemm.h"
#include "gradcheck.h"
#include "rng.h"

#define T_ALL 7
#define T_FIRST 3 /* the first chunk: steps 0..2, the second 3..6 */
#define IN 5

static const int SHAPES[][2] = {{4, 3}, {16, 5}}; /* H, B */
#define NSHAPES 2

static const char *TENSORS[4] = {"w_ih", "w_hh", "b_ih", "b_hh"};

/* One layer over T_ALL steps: its parameters and gradients (one buffer
 * each, tensors in the order of TENSORS), data and work buffers. */
typedef struct Layer {
    CellDims d;
    int B;
    size_t n[4];          /* floats of each tensor */
    size_t total;
    float *params, *grads;
    LayerParams p, g;
    float *x;             /* [T_ALL, B, In] */
    float *state0;        /* [cell_state_floats] random, nonzero */
    float *r;             /* [T_ALL, B, H] the loss's weights */
    float *h, *cache, *scratch, *dh, *dx;
} Layer;

static LayerParams views(float *base, const size_t n[4])
{
    LayerParams v = {base, base + n[0], base + n[0] + n[1], base + n[0] + n[1] + n[2]};
    return v;
}

/* Parameters uniform in +-1.5/sqrt(H) (1.5x PyTorch's initialisation, so the
 * recurrence matters), inputs, state and R uniform in [-1, 1). */
static void layer_make(Layer *L, const Kind *k, int H, int B, uint64_t seed)
{
    memset(L, 0, sizeof *L);
    CellDims d = {k->kind, k->act, IN, H, gemm_isa(), GEMM_BF16_OFF, GEMM_BF16_OFF, {NULL, NULL}};
    L->d = d;
    L->B = B;
    size_t GH = (size_t)cell_gates(k->kind) * H, TB = (size_t)T_ALL * B, i = 0;
    L->n[0] = GH * IN;
    L->n[1] = GH * H;
    L->n[2] = L->n[3] = GH;
    L->total = L->n[0] + L->n[1] + L->n[2] + L->n[3];
    L->params = xalloc_floats(L->total);
    L->grads = xalloc_floats(L->total);
    L->p = views(L->params, L->n);
    L->g = views(L->grads, L->n);
    float bound = 1.5f / sqrtf((float)H);
    for (size_t e = 0; e < L->total; e++) L->params[e] = rng_uniform_at(seed, i++, -bound, bound);
    L->x = xalloc_floats(TB * IN);
    for (size_t e = 0; e < TB * IN; e++) L->x[e] = rng_uniform_at(seed, i++, -1.0f, 1.0f);
    size_t ns = cell_state_floats(&d, B);
    L->state0 = xalloc_floats(ns);
    for (size_t e = 0; e < ns; e++) L->state0[e] = rng_uniform_at(seed, i++, -1.0f, 1.0f);
    L->r = xalloc_floats(TB * H);
    for (size_t e = 0; e < TB * H; e++) L->r[e] = rng_uniform_at(seed, i++, -1.0f, 1.0f);
    L->h = xalloc_floats(TB * H);
    L->dh = xalloc_floats(TB * H);
    L->dx = xalloc_floats(TB * IN);
    L->cache = xalloc_floats(cell_cache_floats(&d, T_ALL, B));
    L->scratch = xalloc_floats(cell_scratch_floats(&d, T_ALL, B));
}

static void layer_free(Layer *L)
{
    free(L->params);
    free(L->grads);
    free(L->x);
    free(L->state0);
    free(L->r);
    free(L->h);
    free(L->dh);
    free(L->dx);
    free(L->cache);
    free(L->scratch);
}

/* Forward over T steps of x from s0 into L->h and L->cache, then (when
 * back) the gradients of L = sum(h * R) into L->grads (zeroed first) and
 * L->dx, the backward told state0 = s0b. */
static void run(Layer *L, const float *x, const float *s0, const float *s0b, int T, int back)
{
    cell_forward(L->h, L->cache, x, s0, &L->p, &L->d, T, L->B);
    if (!back) return;
    memset(L->grads, 0, sizeof(float) * L->total);
    memcpy(L->dh, L->r, sizeof(float) * (size_t)T * L->B * L->d.hidden);
    cell_backward(L->dx, &L->g, L->dh, L->scratch, x, s0b, L->h, L->cache, &L->p, &L->d, T,
                  L->B);
}

/* L = sum(h * R) of a forward over all steps from L->state0. */
static double loss_of(void *ctx)
{
    Layer *L = ctx;
    run(L, L->x, L->state0, NULL, T_ALL, 0);
    double s = 0.0;
    for (size_t e = 0; e < (size_t)T_ALL * L->B * L->d.hidden; e++)
        s += (double)L->h[e] * (double)L->r[e];
    return s;
}

/* L->grads against central differences, every element. */
static GradcheckResult fd_check(Layer *L)
{
    GradcheckResult r;
    memset(&r, 0, sizeof r);
    size_t off = 0;
    for (int t = 0; t < 4; t++) {
        for (size_t e = 0; e < L->n[t]; e++)
            gradcheck_element(&r, loss_of, L, L->params + off + e, L->grads[off + e],
                              TENSORS[t], e);
        off += L->n[t];
    }
    return r;
}

static float *copy_of(const float *a, size_t n)
{
    float *c = xalloc_floats(n);
    memcpy(c, a, sizeof(float) * n);
    return c;
}

/* The chunked forward passes against one over all steps, and the first
 * chunk's backward with its state buffer overwritten. */
static void check_chunks(const Kind *k, int H, int B)
{
    Layer L;
    layer_make(&L, k, H, B, 40 + (uint64_t)H);
    const size_t BH = (size_t)B * H, ns = cell_state_floats(&L.d, B);
    run(&L, L.x, L.state0, L.state0, T_ALL, 0);
    float *whole = copy_of(L.h, T_ALL * BH), *end = xalloc_floats(ns);
    cell_state_final(end, L.h, L.cache, &L.d, T_ALL, B);

    /* chunk 1 from the state, its backward as reference */
    float *state = copy_of(L.state0, ns);
    run(&L, L.x, state, state, T_FIRST, 1);
    float *grads1 = copy_of(L.grads, L.total), *dx1 = copy_of(L.dx, (size_t)T_FIRST * B * IN);
    assert_memory_equal(L.h, whole, sizeof(float) * T_FIRST * BH);
    /* carry the state on in the same buffer; the backward again */
    cell_state_final(state, L.h, L.cache, &L.d, T_FIRST, B);
    memcpy(L.dh, L.r, sizeof(float) * T_FIRST * BH);
    memset(L.grads, 0, sizeof(float) * L.total);
    cell_backward(L.dx, &L.g, L.dh, L.scratch, L.x, state, L.h, L.cache, &L.p, &L.d, T_FIRST, B);
    assert_memory_equal(L.grads, grads1, sizeof(float) * L.total);
    assert_memory_equal(L.dx, dx1, sizeof(float) * T_FIRST * B * IN);

    /* chunk 2 from the carried state */
    run(&L, L.x + (size_t)T_FIRST * B * IN, state, state, T_ALL - T_FIRST, 0);
    assert_memory_equal(L.h, whole + T_FIRST * BH, sizeof(float) * (T_ALL - T_FIRST) * BH);
    cell_state_final(state, L.h, L.cache, &L.d, T_ALL - T_FIRST, B);
    assert_memory_equal(state, end, sizeof(float) * ns);
    /* the state matters: from zeros the second chunk differs */
    run(&L, L.x + (size_t)T_FIRST * B * IN, NULL, NULL, T_ALL - T_FIRST, 0);
    assert_true(memcmp(L.h, whole + T_FIRST * BH, sizeof(float) * BH) != 0);
    free(whole);
    free(end);
    free(state);
    free(grads1);
    free(dx1);
    layer_free(&L);
}

static void test_chunks_equal_whole(void **unused)
{
    (void)unused;
    for (int k = 0; k < NKINDS; k++)
        for (int s = 0; s < NSHAPES; s++) check_chunks(&KINDS[k], SHAPES[s][0], SHAPES[s][1]);
    print_message("kernel %s: chunked forward passes equal the whole one bit for bit\n",
                  gemm_isa_name(gemm_isa()));
}

static void test_gradients_from_state(void **unused)
{
    (void)unused;
    for (int k = 0; k < NKINDS; k++) {
        double worst = 0.0;
        int checked = 0, skipped = 0;
        for (int s = 0; s < NSHAPES; s++) {
            Layer L;
            layer_make(&L, &KINDS[k], SHAPES[s][0], SHAPES[s][1], 7 + (uint64_t)s);
            run(&L, L.x, L.state0, L.state0, T_ALL, 1);
            GradcheckResult r = fd_check(&L);
            if (r.bad)
                print_error("%s H %d: %d bad of %d, worst %s\n", KINDS[k].name, L.d.hidden, r.bad,
                            r.checked, r.worst);
            assert_int_equal(r.bad, 0);
            checked += r.checked;
            skipped += r.skipped;
            if (r.max_err > worst) worst = r.max_err;
            layer_free(&L);
        }
        print_message("%s: %d elements checked, %d skipped (their two differences disagree: "
                      "a kink or rounding), worst excess error %.2e (limit %.0e)\n",
                      KINDS[k].name, checked, skipped, worst, GRADCHECK_ATOL);
        assert_true(skipped * 20 < checked); /* a check that skips everything proves nothing */
    }
}

static void test_zero_state_is_null(void **unused)
{
    (void)unused;
    for (int k = 0; k < NKINDS; k++)
        for (int s = 0; s < NSHAPES; s++) {
            Layer L;
            layer_make(&L, &KINDS[k], SHAPES[s][0], SHAPES[s][1], 3);
            const size_t nh = (size_t)T_ALL * L.B * L.d.hidden, ns = cell_state_floats(&L.d, L.B);
            run(&L, L.x, NULL, NULL, T_ALL, 1);
            float *h = copy_of(L.h, nh), *g = copy_of(L.grads, L.total);
            float *dx = copy_of(L.dx, (size_t)T_ALL * L.B * IN), *end = xalloc_floats(ns);
            cell_state_final(end, L.h, L.cache, &L.d, T_ALL, L.B);
            memset(L.state0, 0, sizeof(float) * ns);
            run(&L, L.x, L.state0, L.state0, T_ALL, 1);
            assert_memory_equal(L.h, h, sizeof(float) * nh);
            assert_memory_equal(L.grads, g, sizeof(float) * L.total);
            assert_memory_equal(L.dx, dx, sizeof(float) * T_ALL * L.B * IN);
            cell_state_final(L.state0, L.h, L.cache, &L.d, T_ALL, L.B);
            assert_memory_equal(L.state0, end, sizeof(float) * ns);
            free(h);
            free(g);
            free(dx);
            free(end);
            layer_free(&L);
        }
}

/* a and b [n] within fp32 rounding of each other (different kernels sum
 * in different orders): |a - b| <= 1e-5 + 1e-4 |b|. */
static void assert_close(const float *a, const float *b, size_t n, const char *what)
{
    for (size_t e = 0; e < n; e++)
        if (!(fabsf(a[e] - b[e]) <= 1e-5f + 1e-4f * fabsf(b[e]))) {
            print_error("%s[%zu]: %.9g against %.9g\n", what, e, a[e], b[e]);
            fail();
        }
}

/* The packed kernels' backward (each step's gate gradients put into
 * panels, dx a few steps at a time: 40 rows make steps of two, so T = 7
 * ends in a group of one) agrees with OpenBLAS's (all steps kept, dx at the
 * end), in buffers sized once for both: h, dx and every gradient. */
static void test_kernels_agree(void **unused)
{
    (void)unused;
    if (gemm_isa() == GEMM_BLAS) skip();
    static const int shapes[][2] = {{16, 40}, {4, 3}, {13, 70}}; /* H, B */
    for (int k = 0; k < NKINDS; k++)
        for (int s = 0; s < 3; s++) {
            Layer L;
            layer_make(&L, &KINDS[k], shapes[s][0], shapes[s][1], 4);
            const size_t nh = (size_t)T_ALL * L.B * L.d.hidden, nx = (size_t)T_ALL * L.B * IN;
            run(&L, L.x, L.state0, L.state0, T_ALL, 1);
            float *h = copy_of(L.h, nh), *g = copy_of(L.grads, L.total), *dx = copy_of(L.dx, nx);
            L.d.isa = GEMM_BLAS;
            run(&L, L.x, L.state0, L.state0, T_ALL, 1);
            assert_close(h, L.h, nh, "h");
            assert_close(dx, L.dx, nx, "dx");
            assert_close(g, L.grads, L.total, "gradients");
            free(h);
            free(g);
            free(dx);
            layer_free(&L);
        }
}

/* The check flags one corrupted element of each tensor (5% of the tensor's
 * largest gradient + 0.01, as gradcheck_catch), and a backward that leaves
 * out w_hh's term of the given state. */
static void test_check_can_fail(void **unused)
{
    (void)unused;
    for (int k = 0; k < NKINDS; k++) {
        Layer L;
        layer_make(&L, &KINDS[k], 4, 3, 11);
        run(&L, L.x, L.state0, L.state0, T_ALL, 1);
        size_t off = 0;
        for (int t = 0; t < 4; t++) {
            float *g = L.grads + off, keep;
            size_t arg = 0;
            for (size_t e = 1; e < L.n[t]; e++)
                if (fabsf(g[e]) > fabsf(g[arg])) arg = e;
            keep = g[arg];
            g[arg] += 0.05f * fabsf(g[arg]) + 0.01f;
            GradcheckResult r = fd_check(&L);
            g[arg] = keep;
            if (r.bad != 1)
                print_error("%s: corrupted %s flagged %d elements, want 1\n", KINDS[k].name,
                            TENSORS[t], r.bad);
            assert_int_equal(r.bad, 1);
            off += L.n[t];
        }
        run(&L, L.x, L.state0, NULL, T_ALL, 1); /* backward without h0's w_hh term */
        GradcheckResult r = fd_check(&L);
        print_message("%s: without the state's w_hh term %d elements flagged, worst %s\n",
                      KINDS[k].name, r.bad, r.worst);
        assert_true(r.bad > 0);
        assert_true(strncmp(r.worst, "w_hh", 4) == 0);
        layer_free(&L);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_equal_whole),
        cmocka_unit_test(test_gradients_from_state),
        cmocka_unit_test(test_zero_state_is_null),
        cmocka_unit_test(test_kernels_agree),
        cmocka_unit_test(test_check_can_fail),
    };
    return cmocka_run_group_tests_name("cellstate", tests, NULL, NULL);
}
