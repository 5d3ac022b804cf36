/* model.h - the network: embedding -> stacked cells -> dropout -> fc -> loss.
 *
 * Matches PyTorch's nn.Embedding + nn.RNN/LSTM/GRU(batch_first) + nn.Linear
 * with dropout between layers (as nn.RNN's `dropout`) and before the head.
 *
 * Parameters: ONE contiguous float buffer in PyTorch state_dict order
 *   embedding.weight   [V, E]          (token input only)
 *   rnn.weight_ih_l{k} [G*H, In_k]     In_0 = E or F, In_k = D*H for k > 0
 *   rnn.weight_hh_l{k} [G*H, H]
 *   rnn.bias_ih_l{k}   [G*H]
 *   rnn.bias_hh_l{k}   [G*H]
 *   (bidirectional: the same four again, named ..._l{k}_reverse, after them)
 *   fc.weight          [O, D*H]
 *   fc.bias            [O]
 * D = 2 directions when bidirectional, else 1 (layer.h: how the reverse
 * direction reads a padded batch as a packed one).
 * Gradients use the same layout in a second buffer; ModelViews name the parts.
 *
 * Batches are time-major (see Batch, types.h). Activations kept for the backward pass
 * live in a workspace that grows to the largest batch shape seen and is then
 * reused: no allocation per step.
 */
#ifndef RNN_MODEL_H
#define RNN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "cell.h"
#include "layer.h"
#include "types.h"

#define MODEL_MAX_LAYERS 16
/* Rows of the logits' gradient that fc_w's gradient takes at a time (model.c:
 * their panels are MODEL_FC_ROWS x O floats, whatever the batch). */
#define MODEL_FC_ROWS 256
#define MODEL_MAX_PARAMS (3 + 4 * LAYER_MAX_DIRS * MODEL_MAX_LAYERS)
#define MODEL_NAME_LEN 32

/* Everything that fixes the shapes and behaviour of a model. */
typedef struct ModelSpec {
    CellKind cell;
    Nonlin act;          /* CELL_RNN: tanh or relu */
    InputKind input;
    int vocab;           /* V, token input */
    int embed;           /* E, token input */
    int features;        /* F, dense input */
    int hidden;          /* H */
    int layers;          /* L, 1..MODEL_MAX_LAYERS */
    int out;             /* O: classes (LOSS_CE) or values per target (LOSS_MSE) */
    LossKind loss;
    TargetMode target;
    float dropout;       /* between layers, training only */
    float out_dropout;   /* before fc, training only */
    int bidirectional;   /* 1: every layer also runs in reverse (D = 2), else 0 */
} ModelSpec;

/* One named parameter: a view of `rows x cols` floats (cols = 0: a vector). */
typedef struct ParamInfo {
    char name[MODEL_NAME_LEN];
    size_t offset;
    int rows, cols;
} ParamInfo;

typedef struct ParamTable {
    int count;
    size_t total;        /* floats in the whole buffer */
    ParamInfo p[MODEL_MAX_PARAMS];
} ParamTable;

/* Named views into a parameter (or gradient) buffer. Not owned. */
typedef struct ModelViews {
    float *embedding;                      /* [V, E] or NULL */
    LayerParams layer[MODEL_MAX_LAYERS][LAYER_MAX_DIRS]; /* [k][0] forward, [k][1] reverse */
    float *fc_w;                           /* [O, D*H] */
    float *fc_b;                           /* [O] */
} ModelViews;

/* Sums over the valid targets of a batch (add them up across batches/ranks). */
typedef struct LossSums {
    double loss;    /* summed cross-entropy, or summed squared error */
    double count;   /* valid targets (CE) or valid target elements (MSE) */
    double correct; /* CE: argmax == target */
    double abs_err; /* MSE: summed |error| */
    double weight;  /* the loss's denominator: the summed class weights w[y] of the
                     * valid targets (CE with class weights), else = count */
} LossSums;

/* acc += s, field by field. */
void model_sums_add(LossSums *acc, const LossSums *s);

/* Workspace: activations of the last forward pass. Private to model.c. */
typedef struct ModelWork ModelWork;

typedef struct Model {
    ModelSpec spec;
    ParamTable table;
    float *params;       /* [table.total] */
    float *grads;        /* [table.total] */
    ModelViews p, g;
    ModelWork *work;
    /* Outputs of the last forward pass: [rows, O], rows = T*B (step, row
     * t*B + b) or B (last). Valid until the next forward. */
    float *logits;
    int rows;
    /* CE only: the weight of each class [O] (nn.CrossEntropyLoss's weight=),
     * or NULL for none (all 1). Owned by the caller; model_create sets NULL. */
    const float *class_weight;
    /* The GEMM kernel of every pass (gemm.h): gemm_isa() from model_create;
     * training sets the one gemmchoice.h measured fastest. */
    GemmIsa isa;
    /* precision bf16: the kernel of the recurrent layers' products instead
     * (gemmprec.h; the head stays fp32 on isa); GEMM_BF16_OFF from
     * model_create: fp32. */
    GemmBf16 bf16;
} Model;

/* Fill t with the names, shapes and offsets of spec's parameters. */
void model_param_table(ParamTable *t, const ModelSpec *spec);
/* The number of parameters, as PyTorch counts them (t->total also holds the
 * padding that aligns every view). */
