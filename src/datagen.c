/* datagen.c - the built-in tasks (see datagen.h and datasets/README.md).
 *
 * Every random number is drawn from the counter-based RNG with the counter
 * (task << 8 | stream, row, column): rows are numbered across the whole file
 * (/train first, then /val, then /test; sine numbers the points of its
 * series), so a value never depends on the order in which others were made.
 */
#include "datagen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dgpart.h"
#include "h5io.h"
#include "rng.h"
#include "signals.h"

/* Task ids: the high bits of the first counter word of every draw. */
enum {
    TASK_COUNTING = 1,
    TASK_SEQCLASS,
    TASK_STEPCLASS,
    TASK_ARITH,
    TASK_SINE,
    TASK_ADDING,
    TASK_LOOKAHEAD
};

#define DG_MAX_VALUES (1L << 28) /* largest inputs array (n * T * F values) */

#define SEQ_F 10           /* seqclass features */
#define SEQ_FLIP 0.10      /* seqclass: share of labels flipped */
#define SEQ_MARGIN 0.1     /* seqclass: class shift of features 0 and 1 per step */
#define STEP_F 5           /* stepclass features */
#define STEP_CUT 0.6       /* stepclass: class boundaries at -CUT and +CUT */
#define STEP_GAP 0.2       /* stepclass: no v within GAP of a boundary */
#define STEP_FLIP 0.05     /* stepclass: share of labels replaced by another class */
#define ARITH_GRID 65536   /* arith: starts are multiples of 1/GRID */
#define ARITH_GAP_LO 26214 /* arith: held-out fractions [LO, HI) / GRID, ~[0.4, 0.6) */
#define ARITH_GAP_HI 39322
#define SINE_FREQ 0.02     /* sine: x_t = sin(FREQ t) + 2 U(0,1) */
#define SINE_GRID 8192     /* sine: phase grid of the Bayes predictor */
#define SINE_MAX_N 1000000L /* sine: most points (the Bayes floor costs GRID per window) */
#define LOOK_AHEAD 2       /* lookahead: the target is the token this many steps later */

/* First counter word of a draw: the task and a stream within it. */
static uint32_t dg_stream(int task, int stream)
{
    return (uint32_t)task << 8 | (uint32_t)stream;
}

/* Make p[0] /train of ntrain rows and p[1] /val of nval rows, both as
 * dgpart_init makes them with T, F, O and per_step. */
static void dg_train_val(DgPart p[2], size_t ntrain, size_t nval, int T, int F, int O,
                         int per_step)
{
    dgpart_init(&p[0], "train", ntrain, T, F, O, per_step);
    dgpart_init(&p[1], "val", nval, T, F, O, per_step);
}

/* x[0..T*F) = N(0,1) draws of row `row`, value t*F+f from the counter
 * (task's stream 0, row, t*F+f). */
static void dg_normal_row(float *x, const DatagenSpec *s, int task, uint32_t row, int T, int F)
{
    for (int v = 0; v < T * F; v++)
        x[v] = (float)rng_normal(s->seed, RNG_DATAGEN, dg_stream(task, 0), row, (uint32_t)v);
}

/* ---- counting: tutorial 000 ------------------------------------------- */

static int gen_counting(hid_t file, const DatagenSpec *s, long n, int T, Error *e)
{
    size_t ntr = (size_t)n * 4 / 5;
    DgPart p[2];
    dg_train_val(p, ntr, (size_t)n - ntr, T, 0, 0, 1);
    uint32_t row = 0;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < p[k].n; i++, row++) {
            int start =
                (int)rng_below(10, s->seed, RNG_DATAGEN, dg_stream(TASK_COUNTING, 0), row, 0);
            for (int t = 0; t < T; t++) {
                p[k].tok[i * (size_t)T + (size_t)t] = (start + t) % 10;
                p[k].yc[i * (size_t)T + (size_t)t] = (start + t + 1) % 10;
            }
        }
        p[k].best = 1.0;
        snprintf(p[k].desc, sizeof p[k].desc,
                 "counting /%s: %zu sequences of tokens 0-9, inputs int32 [%zu,%d] -> the next "
                 "token at every step, targets int32 [%zu,%d], 10 classes; next = (prev+1) mod 10, "
                 "so the best accuracy is 1",
                 p[k].name, p[k].n, p[k].n, T, p[k].n, T);
    }
    char desc[480];
    snprintf(desc, sizeof desc,
             "counting (tutorial 000, why RNNs handle sequences): a uniform start 0-9, each next "
             "token = (prev+1) mod 10; inputs int32 [N,%d] token ids (vocab 10), targets int32 "
             "[N,%d] the next token per step (10 classes); /train %zu, /val %zu; best acc 1.0",
             T, T, p[0].n, p[1].n);
    int rc = dgpart_write(file, s->seed, "counting", desc, p, 2, 10, 10, NULL, e);
    dgpart_free(p, 2);
    return rc;
}

