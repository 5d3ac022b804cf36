/* rundir.c - the run directory's lock and ownership (see rundir.h). */
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_NAME ".lock"

/* Who holds (or held) a lock: one line of key=value words in RUN/.lock. */
typedef struct Holder {
    char host[256];
    long pid;
    unsigned long long start; /* the process's start time, clock ticks after boot */
    char boot[64];            /* /proc/sys/kernel/random/boot_id */
    char job[64];             /* $SLURM_JOB_ID, "-" outside SLURM */
    long long since;          /* time() when taken */
} Holder;

static int mkdir_p(const char *path)
{
    char buf[RUNDIR_PATH];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) && errno != EEXIST) return -1;
    return 0;
}

/* Field 22 of /proc/PID/stat (the start time, after the parenthesised
 * command name); 0 if the process does not exist or has ended (a zombie
 * that no parent has reaped yet is gone all the same). */
static unsigned long long process_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X' || p[2] == 'x') return 0;
    unsigned long long start = 0;
    /* after ") ": state is field 3, starttime field 22 */
    for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
    if (p) start = strtoull(p + 1, NULL, 10);
    return start;
}

static void read_line(char *out, size_t len, const char *path)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)len, f)) out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static void holder_self(Holder *h)
{
    memset(h, 0, sizeof *h);
    if (gethostname(h->host, sizeof h->host - 1)) snprintf(h->host, sizeof h->host, "unknown");
    h->pid = (long)getpid();
    h->start = process_start(h->pid);
    read_line(h->boot, sizeof h->boot, "/proc/sys/kernel/random/boot_id");
    if (!h->boot[0]) snprintf(h->boot, sizeof h->boot, "-");
    const char *job = getenv("SLURM_JOB_ID");
    snprintf(h->job, sizeof h->job, "%s", job && *job ? job : "-");
    h->since = (long long)time(NULL);
}

/* Parse the lock file's line; 0 on success. */
static int holder_parse(Holder *h, const char *line)
{
    memset(h, 0, sizeof *h);
    return sscanf(line, "host=%255s pid=%ld start=%llu boot=%63s job=%63s since=%lld", h->host,
                  &h->pid, &h->start, h->boot, h->job, &h->since) == 6
               ? 0
               : -1;
}

/* "pid 123 on host node1, since 2026-12-02 10:00:00" */
static void holder_describe(char *out, size_t len, const Holder *h)
{
    char when[32] = "?";
    time_t t = (time_t)h->since;
    struct tm tm;
    if (localtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, len, "pid %ld on host %s, since %s%s%s", h->pid, h->host, when,
             strcmp(h->job, "-") ? ", SLURM job " : "", strcmp(h->job, "-") ? h->job : "");
}

/* Is the holder certainly gone? Its host is this one (same boot) and its pid
 * is dead or another process now; or it was an earlier incarnation of this
 * SLURM job (requeued, possibly onto another node). */
static int holder_gone(const Holder *h, const Holder *self)
{
    if (strcmp(h->job, "-") != 0 && strcmp(h->job, self->job) == 0) return 1;
    if (strcmp(h->host, self->host) != 0) return 0;
    if (strcmp(h->boot, self->boot) != 0) return 1;
    if (h->pid == self->pid) return 1;
    return process_start(h->pid) != h->start;
}

/* Take RUN/.lock: 0 with r->lock_fd set, or EXIT_USAGE. */
static int take_lock(RunDir *r, FILE *warn, Error *e)
{
    char lock[RUNDIR_PATH + 16];
    snprintf(lock, sizeof lock, "%s/%s", r->path, LOCK_NAME);
    Holder self;
    holder_self(&self);
    for (int attempt = 0; attempt < 5; attempt++) {
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            return error_set(e, EXIT_USAGE, "run-dir %s: cannot create or write: %s", r->path,
                             strerror(errno));
        int locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
        int busy = !locked && errno == EWOULDBLOCK;
        /* the file may have been removed by its holder between open and flock */
        struct stat a, b;
        if (fstat(fd, &a) || stat(lock, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
            close(fd);
            continue;
        }
        char line[512] = "";
        ssize_t n = pread(fd, line, sizeof line - 1, 0);
        line[n > 0 ? n : 0] = '\0';
        line[strcspn(line, "\n")] = '\0';
        Holder h;
        int named = line[0] && holder_parse(&h, line) == 0;
        char who[400] = "an unknown process";
        if (named) holder_describe(who, sizeof who, &h);
        if (busy || (named && !holder_gone(&h, &self) && strcmp(h.host, self.host) == 0)) {
            close(fd);
            return error_set(e, EXIT_USAGE, "run-dir %s is in use by another run (%s): wait for "
                             "it to end, or choose another --run-dir", r->path, who);
        }
        if (named && !holder_gone(&h, &self)) {
            close(fd);
            return error_set(e, EXIT_USAGE, "run-dir %s is locked by a run on another host (%s); "
                             "if no run is alive there, remove %s", r->path, who, lock);
        }
        if (named && warn)
            fprintf(warn, "rnn_dist: warning: run-dir %s: taking over the lock of a run that is "
                    "gone (%s)\n", r->path, who);
        char mine[512];
        int len = snprintf(mine, sizeof mine,
                           "host=%s pid=%ld start=%llu boot=%s job=%s since=%lld\n", self.host,
                           self.pid, self.start, self.boot, self.job, self.since);
        if (ftruncate(fd, 0) || pwrite(fd, mine, (size_t)len, 0) != len) {
            int err = errno;
            close(fd);
            unlink(lock);
            return error_set(e, EXIT_USAGE, "run-dir %s: cannot create or write: %s", r->path,
                             strerror(err));
        }
        r->lock_fd = fd;
        return 0;
    }
    return error_set(e, EXIT_USAGE, "run-dir %s: its lock keeps changing hands; is another run "
                     "starting there?", r->path);
}

int rundir_is_run_file(const char *name)
{
    static const char *const fixed[] = {"config.ini", "metrics.csv", "resumes.log", "last.h5",
                                        "best.h5",    "counting.h5"};
    char base[256];
    snprintf(base, sizeof base, "%s", name);
    char *tmp = strstr(base, ".tmp");
    if (tmp) *tmp = '\0';
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(base, fixed[i]) == 0) return 1;
    unsigned ep;
    char tail[8] = "";
    if (sscanf(base, "ckpt-epoch%u%7s", &ep, tail) == 2 && strcmp(tail, ".h5") == 0) return 1;
    size_t n = strlen(base);
    return n > 4 && strcmp(base + n - 4, ".png") == 0;
}

