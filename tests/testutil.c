/* testutil.c - helpers shared by the cmocka tests (see testutil.h). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "config.h"
#include "h5io.h"

const char *tu_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("TESTS_DIR");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "tests", rel);
    return buf;
}

int tu_dir_setup(void **state)
{
    TuDir *d = xcalloc(1, sizeof *d);
    snprintf(d->path, sizeof d->path, "/tmp/rnn_dist_test.XXXXXX");
    if (!mkdtemp(d->path)) return -1;
    h5io_init();
    *state = d;
    return 0;
}

int tu_dir_teardown(void **state)
{
    TuDir *d = *state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    int rc = system(cmd);
    free(d);
    return rc;
}

char *tu_config_text(const Config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_write(f, c);
    fclose(f);
    return text;
}