/* ---- seqclass and stepclass: N(0,1) features and a labelling rule ------ */

/* A classification rule: shifts the N(0,1) features x [T, F] of row `row`
 * away from its class boundaries and writes the row's labels into y (y[0],
 * or y[0..T) for a per-step task), some of them changed by noise. Returns
 * how many labels are the rule's own (not changed). */
typedef size_t (*DgLabelRule)(float *x, int32_t *y, const DatagenSpec *s, uint32_t row, int T);

/* Fill the rows of p[0..2) (made by dg_train_val, class targets): each row's
 * features from dg_normal_row with task's stream 0, rows numbered across both
 * parts, then labelled by rule; p[k].best = the share of labels rule kept. */
static void dg_classify(DgPart p[2], const DatagenSpec *s, int task, DgLabelRule rule)
{
    uint32_t row = 0;
    for (int k = 0; k < 2; k++) {
        int T = p[k].T, F = p[k].F;
        size_t ny = p[k].per_step ? (size_t)T : 1;
        size_t correct = 0;
        for (size_t i = 0; i < p[k].n; i++, row++) {
            float *x = p[k].x + i * (size_t)T * (size_t)F;
            dg_normal_row(x, s, task, row, T, F);
            correct += rule(x, p[k].yc + i * ny, s, row, T);
        }
        p[k].best = (double)correct / ((double)p[k].n * (double)ny);
    }
}

/* ---- seqclass: tutorial 001 ------------------------------------------- */

/* class = [sum_t x_t[0] - x_t[1] > 0], features 0 and 1 shifted by
 * SEQ_MARGIN per step with the class, SEQ_FLIP of the labels flipped. */
static size_t seqclass_label(float *x, int32_t *y, const DatagenSpec *s, uint32_t row, int T)
{
    double sum = 0;
    for (int t = 0; t < T; t++) sum += (double)x[t * SEQ_F] - (double)x[t * SEQ_F + 1];
    int c = sum > 0;
    double shift = c ? SEQ_MARGIN : -SEQ_MARGIN;
    for (int t = 0; t < T; t++) {
        x[t * SEQ_F] = (float)((double)x[t * SEQ_F] + shift);
        x[t * SEQ_F + 1] = (float)((double)x[t * SEQ_F + 1] - shift);
    }
    int flip =
        rng_uniform_f64(s->seed, RNG_DATAGEN, dg_stream(TASK_SEQCLASS, 1), row, 0) < SEQ_FLIP;
    y[0] = flip ? 1 - c : c;
    return !flip;
}

static int gen_seqclass(hid_t file, const DatagenSpec *s, long n, int T, Error *e)
{
    size_t ntr = (size_t)n * 2 / 3;
    DgPart p[2];
    dg_train_val(p, ntr, (size_t)n - ntr, T, SEQ_F, 0, 0);
    dg_classify(p, s, TASK_SEQCLASS, seqclass_label);
    for (int k = 0; k < 2; k++)
        snprintf(p[k].desc, sizeof p[k].desc,
                 "seqclass /%s: %zu sequences, inputs float32 [%zu,%d,%d] -> one of 2 classes per "
                 "sequence, targets int32 [%zu]; class = [sum_t x_t[0] - x_t[1] > 0], %.0f%% of "
                 "labels flipped; best acc %.4f (the rule itself on these labels)",
                 p[k].name, p[k].n, p[k].n, T, SEQ_F, p[k].n, 100 * SEQ_FLIP, p[k].best);
    char desc[480];
    snprintf(desc, sizeof desc,
             "seqclass (tutorial 001, nn.RNN layer): inputs float32 [N,%d,%d] N(0,1) features, "
             "class = [sum over the %d steps of x_t[0] - x_t[1] > 0] (features 0 and 1 shifted by "
             "+-%.1f per step with the class), %.0f%% of labels flipped, targets int32 [N], 2 "
             "classes; /train %zu, /val %zu; best val acc %.4f",
             T, SEQ_F, T, SEQ_MARGIN, 100 * SEQ_FLIP, p[0].n, p[1].n, p[1].best);
    int rc = dgpart_write(file, s->seed, "seqclass", desc, p, 2, 2, 0, NULL, e);
    dgpart_free(p, 2);
    return rc;
}

