/* train.c - the training loop (see train.h). */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "datagen.h"
#include "dataset.h"
#include "evaluate.h"
#include "fault.h"
#include "filestamp.h"
#include "memest.h"
#include "metrics.h"
#include "model.h"
#include "optim.h"
#include "resume.h"
#include "rng.h"
#include "rundir.h"
#include "signals.h"
#include "stopping.h"

typedef struct Trainer {
    Config cfg;               /* this launch's options (on resume: completed from the run's) */
    const Dist *d;            /* = &dw */
    Dist dw;                  /* the run's world, with its watchdog (comm-timeout) */
    DistPhase phase;          /* what the loop is doing, for the watchdog's message */
    char run_dir[CFG_PATH];
    RunDir rd;                /* rank 0: the run directory and its lock */
    char resume_from[CFG_PATH + 16]; /* the checkpoint resumed, "" for a new run */
    ResumePlan plan;          /* what resuming it means */
    char data_file[CFG_PATH], val_file[CFG_PATH]; /* resolved input files ("" none) */
    DataIdentity data_id, val_id; /* rank 0: this launch's inputs */
    FileStamp data_stamp, val_stamp; /* rank 0: the inputs as opened */
    char *config_text;        /* effective config, malloc'd */
    Dataset train, val;
    int has_val;
    Model m;
    Optim o;
    TrainState st;
    BatchBuf bb;
    size_t *order;            /* [train.n] this epoch's global order */
    Metrics mt;               /* rank 0 only */
    GradBuckets buckets;      /* gradient ranges reduced as the backward pass ends each */
    DistPending *pending;     /* their outstanding all-reduces */
    double comm_wait, step_time; /* seconds waiting on the reduction, in steps */
    int stop_signal;          /* the stop signal every rank agreed on, or 0 */
    int nan_stop;             /* stopped before a non-finite step (--on-nan stop) */
    int64_t nan_warned;       /* skipped-step warnings printed so far */
    int fault_nan;            /* RNN_DIST_FAULT=nan on this rank */
    int fault_stall;          /* RNN_DIST_FAULT=stall on this rank */
    Error save_err;           /* the last failed save (--on-save-error continue), code 0 if none */
} Trainer;

/* ---- setup ---------------------------------------------------------------- */

/* Choose the run directory and take it (rank 0: its lock, and whether this
 * launch may use it), then share its name and the outcome. */
static int setup_run_dir(Trainer *tr, Error *e)
{
    const Config *c = &tr->cfg;
    int rc = 0;
    tr->rd.lock_fd = -1;
    if (tr->d->rank == 0) {
        if (c->run_dir[0]) {
            snprintf(tr->run_dir, sizeof tr->run_dir, "%s", c->run_dir);
        } else {
            char stamp[32];
            time_t now = time(NULL);
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
            snprintf(tr->run_dir, sizeof tr->run_dir, "runs/%s", stamp);
            for (int i = 2; access(tr->run_dir, F_OK) == 0; i++)
                snprintf(tr->run_dir, sizeof tr->run_dir, "runs/%s-%d", stamp, i);
        }
        RunDirUse use = c->resume[0] ? RUNDIR_RESUME : c->fresh ? RUNDIR_FRESH : RUNDIR_NEW;
        rc = rundir_open(&tr->rd, tr->run_dir, use, stderr, e);
    }
    dist_bcast(tr->d, &rc, sizeof rc, 0);
    dist_bcast(tr->d, tr->run_dir, sizeof tr->run_dir, 0);
    if (rc) dist_bcast(tr->d, e, sizeof *e, 0);
    return rc;
}

/* --resume: rank 0 picks the checkpoint and plans the resume (completing the
 * config from the stored one); every rank gets the plan and the config. */
static int plan_resume(Trainer *tr, Error *e)
{
    int rc = 0;
    if (tr->d->rank == 0 && tr->cfg.resume[0]) {
        if (strcmp(tr->cfg.resume, "auto") == 0)
            rc = checkpoint_find_resume(tr->resume_from, sizeof tr->resume_from, tr->run_dir,
                                        stderr, e);
        else
            snprintf(tr->resume_from, sizeof tr->resume_from, "%s", tr->cfg.resume);
        if (!rc && tr->resume_from[0]) rc = resume_plan(&tr->plan, &tr->cfg, tr->resume_from,
                                                        stdout, e);
        fflush(stdout);
    }
    dist_bcast(tr->d, &rc, sizeof rc, 0);
    if (rc) {
        dist_bcast(tr->d, e, sizeof *e, 0);
        return rc;
    }
    dist_bcast(tr->d, tr->resume_from, sizeof tr->resume_from, 0);
    dist_bcast(tr->d, &tr->plan, sizeof tr->plan, 0);
    dist_bcast(tr->d, &tr->cfg, sizeof tr->cfg, 0);
    return 0;
}

