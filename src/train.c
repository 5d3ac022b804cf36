/* train.c - the training loop (see train.h; the run's start and end: train_setup.c). */
#include "train.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batchfeed.h"
#include "evaluate.h"
#include "fault.h"
#include "schedule.h"
#include "signals.h"
#include "stopping.h"
#include "trainer.h"

/* ---- the loop ------------------------------------------------------------- */

/* GradReady: start the sum over ranks of gradient bucket i. */
static void start_bucket(void *ctx, int i)
{
    Trainer *tr = ctx;
    const GradBuckets *gb = &tr->buckets;
    allreduce_start(tr->pending, tr->m.grads + gb->lo[i], gb->hi[i] - gb->lo[i]);
}

/* Rows of the next step prefetched at each point of a step (a burst's
 * lines fit the core's miss buffers). All at once, a step's prefetches
 * overflow them and did little: on an AMD EPYC of family 23 the seed
 * model's next batch then waited on memory for 2.2 of its 3 us. With them,
 * where the step after next's rows are held (a streamed dataset's slots),
 * which the next step's prefetches would wait on. The prefetches are data
 * time, not step time; a clock read costs as much as a burst, so
 * they are timed in one step of AHEAD_SAMPLE (less the clock's own cost)
 * and counted for all of them. */
enum { AHEAD_ROWS = 4, AHEAD_SAMPLE = 16 };

/* Prefetch up to n more of the next step's rows (dataset_prefetch), from
 * inside train_step's timed part. */
static void ahead_some(Trainer *tr, size_t n)
{
    const size_t left = tr->ahead.count - tr->ahead_done;
    if (left == 0) return;
    n = n < left ? n : left;
    const int timed = tr->st.step % AHEAD_SAMPLE == 0;
    const double t0 = timed ? metrics_now() : 0;
    dataset_prefetch(&tr->train, tr->ahead.mine + tr->ahead_done, n);
    if (tr->ahead_done < tr->ahead2.count) {
        const size_t m = tr->ahead2.count - tr->ahead_done;
        dataset_prefetch_slots(&tr->train, tr->ahead2.mine + tr->ahead_done, m < n ? m : n);
    }
    tr->ahead_done += n;
    if (!timed) return;
    double spent = metrics_now() - t0 - tr->clock_cost;
    spent = AHEAD_SAMPLE * (spent > 0 ? spent : 0);
    tr->data_time += spent;
    tr->step_time -= spent;
}

/* CellPoke inside the backward pass: let the reductions progress, and
 * prefetch a few of the next step's rows while the step computes. */
static void poke_buckets(void *ctx)
{
    Trainer *tr = ctx;
    allreduce_poke(tr->pending);
    ahead_some(tr, AHEAD_ROWS);
}

/* The steps of an epoch: the stream's (stateful) or the rows' plan's. */
static int64_t epoch_steps(const Trainer *tr)
{
    return tr->sf.on ? tr->sf.train.steps : tr->rows.steps;
}

/* One optimizer step on a global batch of `total` targets, of which this
 * rank computes bt (NULL: none here). A stateful run starts from the
 * carried state and keeps the state after the step (stateful_keep).
 * Returns the global gradient norm before clipping; sets *sums to this
 * rank's loss sums. */
