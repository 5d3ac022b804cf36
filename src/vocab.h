/* vocab.h - the vocabulary of a text dataset (scripts/text2h5.py): which
 * character or byte each token id stands for, to turn text into ids and ids
 * back into text.
 *
 * Stored as the attribute `vocab` (a 1-D uint8 array: each id's unit, in id
 * order, concatenated) and `level` ("char": a unit is one UTF-8 character of
 * 1-4 bytes; "byte": a unit is one byte) of a dataset group or of the file's
 * root (docs/FORMAT.md, "Text datasets").
 */
#ifndef RNN_VOCAB_H
#define RNN_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "h5io.h"

/* The largest `vocab` attribute read, in bytes. */
#define VOCAB_MAX_BYTES ((size_t)1 << 24)

typedef struct Vocab {
    int size;        /* V: the number of ids */
    int byte_level;  /* 1: a unit is a byte; 0: a UTF-8 character */
    uint8_t *bytes;  /* [nbytes] the units in id order, owned */
    size_t nbytes;
    size_t *start;   /* [size + 1]: unit i is bytes[start[i] .. start[i + 1]), owned */
} Vocab;

/* Read the vocabulary (`vocab` and `level`) of `group` of the open input,
 * or of its root when the group has none. 0, or EXIT_USAGE naming the file
 * and what is wrong (no `vocab`: not a text dataset; a unit that is not one
 * UTF-8 character). Free with vocab_free. */
int vocab_read_in(Vocab *v, const H5Input *in, const char *group, Error *e);

/* Split the units of v->bytes (v->nbytes, v->byte_level set) into
 * v->start and v->size. 0, or EXIT_USAGE with what is wrong (`what` names
 * the source in the message). */
int vocab_split(Vocab *v, const char *what, Error *e);

/* Free what v owns. */
void vocab_free(Vocab *v);

/* The ids of text (NUL-terminated): *ids malloc'd [*n] (the caller frees).
 * EXIT_USAGE when text is not UTF-8 (char level) or holds a unit that is not
 * in v, naming it and its position; `what` names the text in messages. */
int vocab_encode(int32_t **ids, size_t *n, const Vocab *v, const char *text, const char *what,
                 Error *e);

/* Write the unit of id (0 <= id < v->size) to f. */
void vocab_write(FILE *f, const Vocab *v, int32_t id);

#endif
