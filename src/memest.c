/* memest.c - memory estimates and the limit they must stay under (see
 * memest.h). */
#include "memest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agree.h"
#include "allreduce.h"
#include "cell.h"
#include "gemm.h"

#define MAXTO(a, b) ((a) = (a) > (b) ? (a) : (b))

/* Floats of each buffer of model.c's workspace (ModelWork): each grows to
 * the largest pass and is kept. */
typedef struct Work {
    size_t x0, z, zmask, logits, dlogits, da, db, scratch, scratch_pack;
    size_t dh, dxrev;  /* bidirectional: LayerScratch's dh (each) and dxrev */
    size_t h[MODEL_MAX_LAYERS], cache[MODEL_MAX_LAYERS]; /* cache: each direction's */
    size_t hdir[MODEL_MAX_LAYERS], xrev[MODEL_MAX_LAYERS]; /* bidirectional: LayerWork's */
    size_t mask[MODEL_MAX_LAYERS], xin[MODEL_MAX_LAYERS];
    int T, B;      /* the pass of the largest logits */
    size_t rows;   /* its logit rows */
} Work;

/* Grow w to what model_forward (and with `loss` model_loss, with `train`
 * model_backward) allocate for a batch of B rows of T steps. */
static void work_pass(Work *w, const ModelSpec *s, int T, int B, int train, int loss,
                      GemmBf16 bf16)
{
    if (T <= 0 || B <= 0) return;
    const size_t TB = (size_t)T * (size_t)B, H = (size_t)model_layer_output(s);
    const size_t O = (size_t)s->out, rows = s->target == TARGET_STEP ? TB : (size_t)B;
    const int bidir = model_dirs(s) == 2;
    if (s->input == INPUT_TOKENS) MAXTO(w->x0, TB * (size_t)s->embed);
    for (int k = 0; k < s->layers; k++) {
        CellDims d = model_layer_dims(s, k, GEMM_BLAS, bf16);
        MAXTO(w->h[k], TB * H);
        MAXTO(w->cache[k], cell_cache_floats(&d, T, B));
        if (bidir) {
            MAXTO(w->hdir[k], TB * (size_t)s->hidden);
            MAXTO(w->xrev[k], TB * (size_t)d.in);
        }
        if (train && s->dropout > 0.0f && k + 1 < s->layers) {
            MAXTO(w->mask[k], TB * H);
            MAXTO(w->xin[k + 1], TB * H);
        }
    }
    if (s->target == TARGET_LAST) MAXTO(w->z, (size_t)B * H);
    if (train && s->out_dropout > 0.0f) {
        MAXTO(w->z, rows * H);
        MAXTO(w->zmask, rows * H);
    }
    if (rows * O > w->logits) {
        w->logits = rows * O;
        w->T = T;
        w->B = B;
        w->rows = rows;
    }
    if (loss) MAXTO(w->dlogits, rows * O);
    if (!train) return;
    size_t wide = H > (size_t)s->embed ? H : (size_t)s->embed;
    MAXTO(w->da, TB * wide);
    MAXTO(w->db, TB * wide);
    for (int k = 0; k < s->layers; k++) {
        CellDims d = model_layer_dims(s, k, GEMM_BLAS, bf16);
        size_t sc = cell_scratch_floats(&d, T, B);
        if (sc > w->scratch) {
            w->scratch = sc;
            w->scratch_pack = cell_pack_floats(&d, T, B, 1);
        }
        if (bidir) MAXTO(w->dh, TB * (size_t)s->hidden);
        if (bidir && (k > 0 || s->input == INPUT_TOKENS)) MAXTO(w->dxrev, TB * (size_t)d.in);
    }
}

/* Add a part named by fmt (a part of 0 bytes is left out). */
static void add_part(Memest *est, MemestKind kind, uint64_t bytes, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_part(Memest *est, MemestKind kind, uint64_t bytes, const char *fmt, ...)
{
    est->total += bytes;
    if (bytes == 0) return;
    CHECK(est->count < MEMEST_MAX_PARTS);
    MemestPart *p = &est->part[est->count++];
    p->kind = kind;
    p->bytes = bytes;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->name, sizeof p->name, fmt, ap);
    va_end(ap);
}

