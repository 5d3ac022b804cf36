/* types.h - the types every layer shares: the model's kinds (cell,
 * nonlinearity, input, loss, target) with their names, and Batch.
 *
 * Each enum has ONE name table here: the names the command line accepts,
 * checkpoints and prediction files store and messages print. Types only (and
 * two lookups): the data layer includes this, not model.h.
 */
#ifndef RNN_TYPES_H
#define RNN_TYPES_H

#include <stdint.h>

typedef enum CellKind { CELL_RNN = 0, CELL_LSTM = 1, CELL_GRU = 2 } CellKind;
typedef enum Nonlin { NONLIN_TANH = 0, NONLIN_RELU = 1 } Nonlin;
typedef enum InputKind { INPUT_DENSE = 0, INPUT_TOKENS = 1 } InputKind;
typedef enum TargetMode { TARGET_STEP = 0, TARGET_LAST = 1 } TargetMode;
typedef enum LossKind { LOSS_CE = 0, LOSS_MSE = 1 } LossKind;

/* The names of an enum's values: names[v] for value v, 0 <= v < count. */
typedef struct EnumNames {
    int count;
    const char *const *names;
} EnumNames;

/* An EnumNames initializer from the names in value order. */
#define ENUM_NAMES(...)                                                                       \
    {                                                                                         \
        (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)),             \
            (const char *const[]){__VA_ARGS__}                                                \
    }

extern const EnumNames CELL_KIND_NAMES;   /* rnn lstm gru */
extern const EnumNames NONLIN_NAMES;      /* tanh relu */
extern const EnumNames INPUT_KIND_NAMES;  /* dense tokens */
extern const EnumNames TARGET_MODE_NAMES; /* step last */
extern const EnumNames LOSS_KIND_NAMES;   /* ce mse */

/* The name of value v of t ("?" when v is not one of its values). */
const char *types_enum_name(const EnumNames *t, int v);

/* The value named s in t, or -1. */
int types_enum_index(const EnumNames *t, const char *s);

/* A batch of B sequences, time-major, as the model consumes it. The caller
 * owns the arrays (see dataset_fill_batch). T may be shorter than the
 * dataset's steps: it is the longest valid length in the batch. */
typedef struct Batch {
    int B, T;
    const float *x;         /* dense [T, B, F] or NULL */
    const int32_t *tokens;  /* tokens [T, B] or NULL */
    const int32_t *lengths; /* [B], 1..T */
    const int32_t *y_class; /* LOSS_CE: [T, B] (step) or [B] (last) */
    const float *y_value;   /* LOSS_MSE: [T, B, O] (step) or [B, O] (last) */
    const uint32_t *sample; /* [B] dataset row of each sequence (dropout key) */
} Batch;

#endif
