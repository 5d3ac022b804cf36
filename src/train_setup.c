/* train_setup.c - a training run's start and end: run directory, resume
 * plan, inputs, model, outputs, reports (see trainer.h). */
#include "trainer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agree.h"
#include "batchfeed.h"
#include "classweight.h"
#include "datagen.h"
#include "datahold.h"
#include "evaluate.h"
#include "fault.h"
#include "gemmchoice.h"
#include "memest.h"
#include "signals.h"

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
    dist_bcast(tr->d, tr->run_dir, sizeof tr->run_dir, 0);
    return agree_root(tr->d, rc, e);
}

/* --resume: rank 0 picks the checkpoint, opens and checks it into *ckpt
 * (kept open for setup_model) and plans the resume (completing the config
 * from the stored one); every rank gets the plan and the config. */
static int plan_resume(Trainer *tr, H5Input *ckpt, Error *e)
{
    int rc = 0;
    if (tr->d->rank == 0 && tr->cfg.resume[0]) {
        if (strcmp(tr->cfg.resume, "auto") == 0) {
            rc = checkpoint_find_resume(ckpt, tr->run_dir, stderr, e);
            snprintf(tr->resume_from, sizeof tr->resume_from, "%.*s",
                     (int)sizeof tr->resume_from - 1, ckpt->path);
        } else {
            snprintf(tr->resume_from, sizeof tr->resume_from, "%s", tr->cfg.resume);
            rc = checkpoint_open_verified(ckpt, tr->resume_from, e);
        }
        if (!rc && tr->resume_from[0]) rc = resume_plan(&tr->plan, &tr->cfg, ckpt, stdout, e);
        fflush(stdout);
    }
    /* nothing to resume: the options as given make a new run (with a
     * checkpoint, resume_plan checks them once completed from the run's) */
    if (!rc && tr->d->rank == 0 && !tr->resume_from[0]) rc = config_validate(&tr->cfg, e);
    if ((rc = agree_root(tr->d, rc, e)) != 0) return rc;
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
    return agree_root(tr->d, rc, e);
}

/* Rank 0: has an input changed since it was opened? Fills e. */
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

