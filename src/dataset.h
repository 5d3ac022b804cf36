/* dataset.h - sequence datasets in HDF5: schema checks, rows, batches.
 *
 * A dataset is an HDF5 group (the file root, or /train, /val, /test):
 *   inputs   float [N, T, F] (dense) or integer [N, T] (token ids)
 *   targets  integer [N, T] / [N] (classes) or float [N, T, O] / [N, O] (values)
 *   lengths  integer [N], optional: valid steps of each padded sequence, 1..T
 *   attrs    num_classes (class targets), vocab_size (token inputs), description
 * Attributes are looked up on the group, then on the file root.
 *
 * A Dataset is a contiguous range of rows [row0, row0 + n) of one group (the
 * view). Opened resident, every row is checked and held in memory. Opened
 * streamed, only the lengths [n] and where each row is held [n] stay in
 * memory (8 bytes a row); this
 * process checks its share of the rows at open, then holds just the rows it
 * asks for (dataset_load, or dataset_fill_batch on a miss), read from the
 * file in few large sorted reads (h5io_read_*_rows): a rank reads only the
 * rows it trains on, and dataset_hold_all makes it resident.
 */
#ifndef RNN_DATASET_H
#define RNN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "h5io.h"
#include "types.h"

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
    int32_t *lengths;       /* [n] every row of the view (T when the file has none), owned */
    int64_t bad_row;        /* after a failed open: the group row with a bad value, or -1 */
    /* streamed: the open file (an hid_t) and the view rows held, ascending */
    int streamed;
    int64_t file_id;
    size_t *cached;         /* [n_cached] */
    uint32_t *slot_index;   /* [n] the slot of each view row held, UINT32_MAX if not */
    size_t n_cached, cap_cached;
    int64_t reloads;        /* batches that were not held and had to be read on
                             * the spot: read-ahead (epochplan.h) missed them */
    /* row data, batch-first, owned: resident [n, ...] by view row; streamed
     * [n_cached, ...] in the order of cached */
    float *x;               /* dense [., T, F] */
    int32_t *tokens;        /* [., T] */
    int32_t *y_class;       /* [., T] or [.] */
    float *y_value;         /* [., T, O] or [., O] */
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

/* dataset_resolve, leaving the file open in *in (the caller closes it,
 * h5io_input_close) for the *_in functions below: the file is probed and
 * opened once. The file part may be up to DATASET_PATH - 1 long. On failure
 * *in is closed. */
int dataset_resolve_in(H5Input *in, char *group, size_t group_len, const char *spec,
                       DatasetRole role, Error *e);

/* Does the open input `in` have a group `name` holding 'inputs'? */
int dataset_has_group_in(const H5Input *in, const char *name);

/* Rows in a group (the first dimension of its inputs), after checking the
 * file opens; for sizing splits before dataset_open. dataset_count_rows_in:
 * of an open input. */
int dataset_count_rows(size_t *n, const char *file, const char *group, Error *e);
int dataset_count_rows_in(size_t *n, const H5Input *in, const char *group, Error *e);

/* Open rows [row0, row0 + n) of file:group (n = 0: to the end), check them
 * against the schema, and load them. need_targets = 0 accepts a group without
 * 'targets' (for predict). On failure the message names file, member and the
 * first bad index, code EXIT_USAGE. */
int dataset_open(Dataset *ds, const char *file, const char *group, size_t row0, size_t n,
                 int need_targets, Error *e);
/* The same of an open input (in->path names it in ds->file and messages);
 * in stays the caller's. */
int dataset_open_in(Dataset *ds, const H5Input *in, const char *group, size_t row0, size_t n,
                    int need_targets, Error *e);

/* Bytes of rows a streamed reader holds at a time: the chunk of the check at
 * open, and the read-ahead of training, evaluation and prediction (at least
 * one batch whatever its size). */
#define DATASET_WINDOW_BYTES ((size_t)8 << 20)

/* Open rows [row0, row0 + n) of file:group streamed (need_targets as
 * dataset_open): the schema is checked, the lengths are read, and the values
 * of the view rows [check_lo, check_hi) only are read and checked, a bounded
 * chunk (DATASET_WINDOW_BYTES) at a time; ranks split the check and combine
 * the verdicts. On a bad value the message names file, member and index and
 * ds->bad_row is set. */
int dataset_open_streamed(Dataset *ds, const char *file, const char *group, size_t row0,
                          size_t n, int need_targets, size_t check_lo, size_t check_hi,
                          Error *e);
/* The same of an open input; ds takes its own reference to the open file
 * (dropped by dataset_close), so the caller may close in at any time. */
int dataset_open_streamed_in(Dataset *ds, const H5Input *in, const char *group, size_t row0,
                             size_t n, int need_targets, size_t check_lo, size_t check_hi,
                             Error *e);

/* Streamed: make the cache hold the view rows rows[0..n) (any order, repeats
 * allowed); read-ahead for the coming batches. When it holds them all
 * already nothing is read, else what it held is replaced by them, read in
 * few large sorted reads (h5io_read_*_rows). Resident: nothing to do. A
 * read failure ends the job (CHECK). */
