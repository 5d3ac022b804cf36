/* test_rundir.c - the run directory's lock, the refusal of a directory that
 * holds a run, --fresh, stale temporary files; the file stamps that notice
 * an input changing under a run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "filestamp.h"
#include "rundir.h"

static char *make_dir(void)
{
    char tmpl[] = "/tmp/test_rundir.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_lock_held_and_released(void **state)
{
    (void)state;
    char *dir = make_dir();
    char sub[600];
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* parents are created */
    RunDir r, r2;
    Error e;
    assert_int_equal(rundir_open(&r, sub, RUNDIR_NEW, NULL, &e), 0);
    assert_true(r.lock_fd >= 0);
    assert_true(exists(sub, ".lock"));
    /* a second open (another open file description: flock refuses it) */
    assert_int_equal(rundir_open(&r2, sub, RUNDIR_RESUME, NULL, &e), EXIT_USAGE);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld on host ", (long)getpid());
    assert_non_null(strstr(e.msg, "is in use by another run"));
    assert_non_null(strstr(e.msg, pid));
    assert_int_equal(r2.lock_fd, -1);
    rundir_close(&r);
    assert_int_equal(r.lock_fd, -1);
    assert_false(exists(sub, ".lock"));
    rundir_close(&r); /* idempotent */
    assert_int_equal(rundir_open(&r2, sub, RUNDIR_NEW, NULL, &e), 0);
    rundir_close(&r2);
    rm_rf(dir);
    free(dir);
}

/* A lock file left by a process that is gone: taken over with a warning. */
static void test_stale_lock_taken_over(void **state)
{
    (void)state;
    char *dir = make_dir();
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0); /* a pid that no longer runs */
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char boot[64] = "-";
    FILE *b = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (b) {
        if (fgets(boot, sizeof boot, b)) boot[strcspn(boot, "\n")] = '\0';
        fclose(b);
    }
    char line[512];
    snprintf(line, sizeof line, "host=%s pid=%ld start=1 boot=%s job=- since=0\n", host,
             (long)child, boot);
    write_file(dir, ".lock", line);
    char *buf = NULL;
    size_t len = 0;
    FILE *warn = open_memstream(&buf, &len);
    RunDir r;
    Error e;
    assert_int_equal(rundir_open(&r, dir, RUNDIR_NEW, warn, &e), 0);
    fclose(warn);
    char want[512];
    snprintf(want, sizeof want, "taking over the lock of a run that is gone (pid %ld on host %s",
             (long)child, host);
    assert_non_null(strstr(buf, want));
    free(buf);
    rundir_close(&r);

    /* a lock of a live process on another host is refused, naming it */
    snprintf(line, sizeof line, "host=elsewhere-%s pid=1 start=1 boot=x job=- since=0\n", host);
    write_file(dir, ".lock", line);
    assert_int_equal(rundir_open(&r, dir, RUNDIR_NEW, NULL, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "locked by a run on another host (pid 1 on host elsewhere-"));
    assert_non_null(strstr(e.msg, "remove"));
    /* ... unless it was an earlier incarnation of this SLURM job */
    snprintf(line, sizeof line, "host=elsewhere pid=1 start=1 boot=x job=4242 since=0\n");
    write_file(dir, ".lock", line);
    setenv("SLURM_JOB_ID", "4242", 1);
    assert_int_equal(rundir_open(&r, dir, RUNDIR_NEW, NULL, &e), 0);
    unsetenv("SLURM_JOB_ID");
    rundir_close(&r);
    rm_rf(dir);
    free(dir);
}

/* Field 22 of /proc/PID/stat, read here independently of rundir.c. */
static unsigned long long start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')') + 2;
    for (int field = 3; field < 22; field++) p = strchr(p, ' ') + 1;
    return strtoull(p, NULL, 10);
}

/* A holder that has ended but is not reaped yet (a zombie: mpirun's ranks
 * after a kill -9, when no init reaps them) is gone; a live one is not. */
