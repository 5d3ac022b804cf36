/* main.c - sub-command dispatch: train (default), eval, predict, forecast,
 * datagen, generate, inspect, selftest. MPI is initialised for every
 * command, so each runs the same way alone, as a singleton, or under mpirun. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtext.h"
#include "check.h"
#include "checkpoint.h"
#include "config.h"
#include "datagen.h"
#include "dataset.h"
#include "dist.h"
#include "evalreport.h"
#include "evaluate.h"
#include "forecast.h"
#include "generate.h"
#include "h5io.h"
#include "inspect.h"
#include "memest.h"
#include "outfile.h"
#include "scale.h"
#include "selftest.h"
#include "signals.h"
#include "train.h"
#include "vecmath.h"

#define RNN_DIST_VERSION "0.1.0"

/* long: the --help text, one printf per section, kept together so it reads
 * as the user sees it. */
static void usage(FILE *f)
{
    fprintf(f,
            "rnn_dist %s - data-parallel RNN / LSTM / GRU training on MPI + HDF5\n\n"
            "usage:\n"
            "  rnn_dist [train] [--config FILE] [--key value ...]   train (default command)\n"
            "  rnn_dist eval     --checkpoint C --data D [--json] [--scores]\n"
            "                                                       loss and accuracy (F1, "
            "confusion, bpc)\n"
            "                                                       or RMSE/MAE (original units)\n"
            "  rnn_dist predict  --checkpoint C --data D --out P.h5 [--force]\n"
            "                                                       predictions, rows in input "
            "order\n"
            "  rnn_dist forecast --checkpoint C --data D --steps K [--out F.h5] [--force]\n"
            "                                                       K steps past each window, "
            "fed back\n"
            "  rnn_dist datagen  TASK --out F.h5 [--n N] [--seq-len T] [--seed S] [--force]\n"
            "  rnn_dist generate --checkpoint C --prime TEXT --length N [--temperature X]\n"
            "                    [--top-k K] [--seed S] [--context W] [--data F.h5]\n"
            "                                                       sample text from a "
            "next-character model\n"
            "  rnn_dist inspect  FILE.h5                            describe a dataset or "
            "checkpoint\n"
            "  rnn_dist selftest                                    check this installation "
            "(alone or under mpirun)\n"
            "  rnn_dist --help | --version\n\n"
            "Run alone (one rank) or under mpirun: mpirun -np 8 rnn_dist train --config c.ini\n"
            "Exit codes: 0 ok, 1 failure, 2 bad option or input (refused before training), "
            "3 training diverged,\n"
            "            4 stopped by a signal (Ctrl-C, SIGHUP, SIGTERM, SIGUSR1) after writing "
            "last.h5: continue with --resume auto.\n"
            "A run-dir belongs to one run: a second run into it is refused; resume it "
            "(--resume auto: options\n"
            "not given keep the run's values) or start afresh (--fresh moves its files to "
            "run-dir/previous-N/).\n\n"
            "train options (also 'key = value' lines in --config FILE; the command line "
            "wins):\n",
            RNN_DIST_VERSION);
    config_print_help(f);
    fprintf(f, "\neval / predict / forecast options:\n"
               "  --checkpoint C    an rnn_dist checkpoint (e.g. run-dir/best.h5)\n"
               "  --data D          F.h5 or F.h5:/group (default: root, else /test, /val, "
               "/train);\n"
               "                    with attributes input_mean/input_std, target_mean/target_std\n"
               "                    values are reported in the original units (x * std + mean)\n"
               "  --out P.h5        predict (required), forecast: output file, written under\n"
               "                    P.h5.tmp.PID and renamed when complete; never one of the\n"
               "                    inputs; an existing file other than earlier output of the\n"
               "                    same command is refused without --force\n"
               "  --force           predict, forecast: replace an existing --out file (not an "
               "input)\n"
               "  --steps K         forecast: steps to predict past each window, 1..100000; "
               "without\n"
               "                    --out only the last window is forecast and printed\n"
               "  --scores          eval: also print the confusion matrix of a class model as\n"
               "                    lines confusion[i] (--json always has it)\n"
               "  --batch-size N    rows per forward pass [256]\n"
               "  --max-memory SIZE refuse (exit 2) when the estimated memory per rank is over "
               "this (512M, 1.5G;\n"
               "                    0: auto, as train's --max-memory) [0]\n"
               "  --json            eval: one JSON object instead of 'name value' lines\n"
               "\ngenerate options (the text goes to stdout: the prime, then the new text):\n"
               "  --checkpoint C    a model trained on a scripts/text2h5.py dataset\n"
               "  --prime TEXT      the text to continue (every character in the vocabulary)\n"
               "  --length N        characters (bytes, at byte level) to add, 0 .. 10000000\n"
               "  --temperature X   divides the logits before the softmax; 0: always the most\n"
               "                    likely (greedy) [1]\n"
               "  --top-k K         draw among the K most likely only; 0: all [0]\n"
               "  --seed S          the same seed gives the same text [1]\n"
               "  --context W       the model sees the last W tokens at each step [256]\n"
               "  --data F.h5       the dataset holding the vocabulary [the checkpoint's\n"
               "                    training data, when it is still there unchanged]\n"
               "\ndatagen options: --out F.h5 is written under F.h5.tmp.PID and renamed when\n"
               "complete; an existing F.h5 is refused unless --force is given.\n"
               "\ndatagen tasks:\n");
    datagen_print_tasks(f);
}

