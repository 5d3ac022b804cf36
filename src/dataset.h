/* dataset.h - sequence datasets in HDF5: schema checks, rows, batches.
 *
 * A dataset is an HDF5 group (the file root, or /train, /val, /test):
 *   inputs   float [N, T, F] (dense) or integer [N, T] (token ids)
 *   targets  integer [N, T] / [N] (classes) or float [N, T, O] / [N, O] (values)
 *   lengths  integer [N], optional: valid steps of each padded sequence, 1..T
 *   attrs    num_classes (class targets), vocab_size (token inputs), description
 * Attributes are looked up on the group, then on the file root.
 *
 * A Dataset is a contiguous range of rows [row0, row0 + n) of one group,
 * checked completely when opened, then held in memory (rows in file order).
 */
#ifndef RNN_DATASET_H
#define RNN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "model.h"

#define DATASET_PATH 1024

typedef struct Dataset {
    char file[DATASET_PATH];
    char group[256];        /* "/" or "/train", ... */
    char inputs_path[300], targets_path[300], lengths_path[300]; /* members under group */
    InputKind input;
    LossKind kind;          /* LOSS_CE: class targets; LOSS_MSE: value targets */
    TargetMode target;      /* per step [N, T(, O)] or per sequence [N(, O)] */
    size_t n;               /* rows in this view */
    size_t row0;            /* first row of the view in the group */
    size_t total_rows;      /* rows in the group */
    int T, F, O;            /* steps, dense features (1 for tokens), outputs */
    int vocab;              /* token input: vocab_size */
    int num_classes;        /* class targets: num_classes (== O) */
    int has_lengths;
    int has_targets;        /* 0 only when opened with need_targets = 0 */
    char description[512];
    /* rows in memory, batch-first, owned */
    int32_t *lengths;       /* [n] (T when the file has none) */
    float *x;               /* dense [n, T, F] */
    int32_t *tokens;        /* [n, T] */
    int32_t *y_class;       /* [n, T] or [n] */
    float *y_value;         /* [n, T, O] or [n, O] */
} Dataset;

/* Where to look for the dataset when a path names no group. */
typedef enum DatasetRole { ROLE_TRAIN, ROLE_VAL, ROLE_EVAL } DatasetRole;

/* Resolve `spec` ("F.h5" or "F.h5:/group"; the colon splits only when the
 * whole spec is not itself a file) to a file and group. Without a
 * group: the root when it has 'inputs', else the first group present of
 * /train (ROLE_TRAIN), /val then /test (ROLE_VAL), /test, /val then /train
 * (ROLE_EVAL). */
int dataset_resolve(char *file, size_t file_len, char *group, size_t group_len,
                    const char *spec, DatasetRole role, Error *e);

/* Does `file` have a group `name` holding 'inputs'? */
int dataset_has_group(const char *file, const char *name);

/* Rows in a group (the first dimension of its inputs), after checking the
 * file opens; for sizing splits before dataset_open. */
int dataset_count_rows(size_t *n, const char *file, const char *group, Error *e);

/* Open rows [row0, row0 + n) of file:group (n = 0: to the end), check them
 * against the schema, and load them. need_targets = 0 accepts a group without
 * 'targets' (for predict). On failure the message names file, member and the
 * first bad index, code EXIT_USAGE. */
int dataset_open(Dataset *ds, const char *file, const char *group, size_t row0, size_t n,
                 int need_targets, Error *e);
void dataset_close(Dataset *ds);

/* Count of valid targets in rows[0..n) of the view (rows NULL: every row):
 * steps, or sequences for per-sequence targets, times O for values. The
 * denominator of the mean loss. */
double dataset_target_count(const Dataset *ds, const size_t *rows, size_t n);

/* Buffers for one time-major batch; grows to the largest batch and is then
 * reused. b views the arrays. */
typedef struct BatchBuf {
    Batch b;
    float *x;
    int32_t *tokens, *lengths, *y_class;
    float *y_value;
    uint32_t *sample;
    size_t cap_rows, cap_tb;
} BatchBuf;

/* Gather rows[0..count) of ds (indices within the view) into bb as a
 * time-major batch; T is trimmed to the longest length among them. */
void dataset_fill_batch(BatchBuf *bb, const Dataset *ds, const size_t *rows, int count);
void batchbuf_free(BatchBuf *bb);

#endif
