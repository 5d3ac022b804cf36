/* memest.h - memory known before it is used.
 *
 * train, eval and predict estimate what each rank will hold before they
 * allocate it: parameters with their gradients and optimizer state, the
 * activations and cell caches of the largest pass, the packing space of the
 * recurrent products, the backward scratch, the head's logits and their
 * gradient, the data cache (read window, batch, row lengths) and the
 * runtime's own share (MPI, HDF5, OpenBLAS). The sizes come from the
 * functions the allocating code sizes its buffers with (model_param_table,
 * cell_cache_floats, cell_scratch_floats, cell_pack_floats) and the buffers
 * of model.c's workspace, which grow to the largest pass and stay.
 *
 * Over the limit, the command is refused on every rank (EXIT_USAGE) with one
 * line giving the estimate and its largest part. The limit is --max-memory,
 * or by default the memory this process may use (its cgroup's limit or
 * MemAvailable, the smaller) divided by the ranks on this host.
 */
#ifndef RNN_MEMEST_H
#define RNN_MEMEST_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "dataset.h"
#include "dist.h"
#include "model.h"

/* What a process holds before any data or model: MPI, HDF5 and OpenBLAS
 * (peak resident set of rnn_dist eval on a 26 KB file: 23.2-23.7 MiB per
 * rank under mpirun, 26.3 MiB alone (an MPI singleton), 26.5 MiB on 3 ranks
 * of 2 cores; Debian 12, Open MPI 4.1, HDF5 1.10, OpenBLAS 0.3.21). */
#define MEMEST_RUNTIME_BYTES ((uint64_t)26 << 20)

/* Bytes per cached row beyond its data: the cache's row index, the sorted
 * copy dataset_load makes, the caller's row list, HDF5's selection of the
 * rows (runs of shuffled rows in training). */
#define MEMEST_ROW_OVERHEAD 32

/* What a part of the estimate is (says what would make it smaller). */
typedef enum MemestKind {
    MEMEST_RUNTIME,     /* MPI, HDF5, OpenBLAS */
    MEMEST_EMBEDDING,   /* embedding [V, E] and its copies */
    MEMEST_WEIGHTS,     /* recurrent layers' weights and their copies */
    MEMEST_HEAD,        /* fc [O, H] and its copies */
    MEMEST_ACTIVATIONS, /* layer outputs, cell caches, dropout masks, head input */
    MEMEST_PACKING,     /* packed weights of the recurrent products (gemm.h) */
    MEMEST_SCRATCH,     /* backward ping-pong and cell scratch */
    MEMEST_LOGITS,      /* logits, their gradient (or softmax), staged outputs */
    MEMEST_DATA         /* read window, batch, row lengths, epoch order */
} MemestKind;

#define MEMEST_MAX_PARTS 16

typedef struct MemestPart {
    MemestKind kind;
    char name[160];     /* e.g. "fc [10000000 x 16] with gradients and Adam state" */
    uint64_t bytes;
} MemestPart;

/* An estimate: named parts and their sum. */
typedef struct Memest {
    int count;
    MemestPart part[MEMEST_MAX_PARTS];
    uint64_t total;
} Memest;

/* What a command will run, per rank. */
typedef struct MemestRun {
    ModelSpec spec;
    int train;          /* 1: backward passes, gradients, optimizer state */
    int moments;        /* optimizer state, floats per parameter: 2 (Adam, AdamW), 1 (SGD
                         * with momentum), 0 */
    int T, batch;       /* the main pass (training, or eval / predict): steps, rows per pass
                         * on this rank */
    int val_T, val_batch; /* training's validation passes (forward and loss); val_batch 0:
                           * none */
    int predict;        /* forward only, no loss; a batch of outputs staged for the file */
    uint64_t data;      /* data caches: the sum of memest_data_bytes over the datasets */
    int ranks;          /* ranks of a training run (> 1: the all-reduce's messages) */
    GemmBf16 bf16;      /* precision bf16: any bf16 kernel (their packing spaces are
                         * the same size); GEMM_BF16_OFF: fp32 */
} MemestRun;