/* Floats of the parameters [lo, hi) of table t (with their alignment). */
static size_t param_floats(const ParamTable *t, int lo, int hi)
{
    size_t end = hi < t->count ? t->p[hi].offset : t->total;
    return end - t->p[lo].offset;
}

/* Parameters and gradients (model_create: always both), with the
 * optimizer's moments in training: embedding, recurrent weights, head. */
static void add_params(Memest *est, const MemestRun *r)
{
    const ModelSpec *s = &r->spec;
    ParamTable t;
    model_param_table(&t, s);
    const uint64_t copies = 2 + (r->train ? (uint64_t)r->moments : 0);
    const char *with = !r->train ? " with gradients"
                       : r->moments == 2 ? " with gradients and Adam state"
                       : r->moments == 1 ? " with gradients and momentum"
                                         : " with gradients";
    int tok = s->input == INPUT_TOKENS, fc = t.count - 2;
    if (tok)
        add_part(est, MEMEST_EMBEDDING, 4 * copies * param_floats(&t, 0, 1),
                 "embedding [%d x %d]%s", s->vocab, s->embed, with);
    add_part(est, MEMEST_WEIGHTS, 4 * copies * param_floats(&t, tok, fc),
             "%s%s weights (%d layer%s, hidden %d)%s", s->bidirectional ? "bidirectional " : "",
             cell_name(s->cell), s->layers, s->layers > 1 ? "s" : "", s->hidden, with);
    add_part(est, MEMEST_HEAD, 4 * copies * param_floats(&t, fc, t.count), "fc [%d x %d]%s",
             s->out, model_layer_output(s), with);
}

/* The workspace of the largest passes (training or predicting, and
 * validation): activations and caches, packing space, backward scratch,
 * logits and their gradient. */
static void add_workspace(Memest *est, const MemestRun *r)
{
    const ModelSpec *s = &r->spec;
    Work w;
    memset(&w, 0, sizeof w);
    work_pass(&w, s, r->T, r->batch, r->train, !r->predict, r->bf16);
    work_pass(&w, s, r->val_T, r->val_batch, 0, 1, r->bf16);
    size_t act = w.x0 + w.z + w.zmask, pack = 0, dirs = (size_t)model_dirs(s);
    for (int k = 0; k < s->layers; k++) {
        CellDims d = model_layer_dims(s, k, GEMM_BLAS, r->bf16);
        size_t p = cell_pack_floats(&d, 1, 1, 0); /* forward: no T x B term */
        pack += dirs * p;
        act += w.h[k] + dirs * (w.cache[k] - p + w.hdir[k]) + w.xrev[k] + w.mask[k] + w.xin[k];
    }
    pack += w.scratch_pack;
    const int Z = model_layer_output(s), O = s->out;
    size_t fc = gemm_packed_floats(Z, O); /* fc_w packed for the head's forward */
    if (r->train) { /* for the backward's dz instead, and fc_w's gradient (model.c) */
        MAXTO(fc, gemm_packed_floats(O, Z));
        size_t rows = s->target == TARGET_STEP ? (size_t)r->T * r->batch : (size_t)r->batch;
        int R = rows < MODEL_FC_ROWS ? (int)rows : MODEL_FC_ROWS;
        fc += gemm_panels_floats(O, R) + gemm_tn_floats(O, R, Z);
    }
    pack += fc;
    int T = w.T > 0 ? w.T : 1, B = w.B > 0 ? w.B : 1;
    add_part(est, MEMEST_ACTIVATIONS, 4 * (uint64_t)act,
             "activations and cell caches [%d x %d x %d] of %d layer%s", T, B,
             model_layer_output(s),
             s->layers, s->layers > 1 ? "s" : "");
    add_part(est, MEMEST_PACKING, 4 * (uint64_t)pack, "packed %s and fc weights (gemm)",
             cell_name(s->cell));
    add_part(est, MEMEST_SCRATCH,
             4 * (uint64_t)(w.da + w.db + w.scratch - w.scratch_pack + 2 * w.dh + w.dxrev),
             "backward scratch [%d x %d x %d]", r->T, r->batch, model_layer_output(s));
    add_part(est, MEMEST_LOGITS, 4 * (uint64_t)w.logits, "logits [%zu x %d]", w.rows, s->out);
    add_part(est, MEMEST_LOGITS, 4 * (uint64_t)w.dlogits, "logit gradients [%zu x %d]", w.rows,
             s->out);
}

