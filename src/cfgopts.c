/* cfgopts.c - the option table of train (see cfgopts.h). */
#include "cfgopts.h"

#include <stddef.h>

#include "schedule.h"

#define OFF(f) offsetof(Config, f)
#define BIG 1e18

const EnumNames OPTIM_KIND_NAMES = ENUM_NAMES("adam", "adamw", "sgd", "rmsprop");
const EnumNames MONITOR_NAMES = ENUM_NAMES("val_loss", "val_acc");
const EnumNames LR_SCHEDULE_NAMES = ENUM_NAMES("none", "step", "cosine", "plateau");
const EnumNames ON_NAN_NAMES = ENUM_NAMES("stop", "skip");
const EnumNames ON_SAVE_ERROR_NAMES = ENUM_NAMES("stop", "continue");
const EnumNames TARGET_CHOICE_NAMES = ENUM_NAMES("auto", "step", "last");
const EnumNames ALLREDUCE_NAMES = ENUM_NAMES("fp32", "bf16");
const EnumNames PRECISION_NAMES = ENUM_NAMES("fp32", "bf16");

static const OptDef OPTS[] = {
    {"data", OT_STR, RESUME_DATA, OFF(data), "", NULL, 0, 0,
     "training data: F.h5 or F.h5:/group (default: the root if it has 'inputs', else "
     "/train); empty: the built-in counting task"},
    {"val", OT_STR, RESUME_DATA, OFF(val), "", NULL, 0, 0,
     "validation data (default: the /val group of the data file if there is one)"},
    {"val-split", OT_DBL, RESUME_FIXED, OFF(val_split), "0", NULL, 0, 0.99,
     "hold out this fraction of the LAST rows of data for validation instead"},
    {"cell", OT_ENUM, RESUME_FIXED, OFF(cell), "rnn", &CELL_KIND_NAMES, 0, 0, "recurrent cell"},
    {"nonlinearity", OT_ENUM, RESUME_FIXED, OFF(nonlinearity), "tanh", &NONLIN_NAMES, 0, 0,
     "activation of the rnn cell"},
    {"hidden", OT_INT, RESUME_FIXED, OFF(hidden), "16", NULL, 1, 65536, "hidden size H"},
    {"layers", OT_INT, RESUME_FIXED, OFF(layers), "1", NULL, 1, 16, "stacked recurrent layers"},
    {"dropout", OT_DBL, RESUME_FIXED, OFF(dropout), "0", NULL, 0, 0.99,
     "dropout on the outputs of every layer but the last (as nn.RNN)"},
    {"out-dropout", OT_DBL, RESUME_FIXED, OFF(out_dropout), "0", NULL, 0, 0.99,
     "dropout on the input of the fc head"},
    {"bidirectional", OT_INT, RESUME_FIXED, OFF(bidirectional), "0", NULL, 0, 1,
     "1: every layer also runs backwards from each sequence's last valid step, and the next "
     "layer and the head see both directions (nn.RNN's bidirectional=True)"},
    {"stateful", OT_INT, RESUME_FIXED, OFF(stateful), "0", NULL, 0, 1,
     "1: read the data as ONE stream (rows in order, valid steps joined), cut into batch-size "
     "columns; each step trains on the next bptt steps of every column, carrying the hidden "
     "state (detached) from step to step, as PyTorch's word_language_model"},
    {"bptt", OT_INT, RESUME_FIXED, OFF(bptt), "35", NULL, 1, 1e6,
     "stateful: steps of time of each step (truncated backpropagation through time)"},
    {"embed", OT_INT, RESUME_FIXED, OFF(embed), "8", NULL, 1, 65536,
     "embedding size for token input (ignored for dense input)"},
    {"target", OT_ENUM, RESUME_FIXED, OFF(target), "auto", &TARGET_CHOICE_NAMES, 0, 0,
     "predict at every valid step or at the last valid step; auto: from the targets' shape"},
    {"epochs", OT_INT, RESUME_FUTURE, OFF(epochs), "10", NULL, 1, 1e9,
     "passes over the training data"},
    {"batch-size", OT_INT, RESUME_MIDEPOCH, OFF(batch_size), "32", NULL, 1, 1e9,
     "GLOBAL batch size, summed over all ranks"},
    {"lr", OT_DBL, RESUME_FUTURE, OFF(lr), "0.01", NULL, 1e-12, 1e6, "learning rate (base)"},
    /* fixed on resume: the plateau's saved state means something only under its schedule */
    {"lr-schedule", OT_ENUM, RESUME_FIXED, OFF(lr_schedule), "none", &LR_SCHEDULE_NAMES, 0, 0,
     "the lr of each epoch after the warmup: lr, StepLR, CosineAnnealingLR to lr-min, or "
     "ReduceLROnPlateau on monitor (docs/COMMANDS.md: Learning-rate schedules)"},
    {"lr-step", OT_INT, RESUME_FUTURE, OFF(lr_step), "10", NULL, 1, 1e9, "step: epochs a step"},
    {"lr-gamma", OT_DBL, RESUME_FUTURE, OFF(lr_gamma), "0.1", NULL, 0, 1e6, "step: lr factor"},
    {"warmup-epochs", OT_INT, RESUME_FUTURE, OFF(warmup_epochs), "0", NULL, 0, 1e9,
     "every schedule: epoch e <= w (w = this) trains with lr * e / w (0: no warmup)"},
    {"lr-min", OT_DBL, RESUME_FUTURE, OFF(lr_min), "0", NULL, 0, 1e6, "cosine/plateau: lowest lr"},
    {"lr-factor", OT_DBL, RESUME_FUTURE, OFF(lr_factor), "0.1", NULL, 0, 1, "plateau: lr factor"},
    {"lr-patience", OT_INT, RESUME_FUTURE, OFF(lr_patience), "10", NULL, 0, 1e9,
     "plateau: epochs without improvement (1e-4 relative) tolerated before a reduction"},
    {"optimizer", OT_ENUM, RESUME_FIXED, OFF(optimizer), "adam", &OPTIM_KIND_NAMES, 0, 0,
     "as torch.optim (Adam betas 0.9/0.999, eps 1e-8; RMSprop alpha 0.99, eps 1e-8)"},
    {"momentum", OT_DBL, RESUME_FUTURE, OFF(momentum), "0", NULL, 0, 0.9999, "sgd momentum"},
    {"nesterov", OT_INT, RESUME_FUTURE, OFF(nesterov), "0", NULL, 0, 1,
     "1: Nesterov momentum (sgd with momentum > 0, as torch.optim.SGD(nesterov=True))"},
    {"weight-decay", OT_DBL, RESUME_FUTURE, OFF(weight_decay), "-1", NULL, -1, 1e6,
     "L2 penalty (adam, sgd, rmsprop) or decoupled decay (adamw); default -1 means torch's "
     "default: 0, or 0.01 for adamw"},
    {"clip-grad-norm", OT_DBL, RESUME_FUTURE, OFF(clip_grad_norm), "0", NULL, 0, BIG,
     "clip the global gradient norm to this (0: off)"},
    {"class-weights", OT_STR, RESUME_FIXED, OFF(class_weights), "", NULL, 0, 0,
     "cross-entropy class weights (torch's CrossEntropyLoss weight=): w0,w1,... one per "
     "class, or balanced: n / (classes * count of the class) over the training targets; "
     "empty: none"},
    {"patience", OT_INT, RESUME_FUTURE, OFF(patience), "0", NULL, 0, 1e9,
     "stop after this many epochs without improvement of the monitored metric (0: off)"},
    {"min-delta", OT_DBL, RESUME_FUTURE, OFF(min_delta), "0", NULL, 0, BIG,
     "smallest change that counts as an improvement"},
    {"monitor", OT_ENUM, RESUME_FIXED, OFF(monitor), "val_loss", &MONITOR_NAMES, 0, 0,
     "metric for early stopping and best.h5 (without validation data: the training loss or "
     "accuracy)"},
    {"seed", OT_U64, RESUME_FIXED, OFF(seed), "1", NULL, 0, 0,
     "seed of initialisation, shuffling and dropout"},
    {"shuffle", OT_INT, RESUME_FIXED, OFF(shuffle), "1", NULL, 0, 1,
     "1: new order each epoch; 0: file order"},
    {"max-steps", OT_I64, RESUME_FUTURE, OFF(max_steps), "0", NULL, 0, 9e18,
     "stop after this many optimizer steps (0: no limit)"},
    {"run-dir", OT_STR, RESUME_LAUNCH, OFF(run_dir), "", NULL, 0, 0,
     "where config, metrics.csv and checkpoints go (default: runs/<date>-<time>)"},
    {"checkpoint-every", OT_INT, RESUME_FUTURE, OFF(checkpoint_every), "1", NULL, 0, 1e9,
     "write ckpt-epochNNNN.h5 every this many epochs (0: only last.h5 and best.h5)"},
    {"keep", OT_INT, RESUME_FUTURE, OFF(keep), "2", NULL, 1, 1e9,
     "numbered checkpoints to keep (last.h5 and best.h5 are always kept)"},
    {"resume", OT_STR, RESUME_LAUNCH, OFF(resume), "", NULL, 0, 0,
     "auto: continue the run in run-dir from its newest intact checkpoint (a new run if it "
     "has none); or a checkpoint file. Options not given keep the run's values; changing "
     "one that decided the numbers already computed is refused"},
    {"fresh", OT_FLAG, RESUME_LAUNCH, OFF(fresh), "0", NULL, 0, 1,
     "start afresh in a run-dir that holds an earlier run: its files move into "
     "run-dir/previous-N/ (nothing is deleted)"},
    {"init", OT_STR, RESUME_LAUNCH, OFF(init), "", NULL, 0, 0,
     "start from the /params of this checkpoint (an rnn_dist or from_pytorch.py file)"},
    {"threads", OT_INT, RESUME_FUTURE, OFF(threads), "1", NULL, 1, 1024,
     "OpenBLAS threads per rank"},
    {"precision", OT_ENUM, RESUME_FUTURE, OFF(precision), "fp32", &PRECISION_NAMES, 0, 0,
     "the recurrent layers' products: fp32, or bf16 (operands rounded to bfloat16, 8 "
     "significant bits; sums, weights and optimizer state stay fp32; on AMX or AVX512_BF16, "
     "refused on a CPU without either)"},
    {"allreduce", OT_ENUM, RESUME_FUTURE, OFF(allreduce), "fp32", &ALLREDUCE_NAMES, 0, 0,
     "what the gradient all-reduce sends between ranks: fp32, or bf16 (half the bytes, for "
     "slow links; gradients rounded to 8 significant bits on the way, so a run on N ranks "
     "no longer equals one on 1 rank within fp32 rounding; 1 rank: no effect)"},
    {"max-memory", OT_SIZE, RESUME_LAUNCH, OFF(max_memory), "0", NULL, 0, 0,
     "refuse (exit 2) a run whose estimated memory per rank is over this: bytes, or a "
     "decimal number with a suffix K, M, G or T (powers of 1024; KB, KiB... mean the same), "
     "e.g. 512M, 1.5G; 0: what this process may use (its cgroup's limit or MemAvailable, the "
     "smaller) shared by the ranks on this host; half of what the estimate leaves under it "
     "may hold training data in memory"},
    {"on-nan", OT_ENUM, RESUME_FUTURE, OFF(on_nan), "stop", &ON_NAN_NAMES, 0, 0,
     "a non-finite loss or gradient (every rank agrees): stop, with the state before it in "
     "last.h5 (exit 3); or skip that update and count it in metrics.csv"},
    {"on-save-error", OT_ENUM, RESUME_FUTURE, OFF(on_save_error), "stop", &ON_SAVE_ERROR_NAMES,
     0, 0,
     "a checkpoint that cannot be written (disk full...): stop (exit 1; the previous "
     "checkpoints stay intact) or warn, train on and retry at the next save"},
    {"comm-timeout", OT_DBL, RESUME_FUTURE, OFF(comm_timeout), "600", NULL, 0, 1e9,
     "watchdog: a collective that waits longer than this many seconds (a stuck rank or "
     "network) ends the job naming the operation and step (0: wait forever); keep it above "
     "the longest checkpoint write"},
    {"progress-every", OT_DBL, RESUME_FUTURE, OFF(progress_every), "30", NULL, 0, 1e9,
     "when stdout is not a terminal (mpirun, SLURM, a pipe): rank 0 prints a line "
     "`progress: epoch E/N batch B/NB step S loss L R seq/s eta T` every this many seconds "
     "within an epoch (0: none; a terminal keeps its live line)"},
};
_Static_assert(sizeof OPTS / sizeof OPTS[0] <= CFGOPTS_MAX, "raise CFGOPTS_MAX");
_Static_assert(CFGOPTS_MAX <= sizeof((Config *)0)->set, "Config.set too small");

const OptDef *cfgopts_table(void)
{
    return OPTS;
}

int cfgopts_count(void)
{
    return (int)(sizeof OPTS / sizeof OPTS[0]);
}
