/* types.c - the name tables of the shared enums (see types.h). */
#include "types.h"

#include <string.h>

const EnumNames CELL_KIND_NAMES = ENUM_NAMES("rnn", "lstm", "gru");
const EnumNames NONLIN_NAMES = ENUM_NAMES("tanh", "relu");
const EnumNames INPUT_KIND_NAMES = ENUM_NAMES("dense", "tokens");
const EnumNames TARGET_MODE_NAMES = ENUM_NAMES("step", "last");
const EnumNames LOSS_KIND_NAMES = ENUM_NAMES("ce", "mse");

const char *types_enum_name(const EnumNames *t, int v)
{
    return v >= 0 && v < t->count ? t->names[v] : "?";
}

int types_enum_index(const EnumNames *t, const char *s)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->names[i], s) == 0) return i;
    return -1;
}
