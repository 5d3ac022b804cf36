/* check.h - error reporting shared by every module.
 *
 * Two kinds of failure:
 *  - user errors (bad option, bad file): functions fill an Error and return
 *    non-zero; main prints Error.msg once (rank 0) and exits with Error.code
 *    on every rank.
 *  - internal errors (out of memory, broken invariant, failed system call):
 *    CHECK() prints the failed condition with file:line and ends the whole
 *    job through the abort hook: dist_init installs dist_abort (MPI_Abort),
 *    so under MPI a failed check never exit()s one rank alone. Without a hook
 *    (unit tests, fuzzers, tools that never start MPI) the process exits with
 *    EXIT_FAIL. This file knows nothing of MPI: the numeric core builds and
 *    runs without it.
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

/* How a failed check ends the job: called with EXIT_FAIL; must not return. */
typedef void (*CheckAbort)(int code);

/* Install hook as the way check_fail ends the job (NULL: none, then
 * check_fail exits with EXIT_FAIL); returns the hook installed before.
 * The hook is the one process-wide setting of rnn_dist, a static pointer
 * outside the no-mutable-globals rule the way atexit's list is: set once,
 * by dist_init, before anything runs and before any thread starts (a unit
 * test may install its own and put the old one back). Not thread-safe. */
CheckAbort check_set_abort(CheckAbort hook);

/* Report a failed internal check on stderr ("rnn_dist: internal error at
 * file:line: what[: detail]") and end the job: through the abort hook when
 * one is installed, else (or should the hook return) exit(EXIT_FAIL).
 * Never returns. */
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
/* `bytes` of zeros for rows read at random (a dataset held in memory): from
 * 2 MiB on, aligned to 2 MiB and advised to the kernel as huge pages, so
 * reaching a random row costs one TLB entry in 2 MiB instead of one in 4 KiB.
 * Free with free(). */
void *xalloc_rows(size_t bytes);
/* Grow *buf to hold at least n floats (contents are not kept); *cap tracks
 * the current capacity. Used for workspaces allocated once per shape. */
void xgrow_floats(float **buf, size_t *cap, size_t n);

#endif