int rundir_holds_run(const char *path)
{
    DIR *dh = opendir(path);
    int holds = 0;
    for (struct dirent *de; dh && !holds && (de = readdir(dh)) != NULL;) {
        const char *n = de->d_name;
        unsigned ep;
        char tail[8] = "";
        holds = strcmp(n, "metrics.csv") == 0 || strcmp(n, "last.h5") == 0 ||
                strcmp(n, "best.h5") == 0 ||
                (sscanf(n, "ckpt-epoch%u%7s", &ep, tail) == 2 && strcmp(tail, ".h5") == 0);
    }
    if (dh) closedir(dh);
    return holds;
}

/* Move the earlier run's files into RUN/previous-N (the first N free). */
static int move_aside(const RunDir *r, FILE *warn, Error *e)
{
    char dest[RUNDIR_PATH + 32];
    int k = 1;
    for (;; k++) {
        snprintf(dest, sizeof dest, "%s/previous-%d", r->path, k);
        if (mkdir(dest, 0777) == 0) break;
        if (errno != EEXIST)
            return error_set(e, EXIT_USAGE, "--fresh: cannot create %s: %s", dest,
                             strerror(errno));
    }
    DIR *dh = opendir(r->path);
    int moved = 0, rc = 0;
    for (struct dirent *de; dh && !rc && (de = readdir(dh)) != NULL;) {
        if (!rundir_is_run_file(de->d_name)) continue;
        char from[RUNDIR_PATH + 300], to[RUNDIR_PATH + 340];
        snprintf(from, sizeof from, "%s/%s", r->path, de->d_name);
        snprintf(to, sizeof to, "%s/%s", dest, de->d_name);
        if (rename(from, to))
            rc = error_set(e, EXIT_USAGE, "--fresh: cannot move %s to %s: %s", from, dest,
                           strerror(errno));
        else
            moved++;
    }
    if (dh) closedir(dh);
    if (!rc && warn)
        fprintf(warn, "rnn_dist: --fresh: moved the earlier run's %d file%s into %s/\n", moved,
                moved == 1 ? "" : "s", dest);
    return rc;
}

/* Remove NAME.tmp.PID files of earlier processes (the lock is held: no live
 * process of this run directory can be writing them). */
static void remove_stale_tmp(const RunDir *r)
{
    DIR *dh = opendir(r->path);
    for (struct dirent *de; dh && (de = readdir(dh)) != NULL;) {
        if (!strstr(de->d_name, ".tmp") || !rundir_is_run_file(de->d_name)) continue;
        char p[RUNDIR_PATH + 300];
        snprintf(p, sizeof p, "%s/%s", r->path, de->d_name);
        unlink(p);
    }
    if (dh) closedir(dh);
}

int rundir_open(RunDir *r, const char *path, RunDirUse use, FILE *warn, Error *e)
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    if (strlen(path) >= sizeof r->path)
        return error_set(e, EXIT_USAGE, "run-dir %s: path too long", path);
    snprintf(r->path, sizeof r->path, "%s", path);
    struct stat st;
    if (mkdir_p(path) || stat(path, &st))
        return error_set(e, EXIT_USAGE, "run-dir %s: cannot create or write: %s", path,
                         strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return error_set(e, EXIT_USAGE, "run-dir %s: not a directory", path);
    if (access(path, W_OK | X_OK))
        return error_set(e, EXIT_USAGE, "run-dir %s: cannot create or write: %s", path,
                         strerror(errno));
    if (take_lock(r, warn, e)) return EXIT_USAGE;
    int rc = 0;
    if (rundir_holds_run(path)) {
        if (use == RUNDIR_NEW)
            rc = error_set(e, EXIT_USAGE, "run-dir %s already holds a run: continue it with "
                           "--resume auto, or start afresh with another --run-dir or with "
                           "--fresh (moves its files into %s/previous-N/)", path, path);
        else if (use == RUNDIR_FRESH)
            rc = move_aside(r, warn, e);
    }
    if (rc) {
        rundir_close(r);
        return rc;
    }
    remove_stale_tmp(r);
    return 0;
}

void rundir_close(RunDir *r)
{
    if (r->lock_fd < 0) return;
    char lock[RUNDIR_PATH + 16];
    snprintf(lock, sizeof lock, "%s/%s", r->path, LOCK_NAME);
    unlink(lock);
    close(r->lock_fd);
    r->lock_fd = -1;
}

uint64_t rundir_new_id(void)
{
    uint64_t id = 0;
    while (id == 0) {
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            id = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 16);
        }
    }
    return id;
}
