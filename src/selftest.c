/* selftest.c - `rnn_dist selftest` (see selftest.h). */
#include "selftest.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "allreduce.h"
#include "config.h"
#include "gemmbf16.h"
#include "gradcheck.h"
#include "hash.h"
#include "model.h"
#include "train.h"

#define NROWS 16
#define REDUCE_N ((size_t)1 << 20 | 3) /* not a multiple of any vector width */
#define TINY_EPOCHS 3
#define TINY_ACC 0.99

/* One row of the table. */
typedef struct Row {
    char name[32];
    int fail;        /* agreed over the ranks */
    double seconds;  /* on rank 0 */
    char detail[2200]; /* room for an Error message and a path */
} Row;

typedef struct Table {
    Row row[NROWS];
    int n;
} Table;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static Row *row_begin(Table *t, const char *name)
{
    CHECK(t->n < NROWS);
    Row *r = &t->row[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->seconds = now();
    return r;
}

/* A row fails when it failed on any rank; rank 0's detail is printed. */
static void row_end(Row *r, const Dist *d, int fail)
{
    r->fail = dist_allreduce_max_int(d, fail != 0);
    r->seconds = now() - r->seconds;
}

/* Largest of a non-negative double over the ranks (IEEE order of the bits
 * is the order of the values for x >= 0). */
static double max_over_ranks(const Dist *d, double x)
{
    uint64_t bits, *all = xcalloc((size_t)d->size, sizeof(uint64_t));
    memcpy(&bits, &x, sizeof bits);
    dist_allgather_u64(d, all, bits);
    for (int r = 0; r < d->size; r++)
        if (all[r] > bits) bits = all[r];
    free(all);
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* Every combination of one cell, combination k on rank k % size. */
static void check_cell(Table *t, const Dist *d, CellKind cell, Nonlin act, const char *name)
{
    Row *r = row_begin(t, name);
    double sums[3] = {0, 0, 0}; /* checked, skipped, bad */
    double worst = 0.0;
    for (int k = d->rank; k < GRADCHECK_COMBOS; k += d->size) {
        GradcheckResult g = gradcheck_combo(cell, act, k);
        sums[0] += g.checked;
        sums[1] += g.skipped;
        sums[2] += g.bad;
        if (g.max_err > worst) worst = g.max_err;
    }
    dist_allreduce_sum_f64(d, sums, 3);
    worst = max_over_ranks(d, worst);
    /* a check that skips most elements proves nothing */
    int fail = sums[2] > 0 || sums[1] * 20 >= sums[0];
    snprintf(r->detail, sizeof r->detail,
             "%d combinations, %.0f elements, %.0f over the limit, %.0f at kinks; worst excess "
             "%.1e (limit %.0e)",
             GRADCHECK_COMBOS, sums[0], sums[2], sums[1], worst, GRADCHECK_ATOL);
    row_end(r, d, fail);
}

/* The checker must flag one gradient element corrupted by 5%, in every
 * parameter tensor of a small LSTM. */
static void check_checker(Table *t, const Dist *d)
{
    Row *r = row_begin(t, "gradcheck catches errors");
    int tensor = 0, missed = 0, bad;
    char name[MODEL_NAME_LEN] = "";
    while ((bad = gradcheck_catch(name, sizeof name, tensor)) >= 0) {
        if (bad != 1 && !missed++)
            snprintf(r->detail, sizeof r->detail, "%s off by 5%%: %d element(s) flagged, want 1",
                     name, bad);
        tensor++;
    }
    if (!missed)
        snprintf(r->detail, sizeof r->detail,
                 "one element off by 5%% in each of %d tensors: each caught", tensor);
    row_end(r, d, missed || tensor == 0);
}

/* Sums of known values: rank q contributes (q + 1) * (i % 7 + 1), so the sum
 * is size (size + 1) / 2 * (i % 7 + 1), exact in float for these sizes. */
static void check_allreduce(Table *t, const Dist *d)
{
    Row *r = row_begin(t, "all-reduce");
    size_t n = REDUCE_N;
    float *f = xalloc_floats(n);
    double *g = xcalloc(1000, sizeof(double));
    double tri = 0.5 * d->size * (d->size + 1);
    for (size_t i = 0; i < n; i++) f[i] = (float)((d->rank + 1) * (int)(i % 7 + 1));
    for (size_t i = 0; i < 1000; i++) g[i] = (d->rank + 1) * (0.1 + (double)i);
    dist_allreduce_sum_f32(d, f, n);
    dist_allreduce_sum_f64(d, g, 1000);
    size_t bad_f = 0, bad_g = 0, bad_i = 0;
    for (size_t i = 0; i < n; i++) bad_f += f[i] != (float)(tri * (double)(i % 7 + 1));
    for (size_t i = 0; i < 1000; i++) bad_g += fabs(g[i] - tri * (0.1 + (double)i)) > 1e-9 * g[i];
    /* the bucketed, non-blocking sums of training: three uneven buckets */
    size_t cut[4] = {0, 1000, 1000 + n / 3, n};
    for (int wire = ALLREDUCE_FP32; wire <= ALLREDUCE_BF16; wire++) {
        for (size_t i = 0; i < n; i++) f[i] = (float)((d->rank + 1) * (int)(i % 5));
        Allreduce *a = allreduce_create(d, (AllreduceWire)wire);
        for (int b = 0; b < 3; b++) {
            allreduce_start(a, f + cut[b], cut[b + 1] - cut[b]);
            allreduce_poke(a);
        }
        allreduce_wait(a);
        allreduce_free(a);
        /* small integers: exact in bf16 too */
        for (size_t i = 0; i < n; i++) bad_i += f[i] != (float)(tri * (double)(i % 5));
    }
    int max = dist_allreduce_max_int(d, d->rank);
    snprintf(r->detail, sizeof r->detail,
             "%zu floats blocking: %zu wrong; 3 buckets in a ring, fp32 and bf16: %zu wrong; "
             "1000 doubles: %zu wrong; max of ranks %d (want %d)",
             n, bad_f, bad_i, bad_g, max, d->size - 1);
    free(f);
    free(g);
    row_end(r, d, bad_f || bad_i || bad_g || max != d->size - 1);
}

/* Rank q's element i for the bf16 wire: positive, not a bf16 value. */
static float bf16_wire_value(int q, size_t i)
{
    return (float)((q + 1) * (1.0 + (double)((i * 7919) % 1000) / 1000.0) / 3.0);
}

/* Element i of the bf16 wire's sum over P ranks, as the ring computes it:
 * its chunk c's partial sum starts at rank c and is rounded to bf16 before
 * each of the P - 1 hops, the next rank adding its own term in fp32; the
 * full sum is rounded once more (1 rank: no rounding at all). */
static float bf16_wire_sum(size_t i, int P)
{
    if (P == 1) return bf16_wire_value(0, i);
    const size_t piece = i / ALLREDUCE_PIECE, j = i % ALLREDUCE_PIECE;
    const size_t n = 2 * ALLREDUCE_PIECE + 5;
    const size_t len = n - piece * ALLREDUCE_PIECE < ALLREDUCE_PIECE ? n - piece * ALLREDUCE_PIECE
                                                                     : ALLREDUCE_PIECE;
    int c = P - 1;
    while (len * (size_t)c / (size_t)P > j) c--;
    float acc = bf16_wire_value(c, i);
    for (int k = 1; k < P; k++)
        acc = bf16_wire_value((c + k) % P, i) + gemm_bf16_value(gemm_bf16_round(acc));
    return gemm_bf16_value(gemm_bf16_round(acc));
}

/* The bf16 wire (allreduce.h) on values bf16 cannot hold, over several
 * pieces: every rank ends with the same bits, equal to the ring's arithmetic
 * done here in scalar code, each within P (2^-8 + 2^-22) of the exact sum of
 * positive terms (P - 1 roundings of partial sums on the way and one of the
 * full sum, at most 2^-8 relative each, plus fp32 additions). */
static void check_allreduce_bf16(Table *t, const Dist *d)
{
    Row *r = row_begin(t, "all-reduce bf16");
    const size_t n = 2 * ALLREDUCE_PIECE + 5;
    const int P = d->size;
    float *f = xalloc_floats(n);
    for (size_t i = 0; i < n; i++) f[i] = bf16_wire_value(d->rank, i);
    Allreduce *a = allreduce_create(d, ALLREDUCE_BF16);
    allreduce_start(a, f, n);
    allreduce_wait(a);
    allreduce_free(a);
    const double bound = P * (ldexp(1.0, -8) + ldexp(1.0, -22));
    double worst = 0.0;
    size_t over = 0, unlike = 0;
    for (size_t i = 0; i < n; i++) {
        double want = 0.0;
        for (int q = 0; q < P; q++) want += bf16_wire_value(q, i);
        double rel = fabs(f[i] - want) / want;
        worst = rel > worst ? rel : worst;
        over += rel > bound;
        unlike += f[i] != bf16_wire_sum(i, P);
    }
    uint64_t *sums = xcalloc((size_t)P, sizeof(uint64_t));
    dist_allgather_u64(d, sums, hash_fnv1a(HASH_FNV_BASIS, f, n * sizeof(float)));
    int differ = 0;
    for (int q = 1; q < P; q++) differ += sums[q] != sums[0];
    snprintf(r->detail, sizeof r->detail,
             "%zu floats: %d rank(s) differing from rank 0; %zu unlike the ring's arithmetic; "
             "worst relative error %.2e, %zu over %.2e",
             n, differ, unlike, worst, over, bound);
    free(sums);
    free(f);
    row_end(r, d, differ || unlike || over);
}

static ModelSpec bigger_spec(void)
{
    ModelSpec s = gradcheck_spec(CELL_LSTM, NONLIN_TANH, 0);
    s.hidden = 48;
    return s;
}

/* Rank 0's parameters reach every rank bit for bit, whatever they held. */
static void check_broadcast(Table *t, const Dist *d, Model *m)
{
    Row *r = row_begin(t, "broadcast");
    model_init_params(m, 1000u + (uint64_t)d->rank);
    dist_bcast(d, m->params, m->table.total * sizeof(float), 0);
    Model ref;
    model_create(&ref, &m->spec);
    model_init_params(&ref, 1000u);
    int same = memcmp(ref.params, m->params, m->table.total * sizeof(float)) == 0;
    model_free(&ref);
    int nbad = 0;
    uint64_t *all = xcalloc((size_t)d->size, sizeof(uint64_t));
    dist_allgather_u64(d, all, (uint64_t)!same);
    for (int q = 0; q < d->size; q++) nbad += all[q] != 0;
    free(all);
    snprintf(r->detail, sizeof r->detail, "%zu parameters from rank 0: %d of %d rank(s) differ",
             m->table.total, nbad, d->size);
    row_end(r, d, nbad != 0);
}

/* Replicas agree; one nudged by one float step (on the last rank, or on a
 * copy on a single rank) is told apart. */
static void check_checksum(Table *t, const Dist *d, Model *m)
{
    Row *r = row_begin(t, "parameter checksum");
    uint64_t *all = xcalloc((size_t)d->size, sizeof(uint64_t));
    uint64_t mine = model_param_checksum(m);
    dist_allgather_u64(d, all, mine);
    int differ = 0;
    for (int q = 1; q < d->size; q++) differ += all[q] != all[0];
    int victim = d->size - 1;
    float keep = m->params[0];
    if (d->rank == victim) m->params[0] = nextafterf(keep, INFINITY);
    uint64_t nudged = model_param_checksum(m);
    dist_allgather_u64(d, all, nudged);
    int caught = d->size > 1 ? all[victim] != all[0] : nudged != mine;
    if (d->rank == victim) m->params[0] = keep;
    free(all);
    snprintf(r->detail, sizeof r->detail,
             "%d replica(s): %d differ from rank 0; a replica nudged by one float step %s", d->size,
             differ, caught ? "is caught" : "is NOT caught");
    row_end(r, d, differ || !caught);
}

/* Value of column `name` in the last row of a metrics.csv; NAN if absent. */
static double metrics_last(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    char head[1024] = "", line[1024] = "", cur[1024];
    if (!fgets(head, sizeof head, f)) head[0] = '\0';
    while (fgets(cur, sizeof cur, f)) memcpy(line, cur, sizeof line);
    fclose(f);
    int col = -1, k = 0;
    for (char *s = head, *tok; (tok = strsep(&s, ",\n")) != NULL; k++)
        if (strcmp(tok, name) == 0) col = k;
    k = 0;
    for (char *s = line, *tok; (tok = strsep(&s, ",\n")) != NULL; k++)
        if (k == col && *tok) return strtod(tok, NULL);
    return NAN;
}

/* Remove the files of a flat directory, then the directory. */
static void remove_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh) return;
    char path[CFG_PATH + 300];
    for (struct dirent *de; (de = readdir(dh)) != NULL;) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(dh);
    rmdir(dir);
}

