/* trainer.h - the state of one training run, shared by the files of the
 * train module (train.h is its public face):
 *   train_setup.c  taking the run directory, planning a resume, opening and
 *                  identifying the inputs, building the model and optimizer,
 *                  opening config.ini / resumes.log / metrics.csv, reports;
 *   train.c        the loop: an epoch's phases (train its steps, close it,
 *                  validate, decide, report, save, check the replicas).
 * Internal: no other module includes it.
 */
#ifndef RNN_TRAINER_H
#define RNN_TRAINER_H

#include <stdint.h>

#include "allreduce.h"
#include "check.h"
#include "checkpoint.h"
#include "config.h"
#include "datahold.h"
#include "dataset.h"
#include "dist.h"
#include "epochplan.h"
#include "filestamp.h"
#include "gemmchoice.h"
#include "metrics.h"
#include "model.h"
#include "optim.h"
#include "resume.h"
#include "rundir.h"
#include "stateful.h"

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
    GemmChoice gemm;          /* the GEMM kernel (m.isa) and how it was chosen */
    float *class_weight;      /* class-weights [classes] (m.class_weight), or NULL */
    Optim o;
    TrainState st;
    BatchBuf bb;
    EpochPlan rows;           /* the rows of each step of an epoch, and their read-ahead */
    PlanBatch ahead;          /* the next step's rows, prefetched a few at a time by the step */
    PlanBatch ahead2;         /* the step after: where its rows are held, prefetched alike */
    size_t ahead_done;        /* how many of ahead.mine are prefetched */
    uint64_t mem_room;        /* bytes under the memory limit beyond the run's estimate */
    DataHold hold;            /* what of the data this rank holds in memory */
    int feed;                 /* 1: a helper thread gathers the batches (batchfeed.h) */
    double hold_time;         /* seconds reading rows at start: held ones, the first window */
    double data_time;         /* seconds reading ahead, batching rows or waiting for them */
    Stateful sf;              /* --stateful 1: the streams and the carried state (sf.on) */
    Metrics mt;               /* rank 0 only */
    GradBuckets buckets;      /* gradient ranges reduced as the backward pass ends each */
    Allreduce *pending;       /* their all-reduces (allreduce.h) */
    double comm_wait, step_time; /* seconds waiting on the reduction, in steps */
    double clock_cost;        /* seconds one metrics_now takes (metrics_clock_cost) */
    int stop_signal;          /* the stop signal every rank agreed on, or 0 */
    int nan_stop;             /* stopped before a non-finite step (--on-nan stop) */
    int64_t nan_warned;       /* skipped-step warnings printed so far */
    int fault_nan;            /* RNN_DIST_FAULT=nan on this rank */
    int fault_stall;          /* RNN_DIST_FAULT=stall on this rank */
    Error save_err;           /* the last failed save (--on-save-error continue), code 0 if none */
    int64_t ckpt_own_from;    /* rank 0: the numbered checkpoints of this epoch on were written
                               * by this launch (pruned unread: no probe, no fork) */
} Trainer;

/* Fill *tr for cfg on every rank (collective): take the run directory, plan
 * a resume, open and check the inputs, check the memory, build the model
 * and optimizer, write config.ini (and resumes.log) and open metrics.csv;
 * rank 0 prints the run's first line. A resumed run that is finished is
 * reported (rank 0) and left untouched: returns 0 with tr->plan.finished.
 * Returns 0, or an exit code with e filled (the same on every rank).
 * Release with trainer_free in every case. */
int trainer_start(Trainer *tr, const Config *cfg, const Dist *d, Error *e);

/* Has an input file changed since it was opened (size, mtime, inode)?
 * Rank 0 looks, every rank gets its verdict: 0, or EXIT_USAGE with e naming
 * the file and saying the run stops `when` ("before the next epoch", ...).
 * Collective: at every epoch start and before every checkpoint. */
int trainer_inputs_unchanged_agreed(Trainer *tr, const char *when, Error *e);

/* Rank 0: the closing lines of a completed run (all-reduce wait, best). */
void trainer_report_done(const Trainer *tr);

/* Release everything trainer_start acquired (the run directory's lock too). */
void trainer_free(Trainer *tr);

#endif
