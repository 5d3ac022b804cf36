/* metrics.h - rank-0 reporting: metrics.csv, a live progress line on a
 * terminal, else a progress line every --progress-every seconds, and one line
 * per epoch. Only rank 0 creates a Metrics. */
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
    double every;           /* not a terminal: seconds between progress lines (0: none) */
    double last_line;       /* metrics_now() of the last progress line (or of the open) */
} Metrics;

/* Where training is within an epoch, for metrics_progress. */
typedef struct ProgressTick {
    int64_t epoch;          /* 1-based */
    int64_t batch, batches; /* batches done in this epoch, of batches */
    int64_t step;           /* optimizer steps taken so far in the run */
    double loss;            /* running mean training loss of the epoch (rank 0's batches) */
    double seq_per_s;       /* sequences (all ranks) per second in this epoch */
    double eta_epoch;       /* seconds to the end of the epoch */
    double eta_run;         /* seconds to the end of the run's training (epochs planned) */
} ProgressTick;

/* Monotonic wall-clock seconds. */
double metrics_now(void);

/* What one metrics_now costs, in seconds: the least gap between two
 * successive reads of 16, measured now (for timing very short spans). */
double metrics_clock_cost(void);

/* Open run_dir/metrics.csv. When resuming (keep_epochs >= 0) the rows of
 * epochs <= keep_epochs are kept and later ones dropped; otherwise the file
 * is started anew with its header. progress_every: seconds between the
 * progress lines printed when stdout is not a terminal (0: none). */
int metrics_open(Metrics *mt, const char *run_dir, int is_class, int epochs,
                 int64_t keep_epochs, double progress_every, Error *e);
void metrics_close(Metrics *mt);

/* Append a row (flushed) and print the epoch line. */
void metrics_epoch(Metrics *mt, const EpochRow *r, double eta_seconds);

/* Progress within an epoch, called after each step: on a terminal a live
 * line (at most ~10 redraws/s, ETA of the epoch); otherwise, when at least
 * mt->every seconds (> 0) have passed since the last line (or the open), one
 * line `progress: epoch E/N batch B/NB step S loss L R seq/s eta T` (ETA of
 * the run's training). */
void metrics_progress(Metrics *mt, const ProgressTick *t);

#endif
