/* train.c - the training loop (see train.h; the run's start and end: train_setup.c). */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evaluate.h"
#include "fault.h"
#include "rng.h"
#include "signals.h"
#include "stopping.h"
#include "trainer.h"

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
        if (trainer_inputs_unchanged_agreed(tr, "before the next epoch", e)) return EXIT_USAGE;
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
        trainstate_keep_partial(st, partial, &tsum, es.norm_sum, es.steps, seqs, es.skipped);
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
        if (!stop && !partial && st->epoch < c->epochs &&
            (tr->stop_signal = stop_signal_agreed(d)) != 0)
            stop = 1;
        /* the epoch's row before its checkpoint: a run killed in between
         * resumes from the previous checkpoint and drops the row again */
        if (d->rank == 0) {
            double now = metrics_now();
            int64_t done_epochs = st->epoch - first_epoch;
            double per_epoch = done_epochs > 0 ? (now - started) / (double)done_epochs : 0;
            EpochRow row = {epoch, st->step, c->lr, tres.loss, metric_of(&tr->m.spec, &tres),
                            tr->has_val, vres.loss, metric_of(&tr->m.spec, &vres),
                            es.steps ? es.norm_sum / (double)es.steps : NAN,
                            train_time > 0 ? (double)seqs / train_time : 0, now - t0,
                            es.skipped};
            metrics_epoch(&tr->mt, &row, stop ? 0 : per_epoch * (double)(c->epochs - st->epoch));
        }
        tr->phase.what = "checkpoint saving";
        if (trainer_inputs_unchanged_agreed(tr, "before writing a checkpoint", e))
            return EXIT_USAGE;
        if (save_agreed(tr, improved, !partial, e)) return EXIT_FAIL;
        if (!partial && check_replicas(tr, epoch, e)) return EXIT_FAIL;
        if (d->rank != 0) continue;
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

int train_run(const Config *cfg, const Dist *d, Error *e)
{
    Trainer tr;
    int rc = trainer_start(&tr, cfg, d, e);
    if (!rc && !tr.plan.finished) {
        tr.order = xcalloc(tr.train.n, sizeof(size_t));
        rc = run_epochs(&tr, e);
        if (!rc && tr.d->rank == 0) trainer_report_done(&tr);
    }
    trainer_free(&tr);
    return rc;
}