/* ---- stepclass: tutorial 002 ------------------------------------------ */

/* At every step v = x_t[0] + x_{t-1}[1], class 0/1/2 for v < -STEP_CUT /
 * between / > STEP_CUT, x_t[0] moved to open a gap of STEP_GAP on each side
 * of both boundaries, STEP_FLIP of the labels changed to another class. */
static size_t stepclass_label(float *x, int32_t *y, const DatagenSpec *s, uint32_t row, int T)
{
    size_t correct = 0;
    for (int t = 0; t < T; t++) {
        double v = (double)x[t * STEP_F] + (t ? (double)x[(t - 1) * STEP_F + 1] : 0.0);
        int c = v < -STEP_CUT ? 0 : v > STEP_CUT ? 2 : 1;
        double adj = c == 0 ? -STEP_GAP : c == 2 ? STEP_GAP : -v * STEP_GAP / STEP_CUT;
        x[t * STEP_F] = (float)((double)x[t * STEP_F] + adj);
        int flip = rng_uniform_f64(s->seed, RNG_DATAGEN, dg_stream(TASK_STEPCLASS, 1), row,
                                   (uint32_t)t) < STEP_FLIP;
        if (flip)
            c = (c + 1 + (int)rng_below(2, s->seed, RNG_DATAGEN, dg_stream(TASK_STEPCLASS, 2),
                                        row, (uint32_t)t)) %
                3;
        y[t] = c;
        correct += !flip;
    }
    return correct;
}

static int gen_stepclass(hid_t file, const DatagenSpec *s, long n, int T, Error *e)
{
    size_t ntr = (size_t)n * 4 / 5;
    DgPart p[2];
    dg_train_val(p, ntr, (size_t)n - ntr, T, STEP_F, 0, 1);
    dg_classify(p, s, TASK_STEPCLASS, stepclass_label);
    for (int k = 0; k < 2; k++)
        snprintf(p[k].desc, sizeof p[k].desc,
                 "stepclass /%s: %zu sequences, inputs float32 [%zu,%d,%d] -> one of 3 classes at "
                 "every step, targets int32 [%zu,%d]; v = x_t[0] + x_{t-1}[1], class 0/1/2 for "
                 "v < -%.1f / between / > %.1f, %.0f%% of labels changed; best acc %.4f",
                 p[k].name, p[k].n, p[k].n, T, STEP_F, p[k].n, T, STEP_CUT, STEP_CUT,
                 100 * STEP_FLIP, p[k].best);
    char desc[480];
    snprintf(desc, sizeof desc,
             "stepclass (tutorial 002, model pipeline): inputs float32 [N,%d,%d] N(0,1), targets "
             "int32 [N,%d] one of 3 classes per step from v = x_t[0] + x_{t-1}[1] (0: v < -%.1f, "
             "2: v > %.1f, else 1), %.0f%% of labels changed to another class; /train %zu, /val "
             "%zu; best val acc %.4f",
             T, STEP_F, T, STEP_CUT, STEP_CUT, 100 * STEP_FLIP, p[0].n, p[1].n, p[1].best);
    int rc = dgpart_write(file, s->seed, "stepclass", desc, p, 2, 3, 0, NULL, e);
    dgpart_free(p, 2);
    return rc;
}

/* ---- arith: tutorial 003 ---------------------------------------------- */

