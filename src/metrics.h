/* metrics.h - rank-0 reporting: metrics.csv, progress on a terminal, one
 * line per epoch otherwise. Only rank 0 creates a Metrics. */
#ifndef RNN_METRICS_H
#define RNN_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* One row of metrics.csv. */
typedef struct EpochRow {
    int64_t epoch, step;
    double lr;
    double train_loss, train_metric;
    int has_val;
    double val_loss, val_metric;
    double grad_norm;       /* mean over the epoch's steps, before clipping */
    double seq_per_s;
    double seconds;         /* wall time of the epoch (training + validation) */
    int64_t skipped;        /* updates skipped on a non-finite loss or gradient */
} EpochRow;

typedef struct Metrics {
    FILE *csv;
    int is_class;           /* metric is acc (1) or rmse (0) */
    int tty;                /* stdout is a terminal: live progress line */
    int epochs;             /* planned, for ETA */
    double last_draw;
} Metrics;

/* Monotonic wall-clock seconds. */
double metrics_now(void);

/* Open run_dir/metrics.csv. When resuming (keep_epochs >= 0) the rows of
 * epochs <= keep_epochs are kept and later ones dropped; otherwise the file
 * is started anew with its header. */
int metrics_open(Metrics *mt, const char *run_dir, int is_class, int epochs,
                 int64_t keep_epochs, Error *e);
void metrics_close(Metrics *mt);

/* Append a row (flushed) and print the epoch line. */
void metrics_epoch(Metrics *mt, const EpochRow *r, double eta_seconds);

/* Live progress within an epoch (terminal only, at most ~10 redraws/s). */
void metrics_progress(Metrics *mt, int64_t epoch, int64_t batch, int64_t batches,
                      double running_loss, double eta_seconds);

#endif
