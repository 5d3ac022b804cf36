/* dgpart.h - the groups of a generated dataset (/train, /val, /test) and the
 * writing of a generated file: datagen.c fills the parts, this writes them.
 *
 * A part holds its rows in memory, dense or token inputs and class or value
 * targets (the dataset schema, datasets/README.md), with the best possible
 * score on it and a description. Writing a file stores the root attributes
 * (task, seed, description, num_classes / vocab_size, the ceiling of /val)
 * and every part as a group with the same attributes of its own.
 */
#ifndef RNN_DGPART_H
#define RNN_DGPART_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"

/* One group (/train, /val, /test) being built. Arrays are owned. */
typedef struct DgPart {
    const char *name;  /* "train", "val" or "test" */
    size_t n;          /* rows */
    int T, F;          /* steps; features (0: token ids, inputs int32 [n, T]) */
    int O;             /* values per target; 0: class ids (int32) */
    int per_step;      /* targets [n, T(, O)], else [n(, O)] */
    float *x;          /* dense inputs [n, T, F] */
    int32_t *tok;      /* token inputs [n, T] */
    int32_t *yc;       /* class targets [n, T] or [n] */
    float *yv;         /* value targets [n, T, O] or [n, O] */
    int32_t *len;      /* valid steps of each row [n], or NULL: all T (no 'lengths' written) */
    double best;       /* best possible score on this group: accuracy, or RMSE */
    double extra;      /* task-specific second figure (oracle / baseline), or NAN */
    char desc[480];
} DgPart;

/* Make p the empty part `name` (a static string, not copied) of n rows of T
 * steps: inputs x [n, T, F] when F > 0, else tok [n, T]; targets per step
 * (per_step) or per row, yv of O values when O > 0, else class ids yc; all
 * zero, extra NAN. The arrays are p's own (dgpart_free); allocation failure
 * ends the job. */
void dgpart_init(DgPart *p, const char *name, size_t n, int T, int F, int O, int per_step);

/* Give p (made by dgpart_init) a lengths array [n], all T; p owns it. */
void dgpart_add_lengths(DgPart *p);

/* Free the arrays of parts[0..nparts) and zero them. */
void dgpart_free(DgPart *parts, int nparts);

/* Write the generated file: the root attributes task, seed, description,
 * num_classes (classes > 0), vocab_size (vocab > 0), the ceiling of /val
 * (parts[1].best: best_acc when classes > 0, else noise_floor_rmse and
 * noise_floor_mse) and extra_name = parts[1].extra (extra_name may be NULL);
 * then each of parts[0..nparts) as group /name with inputs, targets,
 * description and the same attributes of its own. EXIT_FAIL in e when HDF5
 * fails, naming the attribute or group. */
int dgpart_write(hid_t file, uint64_t seed, const char *task, const char *desc,
                 const DgPart *parts, int nparts, int classes, int vocab,
                 const char *extra_name, Error *e);

#endif