/* Fill est with the parts of run (zero-byte parts left out) and their total,
 * MEMEST_RUNTIME_BYTES included. */
void memest_compute(Memest *est, const MemestRun *run);

/* The largest part of est (est->count > 0). */
const MemestPart *memest_largest(const Memest *est);

/* Bytes a streamed dataset of `rows` rows of `row_bytes` costs a rank that
 * reads `share` of them, `batch` rows a pass: the length and the cache
 * slot of every row (8 bytes each), the read window (DATASET_WINDOW_BYTES of rows, at least one
 * batch, at most the share, plus MEMEST_ROW_OVERHEAD a row), and `orders`
 * epoch orders of training (8 bytes a row each: the pass's, and the next
 * one's that the batch helper makes ahead, epochplan_read_next). */
uint64_t memest_data_bytes(size_t rows, size_t share, size_t batch, size_t row_bytes,
                           int orders);

/* `bytes` in human units: "512 B", "1 MiB", "24.3 GiB" (one decimal,
 * dropped when zero). */
void memest_format_size(char *out, size_t len, uint64_t bytes);


/* MemAvailable in bytes from the text of /proc/meminfo. 0, or -1 when the
 * line is missing or malformed. */
int memest_parse_meminfo(uint64_t *bytes, const char *text);

/* A cgroup memory limit from the text of memory.max (v2: bytes or "max") or
 * memory.limit_in_bytes (v1: bytes). "max" gives UINT64_MAX. 0, or -1. */
int memest_parse_cgroup_limit(uint64_t *bytes, const char *text);

/* Where this process's cgroup memory limits are, from the text of
 * /proc/self/cgroup and /proc/self/mountinfo. */
typedef struct MemestCgroup {
    char dir[2048];     /* the cgroup's directory, e.g. /sys/fs/cgroup/user.slice/x */
    char mount[512];    /* the hierarchy's mount point: the walk up from dir stops there */
    const char *file;   /* "memory.max" (v2) or "memory.limit_in_bytes" (v1) */
} MemestCgroup;

/* Fill cg[0..max) with the memory hierarchies of this process (a v2
 * hierarchy, a v1 memory controller, or both on hybrid systems) and return
 * how many. Paths under a mount whose root is not "/" (cgroup namespaces)
 * are taken relative to that root. */
int memest_cgroup_find(MemestCgroup *cg, int max, const char *proc_cgroup,
                       const char *mountinfo);

/* The default limit per rank: the smaller of this process's cgroup limits
 * (its cgroup and the ancestors up to the mount point, v1 and v2) and
 * MemAvailable, divided by local_ranks (the ranks on this host). why gets
 * where it came from ("MemAvailable 23.4 GiB shared by 2 ranks on this
 * host"). Returns 0, or -1 when neither could be read (then *bytes is
 * UINT64_MAX: no limit). */
int memest_limit(uint64_t *bytes, char *why, size_t why_len, int local_ranks);

/* train: estimate the run from the options, the model spec and the opened
 * data (val NULL: no validation), and refuse it over c->max_memory (0:
 * memest_limit). Collective: every rank calls it; all return the same
 * verdict (a rank over its host's limit refuses for all, with its message).
 * *room gets this rank's limit less the estimate (0 when over; about
 * UINT64_MAX when no limit could be read): what datahold.h may spend on
 * holding more data. Returns 0 or EXIT_USAGE with e filled. */
int memest_check_train(uint64_t *room, const ModelSpec *spec, const Config *c, const Dist *d,
                       const Dataset *train, const Dataset *val, Error *e);

/* eval (predict = 0) or predict (1) of ds, opened streamed, with `batch` rows
 * a pass: as memest_check_train. predict runs on rank 0 alone, eval on each
 * rank's share. max_memory 0: memest_limit. */
int memest_check_eval(const ModelSpec *spec, const Dist *d, const Dataset *ds, int batch,
                      int predict, uint64_t max_memory, Error *e);

#endif