/* Rank 0: what the inputs are (for resume) and how they look now (to notice
 * a change during the run); every rank gets the verdict. */
static int identify_inputs(Trainer *tr, Error *e)
{
    int rc = 0;
    if (tr->d->rank == 0) {
        const char *files[2] = {tr->data_file, tr->val_file};
        DataIdentity *ids[2] = {&tr->data_id, &tr->val_id};
        FileStamp *stamps[2] = {&tr->data_stamp, &tr->val_stamp};
        const size_t rows[2] = {tr->train.n, tr->has_val ? tr->val.n : 0};
        for (int i = 0; i < 2 && !rc; i++) {
            ids[i]->rows = (int64_t)rows[i];
            if (!files[i][0]) continue;
            snprintf(ids[i]->file, sizeof ids[i]->file, "%s", files[i]);
            rc = filestamp_take(stamps[i], files[i], e) ||
                 filestamp_fingerprint(&ids[i]->hash, &ids[i]->bytes, files[i], e);
        }
        if (!rc && tr->resume_from[0])
            rc = resume_check_data(&tr->plan.st.data, &tr->data_id, "data", stdout, e) ||
                 resume_check_data(&tr->plan.st.val, &tr->val_id, "val", stdout, e);
        if (rc) rc = EXIT_USAGE;
    }
    dist_bcast(tr->d, &rc, sizeof rc, 0);
    if (rc) dist_bcast(tr->d, e, sizeof *e, 0);
    return rc;
}

/* Rank 0: have the inputs changed since they were opened? Fills e. */
static int inputs_changed(const Trainer *tr, const char *when, Error *e)
{
    const char *files[2] = {tr->data_file, tr->val_file};
    const FileStamp *stamps[2] = {&tr->data_stamp, &tr->val_stamp};
    char what[256];
    for (int i = 0; i < 2; i++)
        if (files[i][0] && filestamp_changed(what, sizeof what, stamps[i], files[i]))
            return error_set(e, EXIT_USAGE, "%s changed during the run (%s); stopping %s: "
                             "%s/last.h5 keeps the last state trained on the file as it was",
                             files[i], what, when, tr->run_dir);
    return 0;
}

/* inputs_changed on rank 0, its verdict on every rank (epoch start). */
static int inputs_unchanged_agreed(Trainer *tr, Error *e)
{
    int rc = tr->d->rank == 0 ? inputs_changed(tr, "before the next epoch", e) : 0;
    dist_bcast(tr->d, &rc, sizeof rc, 0);
    if (rc) dist_bcast(tr->d, e, sizeof *e, 0);
    return rc;
}

/* The built-in task when no data is given: generated once into the run dir. */
static int builtin_data(Trainer *tr, char *path, size_t len, Error *e)
{
    snprintf(path, len, "%s/counting.h5", tr->run_dir);
    int rc = 0;
    if (tr->d->rank == 0 && access(path, R_OK) != 0) {
        DatagenSpec g = {"counting", path, 0, 0, tr->cfg.seed};
        rc = datagen_run(&g, e);
    }
    dist_bcast(tr->d, &rc, sizeof rc, 0);
    if (rc && tr->d->rank != 0) error_set(e, rc, "%s: cannot generate the built-in data", path);
    return rc;
}

static int open_data(Trainer *tr, Error *e)
{
    const Config *c = &tr->cfg;
    char file[CFG_PATH], group[256], spec[CFG_PATH + 16];
    if (c->data[0])
        snprintf(spec, sizeof spec, "%s", c->data);
    else if (builtin_data(tr, spec, sizeof spec, e))
        return EXIT_USAGE;
    if (dataset_resolve(file, sizeof file, group, sizeof group, spec, ROLE_TRAIN, e))
        return EXIT_USAGE;
    snprintf(tr->data_file, sizeof tr->data_file, "%s", file);
    size_t total;
    if (dataset_count_rows(&total, file, group, e)) return EXIT_USAGE;
    size_t nval = c->val_split > 0.0 ? (size_t)floor(c->val_split * (double)total) : 0;
    if (c->val_split > 0.0 && (nval == 0 || nval >= total))
        return error_set(e, EXIT_USAGE, "val-split %g of %zu rows leaves an empty %s", c->val_split,
                         total, nval == 0 ? "validation set" : "training set");
    if (evaluate_open_shared(&tr->train, tr->d, file, group, 0, total - nval, 1, e))
        return EXIT_USAGE;
    if (nval) {
        tr->has_val = 1;
        snprintf(tr->val_file, sizeof tr->val_file, "%s", file);
        return evaluate_open_shared(&tr->val, tr->d, file, group, total - nval, nval, 1, e);
    }
    char vfile[CFG_PATH], vgroup[256];
    if (c->val[0]) {
        if (dataset_resolve(vfile, sizeof vfile, vgroup, sizeof vgroup, c->val, ROLE_VAL, e))
            return EXIT_USAGE;
    } else if (strcmp(group, "/train") == 0 && dataset_has_group(file, "/val")) {
        snprintf(vfile, sizeof vfile, "%s", file);
        snprintf(vgroup, sizeof vgroup, "/val");
    } else {
        return 0;
    }
    size_t nv;
    if (dataset_count_rows(&nv, vfile, vgroup, e)) return EXIT_USAGE;
    tr->has_val = 1;
    snprintf(tr->val_file, sizeof tr->val_file, "%s", vfile);
    return evaluate_open_shared(&tr->val, tr->d, vfile, vgroup, 0, nv, 1, e);
}