/* evaluate_predict stages a batch's outputs and targets row-major for the
 * file (classes: probabilities too, predictions and targets as int32;
 * values: the predictions in original units too). */
static void add_predict_rows(Memest *est, const MemestRun *r)
{
    const ModelSpec *s = &r->spec;
    size_t per = s->target == TARGET_STEP ? (size_t)r->T : 1;
    size_t n = (size_t)r->batch * per, vals = n * (size_t)s->out;
    add_part(est, MEMEST_LOGITS, s->loss == LOSS_CE ? 4 * (uint64_t)(2 * vals + 2 * n)
                                                    : 12 * (uint64_t)vals,
             "output rows [%d x %zu x %d] staged for the file", r->batch, per, s->out);
}

/* The batch (BatchBuf: grown to the largest batch) and the data caches. */
static void add_data(Memest *est, const MemestRun *r)
{
    const ModelSpec *s = &r->spec;
    size_t Bmax = (size_t)(r->batch > r->val_batch ? r->batch : r->val_batch);
    size_t TB = (size_t)r->T * (size_t)r->batch, vTB = (size_t)r->val_T * (size_t)r->val_batch;
    size_t TBmax = TB > vTB ? TB : vTB;
    size_t in = s->input == INPUT_TOKENS ? 4 : 4 * (size_t)s->features;
    size_t tg = s->loss == LOSS_CE ? 4 : 4 * (size_t)s->out;
    add_part(est, MEMEST_DATA, Bmax * 8 + TBmax * (in + tg) + r->data,
             "data: read window, batch and row lengths");
}

void memest_compute(Memest *est, const MemestRun *r)
{
    memset(est, 0, sizeof *est);
    add_part(est, MEMEST_RUNTIME, MEMEST_RUNTIME_BYTES, "MPI, HDF5 and OpenBLAS themselves");
    add_params(est, r);
    add_workspace(est, r);
    if (r->predict) add_predict_rows(est, r);
    add_data(est, r);
    if (r->train)
        add_part(est, MEMEST_SCRATCH, allreduce_stage_bytes(r->ranks),
                 "the gradient all-reduce's messages");
}

const MemestPart *memest_largest(const Memest *est)
{
    const MemestPart *best = &est->part[0];
    for (int i = 1; i < est->count; i++)
        if (est->part[i].bytes > best->bytes) best = &est->part[i];
    return best;
}

uint64_t memest_data_bytes(size_t rows, size_t share, size_t batch, size_t row_bytes,
                           int orders)
{
    size_t rb = row_bytes ? row_bytes : 1;
    size_t window = DATASET_WINDOW_BYTES / rb;
    if (window < 1) window = 1;
    if (window > share) window = share;
    if (window < batch) window = batch;
    return (uint64_t)rows * 8 + (uint64_t)rows * 8 * (uint64_t)orders +
           (uint64_t)window * (rb + MEMEST_ROW_OVERHEAD);
}

void memest_format_size(char *out, size_t len, uint64_t bytes)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    int u = 0;
    while (u < 6 && v >= 1023.95) {
        v /= 1024.0;
        u++;
    }
    if (u == 0) {
        snprintf(out, len, "%llu B", (unsigned long long)bytes);
        return;
    }
    char num[32];
    snprintf(num, sizeof num, "%.1f", v);
    size_t n = strlen(num);
    if (n > 2 && strcmp(num + n - 2, ".0") == 0) num[n - 2] = '\0';
    snprintf(out, len, "%s %s", num, unit[u]);
}

int memest_parse_meminfo(uint64_t *bytes, const char *text)
{
    const char *p = strstr(text, "MemAvailable:");
    while (p && p != text && p[-1] != '\n') p = strstr(p + 1, "MemAvailable:");
    if (!p) return -1;
    unsigned long long kb = 0;
    char unit[8] = "";
    if (sscanf(p + 13, "%llu %7s", &kb, unit) != 2 || strcmp(unit, "kB") != 0) return -1;
    if (kb > UINT64_MAX / 1024) return -1;
    *bytes = (uint64_t)kb * 1024;
    return 0;
}