static double train_step(Trainer *tr, const Batch *bt, double total, LossSums *sums)
{
    Model *m = &tr->m;
    double t0 = metrics_now();
    tr->phase.what = "training";
    tr->phase.step = (long long)tr->st.step;
    if (tr->fault_stall && tr->st.step == 5) sleep(3600);
    model_zero_grads(m);
    if (m->class_weight) {
        /* the mean's denominator: the class weights of the whole global batch,
         * whose targets each rank holds only its share of */
        total = bt ? model_batch_weight(&m->spec, m->class_weight, bt) : 0;
        dist_allreduce_sum_f64(tr->d, &total, 1);
    }
    if (bt) {
        model_forward_state(m, bt, tr->sf.on ? tr->sf.carry : NULL, 1, tr->st.seed,
                            (uint64_t)tr->st.step);
        ahead_some(tr, AHEAD_ROWS);
        *sums = model_loss(m, bt, (float)(1.0 / total));
        if (tr->fault_nan && (tr->st.step == 3 || tr->st.step == 7)) sums->loss = NAN;
        /* a non-finite loss here poisons the summed gradient, so every rank
         * sees the non-finite norm of the same step (backward adds to it) */
        if (!isfinite(sums->loss)) m->grads[0] = NAN;
        model_backward_hooked(m, bt, start_bucket, poke_buckets, tr);
        if (tr->sf.on) stateful_keep(&tr->sf, m);
    } else {
        /* no rows here this step: take part in the same reductions */
        for (int i = 0; i < tr->buckets.count; i++) start_bucket(tr, i);
    }
    ahead_some(tr, SIZE_MAX);
    tr->comm_wait += allreduce_wait(tr->pending);
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

/* Remove numbered checkpoints beyond the newest `keep`: this run's only.
 * The ones this launch wrote are known to be (tr->ckpt_own_from); an older
 * one is opened for its run_id, and opening a file runs the HDF5 probe in a
 * forked child (h5io.h), after which each page the run writes faults once:
 * done every epoch, it cost a streamed run 3-5% of its training time. */
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
        if (ep >= tr->ckpt_own_from || checkpoint_run_id(path) == tr->st.run_id) unlink(path);
    }
}

/* Rank 0 writes last.h5 (always), best.h5 (when improved) and the numbered
 * checkpoint (every checkpoint-every epochs); carry: the carried state of a
 * stateful run stopped mid-epoch, or NULL. */
static int save_checkpoints(Trainer *tr, int improved, int epoch_done,
                            const CheckpointCarry *carry, Error *e)
{
    if (tr->d->rank != 0) return 0;
    char path[CFG_PATH + 64];
    checkpoint_path(path, sizeof path, tr, "last.h5");
    if (checkpoint_save(path, &tr->m, &tr->o, &tr->st, tr->config_text, carry, e))
        return EXIT_FAIL;
    if (improved) {
        checkpoint_path(path, sizeof path, tr, "best.h5");
        if (checkpoint_save(path, &tr->m, &tr->o, &tr->st, tr->config_text, carry, e))
            return EXIT_FAIL;
    }
    int every = tr->cfg.checkpoint_every;
    if (epoch_done && every > 0 && tr->st.epoch % every == 0) {
        char name[64];
        snprintf(name, sizeof name, "ckpt-epoch%04lld.h5", (long long)tr->st.epoch);
        checkpoint_path(path, sizeof path, tr, name);
        if (checkpoint_save(path, &tr->m, &tr->o, &tr->st, tr->config_text, NULL, e))
            return EXIT_FAIL;
        prune_checkpoints(tr, tr->st.epoch);
    }
    return 0;
}

/* save_checkpoints; when it fails, a numbered checkpoint of this epoch that
 * exists is not this launch's (tr->ckpt_own_from moves past it). */
static int save_checkpoints_owned(Trainer *tr, int improved, int epoch_done,
                                  const CheckpointCarry *carry, Error *e)
{
    const int rc = save_checkpoints(tr, improved, epoch_done, carry, e);
    if (rc && tr->ckpt_own_from <= tr->st.epoch) tr->ckpt_own_from = tr->st.epoch + 1;
    return rc;
}

/* save_checkpoints on rank 0, its outcome on every rank. On failure: stop
 * (returns EXIT_FAIL, e filled on every rank), or with --on-save-error
 * continue warn, remember it in tr->save_err and return 0. */
