/* config.h - training options: defaults, INI file, command line, validation.
 *
 * Every option has one entry in a table (config.c) that gives its name, type,
 * default and help; --help, the INI reader, the command-line parser and the
 * effective-config writer all read that table, so they cannot disagree.
 * Precedence: default < config file < command line.
 *
 * Numbers are decimal only: integers -?[0-9]+, reals
 * -?([0-9]+(.[0-9]*)?|.[0-9]+)([eE][-+]?[0-9]+)? (no 0x, inf, nan, blanks or a
 * leading '+'); sizes are a decimal number with an optional suffix K, M, G or T
 * (powers of 1024; KB/KiB... mean the same). config_write writes every value
 * so that it reads back identically.
 */
#ifndef RNN_CONFIG_H
#define RNN_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "types.h"

#define CFG_PATH 1024

typedef enum OptimKind { OPTIM_ADAM = 0, OPTIM_ADAMW = 1, OPTIM_SGD = 2,
                         OPTIM_RMSPROP = 3 } OptimKind;
typedef enum Monitor { MONITOR_VAL_LOSS = 0, MONITOR_VAL_ACC = 1 } Monitor;
typedef enum LrSchedule { LR_SCHEDULE_NONE = 0, LR_SCHEDULE_STEP = 1, LR_SCHEDULE_COSINE = 2,
                          LR_SCHEDULE_PLATEAU = 3 } LrSchedule;
typedef enum OnNan { ON_NAN_STOP = 0, ON_NAN_SKIP = 1 } OnNan;
typedef enum OnSaveError { ON_SAVE_ERROR_STOP = 0, ON_SAVE_ERROR_CONTINUE = 1 } OnSaveError;
/* What a change of an option between a run and its resumption means. */
typedef enum ResumeRule {
    RESUME_LAUNCH,   /* a property of this launch, never compared */
    RESUME_FIXED,    /* decides the numbers already computed: a change is refused */
    RESUME_DATA,     /* a data path: may change if the file is the same (caller checks) */
    RESUME_MIDEPOCH, /* refused when the run stopped mid-epoch, else as RESUME_FUTURE */
    RESUME_FUTURE    /* steers only the future: applied, printed and recorded */
} ResumeRule;

typedef enum TargetChoice { TARGET_CHOICE_AUTO = 0, TARGET_CHOICE_STEP = 1,
                            TARGET_CHOICE_LAST = 2 } TargetChoice;

/* The names of the option enums' values, as on the command line (the model's
 * kinds: types.h). */
extern const EnumNames OPTIM_KIND_NAMES;    /* adam adamw sgd rmsprop */
extern const EnumNames MONITOR_NAMES;       /* val_loss val_acc */
extern const EnumNames LR_SCHEDULE_NAMES;  /* none step cosine plateau */
extern const EnumNames ON_NAN_NAMES;        /* stop skip */
extern const EnumNames ON_SAVE_ERROR_NAMES; /* stop continue */
extern const EnumNames TARGET_CHOICE_NAMES; /* auto step last */
extern const EnumNames ALLREDUCE_NAMES;     /* fp32 bf16 */
extern const EnumNames PRECISION_NAMES;     /* fp32 bf16 */

/* The train options (names as on the command line, '-' -> '_'). */
typedef struct Config {
    char config[CFG_PATH];   /* the INI file read, "" if none */
    char data[CFG_PATH];     /* "" = the built-in counting task */
    char val[CFG_PATH];
    double val_split;
    int cell;                /* CellKind */
    int nonlinearity;        /* Nonlin */
    int hidden, layers;
    double dropout, out_dropout;
    int bidirectional;       /* 0|1: every layer also reads the sequence backwards */
    int stateful;            /* 0|1: train on one stream cut into batch-size columns */
    int bptt;                /* stateful: steps of time per optimizer step */
    int embed;
    int target;              /* TargetChoice */
    int epochs;
    int batch_size;          /* global */
    double lr;
    int lr_schedule;         /* LrSchedule (schedule.h: the lr of each epoch) */
    int lr_step;             /* step: epochs between reductions */
    double lr_gamma;         /* step: factor of each reduction */
    int warmup_epochs;       /* linear warmup epochs (every schedule); 0: none */
    double lr_min;           /* cosine: eta_min; plateau: min_lr */
    double lr_factor;        /* plateau: factor of a reduction, in (0, 1) */
    int lr_patience;         /* plateau: bad epochs tolerated before a reduction */
    int optimizer;           /* OptimKind */
    double momentum;
    int nesterov;            /* sgd with momentum: Nesterov momentum */
    double weight_decay;     /* < 0: default of the optimizer */
    double clip_grad_norm;   /* 0: off */
    char class_weights[CFG_PATH]; /* "", "balanced" or a comma list (classweight.h) */
    int patience;            /* 0: no early stopping */
    double min_delta;
    int monitor;             /* Monitor */
    uint64_t seed;
    int shuffle;
    int64_t max_steps;       /* 0: no limit */
    char run_dir[CFG_PATH];  /* "" = runs/<date-time> */
    int checkpoint_every;    /* epochs; 0: only last.h5 and best.h5 */
    int keep;
    char resume[CFG_PATH];   /* "", "auto" or a checkpoint file */
    int fresh;               /* 1: move an earlier run in run-dir to run-dir/previous-N/ */
    char init[CFG_PATH];     /* checkpoint whose /params start the run */
    int threads;
    int allreduce;           /* AllreduceWire (allreduce.h): fp32 | bf16 on the wire */
    int precision;           /* 0 fp32, 1 bf16: the recurrent products (gemmprec.h) */
    uint64_t max_memory;     /* bytes per rank; 0: auto (memest_limit) */
    int on_nan;              /* OnNan */
    int on_save_error;       /* OnSaveError */
    double comm_timeout;     /* seconds; 0: no watchdog */
    double progress_every;   /* seconds between progress lines off a terminal; 0: none */
    unsigned char set[64];   /* set[i] != 0: option i was given (file or CLI) */
} Config;