/* Options of the small commands: --name value pairs, or flags. */
typedef struct KV {
    const char *name;
    const char *value;  /* NULL: not given */
    int flag;           /* takes no value */
} KV;

static int parse_kv(KV *kv, int nkv, int argc, char **argv, const char **positional,
                    const char *cmd, Error *e)
{
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0) {
            if (positional && !*positional) {
                *positional = arg;
                continue;
            }
            return error_set(e, EXIT_USAGE, "%s: unexpected argument '%s'", cmd, arg);
        }
        int found = 0;
        for (int i = 0; i < nkv && !found; i++) {
            size_t n = strlen(kv[i].name);
            if (strncmp(arg + 2, kv[i].name, n) != 0) continue;
            if (kv[i].flag && arg[2 + n] == '\0') {
                kv[i].value = "1";
                found = 1;
            } else if (!kv[i].flag && arg[2 + n] == '=') {
                kv[i].value = arg + 3 + n;
                found = 1;
            } else if (!kv[i].flag && arg[2 + n] == '\0') {
                if (a + 1 >= argc)
                    return error_set(e, EXIT_USAGE, "%s: --%s needs a value", cmd, kv[i].name);
                kv[i].value = argv[++a];
                found = 1;
            }
        }
        if (!found) return error_set(e, EXIT_USAGE, "%s: unknown option '%s'", cmd, arg);
    }
    return 0;
}

static int parse_long(long *v, const char *s, long lo, long hi, const char *name, Error *e)
{
    char *end = NULL;
    long x = strtol(s, &end, 10);
    if (!*s || *end || x < lo || x > hi)
        return error_set(e, EXIT_USAGE, "--%s must be an integer in %ld..%ld, got '%s'", name, lo,
                         hi, s);
    *v = x;
    return 0;
}

static int cmd_train(const Dist *d, int argc, char **argv, Error *e)
{
    Config c;
    config_defaults(&c);
    if (config_parse_args(&c, argc, argv, e) || config_validate_launch(&c, e)) return e->code;
    /* a resumed run's options are checked once completed from the run's
     * (trainer_start): `--resume auto --momentum 0.9` of an sgd run is valid */
    if (!c.resume[0] && config_validate(&c, e)) return e->code;
    vec_init_compute(c.threads);
    return train_run(&c, d, e);
}

/* The commands that run a checkpoint over a dataset. */
typedef enum EvalCmd { CMD_EVAL, CMD_PREDICT, CMD_FORECAST } EvalCmd;

/* The options of eval / predict / forecast. */
typedef struct EvalArgs {
    EvalCmd cmd;
    const char *name; /* the command's name */
    const char *ckpt, *data, *out;
    long batch, threads, steps;
    uint64_t max_memory;
    int json, force, scores;
} EvalArgs;

/* Open the checkpoint's model, the dataset (group of the open input `in`,
 * as dataset_resolve_in found them; streamed, each rank checking its share;
 * forecast without --out: its last row only) and the data's statistics
 * (scale.h) for eval / predict / forecast, after checking the memory they
 * need; the checkpoint is probed and opened once. Collective. */
