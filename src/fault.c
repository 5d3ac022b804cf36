/* fault.c - fault injection switches for tests (see fault.h). */
#include "fault.h"

#include <stdlib.h>
#include <string.h>

int fault_active(const char *name, int rank)
{
    const char *spec = getenv("RNN_DIST_FAULT");
    size_t n = strlen(name);
    if (!spec || strncmp(spec, name, n) != 0) return 0;
    if (spec[n] == '\0') return 1;
    if (spec[n] != '@') return 0;
    char *end = NULL;
    long r = strtol(spec + n + 1, &end, 10);
    return end != spec + n + 1 && *end == '\0' && r == rank;
}