int trainer_inputs_unchanged_agreed(Trainer *tr, const char *when, Error *e)
{
    int rc = tr->d->rank == 0 ? inputs_changed(tr, when, e) : 0;
    return agree_root(tr->d, rc, e);
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

/* The training rows of group of the open input `in` and the validation
 * rows: held-out last rows (val-split), --val, or the /val group of the
 * same file. */
static int open_train_val(Trainer *tr, const H5Input *in, const char *group, Error *e)
{
    const Config *c = &tr->cfg;
    size_t total;
    if (dataset_count_rows_in(&total, in, group, e)) return EXIT_USAGE;
    size_t nval = c->val_split > 0.0 ? (size_t)floor(c->val_split * (double)total) : 0;
    if (c->val_split > 0.0 && (nval == 0 || nval >= total))
        return error_set(e, EXIT_USAGE, "val-split %g of %zu rows leaves an empty %s", c->val_split,
                         total, nval == 0 ? "validation set" : "training set");
    if (evaluate_open_shared(&tr->train, tr->d, in, group, 0, total - nval, 1, e))
        return EXIT_USAGE;
    if (nval) {
        tr->has_val = 1;
        snprintf(tr->val_file, sizeof tr->val_file, "%.*s", CFG_PATH - 1, in->path);
        return evaluate_open_shared(&tr->val, tr->d, in, group, total - nval, nval, 1, e);
    }
    H5Input own = {.file = -1}; /* --val's file */
    const H5Input *vin = in;
    char vgroup[256];
    if (c->val[0]) {
        if (dataset_resolve_in(&own, vgroup, sizeof vgroup, c->val, ROLE_VAL, e))
            return EXIT_USAGE;
        vin = &own;
    } else if (strcmp(group, "/train") == 0 && dataset_has_group_in(in, "/val")) {
        snprintf(vgroup, sizeof vgroup, "/val");
    } else {
        return 0;
    }
    size_t nv;
    int rc = dataset_count_rows_in(&nv, vin, vgroup, e);
    if (!rc) {
        tr->has_val = 1;
        snprintf(tr->val_file, sizeof tr->val_file, "%.*s", CFG_PATH - 1, vin->path);
        rc = evaluate_open_shared(&tr->val, tr->d, vin, vgroup, 0, nv, 1, e);
    }
    h5io_input_close(&own);
    return rc;
}

/* The training (and validation) data, each input file probed and opened
 * once in this process. */
static int open_data(Trainer *tr, Error *e)
{
    const Config *c = &tr->cfg;
    char group[256], spec[CFG_PATH + 16];
    if (c->data[0])
        snprintf(spec, sizeof spec, "%s", c->data);
    else if (builtin_data(tr, spec, sizeof spec, e))
        return EXIT_USAGE;
    H5Input in;
    if (dataset_resolve_in(&in, group, sizeof group, spec, ROLE_TRAIN, e)) return EXIT_USAGE;
    /* shorter than DATASET_PATH == CFG_PATH (dataset_resolve_in) */
    snprintf(tr->data_file, sizeof tr->data_file, "%.*s", CFG_PATH - 1, in.path);
    int rc = open_train_val(tr, &in, group, e);
    h5io_input_close(&in);
    return rc;
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
    s->bidirectional = c->bidirectional;
    if (c->target != TARGET_CHOICE_AUTO) {
        TargetMode want = c->target == TARGET_CHOICE_STEP ? TARGET_STEP : TARGET_LAST;
        if (want != ds->target)
            return error_set(e, EXIT_USAGE,
                             "target %s needs %s targets, but %s:%s has per-%s targets",
                             types_enum_name(&TARGET_MODE_NAMES, want),
                             want == TARGET_STEP ? "per-step [N, T(, O)]" : "per-sequence [N(, O)]",
                             ds->file, ds->group, ds->target == TARGET_STEP ? "step" : "sequence");
    }
    if (c->monitor == MONITOR_VAL_ACC && ds->kind != LOSS_CE)
        return error_set(e, EXIT_USAGE, "monitor val_acc needs class targets; %s:%s has values",
                         ds->file, ds->group);
    return 0;
}

/* The GEMM kernel: rank 0 measures the candidates on this run's layers
 * (gemmchoice.h) and every rank takes its choice. */
static void choose_gemm(Trainer *tr)
{
    const Config *c = &tr->cfg;
    const int T = c->stateful ? c->bptt : tr->train.T;
    const int B = (c->batch_size + tr->d->size - 1) / tr->d->size;
    if (tr->d->rank == 0) {
        if (c->precision)
            gemmchoice_measure_bf16(&tr->gemm, &tr->m.spec, T, B);
        else
            gemmchoice_measure(&tr->gemm, &tr->m.spec, T, B);
    }
    dist_bcast(tr->d, &tr->gemm, sizeof tr->gemm, 0);
    tr->m.isa = tr->gemm.isa;
    tr->m.bf16 = tr->gemm.bf16;
}

/* The model, and its parameters: from the checkpoint resumed (rank 0: ckpt,
 * opened and checked by plan_resume), from --init, or new. */
static int setup_model(Trainer *tr, const H5Input *ckpt, Error *e)
{
    const Config *c = &tr->cfg;
    ModelSpec spec;
    if (build_spec(&spec, c, &tr->train, e)) return EXIT_USAGE;
    if (tr->has_val && evaluate_check_data(&spec, &tr->val, 1, e)) return EXIT_USAGE;
    if (memest_check_train(&tr->mem_room, &spec, c, tr->d, &tr->train,
                           tr->has_val ? &tr->val : NULL, e))
        return EXIT_USAGE;
    if (classweight_setup(&tr->class_weight, c->class_weights, spec.out, spec.loss, &tr->train,
                          tr->d, e))
        return EXIT_USAGE;
    model_create(&tr->m, &spec);
    tr->m.class_weight = tr->class_weight;
    choose_gemm(tr);
    if (c->precision && tr->m.bf16 == GEMM_BF16_OFF)
        return error_set(e, EXIT_USAGE,
                         "precision bf16 needs a CPU with AMX-BF16 or AVX512_BF16 (rank 0's has "
                         "neither%s); use precision fp32",
                         tr->gemm.forced ? ", or not the kernel RNN_DIST_BF16 names" : "");
    model_grad_buckets(&tr->buckets, &tr->m);
    tr->pending = allreduce_create(tr->d, (AllreduceWire)c->allreduce);
    OptimSpec os = optim_spec_from_config(c);
    optim_create(&tr->o, &os, tr->m.table.total);
    memset(&tr->st, 0, sizeof tr->st);
    tr->st.best_metric = NAN;
    ScheduleSpec ss = schedule_spec_from_config(c);
    tr->st.sched = schedule_state_init(&ss);
    tr->st.seed = c->seed;
    tr->st.world_size = tr->d->size;
    if (tr->resume_from[0]) {
        if (ckpt->file >= 0 ? checkpoint_load_in(&tr->m, &tr->o, &tr->st, ckpt, e)
                            : checkpoint_load(&tr->m, &tr->o, &tr->st, tr->resume_from, e))
            return EXIT_USAGE;
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

/* Stateful training: the streams, and on a resume mid-epoch the carried
 * state of the checkpoint (rank 0 reads it, every rank takes its columns). */
static int setup_stateful(Trainer *tr, const H5Input *ckpt, Error *e)
{
    const Config *c = &tr->cfg;
    if (!c->stateful) return 0;
    if (stateful_open(&tr->sf, &tr->train, tr->has_val ? &tr->val : NULL, &tr->m.spec,
                      c->batch_size, c->bptt, tr->d->rank, tr->d->size, e))
        return EXIT_USAGE;
    if (!tr->resume_from[0] || tr->st.batch_in_epoch == 0) return 0;
    size_t dims[4];
    stateful_dims(dims, &tr->sf);
    const size_t n = dims[0] * dims[1] * dims[2] * dims[3];
    float *global = xalloc_floats(n);
    int rc = 0;
    if (tr->d->rank == 0) {
        H5Input own = {.file = -1};
        const H5Input *in = ckpt;
        if (in->file < 0) rc = checkpoint_open_verified(&own, tr->resume_from, e);
        if (!rc) rc = checkpoint_read_carry_in(global, dims, in->file < 0 ? &own : in, e);
        h5io_input_close(&own);
    }
    rc = agree_root(tr->d, rc, e);
    if (!rc) {
        dist_bcast(tr->d, global, sizeof(float) * n, 0);
        stateful_scatter(&tr->sf, global);
    }
    free(global);
    return rc;
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
                          tr->resume_from[0] ? tr->st.epoch : -1, tr->cfg.progress_every, e);
    return agree_root(tr->d, rc, e);
}

void trainer_free(Trainer *tr)
{
    stateful_free(&tr->sf);
    dataset_close(&tr->train);
    if (tr->has_val) dataset_close(&tr->val);
    model_free(&tr->m);
    free(tr->class_weight);
    optim_free(&tr->o);
    batchbuf_free(&tr->bb);
    epochplan_free(&tr->rows);
    free(tr->config_text);
    allreduce_free(tr->pending);
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

/* Hold as much data in memory as the budget allows (datahold.h); the
 * verdict is agreed. */
static int setup_hold(Trainer *tr, Error *e)
{
    Dataset *val = tr->has_val ? &tr->val : NULL;
    double t0 = metrics_now();
    const int feed = batchfeed_useful(dist_local_size(tr->d));
    tr->hold = datahold_plan(tr->mem_room, &tr->train, &tr->rows, val, feed);
    int rc = datahold_apply(&tr->hold, &tr->train, &tr->rows, val, tr->d->rank, tr->d->size, e);
    if (!rc && tr->st.epoch < tr->cfg.epochs)
        /* the first epoch's order and first window, as held rows are read: at start */
        rc = epochplan_begin_at(&tr->rows, &tr->train, tr->st.seed, tr->st.epoch + 1,
                                tr->cfg.shuffle, tr->st.batch_in_epoch, e);
    tr->hold_time = metrics_now() - t0;
    tr->feed = !rc && feed;
    return agree_first(tr->d, rc, 0, e);
}

static void report_start(const Trainer *tr)
{
    const ModelSpec *s = &tr->m.spec;
    const Dist *d = tr->d;
    char gemm[160];
    gemmchoice_describe(gemm, sizeof gemm, &tr->gemm);
    printf("rnn_dist: %s %s, hidden %d x %d layers, %zu parameters; %zu train rows%s; "
           "%d rank%s; run-dir %s; %s\n",
           cell_name(s->cell), s->loss == LOSS_CE ? "classifier" : "regressor", s->hidden,
           s->layers, model_param_count(&tr->m.table), tr->train.n,
           tr->has_val ? "" : " (no validation)", d->size, d->size > 1 ? "s" : "", tr->run_dir,
           gemm);
    if (!tr->sf.on) {
        char line[400];
        datahold_describe(line, sizeof line, &tr->hold, &tr->train, tr->has_val ? &tr->val : NULL);
        printf("%s%s%s\n", line, tr->feed && tr->train.streamed ? "; rows read and" : "",
               !tr->feed ? "" : tr->train.streamed ? " batches gathered ahead by a helper thread"
                                                   : "; batches gathered ahead by a helper thread");
    }
    if (tr->class_weight) {
        printf("class weights:");
        for (int k = 0; k < s->out; k++) printf(" %.6g", tr->class_weight[k]);
        printf("\n");
    }
    if (tr->cfg.allreduce == ALLREDUCE_BF16)
        printf(d->size > 1 ? "gradients cross between ranks in bf16 (--allreduce bf16)\n"
                           : "note: --allreduce bf16 has no effect on 1 rank\n");
    if (tr->cfg.dropout > 0 && tr->cfg.layers == 1)
        printf("warning: dropout applies between layers; with layers = 1 it has no "
               "effect (use out-dropout)\n");
    fflush(stdout);
}

void trainer_report_done(const Trainer *tr)
{
    const Config *c = &tr->cfg;
    const Dist *d = tr->d;
    if (d->size > 1 && tr->step_time > 0)
        printf("all-reduce: %.1f%% of step time waiting for gradients (%d ranks, %s on the "
               "wire)\n",
               100.0 * tr->comm_wait / tr->step_time, d->size,
               types_enum_name(&ALLREDUCE_NAMES, tr->cfg.allreduce));
    if (!tr->sf.on && tr->step_time > 0)
        printf("data: %.1f%% of training time reading and batching rows (rank 0, %.3g ms; "
               "reading rows at start took %.3g ms)\n",
               100.0 * tr->data_time / (tr->data_time + tr->step_time), 1e3 * tr->data_time,
               1e3 * tr->hold_time);
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


int trainer_start(Trainer *tr, const Config *cfg, const Dist *d, Error *e)
{
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    tr->dw = *d;
    tr->dw.comm_timeout = cfg->comm_timeout;
    tr->dw.phase = &tr->phase;
    tr->d = &tr->dw;
    d = tr->d;
    tr->phase.what = "start-up";
    tr->clock_cost = metrics_clock_cost();
    tr->fault_nan = fault_active("nan", d->rank);
    tr->fault_stall = fault_active("stall", d->rank);
    signals_install();
    H5Input ckpt = {.file = -1}; /* rank 0: the checkpoint resumed, open from plan to load */
    int rc = setup_run_dir(tr, e);
    if (!rc) rc = plan_resume(tr, &ckpt, e);
    if (!rc && tr->plan.finished) {
        h5io_input_close(&ckpt);
        if (d->rank == 0) report_finished(tr);
        return 0;
    }
    tr->dw.comm_timeout = tr->cfg.comm_timeout;
    if (!rc) rc = open_data(tr, e);
    if (!rc) rc = identify_inputs(tr, e);
    if (!rc) rc = setup_model(tr, &ckpt, e);
    if (!rc) rc = setup_stateful(tr, &ckpt, e);
    h5io_input_close(&ckpt);
    if (!rc)
        epochplan_init(&tr->rows, PLAN_SPLIT_BATCH, tr->train.n, tr->cfg.batch_size, d->rank,
                       d->size, dataset_row_bytes(&tr->train));
    if (!rc && !tr->sf.on) rc = setup_hold(tr, e);
    if (!rc) rc = open_outputs(tr, e);
    if (!rc && d->rank == 0) report_start(tr);
    return rc;
}