static int open_model_data(Model *m, Dataset *ds, Scale *sc, const Dist *d, const EvalArgs *a,
                           const H5Input *in, const char *group, Error *e)
{
    H5Input ck;
    ModelSpec spec;
    const int eval = a->cmd == CMD_EVAL;
    if (h5io_input_open(&ck, a->ckpt, e)) return EXIT_USAGE;
    size_t n = 0;
    int rc = checkpoint_read_spec_in(&spec, &ck, e) ||
             (a->cmd == CMD_FORECAST && forecast_check_model(&spec, a->ckpt, e)) ||
             dataset_count_rows_in(&n, in, group, e);
    size_t row0 = a->cmd == CMD_FORECAST && !a->out && n > 0 ? n - 1 : 0;
    rc = rc || evaluate_open_shared(ds, d, in, group, row0, n - row0, eval, e);
    if (!rc && (evaluate_check_data(&spec, ds, eval, e) ||
                memest_check_eval(&spec, d, ds, (int)a->batch, !eval, a->max_memory, e) ||
                scale_read_in(sc, in, group, spec.input == INPUT_DENSE ? spec.features : 0,
                              spec.loss == LOSS_MSE ? spec.out : 0, e))) {
        dataset_close(ds);
        rc = 1;
    }
    if (!rc) {
        model_create(m, &spec);
        rc = checkpoint_load_params_in(m, &ck, e);
        if (rc) {
            model_free(m);
            dataset_close(ds);
            scale_free(sc);
        }
    }
    h5io_input_close(&ck);
    return rc ? EXIT_USAGE : 0;
}

/* Check --out on rank 0 (the rank that writes it) before any work, and
 * share the verdict: 0 on every rank, or the refusal (its text on rank 0).
 * names[i]: the option of inputs[i], for the message. */
static int out_begin(OutFile *o, const Dist *d, const char *cmd, const char *path,
                     const char *const *inputs, const char *const *names, int n_inputs,
                     const char *kind, int force, Error *e)
{
    int rc = 0;
    if (d->rank == 0 && outfile_begin(o, path, inputs, n_inputs, kind, force, e)) {
        char why[sizeof e->msg];
        snprintf(why, sizeof why, "%s", e->msg);
        if (o->input >= 0)
            rc = error_set(e, EXIT_USAGE, "%s: --out %s is one of this command's inputs (%s); "
                           "choose another file", cmd, path, names[o->input]);
        else
            rc = error_set(e, EXIT_USAGE, "%s: --out %s", cmd, why);
    }
    dist_bcast(d, &rc, sizeof rc, 0);
    if (rc && d->rank != 0) error_set(e, rc, "%s: --out refused on rank 0", cmd);
    return rc;
}

/* Rank 0 has written o->tmp (rc: how that went): rename it into place or
 * remove it, and share the outcome with every rank. */
static int out_end(OutFile *o, const Dist *d, const char *cmd, int rc, Error *e)
{
    if (d->rank == 0 && rc) outfile_abort(o);
    else if (d->rank == 0) rc = outfile_commit(o, e);
    dist_bcast(d, &rc, sizeof rc, 0);
    if (rc && d->rank != 0) error_set(e, rc, "%s failed on rank 0", cmd);
    return rc;
}

/* Parse and check the options of a->cmd into *a. */
static int eval_args(EvalArgs *a, int argc, char **argv, EvalCmd cmd, Error *e)
{
    static const char *const names[] = {"eval", "predict", "forecast"};
    KV kv[] = {{"checkpoint", NULL, 0}, {"data", NULL, 0},  {"out", NULL, 0},
               {"batch-size", NULL, 0}, {"json", NULL, 1},  {"threads", NULL, 0},
               {"force", NULL, 1},      {"max-memory", NULL, 0}, {"steps", NULL, 0},
               {"scores", NULL, 1}};
    const char *c = names[cmd];
    if (parse_kv(kv, 10, argc, argv, NULL, c, e)) return EXIT_USAGE;
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->name = c;
    a->batch = 256;
    a->threads = 1;
    if (kv[3].value && parse_long(&a->batch, kv[3].value, 1, 1L << 24, "batch-size", e))
        return EXIT_USAGE;
    if (kv[5].value && parse_long(&a->threads, kv[5].value, 1, 1024, "threads", e))
        return EXIT_USAGE;
    if (kv[7].value && cfgtext_parse_size(&a->max_memory, kv[7].value))
        return error_set(e, EXIT_USAGE, "--max-memory must be a size such as 512M, 1.5G or 0 "
                         "(auto), got '%s'", kv[7].value);
    if (kv[8].value && cmd != CMD_FORECAST)
        return error_set(e, EXIT_USAGE, "%s: --steps is for forecast", c);
    if (kv[8].value && parse_long(&a->steps, kv[8].value, 1, 100000, "steps", e))
        return EXIT_USAGE;
    if (cmd == CMD_FORECAST && !kv[8].value)
        return error_set(e, EXIT_USAGE, "forecast: --steps K is required");
    if (cmd == CMD_PREDICT && !kv[2].value)
        return error_set(e, EXIT_USAGE, "predict: --out is required");
    if (cmd == CMD_EVAL && kv[2].value)
        return error_set(e, EXIT_USAGE, "eval: --out is for predict");
    if (kv[6].value && !kv[2].value)
        return error_set(e, EXIT_USAGE, "%s: --force is for replacing --out", c);
    if (kv[9].value && cmd != CMD_EVAL)
        return error_set(e, EXIT_USAGE, "%s: --scores is for eval", c);
    if (!kv[0].value || !kv[1].value)
        return error_set(e, EXIT_USAGE, "--checkpoint and --data are required");
    a->ckpt = kv[0].value;
    a->data = kv[1].value;
    a->out = kv[2].value;
    a->json = kv[4].value != NULL;
    a->force = kv[6].value != NULL;
    a->scores = kv[9].value != NULL;
    return 0;
}

