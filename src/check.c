/* check.c - error helpers (see check.h). */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The abort hook (check.h): the one process-wide setting, set once at start. */
static CheckAbort check_abort_hook;

int error_set(Error *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

void check_fail(const char *file, int line, const char *what, const char *detail)
{
    fprintf(stderr, "rnn_dist: internal error at %s:%d: %s%s%s\n", file, line, what,
            detail ? ": " : "", detail ? detail : "");
    fflush(stderr);
    if (check_abort_hook) check_abort_hook(EXIT_FAIL);
    fflush(stdout);
    exit(EXIT_FAIL);
}

CheckAbort check_set_abort(CheckAbort hook)
{
    CheckAbort old = check_abort_hook;
    check_abort_hook = hook;
    return old;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    CHECK_MSG(p != NULL, "out of memory");
    return p;
}

float *xalloc_floats(size_t n)
{
    size_t bytes = ((n ? n : 1) * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    CHECK_MSG(p != NULL, "out of memory");
    memset(p, 0, bytes);
    return p;
}

void *xalloc_rows(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge) return xcalloc(bytes, 1);
    bytes = (bytes + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, bytes);
    CHECK_MSG(p != NULL, "out of memory");
    madvise(p, bytes, MADV_HUGEPAGE); /* advice: refused or not, p is usable */
    memset(p, 0, bytes);
    return p;
}

void xgrow_floats(float **buf, size_t *cap, size_t n)
{
    if (n <= *cap && *buf) return;
    free(*buf);
    *buf = xalloc_floats(n);
    *cap = n;
}
