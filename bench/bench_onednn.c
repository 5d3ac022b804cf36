/* bench_onednn.c - oneDNN's fp32 forward and backward of stacked recurrent
 * layers: the reference `make bench` sets rnn_dist's training step against
 * (built only when libdnnl-dev is installed: scripts/install-deps.sh
 * --with-bench).
 *
 * For each shape cell:I:H:L:T:B (cell lstm or gru: PyTorch's GRU is
 * oneDNN's linear-before-reset GRU), L one-layer primitives (layer 0 takes
 * I features, the others H), unidirectional, zero initial state. A step is
 * what training needs of the recurrent layers alone, no head, no
 * optimizer: forward_training of every layer, the weights reordered to the
 * layout backward asks for (they change every step in training), the
 * weight gradients zeroed, backward of every layer top down. Every memory
 * takes the layout oneDNN prefers (format any), reordered from plain
 * formats once, outside the timing. Prints per shape
 *   SHAPE seq_per_s X
 * the best of 5 timing windows after a warm-up (other load only ever slows a
 * window down). Run it with OMP_NUM_THREADS=1 for one thread.
 * Usage: bench_onednn SECONDS SHAPE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dnnl.h>

#define DNNL_OK(call)                                                                       \
    do {                                                                                    \
        dnnl_status_t st_ = (call);                                                         \
        if (st_ != dnnl_success) {                                                          \
            fprintf(stderr, "bench_onednn: %s:%d: %s failed (status %d)\n", __FILE__,      \
                    __LINE__, #call, (int)st_);                                             \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

typedef struct Shape {
    char name[64];
    int lstm;                 /* 1: LSTM, 0: GRU (linear before reset) */
    int I, H, L, T, B;
} Shape;

/* One layer's primitives and memories. */
typedef struct Layer {
    dnnl_primitive_t fwd, bwd, reorder_wl, reorder_wi;
    dnnl_memory_t w_layer, w_iter, bias, dst, ws;         /* forward */
    dnnl_memory_t bw_layer, bw_iter;                     /* weights in backward's layout */
    dnnl_memory_t diff_src, diff_w_layer, diff_w_iter, diff_bias, diff_dst;
} Layer;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_shape(Shape *s, const char *text)
{
    char cell[16];
    snprintf(s->name, sizeof s->name, "%s", text);
    if (sscanf(text, "%15[a-z]:%d:%d:%d:%d:%d", cell, &s->I, &s->H, &s->L, &s->T, &s->B) != 6)
        return -1;
    s->lstm = strcmp(cell, "lstm") == 0;
    if (!s->lstm && strcmp(cell, "gru") != 0) return -1;
    return s->I > 0 && s->H > 0 && s->L > 0 && s->T > 0 && s->B > 0 ? 0 : -1;
}

static void md_init(dnnl_memory_desc_t *md, int nd, const dnnl_dims_t dims, dnnl_format_tag_t tag)
{
    DNNL_OK(dnnl_memory_desc_init_by_tag(md, nd, dims, dnnl_f32, tag));
}

