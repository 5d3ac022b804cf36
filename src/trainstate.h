/* trainstate.h - where training stands (TrainState), and the one table of
 * its fields that saving, loading and comparing it all read.
 *
 * The table gives each field's name (the checkpoint attribute it is stored
 * as: see checkpoint.h; the scripts in scripts/ read these names), its type and place;
 * a field added to TrainState is added to the table once, and checkpoints
 * carry it from then on.
 */
#ifndef RNN_TRAINSTATE_H
#define RNN_TRAINSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "schedule.h"

/* The identity of an input a run trains on, checked on resume: the same
 * rows of the same file, wherever it now lives. */
typedef struct DataIdentity {
    char file[512];         /* the path as given, "" when there is none */
    int64_t rows;           /* rows of its group; -1: unknown (an older checkpoint) */
    uint64_t bytes, hash;   /* filestamp_fingerprint */
} DataIdentity;

/* Where training stands; saved with every checkpoint. */
typedef struct TrainState {
    int64_t epoch;          /* completed epochs */
    int64_t batch_in_epoch; /* batches done in the current epoch (0 at a boundary) */
    int64_t step;           /* optimizer steps taken */
    double best_metric;     /* best monitored value so far; NAN if none yet */
    int64_t best_epoch;     /* epoch (1-based) of best_metric, 0 if none */
    int64_t bad_epochs;     /* epochs since the last improvement */
    uint64_t seed;
    int64_t world_size;     /* ranks of the run that saved */
    /* sums of the current epoch so far, when stopped mid-epoch (max-steps,
     * a signal, --on-nan stop); all 0 at an epoch boundary */
    double part_loss, part_count, part_correct, part_abs_err, part_norm_sum;
    int64_t part_steps;
    int64_t part_seqs;      /* sequences trained in the epoch so far (skipped updates too) */
    int64_t part_skipped;   /* updates skipped (--on-nan skip) so far in the epoch */
    uint64_t run_id;        /* random at a run's start, kept across resumes; 0: unknown */
    DataIdentity data, val; /* the training and validation inputs */
    LrState sched;          /* the plateau lr schedule's state (schedule.h) */
    double part_weight;     /* mid-epoch: the loss's denominator so far (LossSums weight);
                             * < 0 (TRAINSTATE_WEIGHT_UNKNOWN): an older checkpoint, read
                             * as part_count */
} TrainState;

/* part_weight of a checkpoint written before class weights. */
#define TRAINSTATE_WEIGHT_UNKNOWN (-1.0)

/* How a field is stored. */
typedef enum StateType {
    STATE_I64, /* int64_t */
    STATE_U64, /* uint64_t, stored as its int64_t bit pattern */
    STATE_F64, /* double */
    STATE_HEX, /* uint64_t, stored as 16 lowercase hex digits */
    STATE_STR  /* char[size], NUL-terminated */
} StateType;

/* One field of TrainState. */
typedef struct StateField {
    const char *name;  /* attribute name, e.g. "epoch", "data_fingerprint" */
    StateType type;
    size_t offset;     /* in TrainState */
    size_t size;       /* bytes in TrainState */
    int required;      /* 0: absent from older checkpoints, then `missing` */
    int64_t missing;   /* the value of an absent optional number ("" for a string) */
} StateField;

/* The fields of TrainState in the order they are written; *count is set
 * to their number. The table is static. */
const StateField *trainstate_fields(int *count);

/* The value of field f of st as text (at most len - 1 bytes): integers in
 * decimal, best_metric and the sums in shortest round-trip form, run_id and
 * fingerprints as 16 hex digits, strings as they are. */
void trainstate_field_text(char *out, size_t len, const TrainState *st, const StateField *f);

/* The name of the first field (table order) whose values differ between a
 * and b, or NULL when every field is the same (numbers bit for bit, so a
 * NAN best_metric equals itself; strings up to their NUL). */
const char *trainstate_diff(const TrainState *a, const TrainState *b);

/* Keep the sums of the epoch so far in st (partial != 0: it stopped
 * mid-epoch), or clear them (0: the epoch is complete).
 *   sums, norm_sum, steps, skipped: the epoch's from its first batch (a
 *     resumed epoch's include those of the part before the resume);
 *   seqs: sequences trained since this launch continued the epoch; they are
 *     added to st->part_seqs, the sequences of the part before. */
void trainstate_keep_partial(TrainState *st, int partial, const LossSums *sums, double norm_sum,
                             int64_t steps, int64_t seqs, int64_t skipped);

#endif
