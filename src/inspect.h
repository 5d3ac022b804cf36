/* inspect.h - `rnn_dist inspect FILE.h5`: describe a dataset or a checkpoint. */
#ifndef RNN_INSPECT_H
#define RNN_INSPECT_H

#include <stdio.h>

#include "check.h"

/* Print to out what path holds: a checkpoint (model, training state,
 * parameters) or the datasets in it (root, /train, /val, /test), each
 * checked against the schema. Returns 0 when everything found is valid,
 * EXIT_USAGE (with e) for a file that is neither or holds an invalid dataset. */
int inspect_file(FILE *out, const char *path, Error *e);

#endif