void dataset_load(Dataset *ds, const size_t *rows, size_t n);

/* dataset_load, but a read failure is returned (its code, e set; what the
 * cache held is then undefined) rather than ending the job: for a thread
 * that must not end it (batchfeed.c's helper). 0 on success. */
int dataset_try_load(Dataset *ds, const size_t *rows, size_t n, Error *e);

/* Streamed: dataset_load of the view rows [lo, hi). */
void dataset_load_range(Dataset *ds, size_t lo, size_t hi);

/* Make ds's row data (inputs, targets: x or tokens, y_class or y_value)
 * room for n rows of its kind, zeroed (xalloc_rows), releasing what it had;
 * dataset_rows_free releases it. For dataset.c and dataset_cache.c. */
void dataset_rows_alloc(Dataset *ds, size_t n);
void dataset_rows_free(Dataset *ds);

/* Streamed (dataset_cache.c): replace the rows held by the view rows
 * rows[0..n) (ascending, distinct), read from the file. Returns 0, or
 * EXIT_USAGE with e filled (nothing is then held). */
int dataset_read_rows(Dataset *ds, const size_t *rows, size_t n, Error *e);

/* Streamed: read every row of the view (a few large reads) and become
 * resident, closing the file; a resident dataset is left as it is. The
 * values were checked at open (each rank its share). Returns 0, or
 * EXIT_USAGE with e filled when the file cannot be read (ds is then still
 * valid to close). */
int dataset_hold_all(Dataset *ds, Error *e);

/* Where view row `row` is in ds's row data: the row itself when resident,
 * its slot in the cache when streamed, SIZE_MAX when not held. */
size_t dataset_slot(const Dataset *ds, size_t row);

/* Bytes of row data (inputs and targets) per row, for sizing read-ahead. */
size_t dataset_row_bytes(const Dataset *ds);

/* Release a dataset's memory and close its file (streamed); a failed or
 * zeroed Dataset may be closed too. */
void dataset_close(Dataset *ds);

/* Count of valid targets in rows[0..n) of the view (rows NULL: every row):
 * steps, or sequences for per-sequence targets, times O for values. The
 * denominator of the mean loss. */
double dataset_target_count(const Dataset *ds, const size_t *rows, size_t n);

/* Batches (dataset_batch.c). Buffers for one time-major batch; grows to the
 * largest batch and is then reused. b views the arrays. */
typedef struct BatchBuf {
    Batch b;
    float *x;
    int32_t *tokens, *lengths, *y_class;
    float *y_value;
    uint32_t *sample;
    size_t *slot;           /* [cap_rows] where each row of the batch is in the row data */
    size_t cap_rows, cap_tb;
} BatchBuf;

/* Make bb hold a batch of up to `rows` sequences of `steps` steps of ds's
 * kind: lengths and sample [rows], inputs [steps, rows(, F)], targets
 * [steps, rows(, O)] when ds has them. Keeps the buffers when large enough,
 * else replaces them (contents are not kept); b is not touched. */
void batchbuf_reserve(BatchBuf *bb, const Dataset *ds, size_t rows, size_t steps);

/* Copy step t of the row in slot `slot` of ds's row data (the view row when
 * resident; its place in ds->cached when streamed) to the time-major place
 * dst (= t' * B + b) of bb: the input, and the target when ds has per-step
 * targets. bb must be reserved for ds. */
void batchbuf_put_step(BatchBuf *bb, size_t dst, const Dataset *ds, size_t slot, size_t t);

/* Gather rows[0..count) of ds (indices within the view) into bb as a
 * time-major batch; T is trimmed to the longest length among them. A
 * streamed dataset reads the rows it does not hold (dataset_load) and
 * counts it in ds->reloads. */
void dataset_fill_batch(BatchBuf *bb, Dataset *ds, const size_t *rows, int count);

/* Start fetching rows[0..count) of ds (view rows; those not held are
 * skipped) into the cache: the first lines of each row's inputs and
 * targets, which the hardware cannot guess (a shuffled epoch takes rows at
 * random); it streams the rest of each row. Reads nothing, changes nothing. */
void dataset_prefetch(const Dataset *ds, const size_t *rows, size_t count);

/* Start fetching where rows[0..count) of a streamed ds are held (its
 * slot_index entries, which dataset_prefetch reads): a step ahead of their
 * dataset_prefetch. Nothing for a resident ds. Reads nothing, changes
 * nothing. */
void dataset_prefetch_slots(const Dataset *ds, const size_t *rows, size_t count);

/* The targets of rows[0..count) of ds (indices within the view) as stored,
 * row after row, padding included; a streamed dataset reads the rows it
 * does not hold (dataset_load, counted in ds->reloads). ds must have targets.
 *   classes  out [count, T] (per step) or [count]: class targets, else unused
 *   values   out [count, T, O] or [count, O]: value targets, else unused */
void dataset_copy_targets(int32_t *classes, float *values, Dataset *ds, const size_t *rows,
                          int count);
void batchbuf_free(BatchBuf *bb);

#endif