size_t model_param_count(const ParamTable *t);
/* Point v's fields into buf (a buffer laid out as model_param_table says). */
void model_views(ModelViews *v, float *buf, const ModelSpec *spec);
/* Layer k's dims (cell.h), its products on kernel isa, or on bf16 when
 * not GEMM_BF16_OFF (precision bf16) except layer 0's forward input
 * projection, which stays fp32: the data's own values are not rounded
 * (on the arith task, rounding them made the MSE 2.6x worse). */
CellDims model_layer_dims(const ModelSpec *spec, int k, GemmIsa isa, GemmBf16 bf16);
/* Input width of layer k. */
int model_layer_input(const ModelSpec *spec, int k);
/* Directions D: 2 when bidirectional, else 1. */
int model_dirs(const ModelSpec *spec);
/* Output width of every layer, and the head's input width: D*H. */
int model_layer_output(const ModelSpec *spec);

/* Allocate a model (parameters zero). Free with model_free. */
void model_create(Model *m, const ModelSpec *spec);
void model_free(Model *m);
/* PyTorch's default initialisation, drawn from (seed, parameter, element):
 * embedding N(0,1); cell weights and biases U(-1/sqrt(H), 1/sqrt(H));
 * fc weight and bias U(-1/sqrt(D*H), 1/sqrt(D*H)) (nn.Linear's). */
void model_init_params(Model *m, uint64_t seed);

/* Forward pass. train != 0 applies dropout with masks keyed by
 * (seed, step, sample, layer, time). Sets m->logits and m->rows. */
void model_forward(Model *m, const Batch *b, int train, uint64_t seed, uint64_t step);

/* model_forward from a given initial state: state0 [L, S, B, H] (S = 2 for
 * LSTM: h then c, else 1; layer k's state at k * model_state_floats / L,
 * in cell.h's layout), detached (no gradient flows into it), or NULL for
 * zeros (= model_forward). Unidirectional models only. The backward pass
 * that follows uses the state's values as they were here (the buffer may
 * be overwritten in between, e.g. by model_state_final). */
void model_forward_state(Model *m, const Batch *b, const float *state0, int train, uint64_t seed,
                         uint64_t step);

/* Floats of a model's state for B sequences: L * S * B * H. */
size_t model_state_floats(const ModelSpec *spec, int B);

/* The state after the last step of the last forward pass, in state0's
 * layout (model_state_floats(spec, B) floats), to start the next chunk of
 * the same sequences from. Unidirectional models only. */
void model_state_final(float *state, const Model *m);

/* Dropout site of the head (sites 0..L-2 are between layers). */
#define MODEL_DROP_HEAD 0xFFFu

/* Inverted-dropout mask [T, B, H] (or [B, H] when T == 0, the last-step
 * head): 0 with probability p, else 1/(1-p). Element (t, b, j) is a pure
 * function of (seed, step, sample[b], site, t, j), so a sequence gets the same
 * mask whichever rank or batch row it lands in. */
void model_dropout_mask(float *mask, float p, uint64_t seed, uint64_t step,
                        const uint32_t *sample, uint32_t site, int T, int B, int H);

/* Loss of the last forward pass against b's targets. When dlogits_scale is
 * non-zero, also keeps d(loss sum)/d(logits) * dlogits_scale for backward
 * (pass 1/global weight for the mean loss: the global count without class
 * weights). With m->class_weight, a target of class y adds w[y] * nll to
 * the loss and w[y] to the weight, and its logit gradients are scaled by w[y]. */
LossSums model_loss(Model *m, const Batch *b, float dlogits_scale);

/* Backward pass of the last forward + model_loss: ADDS gradients to m->grads. */
void model_backward(Model *m, const Batch *b);

/* Gradient buckets: contiguous ranges of m->grads that the backward pass
 * finishes one after the other: the head, then each layer from the top,
 * the last one (layer 0 and the embedding) reaching offset 0. */
#define MODEL_MAX_BUCKETS (MODEL_MAX_LAYERS + 1)
typedef struct GradBuckets {
    int count;
    size_t lo[MODEL_MAX_BUCKETS], hi[MODEL_MAX_BUCKETS]; /* floats, in finishing order */
} GradBuckets;
void model_grad_buckets(GradBuckets *gb, const Model *m);

/* Called by model_backward_hooked when bucket i (of model_grad_buckets) is
 * final, so its reduction can start while the rest of the pass runs. */
typedef void (*GradReady)(void *ctx, int bucket);

/* model_backward, calling ready(ctx, i) for each bucket i in order, and
 * poke(ctx) after each layer (to let started reductions progress); either
 * may be NULL. */
void model_backward_hooked(Model *m, const Batch *b, GradReady ready, void (*poke)(void *ctx),
                           void *ctx);

/* Zero m->grads. */
void model_zero_grads(Model *m);

/* FNV-1a hash of the bytes of every parameter: equal on two replicas only
 * when their parameters are bit for bit the same (up to hash collisions). */
uint64_t model_param_checksum(const Model *m);

/* Number of targets a batch contributes to the loss (count of LossSums). */
double model_batch_count(const ModelSpec *spec, const Batch *b);

/* The summed class weights w[y] of b's valid targets (weight of LossSums);
 * = model_batch_count when w is NULL. */
double model_batch_weight(const ModelSpec *spec, const float *w, const Batch *b);

/* Floating-point operations of one training step (forward + backward) on a
 * batch of B sequences of T steps, counting multiply-adds as 2 (GEMMs only). */
double model_train_flops(const ModelSpec *spec, int T, int B);

#endif