static void test_zombie_holder_is_gone(void **state)
{
    (void)state;
    char *dir = make_dir();
    char host[256] = "", boot[64] = "-", line[512];
    gethostname(host, sizeof host - 1);
    FILE *b = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (b) {
        if (fgets(boot, sizeof boot, b)) boot[strcspn(boot, "\n")] = '\0';
        fclose(b);
    }
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(fds[1]);
        if (read(fds[0], &c, 1) < 0) _exit(1);
        _exit(0);
    }
    close(fds[0]);
    unsigned long long start = start_time(child);
    snprintf(line, sizeof line, "host=%s pid=%ld start=%llu boot=%s job=- since=0\n", host,
             (long)child, start, boot);
    write_file(dir, ".lock", line);
    RunDir r;
    Error e;
    /* alive (it holds no flock, as an older rnn_dist would not): refused */
    assert_int_equal(rundir_open(&r, dir, RUNDIR_NEW, NULL, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "in use by another run"));
    /* let it end without reaping it */
    assert_int_equal(write(fds[1], "x", 1), 1);
    close(fds[1]);
    char path[64], st[256] = "";
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)child);
    for (int i = 0; i < 500 && !strstr(st, ") Z"); i++) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(st, sizeof st, f)) st[0] = '\0';
            fclose(f);
        }
        usleep(2000);
    }
    assert_non_null(strstr(st, ") Z"));
    assert_int_equal(rundir_open(&r, dir, RUNDIR_NEW, NULL, &e), 0);
    rundir_close(&r);
    waitpid(child, NULL, 0);
    rm_rf(dir);
    free(dir);
}

static void test_holds_run_and_fresh(void **state)
{
    (void)state;
    char *dir = make_dir();
    RunDir r;
    Error e;
    /* config.ini, the built-in data and plots alone are not a run */
    write_file(dir, "config.ini", "hidden = 4\n");
    write_file(dir, "counting.h5", "x");
    assert_false(rundir_holds_run(dir));
    assert_int_equal(rundir_open(&r, dir, RUNDIR_NEW, NULL, &e), 0);
    rundir_close(&r);
    const char *run_files[] = {"metrics.csv", "last.h5", "best.h5", "ckpt-epoch0003.h5"};
    for (int i = 0; i < 4; i++) {
        char *d = make_dir();
        write_file(d, run_files[i], "x");
        assert_true(rundir_holds_run(d));
        assert_int_equal(rundir_open(&r, d, RUNDIR_NEW, NULL, &e), EXIT_USAGE);
        assert_non_null(strstr(e.msg, "already holds a run: continue it with --resume auto"));
        assert_false(exists(d, ".lock"));
        assert_int_equal(rundir_open(&r, d, RUNDIR_RESUME, NULL, &e), 0);
        rundir_close(&r);
        rm_rf(d);
        free(d);
    }
    /* --fresh: the run's files move to previous-1, the user's stay */
    write_file(dir, "metrics.csv", "epoch\n");
    write_file(dir, "last.h5", "x");
    write_file(dir, "ckpt-epoch0001.h5", "x");
    write_file(dir, "notes.txt", "mine");
    char *buf = NULL;
    size_t len = 0;
    FILE *warn = open_memstream(&buf, &len);
    assert_int_equal(rundir_open(&r, dir, RUNDIR_FRESH, warn, &e), 0);
    fclose(warn);
    rundir_close(&r);
    assert_non_null(strstr(buf, "moved the earlier run's 5 files into"));
    free(buf);
    char prev[600];
    snprintf(prev, sizeof prev, "%s/previous-1", dir);
    assert_true(exists(prev, "metrics.csv") && exists(prev, "last.h5") &&
                exists(prev, "ckpt-epoch0001.h5") && exists(prev, "config.ini"));
    assert_false(exists(dir, "metrics.csv") || exists(dir, "last.h5"));
    assert_true(exists(dir, "notes.txt"));
    /* again: previous-2, previous-1 untouched */
    write_file(dir, "last.h5", "y");
    assert_int_equal(rundir_open(&r, dir, RUNDIR_FRESH, NULL, &e), 0);
    rundir_close(&r);
    snprintf(prev, sizeof prev, "%s/previous-2", dir);
    assert_true(exists(prev, "last.h5"));
    snprintf(prev, sizeof prev, "%s/previous-1", dir);
    assert_true(exists(prev, "metrics.csv"));
    rm_rf(dir);
    free(dir);
}

