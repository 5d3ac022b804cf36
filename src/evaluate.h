/* evaluate.h - forward passes without training: loss and metrics over a
 * dataset, and predictions for every row. */
#ifndef RNN_EVALUATE_H
#define RNN_EVALUATE_H

#include <stddef.h>

#include "check.h"
#include "dataset.h"
#include "dist.h"
#include "model.h"
#include "scale.h"
#include "scoring.h"

/* Mean loss and metrics from summed statistics. */
typedef struct EvalResult {
    double loss;   /* mean cross-entropy, or MSE */
    double acc;    /* classes */
    double rmse;   /* values */
    double mae;    /* values */
    double n;      /* valid targets counted (elements for values) */
    double rmse_norm, mae_norm; /* values with target statistics: rmse and mae of
                                 * the stored (standardised) values; rmse and mae
                                 * are then in the original units. Else NaN */
    double bpc;        /* token inputs, per-step classes: loss / ln 2, else NaN */
    double perplexity; /* token inputs, per-step classes: exp(loss), else NaN */
    double f1_macro;   /* classes, from Scores (evaluate_result_scored), else NaN */
} EvalResult;

/* Mean loss and metrics (accuracy, or RMSE and MAE; bpc and perplexity) of
 * summed statistics; NaNs when nothing was counted. */
EvalResult evaluate_result(const ModelSpec *spec, const LossSums *s);

/* evaluate_result, with the scores of sc (summed over ranks): f1_macro
 * (classes); with target statistics (sc->tg_std) rmse and mae in the
 * original units and rmse_norm, mae_norm as stored. */
EvalResult evaluate_result_scored(const ModelSpec *spec, const LossSums *s, const Scores *sc);

/* Sum *s over every rank, in place (the same totals on every rank). */
void evaluate_allreduce(LossSums *s, const Dist *d);

/* Loss statistics of all of ds, evaluated in batches of `batch` rows
 * without dropout: each rank evaluates a contiguous share of the rows
 * (epochplan.h, PLAN_SPLIT_ROWS; a streamed ds is read ahead a window at a
 * time, never more), the sums are reduced, every rank gets the total. bb is
 * reusable batch storage. Collective. */
LossSums evaluate_shared(Model *m, Dataset *ds, int batch, BatchBuf *bb, const Dist *d);

/* evaluate_shared, also adding every batch's scores to sc (scoring.h,
 * initialised by the caller) and summing them over the ranks (in double:
 * the counts stay exact). sc NULL: evaluate_shared. Collective. */
LossSums evaluate_scored(Scores *sc, Model *m, Dataset *ds, int batch, BatchBuf *bb,
                         const Dist *d);

/* Open rows [row0, row0 + n) of group of the open input `in` streamed (need_targets as
 * dataset_open), each rank checking the values of its contiguous share of
 * the rows. Collective; every rank returns the same verdict: the message of
 * the lowest bad row (or of the schema) found by any rank. On failure ds is
 * closed. */
int evaluate_open_shared(Dataset *ds, const Dist *d, const H5Input *in, const char *group,
                         size_t row0, size_t n, int need_targets, Error *e);

/* Is ds usable with a model of this spec (inputs, outputs, target kind)?
 * EXIT_USAGE naming the mismatch otherwise. need_targets = 0 accepts a
 * dataset without targets. */
int evaluate_check_data(const ModelSpec *spec, const Dataset *ds, int need_targets, Error *e);

/* Called for each batch of a pass over every row (evaluate_all_rows): bb
 * holds view rows rows[0..n) = [first, first + n) as a time-major batch.
 * Non-zero ends the pass with that code. */
typedef int (*EvaluateRowsFn)(void *ctx, const BatchBuf *bb, const size_t *rows, size_t first,
                              size_t n);

/* A pass of the calling rank over every row of ds in order, `batch` rows a
 * step, read ahead a window at a time (epochplan.h): fn(ctx, ...) for each
 * batch. A stop signal (signals.h) ends it between batches with *stop = the
 * signal (else 0). *done = rows done. Returns fn's first non-zero code, or 0. */
int evaluate_all_rows(Dataset *ds, int batch, EvaluateRowsFn fn, void *ctx, int *stop,
                      size_t *done);

/* Write predictions for every row of ds (input order) to out_path:
 * /outputs float32 [N, T, O] or [N, O] raw fc outputs (logits or values),
 * /predictions int32 argmax classes [N, T] / [N], or float32 values as
 * /outputs in the original units (scale.h: outputs * target_std +
 * target_mean when sc has target statistics, else equal to /outputs),
 * /probabilities float32 as /outputs (classes: the softmax of the outputs),
 * /lengths int32 [N], /targets (when ds has them; values in the original
 * units as the predictions); padded steps hold NaN (outputs, values,
 * probabilities) or -1 (classes). Attributes: loss, target, out, units
 * (values: "original" or "stored"), and rnn_dist_output = "predictions"
 * (outfile.h: a rerun may replace it).
 * Streams: the datasets are created at their full shape first, then each
 * batch of `batch` rows is computed and written as one hyperslab; a
 * streamed ds is read a window at a time (epochplan.h), so neither the
 * inputs nor the outputs are ever held whole. Runs on the calling rank.
 * A stop signal (signals.h) ends it between batches with EXIT_SIGNAL (the
 * caller then removes the partial file). */
int evaluate_predict(Model *m, Dataset *ds, const Scale *sc, int batch, const char *out_path,
                     Error *e);

#endif