int memest_parse_cgroup_limit(uint64_t *bytes, const char *text)
{
    if (strncmp(text, "max", 3) == 0 && (text[3] == '\0' || text[3] == '\n')) {
        *bytes = UINT64_MAX;
        return 0;
    }
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9') return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0' && *end != '\n') return -1;
    *bytes = (uint64_t)v;
    return 0;
}

/* The n-th (0-based) space-separated field of line [p, eol) into out. */
static int field(char *out, size_t len, const char *p, const char *eol, int n)
{
    for (int i = 0; p < eol; i++) {
        while (p < eol && *p == ' ') p++;
        const char *q = p;
        while (q < eol && *q != ' ') q++;
        if (i == n) {
            size_t k = (size_t)(q - p);
            if (q == p || k >= len) return -1;
            memcpy(out, p, k);
            out[k] = '\0';
            return 0;
        }
        p = q;
    }
    return -1;
}

/* Is `word` one of the comma-separated items of list? */
static int has_item(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        const char *c = strchr(p, ',');
        size_t k = c ? (size_t)(c - p) : strlen(p);
        if (k == n && strncmp(p, word, n) == 0) return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

/* The mount of a hierarchy in mountinfo: v2 (fstype cgroup2), or v1 (fstype
 * cgroup with the memory controller). Fills root and mount point. */
static int find_mount(char *root, size_t rlen, char *mnt, size_t mlen, const char *mountinfo,
                      int v2)
{
    for (const char *p = mountinfo; p && *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        const char *dash = strstr(p, " - ");
        char fstype[32], opts[512];
        if (dash && dash < eol && field(fstype, sizeof fstype, dash + 3, eol, 0) == 0 &&
            strcmp(fstype, v2 ? "cgroup2" : "cgroup") == 0 &&
            (v2 || (field(opts, sizeof opts, dash + 3, eol, 2) == 0 && has_item(opts, "memory"))) &&
            field(root, rlen, p, eol, 3) == 0 && field(mnt, mlen, p, eol, 4) == 0)
            return 0;
        p = *eol ? eol + 1 : NULL;
    }
    return -1;
}

int memest_cgroup_find(MemestCgroup *cg, int max, const char *proc_cgroup,
                       const char *mountinfo)
{
    int n = 0;
    for (const char *p = proc_cgroup; p && *p && n < max;) {
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        /* hierarchy-id:controllers:path */
        const char *c1 = memchr(p, ':', (size_t)(eol - p));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
        if (c2) {
            char ctl[256], path[1024], root[512], mnt[512];
            size_t cl = (size_t)(c2 - c1 - 1), pl = (size_t)(eol - c2 - 1);
            int v2 = c1 - p == 1 && p[0] == '0' && cl == 0;
            if (cl < sizeof ctl && pl < sizeof path) {
                memcpy(ctl, c1 + 1, cl);
                ctl[cl] = '\0';
                memcpy(path, c2 + 1, pl);
                path[pl] = '\0';
                if ((v2 || has_item(ctl, "memory")) &&
                    find_mount(root, sizeof root, mnt, sizeof mnt, mountinfo, v2) == 0) {
                    const char *rel = path;
                    size_t rl = strlen(root);
                    if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0 &&
                        (path[rl] == '/' || path[rl] == '\0'))
                        rel = path + rl;
                    MemestCgroup *g = &cg[n++];
                    snprintf(g->mount, sizeof g->mount, "%s", mnt);
                    snprintf(g->dir, sizeof g->dir, "%s%s", mnt,
                             strcmp(rel, "/") == 0 ? "" : rel);
                    g->file = v2 ? "memory.max" : "memory.limit_in_bytes";
                }
            }
        }
        p = *eol ? eol + 1 : NULL;
    }
    return n;
}