/* Start value of a sequence, a multiple of 1 / ARITH_GRID (exact in float32,
 * so the sets below are exactly disjoint). part 0 (train): fractional part
 * below ARITH_GAP_LO or from ARITH_GAP_HI on (about [k, k+0.4) and
 * [k+0.6, k+1)), k = 0..9; part 1 (val) / 2 (test): fractional part in the
 * held-out gap [GAP_LO, GAP_HI) / GRID (about [k+0.4, k+0.6)) of even / odd k. */
static float arith_start(const DatagenSpec *s, int part, uint32_t row)
{
    const uint64_t gap = ARITH_GAP_HI - ARITH_GAP_LO;
    if (part == 0) {
        uint64_t per = ARITH_GRID - gap;
        uint64_t idx = rng_below(10 * per, s->seed, RNG_DATAGEN, dg_stream(TASK_ARITH, 0), row, 0);
        uint64_t m = idx % per;
        if (m >= ARITH_GAP_LO) m += gap;
        return (float)(idx / per) + (float)m / ARITH_GRID;
    }
    uint64_t idx = rng_below(5 * gap, s->seed, RNG_DATAGEN, dg_stream(TASK_ARITH, 0), row, 0);
    float k = (float)(2 * (idx / gap) + (part == 2));
    return k + (float)(ARITH_GAP_LO + idx % gap) / ARITH_GRID;
}

static int gen_arith(hid_t file, const DatagenSpec *s, long n, int T, Error *e)
{
    size_t ntr = (size_t)n * 4 / 5, nval = (size_t)n / 10;
    static const char *const where[3] = {
        "[k, k+0.4) and [k+0.6, k+1), k = 0..9",
        "the held-out gaps [k+0.4, k+0.6) of even k",
        "the held-out gaps [k+0.4, k+0.6) of odd k"};
    DgPart p[3];
    dgpart_init(&p[0], "train", ntr, T, 1, 1, 1);
    dgpart_init(&p[1], "val", nval, T, 1, 1, 1);
    dgpart_init(&p[2], "test", (size_t)n - ntr - nval, T, 1, 1, 1);
    uint32_t row = 0;
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < p[k].n; i++, row++) {
            float start = arith_start(s, k, row);
            for (int t = 0; t < T; t++) {
                float x = start + (float)t;
                p[k].x[i * (size_t)T + (size_t)t] = x;
                p[k].yv[i * (size_t)T + (size_t)t] = x + 1.0f;
            }
        }
        p[k].best = 0.0;
        snprintf(p[k].desc, sizeof p[k].desc,
                 "arith /%s: %zu sequences start + 0..%d, inputs float32 [%zu,%d,1] -> the next "
                 "value at every step (input + 1), targets float32 [%zu,%d,1]; starts in %s; "
                 "best MSE 0",
                 p[k].name, p[k].n, T - 1, p[k].n, T, p[k].n, T, where[k]);
    }
    char desc[480];
    snprintf(desc, sizeof desc,
             "arith (tutorial 003, RNN implementation testing): inputs float32 [N,%d,1] = start + "
             "0..%d, targets float32 [N,%d,1] = inputs + 1 per step (MSE); /train %zu starts in "
             "[k,k+0.4) and [k+0.6,k+1), k=0..9; /val %zu and /test %zu start in the held-out gaps "
             "[k+0.4,k+0.6) (even / odd k); best MSE 0",
             T, T - 1, T, p[0].n, p[1].n, p[2].n);
    int rc = dgpart_write(file, s->seed, "arith", desc, p, 3, 0, 0, NULL, e);
    dgpart_free(p, 3);
    return rc;
}

/* ---- sine: tutorial 004 ----------------------------------------------- */

/* Phase grid for the Bayes predictor: sin and cos of phi_k = 2 pi k / M,
 * and of the step offsets FREQ * j, j = 0..T. */
typedef struct SineGrid {
    double sn[SINE_GRID], cs[SINE_GRID];
    double sd[128], cd[128];
    int T;
} SineGrid;