static int save_agreed(Trainer *tr, int improved, int epoch_done, Error *e)
{
    Error err = {0, ""};
    CheckpointCarry carry = {NULL, {0, 0, 0, 0}};
    float *global = NULL;
    if (tr->sf.on && !epoch_done) {
        /* mid-epoch: the resume continues the stream from the carried state */
        stateful_dims(carry.dims, &tr->sf);
        global = xalloc_floats(carry.dims[0] * carry.dims[1] * carry.dims[2] * carry.dims[3]);
        stateful_gather(global, &tr->sf, tr->d);
        carry.data = global;
    }
    save_checkpoints_owned(tr, improved, epoch_done, global ? &carry : NULL, &err);
    free(global);
    dist_bcast(tr->d, &err, sizeof err, 0);
    tr->save_err = err;
    if (!err.code) return 0;
    if (tr->cfg.on_save_error == ON_SAVE_ERROR_STOP) {
        error_set(e, EXIT_FAIL, "%s; the previous checkpoints are intact", err.msg);
        return EXIT_FAIL;
    }
    if (tr->d->rank == 0)
        fprintf(stderr, "rnn_dist: warning: %s; training goes on and the next save retries "
                "(--on-save-error continue)\n", err.msg);
    return 0;
}

/* Rank 0 decides whether the monitored value improved and whether to stop,
 * and feeds it to the plateau lr schedule; the decisions and the state are
 * broadcast so every rank leaves at the same step with the same next lr. */