/* Resolve --data (leaving it open in *in), begin --out (when given), and
 * open the model, the data and its statistics on every rank: 0 when every
 * rank has them, else nothing is left open. */
static int eval_open(Model *m, Dataset *ds, Scale *sc, OutFile *o, H5Input *in, const Dist *d,
                     const EvalArgs *a, Error *e)
{
    char group[256];
    if (dataset_resolve_in(in, group, sizeof group, a->data, ROLE_EVAL, e)) return EXIT_USAGE;
    const char *inputs[] = {a->ckpt, in->path}, *names[] = {"--checkpoint", "--data"};
    const char *kind = a->cmd == CMD_PREDICT ? "predictions" : "forecast";
    if (a->out && out_begin(o, d, a->name, a->out, inputs, names, 2, kind, a->force, e)) {
        h5io_input_close(in);
        return EXIT_USAGE;
    }
    vec_init_compute((int)a->threads);
    signals_install(); /* Ctrl-C: predict stops between batches, nothing half-written */
    int bad = open_model_data(m, ds, sc, d, a, in, group, e);
    h5io_input_close(in);
    /* every rank goes on, or none: the ranks meet again below */
    if (dist_allreduce_max_int(d, bad)) {
        if (bad) return EXIT_USAGE;
        model_free(m);
        dataset_close(ds);
        scale_free(sc);
        return error_set(e, EXIT_USAGE, "%s: the inputs were refused on another rank", a->name);
    }
    return 0;
}

/* eval: the sums over every rank's share, rank 0 prints. */
static void run_eval(Model *m, Dataset *ds, const Scale *sc, const Dist *d, const EvalArgs *a)
{
    Scores scores;
    scores_init(&scores, m->spec.loss, m->spec.target, m->spec.out,
                sc->has_target ? sc->tg_std : NULL);
    BatchBuf bb;
    memset(&bb, 0, sizeof bb);
    LossSums all = evaluate_scored(&scores, m, ds, (int)a->batch, &bb, d);
    batchbuf_free(&bb);
    EvalResult r = evaluate_result_scored(&m->spec, &all, &scores);
    if (d->rank == 0) evalreport_print(stdout, &m->spec, &r, &scores, a->json, a->scores);
    scores_free(&scores);
}

/* forecast's summary (rank 0): what was forecast, and the last window's
 * forecast last [K, O]. */
static void print_forecast(const Dataset *ds, const Scale *sc, const EvalArgs *a, int O,
                           const float *last)
{
    printf("forecast: %ld step%s past the end of %zu window%s, %d value%s a step, in the %s "
           "units\nlast window:", a->steps, a->steps > 1 ? "s" : "", ds->n, ds->n > 1 ? "s" : "",
           O, O > 1 ? "s" : "", sc->has_target ? "original" : "stored");
    for (long k = 0; k < a->steps; k++)
        for (int j = 0; j < O; j++)
            printf("%s%.9g", j ? "," : " ", (double)last[(size_t)k * (size_t)O + (size_t)j]);
    printf("\n");
}

/* predict or forecast, on rank 0 (writing o->tmp when --out is given);
 * every rank returns the outcome. */