/* The text of a (small, /proc or /sys) file, NUL-terminated, malloc'd; NULL
 * when it cannot be read. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xcalloc(cap, 1);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap) break;
        char *more = xcalloc(cap * 2, 1);
        memcpy(more, buf, n);
        free(buf);
        buf = more;
        cap *= 2;
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The smallest limit of cgroup g and its ancestors up to its mount point. */
static uint64_t cgroup_limit(const MemestCgroup *g)
{
    char dir[sizeof g->dir], path[sizeof g->dir + 32];
    struct stat st;
    memcpy(dir, g->dir, sizeof dir);
    dir[sizeof dir - 1] = '\0';
    /* a cgroup namespace may hide the path: then only the mount's own */
    if (stat(dir, &st) != 0) snprintf(dir, sizeof dir, "%s", g->mount);
    uint64_t best = UINT64_MAX;
    for (;;) {
        snprintf(path, sizeof path, "%s/%s", dir, g->file);
        char *text = read_text(path);
        uint64_t v;
        if (text && memest_parse_cgroup_limit(&v, text) == 0 && v < best) best = v;
        free(text);
        size_t ml = strlen(g->mount);
        char *slash = strrchr(dir, '/');
        if (strlen(dir) <= ml || !slash || slash < dir + ml) break;
        *slash = '\0';
    }
    return best;
}

int memest_limit(uint64_t *bytes, char *why, size_t why_len, int local_ranks)
{
    char *cgtext = read_text("/proc/self/cgroup"), *mi = read_text("/proc/self/mountinfo");
    uint64_t cg = UINT64_MAX;
    const char *cg_file = NULL;
    if (cgtext && mi) {
        MemestCgroup g[4];
        int n = memest_cgroup_find(g, 4, cgtext, mi);
        for (int i = 0; i < n; i++) {
            uint64_t v = cgroup_limit(&g[i]);
            if (v < cg) {
                cg = v;
                cg_file = g[i].file;
            }
        }
    }
    free(cgtext);
    free(mi);
    char *meminfo = read_text("/proc/meminfo");
    uint64_t avail = UINT64_MAX;
    int have_avail = meminfo && memest_parse_meminfo(&avail, meminfo) == 0;
    free(meminfo);
    if (local_ranks < 1) local_ranks = 1;
    char size[32], shared[64] = "";
    if (local_ranks > 1) snprintf(shared, sizeof shared, " shared by %d ranks on this host",
                                  local_ranks);
    if (!have_avail && !cg_file) {
        *bytes = UINT64_MAX;
        snprintf(why, why_len, "no cgroup limit or MemAvailable could be read");
        return -1;
    }
    if (cg_file && cg < avail) {
        memest_format_size(size, sizeof size, cg);
        snprintf(why, why_len, "cgroup %s %s%s", cg_file, size, shared);
        *bytes = cg / (uint64_t)local_ranks;
    } else {
        memest_format_size(size, sizeof size, avail);
        snprintf(why, why_len, "MemAvailable %s%s", size, shared);
        *bytes = avail / (uint64_t)local_ranks;
    }
    return 0;
}

/* What would make the largest part smaller, and the way out. */
static const char *advice(const MemestPart *p, const ModelSpec *s, int train)
{
    const int ce = s->loss == LOSS_CE;
    const char *big = "this checkpoint's model does not fit: use a host with more memory, or "
                      "raise --max-memory";
    switch (p->kind) {
    case MEMEST_LOGITS:
        return ce && train ? "use fewer classes or a smaller --batch-size, or raise --max-memory"
                           : "use a smaller --batch-size, or raise --max-memory";
    case MEMEST_HEAD:
        if (!train) return big;
        return ce ? "use fewer classes or a smaller --hidden, or raise --max-memory"
                  : "use a smaller --hidden, or raise --max-memory";
    case MEMEST_WEIGHTS:
    case MEMEST_PACKING:
        return train ? "use a smaller --hidden or fewer --layers, or raise --max-memory" : big;
    case MEMEST_EMBEDDING:
        return train ? "use a smaller --embed, or raise --max-memory" : big;
    case MEMEST_ACTIVATIONS:
    case MEMEST_SCRATCH:
        return train ? "use a smaller --batch-size, a smaller --hidden or fewer --layers, or "
                       "raise --max-memory"
                     : "use a smaller --batch-size, or raise --max-memory";
    case MEMEST_DATA: return "use a smaller --batch-size, or raise --max-memory";
    case MEMEST_RUNTIME: break;
    }
    return "nothing runs in less: raise --max-memory";
}

/* Refuse est over the limit on every rank alike: each rank judges against
 * its host's limit, and the message of the first rank over it goes to all. */