static void sine_grid_init(SineGrid *g, int T)
{
    CHECK(T + 1 <= (int)(sizeof g->sd / sizeof g->sd[0]));
    g->T = T;
    for (int k = 0; k < SINE_GRID; k++) {
        double phi = 2.0 * M_PI * k / SINE_GRID;
        g->sn[k] = sin(phi);
        g->cs[k] = cos(phi);
    }
    for (int j = 0; j <= T; j++) {
        g->sd[j] = sin(SINE_FREQ * j);
        g->cd[j] = cos(SINE_FREQ * j);
    }
}

/* Bayes-optimal prediction of the value after window w[0..T): the posterior
 * mean of sin(phi + FREQ T) + 1 under a uniform phase phi, whose likelihood
 * is the indicator of 0 <= w_j - sin(phi + FREQ j) <= 2 for every j. When
 * no grid point is consistent (a feasible set narrower than the grid), the
 * least violating phase is used. */
static double sine_bayes(const SineGrid *g, const float *w)
{
    double sum = 0, best_viol = INFINITY;
    long count = 0;
    int best_k = 0;
    for (int k = 0; k < SINE_GRID; k++) {
        double viol = 0;
        for (int j = 0; j < g->T; j++) {
            double d = (double)w[j] - (g->sn[k] * g->cd[j] + g->cs[k] * g->sd[j]);
            double v = d < 0 ? -d : d > 2 ? d - 2 : 0;
            if (v > viol) viol = v;
        }
        if (viol == 0) {
            sum += g->sn[k] * g->cd[g->T] + g->cs[k] * g->sd[g->T];
            count++;
        } else if (viol < best_viol) {
            best_viol = viol;
            best_k = k;
        }
    }
    if (count) return 1.0 + sum / (double)count;
    return 1.0 + g->sn[best_k] * g->cd[g->T] + g->cs[best_k] * g->sd[g->T];
}

/* Windows of T consecutive points of series[first .. first+len) -> the next
 * point; p->best = RMSE of the Bayes predictor, p->extra = RMSE of the oracle
 * that knows t (predicts sin(FREQ t) + 1). */
static void sine_windows(DgPart *p, const float *series, size_t first, const SineGrid *g)
{
    int T = p->T;
    double se_bayes = 0, se_oracle = 0;
    for (size_t i = 0; i < p->n; i++) {
        const float *w = series + first + i;
        memcpy(p->x + i * (size_t)T, w, (size_t)T * sizeof *w);
        float y = w[T];
        p->yv[i] = y;
        double db = (double)y - sine_bayes(g, w);
        double d0 = (double)y - (sin(SINE_FREQ * (double)(first + i + (size_t)T)) + 1.0);
        se_bayes += db * db;
        se_oracle += d0 * d0;
    }
    p->best = sqrt(se_bayes / (double)p->n);
    p->extra = sqrt(se_oracle / (double)p->n);
}

static int gen_sine(hid_t file, const DatagenSpec *s, long n, int T, Error *e)
{
    size_t npts = (size_t)n, ntr_pts = npts * 4 / 5;
    float *series = xalloc_floats(npts);
    for (size_t i = 0; i < npts; i++)
        series[i] = (float)(sin(SINE_FREQ * (double)i) +
                            2.0 * rng_uniform_f64(s->seed, RNG_DATAGEN, dg_stream(TASK_SINE, 0),
                                                  (uint32_t)i, 0));
    SineGrid *g = xcalloc(1, sizeof *g);
    sine_grid_init(g, T);
    DgPart p[2];
    dg_train_val(p, ntr_pts - (size_t)T, npts - ntr_pts - (size_t)T, T, 1, 1, 0);
    sine_windows(&p[0], series, 0, g);
    sine_windows(&p[1], series, ntr_pts, g);
    for (int k = 0; k < 2; k++)
        snprintf(p[k].desc, sizeof p[k].desc,
                 "sine /%s: every window of %d points of x_t = sin(%.2f t) + 2 U(0,1), "
                 "t = %zu..%zu -> the next point; inputs float32 [%zu,%d,1], targets float32 "
                 "[%zu,1]; best RMSE %.4f (Bayes, window %d), %.4f knowing t (sqrt(1/3) = "
                 "0.5774 expected)",
                 p[k].name, T, SINE_FREQ, k ? ntr_pts : 0, k ? npts - 1 : ntr_pts - 1, p[k].n, T,
                 p[k].n, p[k].best, T, p[k].extra);
    char desc[480];
    snprintf(desc, sizeof desc,
             "sine (tutorial 004, intro to RNNs): x_t = sin(%.2f t) + 2 U(0,1), t = 0..%zu, split "
             "in time (/train the first %zu points, /val the last %zu), windows of %d -> the next "
             "point: inputs float32 [N,%d,1], targets float32 [N,1]; best val RMSE %.4f (Bayes, "
             "window %d, uniform phase), %.4f for an oracle knowing t (sqrt(1/3) = 0.5774 "
             "expected)",
             SINE_FREQ, npts - 1, ntr_pts, npts - ntr_pts, T, T, p[1].best, T, p[1].extra);
    int rc = dgpart_write(file, s->seed, "sine", desc, p, 2, 0, 0, "oracle_rmse", e);
    dgpart_free(p, 2);
    free(g);
    free(series);
    return rc;
}