static int run_rank0(Model *m, Dataset *ds, const Scale *sc, OutFile *o, const Dist *d,
                     const EvalArgs *a, Error *e)
{
    int rc = 0;
    float *last = a->cmd == CMD_FORECAST ? xalloc_floats((size_t)a->steps * m->spec.out) : NULL;
    const char *out = a->out ? o->tmp : NULL;
    if (d->rank == 0 && a->cmd == CMD_PREDICT)
        rc = evaluate_predict(m, ds, sc, (int)a->batch, out, e);
    else if (d->rank == 0)
        rc = forecast_run(last, m, ds, sc, (int)a->batch, (int)a->steps, out, e);
    if (a->out) {
        rc = out_end(o, d, a->name, rc, e);
    } else {
        dist_bcast(d, &rc, sizeof rc, 0);
        if (rc && d->rank != 0) error_set(e, rc, "%s failed on rank 0", a->name);
    }
    if (!rc && d->rank == 0 && a->cmd == CMD_FORECAST) print_forecast(ds, sc, a, m->spec.out, last);
    if (!rc && d->rank == 0 && a->out)
        printf("wrote %zu rows of %s to %s\n", ds->n,
               a->cmd == CMD_PREDICT ? "predictions" : "forecasts", o->path);
    free(last);
    return rc;
}

static int cmd_eval(const Dist *d, int argc, char **argv, Error *e, EvalCmd cmd)
{
    EvalArgs a;
    if (eval_args(&a, argc, argv, cmd, e)) return EXIT_USAGE;
    Model m;
    Dataset ds;
    Scale sc;
    OutFile o;
    H5Input in;
    if (eval_open(&m, &ds, &sc, &o, &in, d, &a, e)) return EXIT_USAGE;
    int rc = 0;
    if (cmd == CMD_EVAL)
        run_eval(&m, &ds, &sc, d, &a);
    else
        rc = run_rank0(&m, &ds, &sc, &o, d, &a, e);
    model_free(&m);
    dataset_close(&ds);
    scale_free(&sc);
    return rc;
}

static int cmd_datagen(const Dist *d, int argc, char **argv, Error *e)
{
    KV kv[] = {{"out", NULL, 0}, {"n", NULL, 0}, {"seq-len", NULL, 0}, {"seed", NULL, 0},
               {"force", NULL, 1}};
    const char *task = NULL;
    if (parse_kv(kv, 5, argc, argv, &task, "datagen", e)) return EXIT_USAGE;
    if (!task) return error_set(e, EXIT_USAGE, "datagen: name a TASK (see rnn_dist --help)");
    if (!kv[0].value) return error_set(e, EXIT_USAGE, "datagen: --out F.h5 is required");
    long n = 0, T = 0, seed = 1;
    if ((kv[1].value && parse_long(&n, kv[1].value, 1, 1L << 40, "n", e)) ||
        (kv[2].value && parse_long(&T, kv[2].value, 1, 1000000, "seq-len", e)) ||
        (kv[3].value && parse_long(&seed, kv[3].value, 0, 0x7FFFFFFFFFFFFFFFL, "seed", e)))
        return EXIT_USAGE;
    signals_install(); /* a stop leaves no temporary file behind */
    OutFile o;
    if (out_begin(&o, d, "datagen", kv[0].value, NULL, NULL, 0, NULL, kv[4].value != NULL, e))
        return EXIT_USAGE;
    DatagenSpec g = {task, o.tmp, n, (int)T, (uint64_t)seed};
    int rc = d->rank == 0 ? datagen_run(&g, e) : 0;
    rc = out_end(&o, d, "datagen", rc, e);
    if (!rc && d->rank == 0) printf("wrote %s (%s)\n", o.path, task);
    return rc;
}

/* Parse a real number in lo .. hi (decimal, as option values are). */
static int parse_real(double *v, const char *s, double lo, double hi, const char *name, Error *e)
{
    char *end = NULL;
    double x = cfgtext_is_decimal_real(s) ? strtod(s, &end) : NAN;
    if (!(x >= lo && x <= hi))
        return error_set(e, EXIT_USAGE, "--%s must be a number in %g..%g, got '%s'", name, lo, hi,
                         s);
    *v = x;
    return 0;
}