/* The model the options and the training data call for. */
static int build_spec(ModelSpec *s, const Config *c, const Dataset *ds, Error *e)
{
    memset(s, 0, sizeof *s);
    s->cell = (CellKind)c->cell;
    s->act = (Nonlin)c->nonlinearity;
    s->input = ds->input;
    s->vocab = ds->input == INPUT_TOKENS ? ds->vocab : 0;
    s->embed = ds->input == INPUT_TOKENS ? c->embed : 0;
    s->features = ds->input == INPUT_DENSE ? ds->F : 0;
    s->hidden = c->hidden;
    s->layers = c->layers;
    s->out = ds->O;
    s->loss = ds->kind;
    s->target = ds->target;
    s->dropout = (float)c->dropout;
    s->out_dropout = (float)c->out_dropout;
    if (c->target != TARGET_CHOICE_AUTO) {
        TargetMode want = c->target == TARGET_CHOICE_STEP ? TARGET_STEP : TARGET_LAST;
        if (want != ds->target)
            return error_set(e, EXIT_USAGE,
                             "target %s needs %s targets, but %s:%s has per-%s targets",
                             want == TARGET_STEP ? "step" : "last",
                             want == TARGET_STEP ? "per-step [N, T(, O)]" : "per-sequence [N(, O)]",
                             ds->file, ds->group, ds->target == TARGET_STEP ? "step" : "sequence");
    }
    if (c->monitor == MONITOR_VAL_ACC && ds->kind != LOSS_CE)
        return error_set(e, EXIT_USAGE, "monitor val_acc needs class targets; %s:%s has values",
                         ds->file, ds->group);
    return 0;
}

static int setup_model(Trainer *tr, Error *e)
{
    const Config *c = &tr->cfg;
    ModelSpec spec;
    if (build_spec(&spec, c, &tr->train, e)) return EXIT_USAGE;
    if (tr->has_val && evaluate_check_data(&spec, &tr->val, 1, e)) return EXIT_USAGE;
    if (memest_check_train(&spec, c, tr->d, &tr->train, tr->has_val ? &tr->val : NULL, e))
        return EXIT_USAGE;
    model_create(&tr->m, &spec);
    model_grad_buckets(&tr->buckets, &tr->m);
    tr->pending = dist_pending_create(tr->buckets.count);
    OptimSpec os = optim_spec_from_config(c);
    optim_create(&tr->o, &os, tr->m.table.total);
    memset(&tr->st, 0, sizeof tr->st);
    tr->st.best_metric = NAN;
    tr->st.seed = c->seed;
    tr->st.world_size = tr->d->size;
    if (tr->resume_from[0]) {
        if (checkpoint_load(&tr->m, &tr->o, &tr->st, tr->resume_from, e)) return EXIT_USAGE;
        tr->st.world_size = tr->d->size;
        if (tr->d->rank == 0)
            printf("resuming from %s: epoch %lld, step %lld\n", tr->resume_from,
                   (long long)tr->st.epoch, (long long)tr->st.step);
    } else if (c->init[0]) {
        if (checkpoint_load_params(&tr->m, c->init, e)) return EXIT_USAGE;
    } else {
        model_init_params(&tr->m, c->seed);
    }
    /* a new run's id (rank 0 draws it); a resumed run keeps its own */
    if (!tr->st.run_id && tr->d->rank == 0) tr->st.run_id = rundir_new_id();
    tr->st.data = tr->data_id;
    tr->st.val = tr->val_id;
    dist_bcast(tr->d, &tr->st, sizeof tr->st, 0);
    /* every replica starts from rank 0's parameters and optimizer state */
    dist_bcast(tr->d, tr->m.params, sizeof(float) * tr->m.table.total, 0);
    if (tr->o.m) dist_bcast(tr->d, tr->o.m, sizeof(float) * tr->o.n * (tr->o.v ? 2 : 1), 0);
    return 0;
}

