/* datagen.h - the built-in tasks: datasets of the tutorials this project grew
 * from, written as HDF5 files that follow the dataset schema
 * (datasets/README.md).
 *
 * Every value is a pure function of (seed, task, row, column) drawn from the
 * counter-based RNG (rng.h), so the same spec always gives the same data,
 * whatever the order of generation. Each file holds groups /train and /val
 * (and /test for arith), each with 'inputs' and 'targets' and the attributes
 * num_classes / vocab_size / description / best_acc or noise_floor_rmse; the
 * root carries task, seed, description and the ceiling of /val (best_acc for
 * classes, noise_floor_rmse and noise_floor_mse for values).
 */
#ifndef RNN_DATAGEN_H
#define RNN_DATAGEN_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* What to generate. n and seq_len <= 0 take the task's defaults. */
typedef struct DatagenSpec {
    const char *task;   /* counting | seqclass | stepclass | arith | sine | adding | lookahead */
    const char *out;    /* the file to create (main passes outfile.h's temporary name) */
    long n;             /* size, task-specific: sequences in the file (counting,
                         * seqclass, stepclass, arith), points of the series
                         * (sine), train sequences (adding; /val gets n/5) */
    int seq_len;        /* T: steps per sequence (window length for sine) */
    uint64_t seed;
} DatagenSpec;

/* Write the task's dataset file s->out, created (truncated) as it is: the
 * caller guards existing files (outfile.h). Returns 0, or fills e:
 * EXIT_USAGE for an unknown task, sizes outside the task's range (the
 * message names the valid range), both checked before anything is written,
 * or a path that cannot be created; EXIT_FAIL when HDF5 fails while
 * writing; EXIT_SIGNAL when a stop signal (signals.h) arrived meanwhile
 * (the caller removes the file). Only rank 0 should call it. */
int datagen_run(const DatagenSpec *s, Error *e);

/* One line per task for --help: name, shapes, defaults, what it reproduces. */
void datagen_print_tasks(FILE *f);

#endif
