/* dist.h - the only interface to MPI. No other file includes mpi.h.
 *
 * A Dist is the communicator world of one run: this rank, the number of
 * ranks. rnn_dist runs without mpirun as a world of one rank (MPI singleton).
 */
#ifndef RNN_DIST_H
#define RNN_DIST_H

#include <stddef.h>
#include <stdint.h>

/* What the caller is doing, named by the watchdog when a collective hangs.
 * Owned and updated by the caller (train.c). */
typedef struct DistPhase {
    const char *what;  /* "training", "validation", ... */
    long long step;    /* optimizer step */
} DistPhase;

typedef struct Dist {
    int rank;             /* this process, 0..size-1 */
    int size;             /* number of ranks */
    int local_size;       /* ranks on this host (sharing its memory), 1..size */
    double comm_timeout;  /* watchdog: seconds a collective may wait before the job is
                           * ended (MPI_Abort) naming it; 0: wait forever */
    const DistPhase *phase; /* for the watchdog's message; may be NULL */
} Dist;

/* Initialise MPI (threads: funneled) and fill d (no watchdog, no phase);
 * first installs dist_abort as check.h's abort hook, so a failed CHECK
 * ends every rank of the job. Call once, first thing. */
void dist_init(Dist *d, int *argc, char ***argv);
/* Ranks of this job on this host, this one included (they share its
 * memory): MPI_COMM_TYPE_SHARED, computed once by dist_init. */
int dist_local_size(const Dist *d);
/* Finalize MPI. Call once on every rank before a normal exit. */
void dist_finalize(void);
/* End every rank of the job with exit code `code` (MPI_Abort). Safe to call
 * before dist_init or after dist_finalize (then plain exit). Never returns. */
void dist_abort(int code) __attribute__((noreturn));
/* Block until every rank arrives. */
void dist_barrier(const Dist *d);
/* buf[0..n) = sum over ranks of buf[0..n), in place, on every rank. */
void dist_allreduce_sum_f32(const Dist *d, float *buf, size_t n);
/* buf[0..n) = sum over ranks, in place, double precision. */
void dist_allreduce_sum_f64(const Dist *d, double *buf, size_t n);
/* Largest value of x over ranks, returned on every rank. */
int dist_allreduce_max_int(const Dist *d, int x);
/* all[r] = value of rank r, for r in 0..size-1, on every rank.
 *   all  out [d->size] */
void dist_allgather_u64(const Dist *d, uint64_t *all, uint64_t value);
/* A set of started point-to-point transfers (MPI_Isend / MPI_Irecv of
 * bytes), each named by a handle (a slot of the set) until it completes:
 * what the ring all-reduce (allreduce.h) is made of. Owned by the caller. */
typedef struct DistXfer DistXfer;
/* Room for `cap` transfers outstanding at once. */
DistXfer *dist_xfer_create(int cap);
/* Free the set; no transfer may be outstanding. */
void dist_xfer_free(DistXfer *x);
/* Start sending (send 1) buf[0..bytes) to rank peer, or receiving (send 0)
 * into it from peer, with tag (0..MPI_TAG_UB); buf stays untouched (send) or
 * unread (receive) until the transfer is done. Returns its handle. */
int dist_xfer_start(DistXfer *x, void *buf, size_t bytes, int peer, int tag, int send);
/* 1 when transfer h is done (its slot is then free and h invalid), 0 if
 * not yet; lets every started transfer progress (MPI_Test). */
int dist_xfer_done(DistXfer *x, int h);
/* Block until one outstanding transfer of the set completes (some must be
 * outstanding), with d's watchdog naming op. Which one: ask dist_xfer_done. */
void dist_xfer_wait_any(DistXfer *x, const Dist *d, const char *op);
/* Wall-clock seconds (MPI_Wtime). */
double dist_time(void);
/* Copy root's buf[0..bytes) to every rank. */
void dist_bcast(const Dist *d, void *buf, size_t bytes, int root);
#endif