static void test_stale_tmp_removed(void **state)
{
    (void)state;
    char *dir = make_dir();
    write_file(dir, "last.h5.tmp.12345", "partial");
    write_file(dir, "metrics.csv.tmp", "partial");
    write_file(dir, "data.h5.tmp.1", "not ours");
    RunDir r;
    Error e;
    assert_int_equal(rundir_open(&r, dir, RUNDIR_RESUME, NULL, &e), 0);
    rundir_close(&r);
    assert_false(exists(dir, "last.h5.tmp.12345"));
    assert_false(exists(dir, "metrics.csv.tmp"));
    assert_true(exists(dir, "data.h5.tmp.1"));
    assert_true(rundir_is_run_file("ckpt-epoch0012.h5"));
    assert_true(rundir_is_run_file("curves.png"));
    assert_false(rundir_is_run_file("ckpt-epoch12.h5x"));
    assert_false(rundir_is_run_file("mydata.h5"));
    rm_rf(dir);
    free(dir);
}

static void test_not_a_directory(void **state)
{
    (void)state;
    char *dir = make_dir();
    write_file(dir, "file", "x");
    char p[600];
    snprintf(p, sizeof p, "%s/file", dir);
    RunDir r;
    Error e;
    assert_int_equal(rundir_open(&r, p, RUNDIR_NEW, NULL, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "run-dir"));
    rm_rf(dir);
    free(dir);
}

static void test_filestamp(void **state)
{
    (void)state;
    char *dir = make_dir();
    char p[600], what[256];
    snprintf(p, sizeof p, "%s/d.h5", dir);
    write_file(dir, "d.h5", "0123456789");
    FileStamp s;
    Error e;
    assert_int_equal(filestamp_take(&s, p, &e), 0);
    assert_int_equal(filestamp_changed(what, sizeof what, &s, p), 0);
    uint64_t h1, h2, b1, b2;
    assert_int_equal(filestamp_fingerprint(&h1, &b1, p, &e), 0);
    assert_int_equal(b1, 10);
    /* same size, other contents: the fingerprint differs */
    write_file(dir, "d.h5", "0123456780");
    assert_int_equal(filestamp_fingerprint(&h2, &b2, p, &e), 0);
    assert_true(h1 != h2);
    /* a copy elsewhere has the same fingerprint */
    write_file(dir, "e.h5", "0123456780");
    snprintf(p, sizeof p, "%s/e.h5", dir);
    assert_int_equal(filestamp_fingerprint(&h1, &b1, p, &e), 0);
    assert_true(h1 == h2 && b1 == b2);
    snprintf(p, sizeof p, "%s/d.h5", dir);
    /* rewritten in place with another size */
    write_file(dir, "d.h5", "01");
    assert_int_equal(filestamp_changed(what, sizeof what, &s, p), 1);
    assert_non_null(strstr(what, "size went from 10 to 2 bytes"));
    /* replaced by another file */
    assert_int_equal(filestamp_take(&s, p, &e), 0);
    char q[600];
    snprintf(q, sizeof q, "%s/e.h5", dir);
    assert_int_equal(rename(q, p), 0);
    assert_int_equal(filestamp_changed(what, sizeof what, &s, p), 1);
    assert_non_null(strstr(what, "replaced by another file"));
    unlink(p);
    assert_int_equal(filestamp_changed(what, sizeof what, &s, p), 1);
    assert_non_null(strstr(what, "gone"));
    assert_int_equal(filestamp_fingerprint(&h1, &b1, dir, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "not a regular file"));
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_held_and_released),
        cmocka_unit_test(test_stale_lock_taken_over),
        cmocka_unit_test(test_zombie_holder_is_gone),
        cmocka_unit_test(test_holds_run_and_fresh),
        cmocka_unit_test(test_stale_tmp_removed),
        cmocka_unit_test(test_not_a_directory),
        cmocka_unit_test(test_filestamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