/* One option whose value differs between two configs (config_diff). */
typedef struct ConfigChange {
    const char *name;             /* option name as on the command line */
    ResumeRule rule;
    char before[160], after[160]; /* values as config_write writes them (cut with "..."
                                   * if longer) */
} ConfigChange;

/* Fill c with every default. */
void config_defaults(Config *c);

/* Parse `argv[0..argc)` (options only, sub-command already removed):
 * --key value, --key=value, a flag alone (--fresh; or --fresh=1, --fresh=0:
 * a flag never takes the next argument), and --config FILE (read first,
 * whatever its position). Returns 0, or EXIT_USAGE with a message. */
int config_parse_args(Config *c, int argc, char **argv, Error *e);

/* Read `key = value` lines of an INI file into c, on top of its current
 * values. The file must be a regular file (a directory or FIFO is refused,
 * and never blocks). Lines starting with '#' or ';' are comments, [sections]
 * are ignored, `_` and `-` in keys are the same. A value runs to the end of
 * the line or to a blank followed by '#' or ';' (a trailing comment); a value
 * starting with '"' is a C-style quoted string (escapes \" \\ \n \t \r
 * \xHH). Unknown keys, a key given twice, a flag (a property of one launch),
 * bad quoting and bad values are errors naming file:line. */
int config_read_file(Config *c, const char *path, Error *e);

/* Parse config text as config_write writes it (the copy stored in every
 * checkpoint) into c, on top of its current values; `where` names the
 * source in messages ("CKPT.h5: stored config"). Same rules as
 * config_read_file. */
int config_read_text(Config *c, const char *text, const char *where, Error *e);

/* Check ranges and combinations that do not need the data (it calls
 * config_validate_launch). */
int config_validate(const Config *c, Error *e);

/* The checks no option completed from a resumed run can change: one
 * option's own range, and the combinations of one launch's options (resume
 * with init or with fresh). Checked before anything is touched, also when
 * the rest waits for the resumed options. */
int config_validate_launch(const Config *c, Error *e);

/* The weight decay in effect: the option, or the optimizer's default
 * (0, or 0.01 for adamw as torch.optim.AdamW). */
double config_weight_decay(const Config *c);

/* Was option `name` given in a file or on the command line? */
int config_is_set(const Config *c, const char *name);

/* Write every option but resume and the flags as `key = value` lines (the
 * effective config), each value in a form that reads back identically:
 * doubles in their shortest round-trip form, sizes as bytes or an exact
 * multiple of K/M/G/T, strings double-quoted with escapes when they would
 * not read back as they are. */
void config_write(FILE *f, const Config *c);

/* The value of option `name` as config_write writes it (for messages), cut
 * with "..." to fit len; "" for an unknown name. */
void config_value_text(char *out, size_t len, const Config *c, const char *name);

/* The options whose values differ between `before` (the stored config of
 * the run being resumed) and `after` (this launch), in table order,
 * RESUME_LAUNCH options skipped. Writes at most cap entries to out;
 * returns the number of differences (may exceed cap). */
int config_diff(ConfigChange *out, int cap, const Config *before, const Config *after);

/* Complete c with `stored`: every option c does not set (in a file or on
 * the command line) and that is compared on resume takes the stored value,
 * so a resumed run keeps the options of the run it continues. */
void config_inherit(Config *c, const Config *stored);

/* Print the train options with defaults and help (for --help). */
void config_print_help(FILE *f);

/* Names of the enum values, as on the command line (OPTIM_KIND_NAMES,
 * MONITOR_NAMES). */
const char *config_optimizer_name(int optimizer);
const char *config_monitor_name(int monitor);

#endif
