/* config.h - training options: defaults, INI file, command line, validation.
 *
 * Every option has one entry in a table (config.c) that gives its name, type,
 * default and help; --help, the INI reader, the command-line parser and the
 * effective-config writer all read that table, so they cannot disagree.
 * Precedence: default < config file < command line.
 */
#ifndef RNN_CONFIG_H
#define RNN_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"

#define CFG_PATH 1024

typedef enum OptimKind { OPTIM_ADAM = 0, OPTIM_ADAMW = 1, OPTIM_SGD = 2 } OptimKind;
typedef enum Monitor { MONITOR_VAL_LOSS = 0, MONITOR_VAL_ACC = 1 } Monitor;
typedef enum OnNan { ON_NAN_STOP = 0, ON_NAN_SKIP = 1 } OnNan;
typedef enum OnSaveError { ON_SAVE_ERROR_STOP = 0, ON_SAVE_ERROR_CONTINUE = 1 } OnSaveError;
typedef enum TargetChoice { TARGET_CHOICE_AUTO = 0, TARGET_CHOICE_STEP = 1,
                            TARGET_CHOICE_LAST = 2 } TargetChoice;

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
    int embed;
    int target;              /* TargetChoice */
    int epochs;
    int batch_size;          /* global */
    double lr;
    int optimizer;           /* OptimKind */
    double momentum;
    double weight_decay;     /* < 0: default of the optimizer */
    double clip_grad_norm;   /* 0: off */
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
    char init[CFG_PATH];     /* checkpoint whose /params start the run */
    int threads;
    int on_nan;              /* OnNan */
    int on_save_error;       /* OnSaveError */
    double comm_timeout;     /* seconds; 0: no watchdog */
    uint64_t max_memory;     /* bytes per rank; 0: auto (memest_limit) */
    unsigned char set[64];   /* set[i] != 0: option i was given (file or CLI) */
} Config;

/* Fill c with every default. */
void config_defaults(Config *c);

/* Parse `argv[0..argc)` (options only, sub-command already removed):
 * --key value, --key=value, and --config FILE (read first, whatever its
 * position). Returns 0, or EXIT_USAGE with a message. */
int config_parse_args(Config *c, int argc, char **argv, Error *e);

/* Read `key = value` lines of an INI file ('#'/';' comments, [sections]
 * ignored). Unknown keys and bad values are errors naming file:line. */
int config_read_file(Config *c, const char *path, Error *e);

/* Check ranges and combinations that do not need the data. */
int config_validate(const Config *c, Error *e);

/* The weight decay in effect: the option, or the optimizer's default
 * (0, or 0.01 for adamw as torch.optim.AdamW). */
double config_weight_decay(const Config *c);

/* Was option `name` given in a file or on the command line? */
int config_is_set(const Config *c, const char *name);

/* Write every option as `key = value` lines (the effective config). */
void config_write(FILE *f, const Config *c);

/* Print the train options with defaults and help (for --help). */
void config_print_help(FILE *f);

/* Names of the enum values, as on the command line. */
const char *config_optimizer_name(int optimizer);
const char *config_monitor_name(int monitor);

#endif
