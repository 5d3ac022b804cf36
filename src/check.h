/* check.h - error reporting shared by every module.
 *
 * Two kinds of failure:
 *  - user errors (bad option, bad file): functions fill an Error and return
 *    non-zero; main prints Error.msg once (rank 0) and exits with Error.code
 *    on every rank.
 *  - internal errors (out of memory, broken invariant, failed system call):
 *    CHECK() prints the failed condition with file:line and ends the whole
 *    job through dist_abort() (MPI_Abort), never exit() on one rank.
 */
#ifndef RNN_CHECK_H
#define RNN_CHECK_H

#include <stddef.h>

/* Exit codes of rnn_dist. */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,     /* internal error, failed selftest, I/O failure */
    EXIT_USAGE = 2,    /* bad option, bad input file: refused before training */
    EXIT_DIVERGED = 3, /* training stopped on a non-finite loss */
    EXIT_SIGNAL = 4    /* stopped by SIGTERM / SIGUSR1 after writing last.h5 */
};

/* A user-facing error: an exit code and one line of text (no newline). */
typedef struct Error {
    int code;
    char msg[1024];
} Error;

/* Fill e (when not NULL) with code and a printf-style message; returns code,
 * so callers can write `return error_set(e, EXIT_USAGE, "...")`. */
int error_set(Error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Report a failed internal check and end the job (never returns). */
void check_fail(const char *file, int line, const char *what, const char *detail)
    __attribute__((noreturn));

/* CHECK(cond): end the job with file:line when cond is false. */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) check_fail(__FILE__, __LINE__, #cond, NULL);          \
    } while (0)

/* CHECK_MSG(cond, detail): same, with a short explanation. */
#define CHECK_MSG(cond, detail)                                            \
    do {                                                                   \
        if (!(cond)) check_fail(__FILE__, __LINE__, #cond, (detail));      \
    } while (0)

/* Allocation that never returns NULL: ends the job on failure.
 * Memory is zeroed; free with free(). */
void *xcalloc(size_t n, size_t size);
/* Aligned (64 bytes) zeroed allocation for float arrays; free with free(). */
float *xalloc_floats(size_t n);
/* Grow *buf to hold at least n floats (contents are not kept); *cap tracks
 * the current capacity. Used for workspaces allocated once per shape. */
void xgrow_floats(float **buf, size_t *cap, size_t n);

#endif