/* The built-in counting task (embedding 8, RNN 16, Adam 0.01) on every rank;
 * rank 0's output goes to train.log in the run directory. */
static void check_tiny_run(Table *t, const Dist *d)
{
    Row *r = row_begin(t, "tiny run (counting)");
    Config c;
    config_defaults(&c);
    if (d->rank == 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(c.run_dir, sizeof c.run_dir, "%s/rnn_dist-selftest-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(c.run_dir)) c.run_dir[0] = '\0';
    }
    dist_bcast(d, c.run_dir, sizeof c.run_dir, 0);
    if (!c.run_dir[0]) {
        snprintf(r->detail, sizeof r->detail, "cannot create a directory under $TMPDIR or /tmp");
        row_end(r, d, 1);
        return;
    }
    c.cell = CELL_RNN;
    c.embed = 8;
    c.hidden = 16;
    c.lr = 0.01;
    c.epochs = TINY_EPOCHS;
    c.batch_size = 32;
    c.seed = 1;
    char log[CFG_PATH + 16], metrics[CFG_PATH + 16];
    snprintf(log, sizeof log, "%s/train.log", c.run_dir);
    snprintf(metrics, sizeof metrics, "%s/metrics.csv", c.run_dir);
    int saved = -1;
    if (d->rank == 0) {
        fflush(stdout);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            saved = dup(STDOUT_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
    }
    Error e = {0, ""};
    int rc = train_run(&c, d, &e);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    double acc = d->rank == 0 ? metrics_last(metrics, "val_acc") : 0.0;
    dist_bcast(d, &acc, sizeof acc, 0);
    int fail = rc != 0 || !(acc >= TINY_ACC);
    if (rc)
        snprintf(r->detail, sizeof r->detail, "train failed (exit %d): %s; see %s", rc, e.msg,
                 c.run_dir);
    else
        snprintf(r->detail, sizeof r->detail, "val acc %.3f after %d epochs (need >= %.2f)%s%s",
                 acc, TINY_EPOCHS, TINY_ACC, fail ? "; see " : "", fail ? c.run_dir : "");
    row_end(r, d, fail);
    if (d->rank == 0 && !r->fail) remove_dir(c.run_dir);
}

int selftest_run(FILE *out, const Dist *d, Error *e)
{
    Table t;
    t.n = 0;
    if (d->rank == 0) {
        fprintf(out, "rnn_dist selftest: %d rank(s)\n", d->size);
        fflush(out);
    }
    check_cell(&t, d, CELL_RNN, NONLIN_TANH, "gradcheck rnn tanh");
    check_cell(&t, d, CELL_RNN, NONLIN_RELU, "gradcheck rnn relu");
    check_cell(&t, d, CELL_LSTM, NONLIN_TANH, "gradcheck lstm");
    check_cell(&t, d, CELL_GRU, NONLIN_TANH, "gradcheck gru");
    check_checker(&t, d);
    check_allreduce(&t, d);
    check_allreduce_bf16(&t, d);
    ModelSpec s = bigger_spec();
    Model m;
    model_create(&m, &s);
    check_broadcast(&t, d, &m);
    check_checksum(&t, d, &m);
    model_free(&m);
    check_tiny_run(&t, d);
    int failed = 0;
    for (int i = 0; i < t.n; i++) failed += t.row[i].fail;
    if (d->rank == 0) {
        fprintf(out, "%-26s %-6s %8s  %s\n", "check", "result", "seconds", "detail");
        for (int i = 0; i < t.n; i++)
            fprintf(out, "%-26s %-6s %8.2f  %s\n", t.row[i].name, t.row[i].fail ? "FAIL" : "pass",
                    t.row[i].seconds, t.row[i].detail);
        fprintf(out, "selftest: %d passed, %d failed\n", t.n - failed, failed);
    }
    if (failed)
        return error_set(e, EXIT_FAIL, "selftest: %d of %d checks failed", failed, t.n);
    return 0;
}