static void early_stopping(Trainer *tr, double value, int *improved, int *stop)
{
    const Config *c = &tr->cfg;
    int flags[2] = {0, 0};
    if (tr->d->rank == 0) {
        StopRule rule = {c->monitor == MONITOR_VAL_ACC, c->min_delta, c->patience};
        flags[1] = stop_update(&tr->st, value, &rule, &flags[0]);
        ScheduleSpec ss = schedule_spec_from_config(c);
        schedule_plateau_update(&tr->st.sched, &ss, tr->st.epoch, value);
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

/* ---- the phases of an epoch ------------------------------------------------ */

/* One epoch as it runs: its number, clock, sequences trained and sums. */
typedef struct EpochRun {
    int64_t epoch;      /* 1-based */
    double lr;          /* the lr of its steps (lr-schedule) */
    double t0;          /* metrics_now() at its start */
    double train_time;  /* seconds of its training steps */
    int64_t seqs;       /* sequences trained in this launch */
    int64_t next;       /* its next batch: == rows.steps when complete */
    EpochSums sums;
} EpochRun;

/* Start epoch st->epoch + 1 with its lr (set in the optimizer); a resumed
 * epoch continues from the (global) sums it had reached (rank 0 holds the
 * loss sums, the others add theirs). */
static EpochRun epoch_start(Trainer *tr)
{
    const TrainState *st = &tr->st;
    const ScheduleSpec ss = schedule_spec_from_config(&tr->cfg);
    const double lr = schedule_lr(&ss, st->epoch + 1, &st->sched);
    EpochRun er = {st->epoch + 1, lr, metrics_now(), 0, 0, st->batch_in_epoch,
                   {{0, 0, 0, 0, 0}, st->part_norm_sum, st->part_steps, st->part_skipped}};
    tr->o.spec.lr = lr;
    if (tr->sf.on && er.next == 0) stateful_reset(&tr->sf); /* a pass starts from zero */
    if (tr->d->rank == 0) {
        /* a checkpoint from before class weights had none: weight = count */
        double weight = st->part_weight < 0 ? st->part_count : st->part_weight;
        LossSums part = {st->part_loss, st->part_count, st->part_correct, st->part_abs_err,
                         weight};
        er.sums.loss = part;
    }
    return er;
}

/* A step whose norm is not finite: stop before it (--on-nan stop; returns
 * 1) or count it as skipped, warning about the first three. */
static int nonfinite_step(Trainer *tr, EpochRun *er, int64_t k)
{
    if (tr->cfg.on_nan == ON_NAN_STOP) {
        /* the update was not applied: keep the state before this batch */
        tr->st.step--;
        tr->nan_stop = 1;
        return 1;
    }
    er->sums.skipped++;
    if (tr->d->rank == 0 && tr->nan_warned++ < 3)
        fprintf(stderr, "rnn_dist: warning: non-finite loss or gradient at step %lld "
                "(epoch %lld, batch %lld): update skipped (--on-nan skip)%s\n",
                (long long)tr->st.step - 1, (long long)er->epoch, (long long)k + 1,
                tr->nan_warned == 3 ? "; more are counted in metrics.csv only" : "");
    return 0;
}

/* Report rank 0's progress after `done` batches of the epoch (from batch k0
 * in this launch). */
static void epoch_progress(Trainer *tr, const EpochRun *er, int64_t done, int64_t k0)
{
    const int64_t batches = epoch_steps(tr);
    double elapsed = metrics_now() - er->t0, per = elapsed / (double)(done - k0);
    const LossSums *l = &er->sums.loss;
    double left = (double)(batches - done);
    ProgressTick t = {er->epoch, done, batches, tr->st.step,
                      l->count > 0 ? l->loss / l->weight : NAN,
                      elapsed > 0 ? (double)er->seqs / elapsed : 0, per * left,
                      per * (left + (double)batches * (double)(tr->cfg.epochs - er->epoch))};
    if (tr->cfg.max_steps > 0 && per * (double)(tr->cfg.max_steps - t.step) < t.eta_run)
        t.eta_run = per * (double)(tr->cfg.max_steps - t.step);
    metrics_progress(&tr->mt, &t);
}

/* This rank's batch of step k (NULL: no rows in it) and the step's rows:
 * from the feed when there is one, else gathered here; the time it takes
 * counts as data time. */
static const Batch *step_batch(Trainer *tr, BatchFeed *feed, int64_t k, PlanBatch *b)
{
    double t0 = metrics_now();
    const Batch *batch;
    const PlanBatch none = {NULL, 0, NULL, 0};
    tr->ahead = tr->ahead2 = none; /* with a feed, the helper prefetches its own */
    tr->ahead_done = 0;
    if (feed) {
        batch = batchfeed_next(feed, k, b);
    } else {
        *b = epochplan_batch(&tr->rows, &tr->train, k);
        if (b->count > 0) dataset_fill_batch(&tr->bb, &tr->train, b->mine, (int)b->count);
        batch = b->count > 0 ? &tr->bb.b : NULL;
        /* the next step's rows: prefetched by this step as it computes (ahead_some) */
        tr->ahead = epochplan_ahead(&tr->rows, k + 1);
        tr->ahead2 = epochplan_ahead(&tr->rows, k + 2);
    }
    tr->data_time += metrics_now() - t0;
    return batch;
}

/* Phase 1: train the batches of the epoch from er->next on, until the epoch
 * ends, max-steps is reached, a stop signal arrives or (--on-nan stop) a
 * step is non-finite; er->next is then the next batch. */
static void train_epoch(Trainer *tr, EpochRun *er)
{
    const Config *c = &tr->cfg;
    EpochPlan *p = &tr->rows;
    const int64_t k0 = er->next;
    const double t_order = metrics_now();
    if (!tr->sf.on) epochplan_begin(p, tr->st.seed, er->epoch, c->shuffle);
    tr->data_time += metrics_now() - t_order; /* the epoch's order, unless made ahead */
    /* another epoch follows this one unless the epochs or max-steps end here */
    const int next = er->epoch < c->epochs &&
                     (c->max_steps <= 0 || tr->st.step + epoch_steps(tr) - k0 < c->max_steps);
    BatchFeed *feed = tr->feed && k0 < epoch_steps(tr)
                          ? batchfeed_start(p, &tr->train, k0, tr->hold.feed_bytes, next)
                          : NULL;
    int64_t k = k0;
    for (; k < epoch_steps(tr); k++) {
        if (c->max_steps > 0 && tr->st.step >= c->max_steps) break;
        if (k > k0 && (tr->stop_signal = stop_signal_agreed(tr->d)) != 0) break;
        LossSums s = {0, 0, 0, 0, 0};
        double norm;
        int64_t seqs;
        if (tr->sf.on) {
            norm = train_step(tr, stateful_batch(&tr->sf, k),
                              stream_target_count(&tr->sf.train, k), &s);
            seqs = (int64_t)tr->sf.train.columns;
        } else {
            PlanBatch b;
            const Batch *batch = step_batch(tr, feed, k, &b);
            norm = train_step(tr, batch, dataset_target_count(&tr->train, b.all, b.count_all),
                              &s);
            seqs = (int64_t)b.count_all;
        }
        if (!isfinite(norm) && nonfinite_step(tr, er, k)) break;
        /* the state after this step starts the next (not after a step stopped before) */
        if (tr->sf.on) stateful_advance(&tr->sf);
        er->seqs += seqs;
        if (!isfinite(norm)) continue;
        model_sums_add(&er->sums.loss, &s);
        er->sums.norm_sum += norm;
        er->sums.steps++;
        if (tr->d->rank == 0) epoch_progress(tr, er, k + 1, k0);
    }
    const double t_stop = metrics_now();
    batchfeed_stop(feed); /* may wait for the next epoch's first window: data time */
    tr->data_time += metrics_now() - t_stop;
    er->next = k;
    er->train_time = metrics_now() - er->t0;
}

/* Phase 2: close the epoch: its training sums over all ranks, and the state
 * to save (a partial epoch keeps its sums, to be continued on resume). */
static LossSums epoch_close(Trainer *tr, const EpochRun *er)
{
    TrainState *st = &tr->st;
    LossSums tsum = er->sums.loss;
    evaluate_allreduce(&tsum, tr->d);
    int partial = er->next < epoch_steps(tr);
    st->batch_in_epoch = partial ? er->next : 0;
    st->epoch = partial ? st->epoch : er->epoch;
    trainstate_keep_partial(st, partial, &tsum, er->sums.norm_sum, er->sums.steps, er->seqs,
                            er->sums.skipped);
    return tsum;
}

/* Phase 3: validate (NaNs without validation data). Collective. */
static EvalResult epoch_validate(Trainer *tr)
{
    EvalResult vres = {NAN, NAN, NAN, NAN, 0, NAN, NAN, NAN, NAN, NAN};
    tr->phase.what = "validation";
    if (tr->has_val) {
        LossSums vs = tr->sf.on ? stateful_validate(&tr->sf, &tr->m, tr->d)
                                : evaluate_shared(&tr->m, &tr->val, tr->cfg.batch_size, &tr->bb,
                                                  tr->d);
        vres = evaluate_result(&tr->m.spec, &vs);
    }
    return vres;
}

/* Phase 4: decide, the same on every rank: did the monitored value improve
 * (*improved), and does training stop after this epoch (returns 1): a
 * partial epoch, early stopping, or a stop signal at an epoch's end. */
static int epoch_decide(Trainer *tr, const EvalResult *mon, int partial, int *improved)
{
    const Config *c = &tr->cfg;
    *improved = 0;
    if (partial) return 1;
    int stop = 0;
    double value = c->monitor == MONITOR_VAL_ACC ? mon->acc : mon->loss;
    early_stopping(tr, value, improved, &stop);
    if (!stop && tr->st.epoch < c->epochs &&
        (tr->stop_signal = stop_signal_agreed(tr->d)) != 0)
        stop = 1;
    return stop;
}

/* When the run started, for the ETA: its clock and the epochs done then. */
typedef struct RunClock {
    double started;
    int64_t first_epoch;
} RunClock;

/* Phase 5 (rank 0): the epoch's row of metrics.csv and its screen line,
 * before its checkpoint: a run killed in between resumes from the previous
 * checkpoint and drops the row again. */
static void epoch_report(Trainer *tr, const EpochRun *er, const EvalResult *tres,
                         const EvalResult *vres, int stop, const RunClock *clock)
{
    const Config *c = &tr->cfg;
    const TrainState *st = &tr->st;
    const EpochSums *es = &er->sums;
    if (tr->d->rank != 0) return;
    double now = metrics_now();
    int64_t done_epochs = st->epoch - clock->first_epoch;
    double per_epoch = done_epochs > 0 ? (now - clock->started) / (double)done_epochs : 0;
    EpochRow row = {er->epoch, st->step, er->lr, tres->loss, metric_of(&tr->m.spec, tres),
                    tr->has_val, vres->loss, metric_of(&tr->m.spec, vres),
                    es->steps ? es->norm_sum / (double)es->steps : NAN,
                    er->train_time > 0 ? (double)er->seqs / er->train_time : 0, now - er->t0,
                    es->skipped};
    metrics_epoch(&tr->mt, &row, stop ? 0 : per_epoch * (double)(c->epochs - st->epoch));
}

/* Phase 6: the checkpoints, after checking the inputs did not change;
 * complete epochs then check that the replicas still agree. Collective. */
static int epoch_save(Trainer *tr, const EpochRun *er, int improved, int partial, Error *e)
{
    tr->phase.what = "checkpoint saving";
    if (trainer_inputs_unchanged_agreed(tr, "before writing a checkpoint", e)) return EXIT_USAGE;
    if (save_agreed(tr, improved, !partial, e)) return EXIT_FAIL;
    if (!partial && check_replicas(tr, er->epoch, e)) return EXIT_FAIL;
    return 0;
}

/* Phase 7 (rank 0): why training stops here, when it is early stopping or
 * max-steps (a signal or a non-finite step is reported by run_end). */
static void epoch_announce(const Trainer *tr, int stop, int partial)
{
    const Config *c = &tr->cfg;
    const TrainState *st = &tr->st;
    if (tr->d->rank != 0 || !stop) return;
    if (!partial && c->patience > 0 && st->bad_epochs >= c->patience)
        printf("early stopping: no improvement of %s for %d epochs (best %.6g at epoch "
               "%lld)\n",
               config_monitor_name(c->monitor), c->patience, st->best_metric,
               (long long)st->best_epoch);
    if (partial && !tr->stop_signal && !tr->nan_stop)
        printf("max-steps %lld reached\n", (long long)c->max_steps);
}

/* How the loop ended: 0 when training is done or stopped early/by
 * max-steps, else the exit code (on every rank) with e saying how to go on. */
static int run_end(const Trainer *tr, Error *e)
{
    const TrainState *st = &tr->st;
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

/* The epochs, each through its phases, until the last epoch, a stop or an
 * error. Collective. */
static int run_epochs(Trainer *tr, Error *e)
{
    const RunClock clock = {metrics_now(), tr->st.epoch};
    tr->ckpt_own_from = tr->st.epoch + 1; /* none before this launch's first epoch */
    int stop = 0;
    while (!stop && tr->st.epoch < tr->cfg.epochs) {
        if (trainer_inputs_unchanged_agreed(tr, "before the next epoch", e)) return EXIT_USAGE;
        EpochRun er = epoch_start(tr);
        train_epoch(tr, &er);
        const int partial = er.next < epoch_steps(tr);
        LossSums tsum = epoch_close(tr, &er);
        EvalResult tres = evaluate_result(&tr->m.spec, &tsum), vres = epoch_validate(tr);
        int improved;
        stop = epoch_decide(tr, tr->has_val ? &vres : &tres, partial, &improved);
        epoch_report(tr, &er, &tres, &vres, stop, &clock);
        int rc = epoch_save(tr, &er, improved, partial, e);
        if (rc) return rc;
        epoch_announce(tr, stop, partial);
    }
    return run_end(tr, e);
}

int train_run(const Config *cfg, const Dist *d, Error *e)
{
    Trainer tr;
    int rc = trainer_start(&tr, cfg, d, e);
    if (!rc && !tr.plan.finished) {
        rc = run_epochs(&tr, e);
        if (!rc && tr.d->rank == 0) trainer_report_done(&tr);
    }
    trainer_free(&tr);
    return rc;
}
