/* allreduce.c - ring all-reduce in pieces, advanced by polls (see allreduce.h). */
#include "allreduce.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gemmbf16.h"

/* One piece in flight: a slot of the window, with its own staging memory. */
typedef struct Piece {
    float *buf;       /* the piece: buf[0..n) */
    size_t n;
    int id;           /* its number in this round (its messages' tags) */
    int step;         /* 0..P-2: reduce-scatter; P-1..2P-3: all-gather */
    int hs, hr;       /* this step's send and receive handles; -1: done */
    float *in;        /* received fp32 chunk (fp32 reduce-scatter) */
    uint16_t *in16;   /* received bf16 chunk */
    uint16_t *out16;  /* bf16 chunk being sent */
    int busy;
} Piece;

/* A piece waiting for a free slot. */
typedef struct Queued {
    float *buf;
    size_t n;
} Queued;

struct Allreduce {
    const Dist *d;
    AllreduceWire wire;
    DistXfer *x;
    Piece slot[ALLREDUCE_WINDOW];
    float *stage;        /* every slot's staging, one allocation */
    Queued *queue;       /* pieces started, not yet in a slot: [head, count) */
    size_t head, count, cap;
    int next_id;         /* pieces given a slot in this round */
};

/* Elements of the largest chunk of a piece: ceil(PIECE / P). */
static size_t chunk_max(int P)
{
    return (ALLREDUCE_PIECE + (size_t)P - 1) / (size_t)P;
}

size_t allreduce_stage_bytes(int P)
{
    return P > 1 ? ALLREDUCE_WINDOW * 2 * chunk_max(P) * sizeof(float) : 0;
}

Allreduce *allreduce_create(const Dist *d, AllreduceWire wire)
{
    Allreduce *a = xcalloc(1, sizeof *a);
    a->d = d;
    a->wire = wire;
    if (d->size == 1) return a;
    a->x = dist_xfer_create(2 * ALLREDUCE_WINDOW);
    /* per slot: a float chunk, and two bf16 chunks in the space of one more */
    const size_t c = chunk_max(d->size);
    a->stage = xalloc_floats(ALLREDUCE_WINDOW * 2 * c);
    for (int i = 0; i < ALLREDUCE_WINDOW; i++) {
        Piece *p = &a->slot[i];
        p->in = a->stage + (size_t)i * 2 * c;
        p->in16 = (uint16_t *)(p->in + c);
        p->out16 = p->in16 + c;
    }
    return a;
}

void allreduce_free(Allreduce *a)
{
    if (!a) return;
    CHECK(a->count == 0);
    for (int i = 0; i < ALLREDUCE_WINDOW; i++) CHECK(!a->slot[i].busy);
    dist_xfer_free(a->x);
    free(a->stage);
    free(a->queue);
    free(a);
}

/* Double the queue's room (its pieces move to the front). */
static void queue_grow(Allreduce *a)
{
    size_t cap = a->cap ? 2 * a->cap : 16;
    Queued *q = xcalloc(cap, sizeof *q);
    if (a->count) memcpy(q, a->queue + a->head, a->count * sizeof *q);
    free(a->queue);
    a->queue = q;
    a->cap = cap;
    a->head = 0;
}

void allreduce_start(Allreduce *a, float *buf, size_t n)
{
    if (a->d->size == 1) return;
    for (size_t lo = 0; lo < n; lo += ALLREDUCE_PIECE) {
        if (a->head + a->count == a->cap) queue_grow(a);
        size_t len = n - lo < ALLREDUCE_PIECE ? n - lo : ALLREDUCE_PIECE;
        a->queue[a->head + a->count++] = (Queued){buf + lo, len};
    }
    allreduce_poke(a);
}

/* Chunk c of a piece of n elements over P ranks: [*lo, *lo + return). */
static size_t chunk(size_t *lo, size_t n, int P, int c)
{
    *lo = n * (size_t)c / (size_t)P;
    return n * (size_t)(c + 1) / (size_t)P - *lo;
}

static int ring(int r, int P)
{
    return ((r % P) + P) % P;
}

static void round_chunk(uint16_t *out, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = gemm_bf16_round(x[i]);
}

/* Post the transfers of p's current step: receive from the left, send to
 * the right (reduce-scatter: partial sums; all-gather: full sums). */
