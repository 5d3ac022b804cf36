/* resume.h - what `--resume` may change, decided before anything is built.
 *
 * A resumed run is the same run: options this launch does not give (neither
 * in --config nor on the command line) take the values stored in the
 * checkpoint. Of the options that differ:
 *  - those that decided the numbers already computed (model, seed, shuffle,
 *    optimizer, monitor, val-split; batch-size while the run stopped
 *    mid-epoch) are refused, each named with both values;
 *  - data and val may move, but must be the same file (rows and contents);
 *  - those that only steer the future (epochs, lr, patience, ...) are
 *    applied, printed once ("resume: lr 0.001 -> 0.0005") and recorded in
 *    config.ini and run-dir/resumes.log.
 * A finished run (nothing left to train under the new options) is reported
 * and left untouched, whatever else changed.
 */
#ifndef RNN_RESUME_H
#define RNN_RESUME_H

#include <stdio.h>

#include "check.h"
#include "checkpoint.h"
#include "config.h"

/* The outcome of resume_plan. */
typedef struct ResumePlan {
    TrainState st;          /* the checkpoint's training state */
    int finished;           /* nothing left to train: why[] says so */
    char why[512];          /* finished: "all 10 epochs are done" ... */
    char changes[2048];     /* "lr 0.01 -> 0.005, epochs 10 -> 20", "" if none */
} ResumePlan;

/* Read checkpoint `ckpt` (opened by checkpoint_open_verified), complete *c
 * with its stored options (those c does not set), and compare. On success
 * *c is the resumed run's config, p says whether the run is finished and
 * what changed (each change is printed on out as "resume: NAME OLD -> NEW"
 * unless the run is finished). Returns 0,
 * or EXIT_USAGE naming every refused change with both values. */
int resume_plan(ResumePlan *p, Config *c, const H5Input *ckpt, FILE *out, Error *e);

/* Is the data this launch opened the data the run trained on? stored: from
 * the checkpoint; now: this launch's (the file, its rows and fingerprint).
 * role: "data" or "val". A moved file is fine (printed on out); another file
 * or other contents are refused. */
int resume_check_data(const DataIdentity *stored, const DataIdentity *now, const char *role,
                      FILE *out, Error *e);

/* Append one line to run_dir/resumes.log: when, from which checkpoint, at
 * which epoch and step, on how many ranks, and the changes. */
int resume_log(const char *run_dir, const char *ckpt, const ResumePlan *p, int ranks, Error *e);

#endif
