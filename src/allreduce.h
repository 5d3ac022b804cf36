/* allreduce.h - the gradient all-reduce of training: buf[0..n) = the sum of
 * buf over ranks, in place, on every rank, started as the backward pass
 * finishes each gradient bucket and completed while the lower layers' pass
 * goes on.
 *
 * How. Each started buffer is cut into pieces of ALLREDUCE_PIECE floats; a
 * piece is summed by a ring (reduce-scatter, then all-gather: with P ranks
 * each rank sends and receives 2 (P-1) / P of the piece's bytes, whatever P,
 * both directions of every link busy at once), up to ALLREDUCE_WINDOW
 * pieces in flight. Nothing moves between calls: allreduce_poke advances
 * every piece whose last transfer is done (the cell's backward pass pokes
 * once per time step), allreduce_wait drives the rest to the end.
 *
 * The wire. fp32 sends floats; each element's sum is added in a fixed order
 * around the ring, so a run is repeatable bit for bit on the same number of
 * ranks (and equal within rounding on any other). bf16 sends bfloat16 (half
 * the bytes, for slow links): each partial sum is rounded to bf16 (8
 * significant bits) before it is sent, the owner rounds the full sum, and
 * every rank takes that same rounded value. The relative error of an element
 * is then at most about P 2^-8 of the sum of its absolute values (P - 1
 * roundings on the way, one at the end): every rank still holds identical
 * gradients, but a run on P ranks no longer equals one on 1 rank within
 * fp32 rounding. On 1 rank nothing is sent and nothing is rounded.
 */
#ifndef RNN_ALLREDUCE_H
#define RNN_ALLREDUCE_H

#include <stddef.h>

#include "dist.h"

/* Floats of one piece (64 KiB), and pieces in flight at once. A piece's
 * messages (its 1/P chunks) stay under Open MPI's TCP eager limit (64 KiB),
 * so each goes at once: a larger message waits for a rendezvous reply,
 * which on a loaded link queues behind the data (at 300 Mbit/s, pieces of
 * 512 KiB waited 38% of the step, these 26%). */
#define ALLREDUCE_PIECE ((size_t)1 << 14)
#define ALLREDUCE_WINDOW 64

/* What crosses the network. */
typedef enum { ALLREDUCE_FP32, ALLREDUCE_BF16 } AllreduceWire;

typedef struct Allreduce Allreduce;

/* Bytes a reducer on P ranks allocates for its messages (0 on 1 rank). */
size_t allreduce_stage_bytes(int P);

/* A reducer for d's ranks (d is borrowed and must outlive it). Owned by
 * the caller: allreduce_free. */
Allreduce *allreduce_create(const Dist *d, AllreduceWire wire);
/* Free it; nothing may be in flight (allreduce_wait first). */
void allreduce_free(Allreduce *a);
/* Start buf[0..n) = sum over ranks. buf stays the caller's to keep, not to
 * touch, until allreduce_wait. Every rank starts the same sizes in the same
 * order. No-op on 1 rank. */
void allreduce_start(Allreduce *a, float *buf, size_t n);
/* Advance every piece whose transfers are done; never blocks. */
void allreduce_poke(Allreduce *a);
/* Complete every started sum (with the Dist's watchdog); returns the
 * seconds spent here. */
double allreduce_wait(Allreduce *a);

#endif