/* A memory of md's size filled with value (any layout: every float alike). */
static dnnl_memory_t filled(const dnnl_memory_desc_t *md, dnnl_engine_t eng, float value)
{
    dnnl_memory_t m;
    DNNL_OK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
    void *p;
    DNNL_OK(dnnl_memory_get_data_handle(m, &p));
    size_t n = dnnl_memory_desc_get_size(md) / sizeof(float);
    for (size_t i = 0; i < n; i++) ((float *)p)[i] = value * (float)((int)(i % 7) - 3);
    return m;
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* The descriptors of a layer with SLC input features, direction fixed. */
typedef struct LayerDescs {
    dnnl_memory_desc_t src, wl, wi, bias, dst;
} LayerDescs;

static void layer_descs(LayerDescs *d, const Shape *s, int slc)
{
    const int G = s->lstm ? 4 : 3, GB = s->lstm ? 4 : 4; /* lbr GRU: an extra bias gate */
    dnnl_dims_t src = {s->T, s->B, slc}, dst = {s->T, s->B, s->H};
    dnnl_dims_t wl = {1, 1, slc, G, s->H}, wi = {1, 1, s->H, G, s->H}, bias = {1, 1, GB, s->H};
    md_init(&d->src, 3, src, dnnl_tnc);
    md_init(&d->dst, 3, dst, dnnl_tnc);
    md_init(&d->wl, 5, wl, dnnl_format_tag_any);
    md_init(&d->wi, 5, wi, dnnl_format_tag_any);
    md_init(&d->bias, 4, bias, dnnl_ldgo);
}

static void rnn_desc(dnnl_rnn_desc_t *r, const Shape *s, const LayerDescs *d, const LayerDescs *g)
{
    const dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;
    if (!g && s->lstm)
        DNNL_OK(dnnl_lstm_forward_desc_init(r, dnnl_forward_training, dir, &d->src, NULL, NULL,
                                            &d->wl, &d->wi, &d->bias, &d->dst, NULL, NULL, 0));
    else if (!g)
        DNNL_OK(dnnl_lbr_gru_forward_desc_init(r, dnnl_forward_training, dir, &d->src, NULL,
                                               &d->wl, &d->wi, &d->bias, &d->dst, NULL, 0));
    else if (s->lstm)
        DNNL_OK(dnnl_lstm_backward_desc_init(r, dnnl_backward, dir, &d->src, NULL, NULL, &d->wl,
                                             &d->wi, &d->bias, &d->dst, NULL, NULL, &g->src, NULL,
                                             NULL, &g->wl, &g->wi, &g->bias, &g->dst, NULL, NULL,
                                             0));
    else
        DNNL_OK(dnnl_lbr_gru_backward_desc_init(r, dnnl_backward, dir, &d->src, NULL, &d->wl,
                                                &d->wi, &d->bias, &d->dst, NULL, &g->src, NULL,
                                                &g->wl, &g->wi, &g->bias, &g->dst, NULL, 0));
}

static dnnl_primitive_t reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                dnnl_engine_t eng)
{
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    DNNL_OK(dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, NULL));
    DNNL_OK(dnnl_primitive_create(&p, pd));
    DNNL_OK(dnnl_primitive_desc_destroy(pd));
    return p;
}

static void layer_build(Layer *ly, const Shape *s, int slc, dnnl_engine_t eng)
{
    LayerDescs d, g;
    layer_descs(&d, s, slc);
    layer_descs(&g, s, slc);
    dnnl_rnn_desc_t fr, br;
    dnnl_primitive_desc_t fpd, bpd;
    rnn_desc(&fr, s, &d, NULL);
    DNNL_OK(dnnl_primitive_desc_create(&fpd, &fr, NULL, eng, NULL));
    rnn_desc(&br, s, &d, &g);
    DNNL_OK(dnnl_primitive_desc_create(&bpd, &br, NULL, eng, fpd));
    DNNL_OK(dnnl_primitive_create(&ly->fwd, fpd));
    DNNL_OK(dnnl_primitive_create(&ly->bwd, bpd));
    ly->w_layer = filled(query(fpd, dnnl_query_weights_md), eng, 0.01f);
    ly->w_iter = filled(dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 1), eng, 0.01f);
    ly->bias = filled(dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 2), eng, 0.01f);
    ly->dst = filled(query(fpd, dnnl_query_dst_md), eng, 0.0f);
    ly->ws = filled(query(fpd, dnnl_query_workspace_md), eng, 0.0f);
    const dnnl_memory_desc_t *bwl = query(bpd, dnnl_query_weights_md);
    const dnnl_memory_desc_t *bwi = dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 1);
    ly->bw_layer = filled(bwl, eng, 0.0f);
    ly->bw_iter = filled(bwi, eng, 0.0f);
    ly->reorder_wl = reorder(query(fpd, dnnl_query_weights_md), bwl, eng);
    ly->reorder_wi = reorder(dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 1), bwi, eng);
    ly->diff_src = filled(query(bpd, dnnl_query_diff_src_md), eng, 0.0f);
    ly->diff_w_layer = filled(query(bpd, dnnl_query_diff_weights_md), eng, 0.0f);
    ly->diff_w_iter = filled(dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_weights_md, 1), eng,
                             0.0f);
    ly->diff_bias = filled(dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_weights_md, 2), eng,
                           0.0f);
    ly->diff_dst = filled(query(bpd, dnnl_query_diff_dst_md), eng, 0.001f);
    DNNL_OK(dnnl_primitive_desc_destroy(fpd));
    DNNL_OK(dnnl_primitive_desc_destroy(bpd));
}

static void zero(dnnl_memory_t m)
{
    const dnnl_memory_desc_t *md;
    void *p;
    DNNL_OK(dnnl_memory_get_memory_desc(m, &md));
    DNNL_OK(dnnl_memory_get_data_handle(m, &p));
    memset(p, 0, dnnl_memory_desc_get_size(md));
}

