/* agree.c - one verdict on every rank (see agree.h). */
#include "agree.h"

#include <stdlib.h>

int agree_root(const Dist *d, int rc, Error *e)
{
    dist_bcast(d, &rc, sizeof rc, 0);
    if (rc) dist_bcast(d, e, sizeof *e, 0);
    return rc;
}

int agree_first(const Dist *d, int rc, uint64_t key, Error *e)
{
    uint64_t *all = xcalloc((size_t)d->size, sizeof(uint64_t));
    dist_allgather_u64(d, all, rc ? (key < UINT64_MAX ? key : UINT64_MAX - 1) : UINT64_MAX);
    int owner = 0;
    for (int r = 1; r < d->size; r++)
        if (all[r] < all[owner]) owner = r;
    uint64_t verdict = all[owner];
    free(all);
    if (verdict == UINT64_MAX) return 0;
    dist_bcast(d, &rc, sizeof rc, owner);
    dist_bcast(d, e, sizeof *e, owner);
    return rc;
}
