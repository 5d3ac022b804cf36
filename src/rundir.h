/* rundir.h - a run directory belongs to one run.
 *
 * Rank 0 owns the run directory. rundir_open creates it, takes its lock and
 * decides whether this launch may use it:
 *  - the lock: RUN/.lock holds "host pid start-time slurm-job" of the run
 *    that holds it, and that process keeps an flock on it for the run's
 *    life. A second run into a locked directory is refused naming the holder.
 *    A lock left by a process that is gone is taken over with a warning: one
 *    of this host whose pid is dead (or reused by another process), or one of
 *    an earlier incarnation of this SLURM job (a requeue on another node).
 *    A lock of another host that may be alive is refused, saying how to
 *    remove it.
 *  - a directory that already holds a run (metrics.csv or a checkpoint) is
 *    refused unless this launch resumes it (--resume), or --fresh moves the
 *    earlier run's files into RUN/previous-N/ (nothing is deleted).
 *  - temporary files of an earlier process (NAME.tmp.PID: a checkpoint or
 *    metrics.csv interrupted by kill -9) are removed once the lock is held.
 * rundir_close releases the lock (removes RUN/.lock).
 */
#ifndef RNN_RUNDIR_H
#define RNN_RUNDIR_H

#include <stdint.h>
#include <stdio.h>

#include "check.h"

#define RUNDIR_PATH 1024

typedef struct RunDir {
    char path[RUNDIR_PATH];  /* the run directory */
    int lock_fd;             /* open RUN/.lock, flock held; -1 when not held */
} RunDir;

/* How this launch wants to use the directory. */
typedef enum RunDirUse {
    RUNDIR_NEW = 0,    /* a new run: the directory must not hold one */
    RUNDIR_RESUME = 1, /* --resume: continue the run it holds (if any) */
    RUNDIR_FRESH = 2   /* --fresh: move an earlier run aside first */
} RunDirUse;

/* Create `path` (and its parents), take its lock, apply `use`. Warnings (a
 * stale lock taken over, files moved aside) are printed on warn.
 * Returns 0 with r filled and the lock held, or EXIT_USAGE (locked, holds a
 * run, cannot create or write) with one line in e; nothing is left held. */
int rundir_open(RunDir *r, const char *path, RunDirUse use, FILE *warn, Error *e);

/* Release the lock (idempotent; r->lock_fd = -1 afterwards). */
void rundir_close(RunDir *r);

/* Does the directory hold a run: metrics.csv, last.h5, best.h5 or a
 * ckpt-epochNNNN.h5? 1 yes, 0 no. */
int rundir_holds_run(const char *path);

/* Is `name` a file that a run writes in its directory (moved by --fresh):
 * config.ini, metrics.csv, resumes.log, last.h5, best.h5, ckpt-epochNNNN.h5,
 * counting.h5 (the built-in data), their NAME.tmp.PID, the plots of
 * scripts/plot_run.py (*.png)? */
int rundir_is_run_file(const char *name);

/* A new random run id (never 0), from the kernel's random source. */
uint64_t rundir_new_id(void);

#endif