static int write_config(Trainer *tr, Error *e)
{
    size_t len = 0;
    FILE *mem = open_memstream(&tr->config_text, &len);
    config_write(mem, &tr->cfg);
    fclose(mem);
    if (tr->d->rank != 0) return 0;
    char path[CFG_PATH + 16];
    snprintf(path, sizeof path, "%s/config.ini", tr->run_dir);
    FILE *f = fopen(path, "w");
    int err = !f ? errno : fputs(tr->config_text, f) < 0 ? errno : 0;
    if (f && fclose(f) && !err) err = errno;
    if (err) return error_set(e, EXIT_FAIL, "%s: cannot write: %s", path, strerror(err));
    return 0;
}

/* config.ini and metrics.csv, written by rank 0; its outcome on every rank
 * (a full or read-only disk must end every rank, not leave them waiting). */
static int open_outputs(Trainer *tr, Error *e)
{
    int rc = write_config(tr, e);
    if (!rc && tr->d->rank == 0 && tr->resume_from[0])
        rc = resume_log(tr->run_dir, tr->resume_from, &tr->plan, tr->d->size, e);
    if (!rc && tr->d->rank == 0)
        rc = metrics_open(&tr->mt, tr->run_dir, tr->m.spec.loss == LOSS_CE, tr->cfg.epochs,
                          tr->resume_from[0] ? tr->st.epoch : -1, e);
    dist_bcast(tr->d, &rc, sizeof rc, 0);
    if (rc) dist_bcast(tr->d, e, sizeof *e, 0);
    return rc;
}

/* ---- the loop ------------------------------------------------------------- */