/* ---- adding: the LSTM/GRU bonus --------------------------------------- */

static int gen_adding(hid_t file, const DatagenSpec *s, long n, int T, Error *e)
{
    DgPart p[2];
    dg_train_val(p, (size_t)n, (size_t)n / 5, T, 2, 1, 0);
    int half = T / 2;
    uint32_t row = 0;
    for (int k = 0; k < 2; k++) {
        double se_base = 0;
        for (size_t i = 0; i < p[k].n; i++, row++) {
            float *x = p[k].x + i * (size_t)T * 2;
            int m1 = (int)rng_below((uint64_t)half, s->seed, RNG_DATAGEN,
                                    dg_stream(TASK_ADDING, 1), row, 0);
            int m2 = half + (int)rng_below((uint64_t)(T - half), s->seed, RNG_DATAGEN,
                                           dg_stream(TASK_ADDING, 1), row, 1);
            for (int t = 0; t < T; t++) {
                x[2 * t] = (float)rng_uniform_f64(s->seed, RNG_DATAGEN, dg_stream(TASK_ADDING, 0),
                                                  row, (uint32_t)t);
                x[2 * t + 1] = t == m1 || t == m2 ? 1.0f : 0.0f;
            }
            p[k].yv[i] = x[2 * m1] + x[2 * m2];
            se_base += ((double)p[k].yv[i] - 1.0) * ((double)p[k].yv[i] - 1.0);
        }
        p[k].best = 0.0;
        p[k].extra = se_base / (double)p[k].n;
        snprintf(p[k].desc, sizeof p[k].desc,
                 "adding /%s: %zu sequences, inputs float32 [%zu,%d,2] (U(0,1) values, markers on "
                 "one step of each half) -> the sum of the 2 marked values, targets float32 "
                 "[%zu,1]; best MSE 0; predicting 1 gives MSE %.4f (1/6 expected)",
                 p[k].name, p[k].n, p[k].n, T, p[k].n, p[k].extra);
    }
    char desc[480];
    snprintf(desc, sizeof desc,
             "adding problem (the tutorials' LSTM/GRU bonus): inputs float32 [N,%d,2], channel 0 "
             "U(0,1), channel 1 marks one step in each half with 1; target float32 [N,1] = sum of "
             "the 2 marked values; /train %zu, /val %zu; best MSE 0, predicting 1 gives %.4f (1/6 "
             "expected): a model must beat that to have learned anything",
             T, p[0].n, p[1].n, p[1].extra);
    int rc = dgpart_write(file, s->seed, "adding", desc, p, 2, 0, 0, "baseline_mse", e);
    dgpart_free(p, 2);
    return rc;
}

/* ---- lookahead: a task that needs the future of the sequence ------------ */

/* Row `row` of a lookahead part: length n in [T/2, T] (at least 1), tokens
 * 0-9 at every step (padded steps too: a model that reads them fails), and
 * target y_t = x_{min(t+AHEAD, n-1)} for t < n, 0 after. Returns what a
 * model reading only the past can expect to get right: the last step
 * (its own token) surely, every other valid step with chance 1/10. */