static void run(dnnl_primitive_t p, dnnl_stream_t st, int n, const dnnl_exec_arg_t *args)
{
    DNNL_OK(dnnl_primitive_execute(p, st, n, args));
}

/* One training step of the layers: forward up, backward down. */
static void step(Layer *ly, int L, dnnl_memory_t src, dnnl_stream_t st)
{
    for (int k = 0; k < L; k++) {
        dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_LAYER, k ? ly[k - 1].dst : src},
                               {DNNL_ARG_WEIGHTS_LAYER, ly[k].w_layer},
                               {DNNL_ARG_WEIGHTS_ITER, ly[k].w_iter},
                               {DNNL_ARG_BIAS, ly[k].bias},
                               {DNNL_ARG_DST_LAYER, ly[k].dst},
                               {DNNL_ARG_WORKSPACE, ly[k].ws}};
        run(ly[k].fwd, st, 6, a);
    }
    for (int k = L - 1; k >= 0; k--) {
        dnnl_exec_arg_t rl[] = {{DNNL_ARG_FROM, ly[k].w_layer}, {DNNL_ARG_TO, ly[k].bw_layer}};
        dnnl_exec_arg_t ri[] = {{DNNL_ARG_FROM, ly[k].w_iter}, {DNNL_ARG_TO, ly[k].bw_iter}};
        run(ly[k].reorder_wl, st, 2, rl);
        run(ly[k].reorder_wi, st, 2, ri);
        zero(ly[k].diff_w_layer);
        zero(ly[k].diff_w_iter);
        zero(ly[k].diff_bias);
        dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC_LAYER, k ? ly[k - 1].dst : src},
                               {DNNL_ARG_WEIGHTS_LAYER, ly[k].bw_layer},
                               {DNNL_ARG_WEIGHTS_ITER, ly[k].bw_iter},
                               {DNNL_ARG_BIAS, ly[k].bias},
                               {DNNL_ARG_DST_LAYER, ly[k].dst},
                               {DNNL_ARG_WORKSPACE, ly[k].ws},
                               {DNNL_ARG_DIFF_DST_LAYER,
                                k == L - 1 ? ly[k].diff_dst : ly[k + 1].diff_src},
                               {DNNL_ARG_DIFF_SRC_LAYER, ly[k].diff_src},
                               {DNNL_ARG_DIFF_WEIGHTS_LAYER, ly[k].diff_w_layer},
                               {DNNL_ARG_DIFF_WEIGHTS_ITER, ly[k].diff_w_iter},
                               {DNNL_ARG_DIFF_BIAS, ly[k].diff_bias}};
        run(ly[k].bwd, st, 11, a);
    }
    DNNL_OK(dnnl_stream_wait(st));
}

static double bench_shape(const Shape *s, double seconds, dnnl_engine_t eng, dnnl_stream_t st)
{
    Layer *ly = calloc((size_t)s->L, sizeof *ly);
    for (int k = 0; k < s->L; k++) layer_build(&ly[k], s, k ? s->H : s->I, eng);
    dnnl_memory_desc_t smd;
    dnnl_dims_t sd = {s->T, s->B, s->I};
    md_init(&smd, 3, sd, dnnl_tnc);
    dnnl_memory_t src = filled(&smd, eng, 0.1f);
    double best = 0;
    for (int w = 0; w < 6; w++) {
        long steps = 0;
        double t0 = now(), window = w == 0 ? 0.3 : seconds / 5;
        while (now() - t0 < window) {
            step(ly, s->L, src, st);
            steps++;
        }
        double rate = (double)steps / (now() - t0);
        if (w > 0 && rate > best) best = rate;
    }
    return best * s->B;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_onednn SECONDS cell:I:H:L:T:B...\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    dnnl_engine_t eng;
    dnnl_stream_t st;
    DNNL_OK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    DNNL_OK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    for (int i = 2; i < argc; i++) {
        Shape s;
        if (parse_shape(&s, argv[i])) {
            fprintf(stderr, "bench_onednn: %s: not cell:I:H:L:T:B (cell lstm or gru)\n", argv[i]);
            return 2;
        }
        printf("%s seq_per_s %.1f\n", s.name, bench_shape(&s, seconds, eng, st));
        fflush(stdout);
    }
    return 0;
}
