/* dist.c - the only file that calls MPI (see dist.h). */
#include "dist.h"

#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

static int mpi_up(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    return init && !fin;
}

#define MPI_OK(call) CHECK_MSG((call) == MPI_SUCCESS, "MPI call failed")

void dist_init(Dist *d, int *argc, char ***argv)
{
    check_set_abort(dist_abort); /* a failed CHECK now ends every rank */
    int provided = 0;
    MPI_OK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_OK(MPI_Comm_rank(MPI_COMM_WORLD, &d->rank));
    MPI_OK(MPI_Comm_size(MPI_COMM_WORLD, &d->size));
    MPI_Comm host;
    MPI_OK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &host));
    MPI_OK(MPI_Comm_size(host, &d->local_size));
    MPI_Comm_free(&host);
    d->comm_timeout = 0.0;
    d->phase = NULL;
}

int dist_local_size(const Dist *d)
{
    return d->local_size;
}

void dist_finalize(void)
{
    if (mpi_up()) MPI_Finalize();
}

void dist_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
    if (mpi_up()) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

/* The watchdog fired: name the operation, the phase and the step, end the job. */
static void watchdog_fire(const Dist *d, const char *op)
{
    const DistPhase *ph = d->phase;
    fprintf(stderr,
            "rnn_dist: rank %d: %s waited more than %g s%s%s at step %lld: a rank or the "
            "network is stuck; ending the job (--comm-timeout)\n",
            d->rank, op, d->comm_timeout, ph && ph->what ? " during " : "",
            ph && ph->what ? ph->what : "", ph ? ph->step : 0LL);
    dist_abort(EXIT_FAIL);
}

/* Complete req[0..n): with a comm_timeout, by polling, and past the deadline
 * the watchdog ends the job naming op; otherwise a plain MPI_Waitall. */
static void wait_all(const Dist *d, int n, MPI_Request *req, const char *op)
{
    if (d->comm_timeout <= 0.0) {
        MPI_OK(MPI_Waitall(n, req, MPI_STATUSES_IGNORE));
        return;
    }
    double t0 = MPI_Wtime();
    for (;;) {
        int done = 0;
        MPI_OK(MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE));
        if (done) return;
        if (MPI_Wtime() - t0 > d->comm_timeout) watchdog_fire(d, op);
        sched_yield();
    }
}

void dist_barrier(const Dist *d)
{
    MPI_Request r;
    MPI_OK(MPI_Ibarrier(MPI_COMM_WORLD, &r));
    wait_all(d, 1, &r, "a barrier");
}

/* MPI counts are int: reduce large buffers in pieces. */
static void allreduce_chunks(const Dist *d, void *buf, size_t n, size_t elem, MPI_Datatype type,
                             MPI_Op op)
{
    char *p = buf;
    while (n > 0) {
        int c = n > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)n;
        MPI_Request r;
        MPI_OK(MPI_Iallreduce(MPI_IN_PLACE, p, c, type, op, MPI_COMM_WORLD, &r));
        wait_all(d, 1, &r, "an all-reduce");
        p += (size_t)c * elem;
        n -= (size_t)c;
    }
}

void dist_allreduce_sum_f32(const Dist *d, float *buf, size_t n)
{
    if (d->size == 1) return;
    allreduce_chunks(d, buf, n, sizeof(float), MPI_FLOAT, MPI_SUM);
}

void dist_allreduce_sum_f64(const Dist *d, double *buf, size_t n)
{
    if (d->size == 1) return;
    allreduce_chunks(d, buf, n, sizeof(double), MPI_DOUBLE, MPI_SUM);
}

int dist_allreduce_max_int(const Dist *d, int x)
{
    if (d->size == 1) return x;
    allreduce_chunks(d, &x, 1, sizeof x, MPI_INT, MPI_MAX);
    return x;
}

void dist_allgather_u64(const Dist *d, uint64_t *all, uint64_t value)
{
    if (d->size == 1) {
        all[0] = value;
        return;
    }
    MPI_Request r;
    MPI_OK(MPI_Iallgather(&value, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD, &r));
    wait_all(d, 1, &r, "an all-gather");
}

struct DistXfer {
    int cap;
    int tag_ub;          /* the largest tag MPI allows */
    MPI_Request *req;    /* MPI_REQUEST_NULL once complete */
    unsigned char *held; /* slot i names a transfer until dist_xfer_done says 1 */
};

DistXfer *dist_xfer_create(int cap)
{
    DistXfer *x = xcalloc(1, sizeof *x);
    x->cap = cap;
    /* at least 32767 by the standard */
    int *ub = NULL, flag = 0;
    MPI_OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag));
    x->tag_ub = flag && ub ? *ub : 32767;
    x->req = xcalloc((size_t)cap, sizeof(MPI_Request));
    x->held = xcalloc((size_t)cap, 1);
    for (int i = 0; i < cap; i++) x->req[i] = MPI_REQUEST_NULL;
    return x;
}

void dist_xfer_free(DistXfer *x)
{
    if (!x) return;
    for (int i = 0; i < x->cap; i++) CHECK(!x->held[i]);
    free(x->req);
    free(x->held);
    free(x);
}

static int xfer_slot(const DistXfer *x)
{
    for (int i = 0; i < x->cap; i++)
        if (!x->held[i]) return i;
    CHECK_MSG(0, "more transfers outstanding than the set holds");
    return -1;
}

int dist_xfer_start(DistXfer *x, void *buf, size_t bytes, int peer, int tag, int send)
{
    CHECK(bytes <= (size_t)INT_MAX && tag >= 0 && tag <= x->tag_ub);
    int i = xfer_slot(x);
    x->held[i] = 1;
    if (send)
        MPI_OK(MPI_Isend(buf, (int)bytes, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &x->req[i]));
    else
        MPI_OK(MPI_Irecv(buf, (int)bytes, MPI_BYTE, peer, tag, MPI_COMM_WORLD, &x->req[i]));
    return i;
}

int dist_xfer_done(DistXfer *x, int h)
{
    CHECK(h >= 0 && h < x->cap && x->held[h]);
    int done = 0;
    MPI_OK(MPI_Test(&x->req[h], &done, MPI_STATUS_IGNORE));
    if (done) x->held[h] = 0;
    return done;
}

void dist_xfer_wait_any(DistXfer *x, const Dist *d, const char *op)
{
    int idx = MPI_UNDEFINED, done = 0;
    if (d->comm_timeout <= 0.0) {
        MPI_OK(MPI_Waitany(x->cap, x->req, &idx, MPI_STATUS_IGNORE));
        CHECK_MSG(idx != MPI_UNDEFINED, "waiting with no transfer outstanding");
        return;
    }
    double t0 = MPI_Wtime();
    for (;;) {
        MPI_OK(MPI_Testany(x->cap, x->req, &idx, &done, MPI_STATUS_IGNORE));
        if (done) {
            CHECK_MSG(idx != MPI_UNDEFINED, "waiting with no transfer outstanding");
            return;
        }
        if (MPI_Wtime() - t0 > d->comm_timeout) watchdog_fire(d, op);
        sched_yield();
    }
}

double dist_time(void)
{
    return MPI_Wtime();
}

void dist_bcast(const Dist *d, void *buf, size_t bytes, int root)
{
    if (d->size == 1) return;
    char *p = buf;
    while (bytes > 0) {
        int c = bytes > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;
        MPI_Request r;
        MPI_OK(MPI_Ibcast(p, c, MPI_BYTE, root, MPI_COMM_WORLD, &r));
        wait_all(d, 1, &r, "a broadcast");
        p += c;
        bytes -= (size_t)c;
    }
}