static double lookahead_row(int32_t *x, int32_t *y, int32_t *len, const DatagenSpec *s,
                            uint32_t row, int T)
{
    int lo = T / 2 > 1 ? T / 2 : 1;
    int n = lo + (int)rng_below((uint64_t)(T - lo + 1), s->seed, RNG_DATAGEN,
                                dg_stream(TASK_LOOKAHEAD, 1), row, 0);
    for (int t = 0; t < T; t++)
        x[t] = (int32_t)rng_below(10, s->seed, RNG_DATAGEN, dg_stream(TASK_LOOKAHEAD, 0), row,
                                  (uint32_t)t);
    for (int t = 0; t < T; t++) y[t] = t < n ? x[t + LOOK_AHEAD < n ? t + LOOK_AHEAD : n - 1] : 0;
    *len = n;
    return 1.0 + 0.1 * (n - 1);
}

static int gen_lookahead(hid_t file, const DatagenSpec *s, long n, int T, Error *e)
{
    size_t ntr = (size_t)n * 4 / 5;
    DgPart p[2];
    dg_train_val(p, ntr, (size_t)n - ntr, T, 0, 0, 1);
    uint32_t row = 0;
    for (int k = 0; k < 2; k++) {
        dgpart_add_lengths(&p[k]);
        double past = 0, steps = 0;
        for (size_t i = 0; i < p[k].n; i++, row++) {
            size_t at = i * (size_t)T;
            past += lookahead_row(p[k].tok + at, p[k].yc + at, p[k].len + i, s, row, T);
            steps += p[k].len[i];
        }
        p[k].best = 1.0;
        p[k].extra = past / steps;
        snprintf(p[k].desc, sizeof p[k].desc,
                 "lookahead /%s: %zu sequences of tokens 0-9, lengths %d..%d (padded steps hold "
                 "tokens too), inputs int32 [%zu,%d] -> at every valid step the token %d steps "
                 "later (the last one near the end), targets int32 [%zu,%d]; best acc 1 needs "
                 "the future: reading only the past gets %.3f",
                 p[k].name, p[k].n, T / 2 > 1 ? T / 2 : 1, T, p[k].n, T, LOOK_AHEAD, p[k].n, T,
                 p[k].extra);
    }
    char desc[480];
    snprintf(desc, sizeof desc,
             "lookahead (a bidirectional model's task): tokens 0-9, inputs int32 [N,%d] with "
             "lengths, targets the token %d steps later at each valid step (the last token near "
             "the end); /train %zu, /val %zu; best acc 1.0, a model reading only the past %.3f",
             T, LOOK_AHEAD, p[0].n, p[1].n, p[1].extra);
    int rc = dgpart_write(file, s->seed, "lookahead", desc, p, 2, 10, 10, "past_only_acc", e);
    dgpart_free(p, 2);
    return rc;
}

/* ---- the task table --------------------------------------------------- */

typedef struct TaskDef {
    const char *name;
    int (*gen)(hid_t file, const DatagenSpec *s, long n, int T, Error *e);
    long n_def, n_min;
    int T_def, T_min, T_max;
    int F;              /* features per step (1 for tokens), for the size cap */
    const char *n_what; /* what n counts */
    const char *help;
} TaskDef;