static void step_post(Allreduce *a, Piece *p)
{
    const int P = a->d->size, r = a->d->rank, rs = p->step < P - 1;
    const int s = rs ? p->step : p->step - (P - 1);
    const int send_c = rs ? ring(r - s, P) : ring(r + 1 - s, P);
    const int recv_c = rs ? ring(r - s - 1, P) : ring(r - s, P);
    const int tag = p->id * (2 * P - 2) + p->step;
    const int bf16 = a->wire == ALLREDUCE_BF16;
    size_t slo, rlo;
    size_t sn = chunk(&slo, p->n, P, send_c), rn = chunk(&rlo, p->n, P, recv_c);
    if (bf16)
        p->hr = dist_xfer_start(a->x, p->in16, rn * 2, ring(r - 1, P), tag, 0);
    else
        p->hr = dist_xfer_start(a->x, rs ? p->in : p->buf + rlo, rn * 4, ring(r - 1, P), tag, 0);
    float *out = p->buf + slo;
    if (bf16) {
        round_chunk(p->out16, out, sn);
        /* the owner of a full sum keeps the rounded value the others receive */
        if (p->step == P - 1)
            for (size_t i = 0; i < sn; i++) out[i] = gemm_bf16_value(p->out16[i]);
        p->hs = dist_xfer_start(a->x, p->out16, sn * 2, ring(r + 1, P), tag, 1);
    } else {
        p->hs = dist_xfer_start(a->x, out, sn * 4, ring(r + 1, P), tag, 1);
    }
}

/* The receive of p's current step is done: add it (reduce-scatter) or take
 * it (all-gather, bf16; fp32 arrived in place). */
static void step_received(const Allreduce *a, Piece *p)
{
    const int P = a->d->size, r = a->d->rank, rs = p->step < P - 1;
    const int s = rs ? p->step : p->step - (P - 1);
    size_t lo;
    size_t n = chunk(&lo, p->n, P, rs ? ring(r - s - 1, P) : ring(r - s, P));
    float *dst = p->buf + lo;
    if (a->wire == ALLREDUCE_BF16) {
        if (rs)
            for (size_t i = 0; i < n; i++) dst[i] += gemm_bf16_value(p->in16[i]);
        else
            for (size_t i = 0; i < n; i++) dst[i] = gemm_bf16_value(p->in16[i]);
    } else if (rs) {
        for (size_t i = 0; i < n; i++) dst[i] += p->in[i];
    }
}

/* Advance p as far as its finished transfers allow. */
static void piece_advance(Allreduce *a, Piece *p)
{
    const int steps = 2 * (a->d->size - 1);
    for (;;) {
        if (p->hr >= 0 && dist_xfer_done(a->x, p->hr)) {
            p->hr = -1;
            step_received(a, p);
        }
        if (p->hs >= 0 && dist_xfer_done(a->x, p->hs)) p->hs = -1;
        if (p->hs >= 0 || p->hr >= 0) return;
        if (++p->step == steps) {
            p->busy = 0;
            return;
        }
        step_post(a, p);
    }
}

void allreduce_poke(Allreduce *a)
{
    for (int i = 0; i < ALLREDUCE_WINDOW; i++) {
        Piece *p = &a->slot[i];
        if (p->busy) piece_advance(a, p);
        if (p->busy || a->count == 0) continue;
        /* a free slot: the next queued piece starts */
        const Queued q = a->queue[a->head++];
        a->count--;
        p->buf = q.buf;
        p->n = q.n;
        p->id = a->next_id++;
        p->step = 0;
        p->busy = 1;
        step_post(a, p);
        piece_advance(a, p);
    }
}

/* Is any piece in a slot? */
static int any_busy(const Allreduce *a)
{
    for (int i = 0; i < ALLREDUCE_WINDOW; i++)
        if (a->slot[i].busy) return 1;
    return 0;
}

double allreduce_wait(Allreduce *a)
{
    if (a->d->size == 1) return 0.0;
    double t0 = dist_time();
    for (;;) {
        allreduce_poke(a);
        if (a->count == 0 && !any_busy(a)) break;
        dist_xfer_wait_any(a->x, a->d, "the gradient all-reduce");
    }
    a->head = 0;
    a->next_id = 0;
    return dist_time() - t0;
}