static int judge_agreed(uint64_t *room, const Memest *est, const ModelSpec *s,
                        uint64_t max_memory, const Dist *d, const char *what, int train,
                        Error *e)
{
    uint64_t limit = max_memory;
    char why[256] = "--max-memory";
    if (!max_memory) {
        char from[200];
        memest_limit(&limit, from, sizeof from, dist_local_size(d));
        snprintf(why, sizeof why, "--max-memory; %s", from);
    }
    Error mine = {0, ""};
    if (room) *room = est->total < limit ? limit - est->total : 0;
    if (est->total > limit) {
        const MemestPart *big = memest_largest(est);
        char need[32], allowed[32], part[32];
        memest_format_size(need, sizeof need, est->total);
        memest_format_size(allowed, sizeof allowed, limit);
        memest_format_size(part, sizeof part, big->bytes);
        error_set(&mine, EXIT_USAGE,
                  "%s needs about %s per rank, over the %s allowed (%s); largest part: %s, %s; "
                  "%s",
                  what, need, allowed, why, big->name, part, advice(big, s, train));
    }
    if (mine.code) *e = mine;
    return agree_first(d, mine.code, 0, e);
}

/* ceil(n / k) */
static size_t share_of(size_t n, int k)
{
    return (n + (size_t)k - 1) / (size_t)k;
}

int memest_check_train(uint64_t *room, const ModelSpec *spec, const Config *c, const Dist *d,
                       const Dataset *train, const Dataset *val, Error *e)
{
    MemestRun r;
    memset(&r, 0, sizeof r);
    r.spec = *spec;
    r.train = 1;
    r.ranks = d->size;
    r.bf16 = c->precision ? GEMM_BF16_AMX : GEMM_BF16_OFF; /* sizes: any bf16 kernel */
    r.moments = c->optimizer == OPTIM_RMSPROP ? 1
              : c->optimizer != OPTIM_SGD ? 2
              : c->momentum > 0.0         ? 1
                                          : 0;
    size_t per = share_of((size_t)c->batch_size, d->size), share = share_of(train->n, d->size);
    r.T = train->T;
    r.batch = (int)(per < share ? per : share);
    r.data = memest_data_bytes(train->n, share, (size_t)r.batch, dataset_row_bytes(train), 2);
    if (c->stateful) {
        /* a stream (stream.h): bptt steps of this rank's columns, its share
         * of the rows held for the run (two rows more at most) */
        r.T = c->bptt;
        r.batch = (int)per;
        r.data = (uint64_t)(share + 2) * dataset_row_bytes(train);
        r.val_T = val ? c->bptt : 0;
        r.val_batch = val ? (int)per : 0;
        if (val) r.data += (uint64_t)(share_of(val->n, d->size) + 2) * dataset_row_bytes(val);
        Memest est;
        memest_compute(&est, &r);
        return judge_agreed(room, &est, spec, c->max_memory, d, "this run", 1, e);
    }
    if (val) {
        /* validation: each rank its share, batch-size rows a pass */
        size_t vshare = share_of(val->n, d->size);
        r.val_T = val->T;
        r.val_batch = (int)((size_t)c->batch_size < vshare ? (size_t)c->batch_size : vshare);
        r.data += memest_data_bytes(val->n, vshare, (size_t)r.val_batch, dataset_row_bytes(val),
                                    0);
    }
    Memest est;
    memest_compute(&est, &r);
    return judge_agreed(room, &est, spec, c->max_memory, d, "this run", 1, e);
}

int memest_check_eval(const ModelSpec *spec, const Dist *d, const Dataset *ds, int batch,
                      int predict, uint64_t max_memory, Error *e)
{
    MemestRun r;
    memset(&r, 0, sizeof r);
    r.spec = *spec;
    r.predict = predict;
    /* predict: rank 0 runs every row; eval: each rank its share */
    size_t share = predict ? ds->n : share_of(ds->n, d->size);
    r.T = ds->T;
    r.batch = (int)((size_t)batch < share ? (size_t)batch : share);
    r.data = memest_data_bytes(ds->n, share, (size_t)r.batch, dataset_row_bytes(ds), 0);
    Memest est;
    memest_compute(&est, &r);
    return judge_agreed(NULL, &est, spec, max_memory, d,
                        predict ? "this prediction" : "this evaluation", 0, e);
}
