/* agree.h - one verdict on every rank. A refusal found by rank 0 alone, or
 * by any rank on its share of the work, becomes the same exit code and the
 * same message on every rank, so every rank leaves together and rank 0
 * prints the line once. Collective: every rank of d calls, in the same order.
 */
#ifndef RNN_AGREE_H
#define RNN_AGREE_H

#include <stdint.h>

#include "check.h"
#include "dist.h"

/* Rank 0 decided rc (0 or an exit code, with e filled when non-zero); the
 * other ranks' rc and e are ignored. Returns rank 0's rc on every rank, with
 * rank 0's e when it is non-zero. */
int agree_root(const Dist *d, int rc, Error *e);

/* Every rank found rc (0: nothing wrong; else e says what) and ranks its
 * finding by key (smaller first, e.g. the row of a bad value; ranks with
 * rc == 0 do not take part). The finding of the rank with the smallest key
 * (the lowest rank on a tie) is returned on every rank, with its e; 0 when
 * no rank found anything. */
int agree_first(const Dist *d, int rc, uint64_t key, Error *e);

#endif