static const TaskDef TASKS[] = {
    {"counting", gen_counting, 1000, 10, 4, 1, 1000, 1, "sequences, split 80/20 into /train /val",
     "int32 [N,4] tokens 0-9 -> next token per step, 10 classes; n=1000 sequences (80/20), "
     "T=4; tutorial 000 (embedding 8, RNN 16); best acc 1.0"},
    {"seqclass", gen_seqclass, 1500, 10, 5, 1, 1000, SEQ_F,
     "sequences, split 2/3 /train, 1/3 /val",
     "float32 [N,5,10] -> 2 classes per sequence, 10% label noise; n=1500 (1000 train, 500 val), "
     "T=5; tutorial 001 (overfits without dropout); best acc ~0.90"},
    {"stepclass", gen_stepclass, 1000, 10, 10, 1, 1000, STEP_F,
     "sequences, split 80/20 into /train /val",
     "float32 [N,10,5] -> 3 classes per step, 5% label noise; n=1000 (80/20), T=10; "
     "tutorial 002 (RNN 8 -> 3 classes); best acc ~0.95"},
    {"arith", gen_arith, 1000, 10, 5, 1, 1000, 1,
     "sequences, split 80/10/10 into /train /val /test",
     "float32 [N,5,1] start + 0..4 -> next value per step (MSE); n=1000 (80/10/10), held-out "
     "starts in /val /test; tutorial 003; best MSE 0"},
    {"sine", gen_sine, 1000, 0, 3, 1, 100, 1, "points of the series, first 80% /train",
     "float32 [N,3,1] windows of sin(0.02t) + 2U(0,1) -> next value [N,1]; n=1000 points "
     "(800/200 in time), T=3; tutorial 004; best RMSE ~0.6 (Bayes)"},
    {"adding", gen_adding, 10000, 10, 50, 2, 100000, 2, "train sequences, /val gets n/5",
     "float32 [N,50,2] -> sum of the 2 marked values [N,1] (MSE); n=10000 train + 2000 val, "
     "T=50; LSTM/GRU bonus; best MSE 0, predicting 1 gives 0.167"},
    {"lookahead", gen_lookahead, 2000, 10, 12, 2, 1000, 1,
     "sequences, split 80/20 into /train /val",
     "int32 [N,12] tokens 0-9, lengths 6..12 -> the token 2 steps later per step, 10 classes; "
     "n=2000 (80/20); needs --bidirectional 1: best acc 1.0, the past alone ~0.20"},
};

#define NTASKS ((int)(sizeof TASKS / sizeof TASKS[0]))

void datagen_print_tasks(FILE *f)
{
    for (int i = 0; i < NTASKS; i++) fprintf(f, "  %-10s %s\n", TASKS[i].name, TASKS[i].help);
}

/* Smallest n for T: sine needs a window and its target in each part. */
static long task_n_min(const TaskDef *t, int T)
{
    return t->gen == gen_sine ? 5L * T + 1 : t->n_min;
}

/* Largest n for T: the inputs array stays within DG_MAX_VALUES. */
static long task_n_max(const TaskDef *t, int T)
{
    if (t->gen == gen_sine) return SINE_MAX_N;
    long per_row = (long)T * t->F;
    long nmax = DG_MAX_VALUES / per_row;
    return t->gen == gen_adding ? nmax * 5 / 6 : nmax;
}

int datagen_run(const DatagenSpec *s, Error *e)
{
    const TaskDef *t = NULL;
    for (int i = 0; i < NTASKS && s->task; i++)
        if (strcmp(s->task, TASKS[i].name) == 0) t = &TASKS[i];
    if (!t)
        return error_set(e, EXIT_USAGE,
                         "datagen: unknown task '%s' (valid: counting, seqclass, stepclass, "
                         "arith, sine, adding, lookahead)",
                         s->task ? s->task : "");
    if (!s->out || !s->out[0])
        return error_set(e, EXIT_USAGE, "datagen %s: --out F.h5 is required", t->name);
    int T = s->seq_len > 0 ? s->seq_len : t->T_def;
    if (T < t->T_min || T > t->T_max)
        return error_set(e, EXIT_USAGE, "datagen %s: --seq-len %d out of range: %d..%d", t->name,
                         T, t->T_min, t->T_max);
    long n = s->n > 0 ? s->n : t->n_def;
    long lo = task_n_min(t, T), hi = task_n_max(t, T);
    if (n < lo || n > hi)
        return error_set(e, EXIT_USAGE, "datagen %s: --n %ld out of range: %ld..%ld (%s%s)",
                         t->name, n, lo, hi, t->n_what,
                         t->gen == gen_sine ? "; the minimum grows with --seq-len" : "");

    hid_t file;
    if (h5io_create(&file, s->out, NULL))
        return error_set(e, EXIT_USAGE, "datagen: cannot create %s", s->out);
    int rc = t->gen(file, s, n, T, e);
    if (H5Fclose(file) < 0 && !rc) rc = error_set(e, EXIT_FAIL, "datagen: cannot close %s", s->out);
    if (!rc && signals_pending())
        rc = error_set(e, EXIT_SIGNAL, "datagen: stopped by %s: nothing written",
                       signals_name(signals_pending()));
    return rc;
}
