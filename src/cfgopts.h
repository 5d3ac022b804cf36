/* cfgopts.h - the option table of train: every option's name, type, resume
 * rule, place in Config, default, range and help text, in --help order.
 * Internal to the config module (config.c reads and writes options through
 * it); other modules use config.h.
 */
#ifndef RNN_CFGOPTS_H
#define RNN_CFGOPTS_H

#include <stddef.h>

#include "config.h"

typedef enum OptType {
    OT_STR,
    OT_INT,
    OT_I64,
    OT_U64,
    OT_DBL,
    OT_ENUM,
    OT_FLAG, /* 0/1, alone on the command line, never in a file */
    OT_SIZE  /* uint64_t bytes, text with an optional K/M/G/T suffix */
} OptType;

typedef struct OptDef {
    const char *name;
    OptType type;
    ResumeRule rule;      /* what a change on resume means */
    size_t offset;
    const char *def;      /* default, as text */
    const EnumNames *choices; /* OT_ENUM: the value names, value = index */
    double lo, hi;        /* numeric range, inclusive */
    const char *help;
} OptDef;

/* Room for options: a bound for arrays indexed by option. */
#define CFGOPTS_MAX 64

/* The table, static; cfgopts_count() entries. */
const OptDef *cfgopts_table(void);
/* The number of options in the table. */
int cfgopts_count(void);

#endif
