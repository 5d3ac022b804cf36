/* testutil.c - helpers shared by the cmocka tests (see testutil.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

const char *tu_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("TESTS_DIR");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests", rel);
    return buf;
}