/* order[0..n) for an epoch: a permutation drawn from (seed, epoch). */
static void epoch_order(size_t *order, size_t n, uint64_t seed, int64_t epoch, int shuffle)
{
    for (size_t i = 0; i < n; i++) order[i] = i;
    if (!shuffle) return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(i + 1, seed, RNG_SHUFFLE, (uint32_t)epoch, (uint32_t)i,
                                     (uint32_t)(i >> 32));
        size_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* GradReady: start the sum over ranks of gradient bucket i. */
static void start_bucket(void *ctx, int i)
{
    Trainer *tr = ctx;
    const GradBuckets *gb = &tr->buckets;
    dist_iallreduce_sum_f32(tr->pending, tr->d, tr->m.grads + gb->lo[i], gb->hi[i] - gb->lo[i]);
}

static void poke_buckets(void *ctx)
{
    dist_pending_poke(((Trainer *)ctx)->pending);
}

/* This rank's part [*lo, *hi) of a global batch of `count` rows. */
static void rank_share(size_t *lo, size_t *hi, size_t count, const Dist *d)
{
    *lo = count * (size_t)d->rank / (size_t)d->size;
    *hi = count * (size_t)(d->rank + 1) / (size_t)d->size;
}

/* Read ahead: load this rank's rows of batches k, k+1, ... (up to ~8 MiB of
 * rows, at least one batch, not past the epoch); returns the first batch
 * not loaded. */
static int64_t read_ahead(Trainer *tr, int64_t k, int64_t batches)
{
    const size_t n = tr->train.n, B = (size_t)tr->cfg.batch_size;
    size_t per = (B + (size_t)tr->d->size - 1) / (size_t)tr->d->size;
    size_t bytes = dataset_row_bytes(&tr->train) * (per ? per : 1);
    int64_t w = (int64_t)((8u << 20) / (bytes ? bytes : 1));
    if (w < 1) w = 1;
    int64_t end = k + w < batches ? k + w : batches;
    size_t *rows = xcalloc((size_t)(end - k) * per + 1, sizeof(size_t)), m = 0;
    for (int64_t j = k; j < end; j++) {
        size_t a = (size_t)j * B, count = n - a < B ? n - a : B, lo, hi;
        rank_share(&lo, &hi, count, tr->d);
        for (size_t i = lo; i < hi; i++) rows[m++] = tr->order[a + i];
    }
    dataset_load(&tr->train, rows, m);
    free(rows);
    return end;
}

/* One optimizer step on global batch rows[0..count). Returns the global
 * gradient norm before clipping; sets *sums to this rank's loss sums. */
static double train_step(Trainer *tr, const size_t *rows, size_t count, LossSums *sums)
{
    const Dist *d = tr->d;
    Model *m = &tr->m;
    size_t lo, hi;
    rank_share(&lo, &hi, count, d);
    double total = dataset_target_count(&tr->train, rows, count);
    double t0 = metrics_now();
    tr->phase.what = "training";
    tr->phase.step = (long long)tr->st.step;
    if (tr->fault_stall && tr->st.step == 5) sleep(3600);
    model_zero_grads(m);
    if (hi > lo) {
        dataset_fill_batch(&tr->bb, &tr->train, rows + lo, (int)(hi - lo));
        model_forward(m, &tr->bb.b, 1, tr->st.seed, (uint64_t)tr->st.step);
        *sums = model_loss(m, &tr->bb.b, (float)(1.0 / total));
        if (tr->fault_nan && (tr->st.step == 3 || tr->st.step == 7)) sums->loss = NAN;
        /* a non-finite loss here poisons the summed gradient, so every rank
         * sees the non-finite norm of the same step (backward adds to it) */
        if (!isfinite(sums->loss)) m->grads[0] = NAN;
        model_backward_hooked(m, &tr->bb.b, start_bucket, poke_buckets, tr);
    } else {
        /* no rows here this step: take part in the same reductions */
        for (int i = 0; i < tr->buckets.count; i++) start_bucket(tr, i);
    }
    tr->comm_wait += dist_pending_wait(tr->pending);
    tr->step_time += metrics_now() - t0;
    double norm = optim_grad_norm(m->grads, m->table.total);
    if (tr->cfg.clip_grad_norm > 0.0)
        optim_clip(m->grads, m->table.total, norm, tr->cfg.clip_grad_norm);
    if (isfinite(norm)) optim_step(&tr->o, m->params, m->grads);
    tr->st.step++;
    return norm;
}

static void checkpoint_path(char *out, size_t len, const Trainer *tr, const char *name)
{
    snprintf(out, len, "%s/%s", tr->run_dir, name);
}

/* Remove numbered checkpoints beyond the newest `keep`. */
static void prune_checkpoints(const Trainer *tr, int64_t epoch)
{
    int64_t every = tr->cfg.checkpoint_every;
    int64_t oldest_kept = epoch - (int64_t)(tr->cfg.keep - 1) * every;
    for (int64_t ep = oldest_kept - every; ep > 0; ep -= every) {
        char name[64], path[CFG_PATH + 64];
        snprintf(name, sizeof name, "ckpt-epoch%04lld.h5", (long long)ep);
        checkpoint_path(path, sizeof path, tr, name);
        if (access(path, F_OK) != 0) {
            if (ep < oldest_kept - 8 * every) break;
            continue;
        }
        /* only this run's files: never another run's that shares the directory */
        if (checkpoint_run_id(path) == tr->st.run_id) unlink(path);
    }
}

/* Rank 0 writes last.h5 (always), best.h5 (when improved) and the numbered
 * checkpoint (every checkpoint-every epochs). */
static int save_checkpoints(Trainer *tr, int improved, int epoch_done, Error *e)
{
    if (tr->d->rank != 0) return 0;
    if (inputs_changed(tr, "before writing a checkpoint", e)) return EXIT_USAGE;
    char path[CFG_PATH + 64];
    checkpoint_path(path, sizeof path, tr, "last.h5");
    if (checkpoint_save(path, &tr->m, &tr->o, &tr->st, tr->config_text, e)) return EXIT_FAIL;
    if (improved) {
        checkpoint_path(path, sizeof path, tr, "best.h5");
        if (checkpoint_save(path, &tr->m, &tr->o, &tr->st, tr->config_text, e)) return EXIT_FAIL;
    }
    int every = tr->cfg.checkpoint_every;
    if (epoch_done && every > 0 && tr->st.epoch % every == 0) {
        char name[64];
        snprintf(name, sizeof name, "ckpt-epoch%04lld.h5", (long long)tr->st.epoch);
        checkpoint_path(path, sizeof path, tr, name);
        if (checkpoint_save(path, &tr->m, &tr->o, &tr->st, tr->config_text, e)) return EXIT_FAIL;
        prune_checkpoints(tr, tr->st.epoch);
    }
    return 0;
}

/* save_checkpoints on rank 0, its outcome on every rank. On failure: stop
 * (returns EXIT_FAIL, e filled on every rank), or with --on-save-error
 * continue warn, remember it in tr->save_err and return 0. */
static int save_agreed(Trainer *tr, int improved, int epoch_done, Error *e)
{
    Error err = {0, ""};
    save_checkpoints(tr, improved, epoch_done, &err);
    dist_bcast(tr->d, &err, sizeof err, 0);
    tr->save_err = err;
    if (!err.code) return 0;
    if (err.code == EXIT_USAGE) { /* an input changed: never save or train on */
        *e = err;
        tr->save_err.code = 0;
        return EXIT_USAGE;
    }
    if (tr->cfg.on_save_error == ON_SAVE_ERROR_STOP) {
        error_set(e, EXIT_FAIL, "%s; the previous checkpoints are intact", err.msg);
        return EXIT_FAIL;
    }
    if (tr->d->rank == 0)
        fprintf(stderr, "rnn_dist: warning: %s; training goes on and the next save retries "
                "(--on-save-error continue)\n", err.msg);
    return 0;
}

/* Rank 0 decides whether the monitored value improved and whether to stop;
 * the decision is broadcast so every rank leaves at the same step. */
static void early_stopping(Trainer *tr, double value, int *improved, int *stop)
{
    const Config *c = &tr->cfg;
    int flags[2] = {0, 0};
    if (tr->d->rank == 0) {
        StopRule rule = {c->monitor == MONITOR_VAL_ACC, c->min_delta, c->patience};
        flags[1] = stop_update(&tr->st, value, &rule, &flags[0]);
    }
    dist_bcast(tr->d, flags, sizeof flags, 0);
    dist_bcast(tr->d, &tr->st, sizeof tr->st, 0);
    *improved = flags[0];
    *stop = flags[1];
}

static double metric_of(const ModelSpec *s, const EvalResult *r)
{
    return s->loss == LOSS_CE ? r->acc : r->rmse;
}

/* Where an epoch stands: its loss sums (this rank's), gradient norms, steps,
 * updates skipped on a non-finite step. */
typedef struct EpochSums {
    LossSums loss;
    double norm_sum;
    int64_t steps;
    int64_t skipped;
} EpochSums;

/* The stop signal any rank received (0: none), the same on every rank. */
static int stop_signal_agreed(const Dist *d)
{
    return dist_allreduce_max_int(d, signals_pending());
}

/* Compare the parameter checksums of all ranks after `epoch`; replicas that
 * drifted apart end the run (on every rank) with the ranks named. */
static int check_replicas(Trainer *tr, int64_t epoch, Error *e)
{
    const Dist *d = tr->d;
    if (d->size == 1) return 0;
    if (epoch == 1 && fault_active("drift", d->rank))
        tr->m.params[0] = nextafterf(tr->m.params[0], INFINITY);
    uint64_t *all = xcalloc((size_t)d->size, sizeof(uint64_t));
    dist_allgather_u64(d, all, model_param_checksum(&tr->m));
    char ranks[256] = "";
    int bad = 0;
    for (int r = 1; r < d->size; r++) {
        if (all[r] == all[0]) continue;
        size_t used = strlen(ranks);
        if (used + 16 < sizeof ranks)
            snprintf(ranks + used, sizeof ranks - used, "%s%d", bad ? ", " : "", r);
        bad++;
    }
    free(all);
    if (!bad) return 0;
    return error_set(e, EXIT_FAIL,
                     "replicas drifted apart after epoch %lld: the parameters of rank%s %s "
                     "differ from rank 0's (checksum); stopping",
                     (long long)epoch, bad > 1 ? "s" : "", ranks);
}

/* Run the batches of `epoch` from st->batch_in_epoch on, until the epoch ends,
 * max-steps is reached, a stop signal arrives or (--on-nan stop) a step is
 * non-finite; returns the next batch index (== batches when the epoch is
 * complete). *seqs counts the sequences trained in this call. */
static int64_t run_batches(Trainer *tr, int64_t epoch, EpochSums *es, int64_t *seqs)
{
    const Config *c = &tr->cfg;
    const size_t n = tr->train.n, B = (size_t)c->batch_size;
    const int64_t batches = (int64_t)((n + B - 1) / B), k0 = tr->st.batch_in_epoch;
    double t0 = metrics_now();
    epoch_order(tr->order, n, tr->st.seed, epoch, c->shuffle);
    int64_t k = k0, loaded = k0;
    for (; k < batches; k++) {
        if (c->max_steps > 0 && tr->st.step >= c->max_steps) break;
        if (k > k0 && (tr->stop_signal = stop_signal_agreed(tr->d)) != 0) break;
        size_t a = (size_t)k * B, count = n - a < B ? n - a : B;
        if (k >= loaded) loaded = read_ahead(tr, k, batches);
        LossSums s = {0, 0, 0, 0};
        double norm = train_step(tr, tr->order + a, count, &s);
        if (!isfinite(norm) && c->on_nan == ON_NAN_STOP) {
            /* the update was not applied: keep the state before this batch */
            tr->st.step--;
            tr->nan_stop = 1;
            break;
        }
        if (!isfinite(norm)) {
            es->skipped++;
            *seqs += (int64_t)count;
            if (tr->d->rank == 0 && tr->nan_warned++ < 3)
                fprintf(stderr, "rnn_dist: warning: non-finite loss or gradient at step %lld "
                        "(epoch %lld, batch %lld): update skipped (--on-nan skip)%s\n",
                        (long long)tr->st.step - 1, (long long)epoch, (long long)k + 1,
                        tr->nan_warned == 3 ? "; more are counted in metrics.csv only" : "");
            continue;
        }
        model_sums_add(&es->loss, &s);
        es->norm_sum += norm;
        es->steps++;
        *seqs += (int64_t)count;
        if (tr->d->rank == 0) {
            double per = (metrics_now() - t0) / (double)(k + 1 - k0);
            metrics_progress(&tr->mt, epoch, k + 1, batches,
                             es->loss.count > 0 ? es->loss.loss / es->loss.count : NAN,
                             per * (double)(batches - k - 1));
        }
    }
    return k;
}

static int run_epochs(Trainer *tr, Error *e)
{
    const Config *c = &tr->cfg;
    const Dist *d = tr->d;
    TrainState *st = &tr->st;
    const int64_t batches = (int64_t)((tr->train.n + (size_t)c->batch_size - 1) /
                                      (size_t)c->batch_size);
    double started = metrics_now();
    int64_t first_epoch = st->epoch;
    int stop = 0;
    while (!stop && st->epoch < c->epochs) {
        if (inputs_unchanged_agreed(tr, e)) return EXIT_USAGE;
        int64_t epoch = st->epoch + 1, seqs = 0;
        double t0 = metrics_now();
        /* a resumed epoch continues from the (global) sums it had reached */
        EpochSums es = {{0, 0, 0, 0}, st->part_norm_sum, st->part_steps, st->part_skipped};
        if (d->rank == 0) {
            LossSums part = {st->part_loss, st->part_count, st->part_correct, st->part_abs_err};
            es.loss = part;
        }
        int64_t k = run_batches(tr, epoch, &es, &seqs);
        double train_time = metrics_now() - t0;
        LossSums tsum = es.loss;
        evaluate_allreduce(&tsum, d);
        int partial = k < batches;
        st->batch_in_epoch = partial ? k : 0;
        st->epoch = partial ? st->epoch : epoch;
        st->part_loss = partial ? tsum.loss : 0;
        st->part_count = partial ? tsum.count : 0;
        st->part_correct = partial ? tsum.correct : 0;
        st->part_abs_err = partial ? tsum.abs_err : 0;
        st->part_norm_sum = partial ? es.norm_sum : 0;
        st->part_steps = partial ? es.steps : 0;
        st->part_skipped = partial ? es.skipped : 0;
        EvalResult tres = evaluate_result(&tr->m.spec, &tsum);
        EvalResult vres = {NAN, NAN, NAN, NAN, 0};
        tr->phase.what = "validation";
        if (tr->has_val) {
            LossSums vs = evaluate_shared(&tr->m, &tr->val, c->batch_size, &tr->bb, d);
            vres = evaluate_result(&tr->m.spec, &vs);
        }
        const EvalResult *mon = tr->has_val ? &vres : &tres;
        double value = c->monitor == MONITOR_VAL_ACC ? mon->acc : mon->loss;
        int improved = 0;
        if (partial)
            stop = 1;
        else
            early_stopping(tr, value, &improved, &stop);
        tr->phase.what = "checkpoint saving";
        if (save_agreed(tr, improved, !partial, e)) return e->code;
        if (!partial && check_replicas(tr, epoch, e)) return EXIT_FAIL;
        if (!stop && !partial && st->epoch < c->epochs &&
            (tr->stop_signal = stop_signal_agreed(d)) != 0)
            stop = 1;
        if (d->rank != 0) continue;
        double now = metrics_now();
        int64_t done_epochs = st->epoch - first_epoch;
        double per_epoch = done_epochs > 0 ? (now - started) / (double)done_epochs : 0;
        EpochRow row = {epoch, st->step, c->lr, tres.loss, metric_of(&tr->m.spec, &tres),
                        tr->has_val, vres.loss, metric_of(&tr->m.spec, &vres),
                        es.steps ? es.norm_sum / (double)es.steps : NAN,
                        train_time > 0 ? (double)seqs / train_time : 0, now - t0, es.skipped};
        metrics_epoch(&tr->mt, &row, stop ? 0 : per_epoch * (double)(c->epochs - st->epoch));
        if (stop && !partial && c->patience > 0 && st->bad_epochs >= c->patience)
            printf("early stopping: no improvement of %s for %d epochs (best %.6g at epoch "
                   "%lld)\n",
                   config_monitor_name(c->monitor), c->patience, st->best_metric,
                   (long long)st->best_epoch);
        if (partial && !tr->stop_signal && !tr->nan_stop)
            printf("max-steps %lld reached\n", (long long)c->max_steps);
    }
    if (tr->save_err.code)
        return error_set(e, EXIT_FAIL, "training finished but its last checkpoint was not "
                         "written: %s", tr->save_err.msg);
    if (tr->nan_stop)
        return error_set(e, EXIT_DIVERGED,
                         "non-finite loss or gradient at step %lld (epoch %lld, batch %lld); "
                         "%s/last.h5 holds the state before it: lower --lr or set "
                         "--clip-grad-norm and continue with --resume auto, or train with "
                         "--on-nan skip",
                         (long long)st->step, (long long)st->epoch + 1,
                         (long long)st->batch_in_epoch + 1, tr->run_dir);
    if (tr->stop_signal)
        return error_set(e, EXIT_SIGNAL,
                         "stopped by %s at step %lld (epoch %lld%s); %s/last.h5 holds this "
                         "state: continue with --resume auto",
                         signals_name(tr->stop_signal), (long long)st->step,
                         (long long)(st->batch_in_epoch ? st->epoch + 1 : st->epoch),
                         st->batch_in_epoch ? ", part done" : " done", tr->run_dir);
    return 0;
}

static void trainer_free(Trainer *tr)
{
    dataset_close(&tr->train);
    if (tr->has_val) dataset_close(&tr->val);
    model_free(&tr->m);
    optim_free(&tr->o);
    batchbuf_free(&tr->bb);
    free(tr->order);
    free(tr->config_text);
    dist_pending_free(tr->pending);
    if (tr->d->rank == 0 && tr->mt.csv) metrics_close(&tr->mt);
    if (tr->d->rank == 0) rundir_close(&tr->rd);
}

/* Rank 0: the run is finished; say so (nothing is touched). */
static void report_finished(const Trainer *tr)
{
    const TrainState *st = &tr->plan.st;
    printf("run-dir %s: this run is finished (epoch %lld, step %lld", tr->run_dir,
           (long long)st->epoch, (long long)st->step);
    if (st->best_epoch > 0)
        printf(", best %s %.6g at epoch %lld", config_monitor_name(tr->cfg.monitor),
               st->best_metric, (long long)st->best_epoch);
    printf("): %s\n", tr->plan.why);
}

static void report_start(const Trainer *tr)
{
    const ModelSpec *s = &tr->m.spec;
    const Dist *d = tr->d;
    printf("rnn_dist: %s %s, hidden %d x %d layers, %zu parameters; %zu train rows%s; "
           "%d rank%s; run-dir %s\n",
           cell_name(s->cell), s->loss == LOSS_CE ? "classifier" : "regressor", s->hidden,
           s->layers, model_param_count(&tr->m.table), tr->train.n,
           tr->has_val ? "" : " (no validation)", d->size, d->size > 1 ? "s" : "", tr->run_dir);
    if (tr->cfg.dropout > 0 && tr->cfg.layers == 1)
        printf("warning: dropout applies between layers; with layers = 1 it has no "
               "effect (use out-dropout)\n");
    fflush(stdout);
}

static void report_done(const Trainer *tr)
{
    const Config *c = &tr->cfg;
    const Dist *d = tr->d;
    if (d->size > 1 && tr->step_time > 0)
        printf("all-reduce: %.1f%% of step time waiting for gradients (%d ranks)\n",
               100.0 * tr->comm_wait / tr->step_time, d->size);
    const char *name = tr->has_val ? config_monitor_name(c->monitor)
                       : c->monitor == MONITOR_VAL_ACC ? "train_acc" : "train_loss";
    printf("done: %lld epochs, %lld steps; ", (long long)tr->st.epoch, (long long)tr->st.step);
    if (tr->st.best_epoch > 0)
        printf("best %s %.6g (epoch %lld)", name, tr->st.best_metric,
               (long long)tr->st.best_epoch);
    else
        printf("no epoch completed yet, so no best %s", name);
    printf("; checkpoints in %s\n", tr->run_dir);
}

int train_run(const Config *cfg, const Dist *d, Error *e)
{
    Trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.cfg = *cfg;
    tr.dw = *d;
    tr.dw.comm_timeout = cfg->comm_timeout;
    tr.dw.phase = &tr.phase;
    tr.d = &tr.dw;
    d = tr.d;
    tr.phase.what = "start-up";
    tr.fault_nan = fault_active("nan", d->rank);
    tr.fault_stall = fault_active("stall", d->rank);
    signals_install();
    int rc = setup_run_dir(&tr, e);
    if (!rc) rc = plan_resume(&tr, e);
    if (!rc && tr.plan.finished) {
        if (d->rank == 0) report_finished(&tr);
        trainer_free(&tr);
        return 0;
    }
    tr.dw.comm_timeout = tr.cfg.comm_timeout;
    if (!rc) rc = open_data(&tr, e);
    if (!rc) rc = identify_inputs(&tr, e);
    if (!rc) rc = setup_model(&tr, e);
    if (!rc) rc = open_outputs(&tr, e);
    if (!rc && d->rank == 0) report_start(&tr);
    if (!rc) {
        tr.order = xcalloc(tr.train.n, sizeof(size_t));
        rc = run_epochs(&tr, e);
    }
    if (!rc && d->rank == 0) report_done(&tr);
    trainer_free(&tr);
    return rc;
}