static int cmd_generate(const Dist *d, int argc, char **argv, Error *e)
{
    KV kv[] = {{"checkpoint", NULL, 0},  {"prime", NULL, 0}, {"length", NULL, 0},
               {"temperature", NULL, 0}, {"top-k", NULL, 0}, {"seed", NULL, 0},
               {"context", NULL, 0},     {"data", NULL, 0}};
    if (parse_kv(kv, 8, argc, argv, NULL, "generate", e)) return EXIT_USAGE;
    if (!kv[0].value || !kv[1].value || !kv[2].value)
        return error_set(e, EXIT_USAGE,
                         "generate: --checkpoint, --prime and --length are required");
    GenerateSpec g = {kv[0].value, kv[7].value, kv[1].value, 0, 1.0, 0, 1, 0};
    long seed = 1;
    if (parse_long(&g.length, kv[2].value, 0, 10000000, "length", e) ||
        (kv[3].value && parse_real(&g.temperature, kv[3].value, 0, 1e6, "temperature", e)) ||
        (kv[4].value && parse_long(&g.top_k, kv[4].value, 0, 1L << 30, "top-k", e)) ||
        (kv[5].value && parse_long(&seed, kv[5].value, 0, 0x7FFFFFFFFFFFFFFFL, "seed", e)) ||
        (kv[6].value && parse_long(&g.context, kv[6].value, 1, 1000000, "context", e)))
        return EXIT_USAGE;
    g.seed = (uint64_t)seed;
    if (d->rank != 0) return 0;
    vec_init_compute(1);
    return generate_run(stdout, &g, e);
}

static int cmd_selftest(const Dist *d, int argc, char **argv, Error *e)
{
    if (parse_kv(NULL, 0, argc, argv, NULL, "selftest", e)) return EXIT_USAGE;
    vec_init_compute(1);
    return selftest_run(stdout, d, e);
}

static int cmd_inspect(const Dist *d, int argc, char **argv, Error *e)
{
    const char *path = NULL;
    if (parse_kv(NULL, 0, argc, argv, &path, "inspect", e)) return EXIT_USAGE;
    if (!path) return error_set(e, EXIT_USAGE, "inspect: name a FILE.h5");
    if (d->rank != 0) return 0;
    return inspect_file(stdout, path, e);
}

int main(int argc, char **argv)
{
    Dist d;
    dist_init(&d, &argc, &argv);
    h5io_init();
    Error e = {0, ""};
    const char *cmd = argc > 1 ? argv[1] : "train";
    int shift = 2, rc;
    if (argc > 1 && strncmp(cmd, "--", 2) == 0 && strcmp(cmd, "--help") != 0 &&
        strcmp(cmd, "--version") != 0) {
        cmd = "train";
        shift = 1;
    }
    int sub_argc = argc > shift ? argc - shift : 0;
    char **sub_argv = argv + (argc > shift ? shift : argc);
    for (int a = 0; a < sub_argc; a++)
        if (strcmp(sub_argv[a], "--help") == 0 || strcmp(sub_argv[a], "-h") == 0) cmd = "--help";
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (d.rank == 0) usage(stdout);
        rc = 0;
    } else if (strcmp(cmd, "--version") == 0) {
        if (d.rank == 0) printf("rnn_dist %s\n", RNN_DIST_VERSION);
        rc = 0;
    } else if (strcmp(cmd, "train") == 0) {
        rc = cmd_train(&d, sub_argc, sub_argv, &e);
    } else if (strcmp(cmd, "eval") == 0) {
        rc = cmd_eval(&d, sub_argc, sub_argv, &e, CMD_EVAL);
    } else if (strcmp(cmd, "predict") == 0) {
        rc = cmd_eval(&d, sub_argc, sub_argv, &e, CMD_PREDICT);
    } else if (strcmp(cmd, "forecast") == 0) {
        rc = cmd_eval(&d, sub_argc, sub_argv, &e, CMD_FORECAST);
    } else if (strcmp(cmd, "datagen") == 0) {
        rc = cmd_datagen(&d, sub_argc, sub_argv, &e);
    } else if (strcmp(cmd, "generate") == 0) {
        rc = cmd_generate(&d, sub_argc, sub_argv, &e);
    } else if (strcmp(cmd, "inspect") == 0) {
        rc = cmd_inspect(&d, sub_argc, sub_argv, &e);
    } else if (strcmp(cmd, "selftest") == 0) {
        rc = cmd_selftest(&d, sub_argc, sub_argv, &e);
    } else {
        rc = error_set(&e, EXIT_USAGE, "unknown command '%s' (see rnn_dist --help)", cmd);
    }
    if (rc && d.rank == 0) fprintf(stderr, "rnn_dist: %s\n", e.msg[0] ? e.msg : "failed");
    dist_finalize();
    return rc;
}
