/* test_outfile.c - output files that never destroy anything: an output that
 * is one of the inputs (same path, another spelling, a hard link, a symbolic
 * link) is refused even with force; existing checkpoints, datasets, HDF5 and
 * plain files are refused without force and replaced with it; an earlier
 * output of the same kind is replaced; abort removes the temporary file;
 * commit replaces the old file atomically (a reader of the old file keeps
 * it); missing directories, directories and FIFOs at the path are refused.
 * Each test works in its own mkdtemp directory. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "h5io.h"
#include "outfile.h"
#include "testutil.h"

typedef TuDir Dir;

/* out = the test directory / name. */
static const char *at(char *out, size_t len, void **state, const char *name)
{
    snprintf(out, len, "%s/%s", ((Dir *)*state)->path, name);
    return out;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* The whole of a small file as a string ("" when it cannot be read). */
static const char *read_text(char *buf, size_t len, const char *path)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return buf;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* An HDF5 file of the given sort: "checkpoint" (root attribute
 * format_version), "params" (/params alone), "dataset" (/train/inputs),
 * "predictions" (root attribute rnn_dist_output = "predictions"), anything
 * else: an empty HDF5 file. */
static void make_h5(const char *path, const char *sort)
{
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, path, &e), 0);
    int32_t v[4] = {1, 2, 3, 4};
    size_t dims[2] = {2, 2};
    if (strcmp(sort, "checkpoint") == 0) {
        assert_int_equal(h5io_write_attr_i64(f, "/", "format_version", 1), 0);
        assert_int_equal(h5io_write_f32(f, "params/w", (const float *)v, 2, dims, &e), 0);
    } else if (strcmp(sort, "params") == 0) {
        assert_int_equal(h5io_write_f32(f, "params/w", (const float *)v, 2, dims, &e), 0);
    } else if (strcmp(sort, "dataset") == 0) {
        assert_int_equal(h5io_write_i32(f, "train/inputs", v, 2, dims, &e), 0);
    } else if (strcmp(sort, "predictions") == 0) {
        assert_int_equal(h5io_write_attr_str(f, "/", "rnn_dist_output", "predictions"), 0);
        assert_int_equal(h5io_write_i32(f, "predictions", v, 2, dims, &e), 0);
    }
    assert_true(H5Fclose(f) >= 0);
}

/* A file's bytes, to check that a refused command left it alone. */
typedef struct Snapshot {
    char bytes[8192];
    long n;
} Snapshot;

static void snap(Snapshot *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    s->n = (long)fread(s->bytes, 1, sizeof s->bytes, f);
    assert_true(feof(f));
    fclose(f);
}

static void assert_unchanged(const Snapshot *before, const char *path)
{
    Snapshot now;
    snap(&now, path);
    assert_int_equal(now.n, before->n);
    assert_memory_equal(now.bytes, before->bytes, (size_t)now.n);
}

static void test_new_file(void **state)
{
    char p[300], tmp[400];
    OutFile o;
    Error e = {0, ""};
    assert_int_equal(outfile_begin(&o, at(p, sizeof p, state, "new.h5"), NULL, 0, "predictions",
                                   0, &e), 0);
    assert_string_equal(o.path, p);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
    assert_string_equal(o.tmp, tmp);
    assert_int_equal(o.input, -1);
    /* begin writes nothing */
    assert_int_equal(access(o.tmp, F_OK), -1);
    assert_int_equal(access(o.path, F_OK), -1);
    /* write, commit: the file is there, the temporary name is gone */
    write_text(o.tmp, "new");
    assert_int_equal(outfile_commit(&o, &e), 0);
    char buf[64];
    assert_string_equal(read_text(buf, sizeof buf, p), "new");
    assert_int_equal(access(o.tmp, F_OK), -1);
}

/* path as an output of a command whose inputs are {NULL, a missing file,
 * in}: refused with and without force, o.input = 2, in untouched. */
static void assert_is_input(const char *path, const char *in, const char *kind)
{
    char missing[300];
    snprintf(missing, sizeof missing, "%s.missing", in);
    const char *inputs[] = {NULL, missing, in};
    Snapshot before;
    snap(&before, in);
    for (int force = 0; force <= 1; force++) {
        OutFile o;
        Error e = {0, ""};
        int rc = outfile_begin(&o, path, inputs, 3, kind, force, &e);
        if (rc != EXIT_USAGE)
            fail_msg("%s (force %d): exit %d, want %d", path, force, rc, EXIT_USAGE);
        assert_int_equal(o.input, 2);
        assert_non_null(strstr(e.msg, "is one of this command's inputs"));
        assert_non_null(strstr(e.msg, path));
        assert_null(strchr(e.msg, '\n'));
    }
    assert_unchanged(&before, in);
}

static void test_own_input_refused(void **state)
{
    char in[300], other[300], hard[300], soft[300];
    at(in, sizeof in, state, "in.h5");
    make_h5(in, "dataset");
    assert_is_input(in, in, NULL);
    assert_is_input(in, in, "predictions");
    /* another spelling of the same path */
    snprintf(other, sizeof other, "%s/./in.h5", ((Dir *)*state)->path);
    assert_is_input(other, in, "predictions");
    /* a hard link: another name, the same inode */
    assert_int_equal(link(in, at(hard, sizeof hard, state, "hard.h5")), 0);
    assert_is_input(hard, in, "predictions");
    /* a symbolic link to the input */
    assert_int_equal(symlink(in, at(soft, sizeof soft, state, "soft.h5")), 0);
    assert_is_input(soft, in, "predictions");
    /* even an earlier output of the same kind, when it is an input */
    char pred[300];
    make_h5(at(pred, sizeof pred, state, "pred.h5"), "predictions");
    assert_is_input(pred, pred, "predictions");
    /* a relative spelling from inside the directory */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(((Dir *)*state)->path), 0);
    assert_is_input("./in.h5", in, NULL);
    assert_int_equal(chdir(cwd), 0);
}

/* An existing file of this sort: refused without force, the message saying
 * what it is; replaced with force. */
static void assert_refused_unless_forced(void **state, const char *sort, const char *what,
                                         const char *kind)
{
    char p[300], buf[64];
    at(p, sizeof p, state, "existing");
    unlink(p);
    if (strcmp(sort, "plain") == 0)
        write_text(p, "precious");
    else
        make_h5(p, sort);
    Snapshot before;
    snap(&before, p);
    OutFile o;
    Error e = {0, ""};
    int rc = outfile_begin(&o, p, NULL, 0, kind, 0, &e);
    if (rc != EXIT_USAGE) fail_msg("%s with kind %s: exit %d, want %d", sort, kind, rc, EXIT_USAGE);
    if (!strstr(e.msg, what) || !strstr(e.msg, "--force") || !strstr(e.msg, p))
        fail_msg("%s: message '%s' should name the path, say '%s' and mention --force", sort,
                 e.msg, what);
    assert_unchanged(&before, p);
    assert_int_equal(outfile_begin(&o, p, NULL, 0, kind, 1, &e), 0);
    write_text(o.tmp, "replaced");
    assert_int_equal(outfile_commit(&o, &e), 0);
    assert_string_equal(read_text(buf, sizeof buf, p), "replaced");
}

static void test_existing_refused_without_force(void **state)
{
    const char *kinds[] = {NULL, "predictions"};
    for (int k = 0; k < 2; k++) {
        assert_refused_unless_forced(state, "checkpoint", "(an rnn_dist checkpoint)", kinds[k]);
        assert_refused_unless_forced(state, "params", "(an rnn_dist parameter file)", kinds[k]);
        assert_refused_unless_forced(state, "dataset", "(a dataset)", kinds[k]);
        assert_refused_unless_forced(state, "hdf5", "(an HDF5 file)", kinds[k]);
        assert_refused_unless_forced(state, "plain", "(a file)", kinds[k]);
    }
    /* an output of another kind, or any output when kind is NULL */
    assert_refused_unless_forced(state, "predictions", "(an rnn_dist predictions file)", NULL);
    assert_refused_unless_forced(state, "predictions", "(an rnn_dist predictions file)",
                                 "dataset");
}

static void test_same_kind_replaced(void **state)
{
    char p[300], buf[64];
    make_h5(at(p, sizeof p, state, "pred.h5"), "predictions");
    OutFile o;
    Error e = {0, ""};
    assert_int_equal(outfile_begin(&o, p, NULL, 0, "predictions", 0, &e), 0);
    write_text(o.tmp, "second run");
    assert_int_equal(outfile_commit(&o, &e), 0);
    assert_string_equal(read_text(buf, sizeof buf, p), "second run");
}

static void test_abort_removes_tmp(void **state)
{
    char p[300];
    write_text(at(p, sizeof p, state, "old.txt"), "old");
    OutFile o;
    Error e = {0, ""};
    assert_int_equal(outfile_begin(&o, p, NULL, 0, NULL, 1, &e), 0);
    write_text(o.tmp, "half written");
    outfile_abort(&o);
    assert_int_equal(access(o.tmp, F_OK), -1);
    char buf[64];
    assert_string_equal(read_text(buf, sizeof buf, p), "old");
    /* abort with nothing written is harmless */
    outfile_abort(&o);
    assert_string_equal(read_text(buf, sizeof buf, p), "old");
}

static void test_commit_replaces_atomically(void **state)
{
    char p[300], buf[64];
    write_text(at(p, sizeof p, state, "data.txt"), "old contents");
    struct stat st0, st1;
    assert_int_equal(stat(p, &st0), 0);
    /* a process that has the old file open (a reader elsewhere) */
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    OutFile o;
    Error e = {0, ""};
    assert_int_equal(outfile_begin(&o, p, NULL, 0, NULL, 1, &e), 0);
    write_text(o.tmp, "new contents");
    /* until commit the old file is whole under its name */
    assert_string_equal(read_text(buf, sizeof buf, p), "old contents");
    assert_int_equal(outfile_commit(&o, &e), 0);
    assert_string_equal(read_text(buf, sizeof buf, p), "new contents");
    assert_int_equal(access(o.tmp, F_OK), -1);
    assert_int_equal(stat(p, &st1), 0);
    assert_true(st1.st_ino != st0.st_ino); /* renamed in, not rewritten in place */
    /* the reader still has the old contents, not a truncated file */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_int_equal(n, (ssize_t)strlen("old contents"));
    buf[n] = '\0';
    assert_string_equal(buf, "old contents");
    close(fd);
}

static void test_commit_failure(void **state)
{
    char p[300];
    write_text(at(p, sizeof p, state, "keep.txt"), "keep");
    OutFile o;
    Error e = {0, ""};
    assert_int_equal(outfile_begin(&o, p, NULL, 0, NULL, 1, &e), 0);
    /* the writer never produced the temporary file */
    assert_int_equal(outfile_commit(&o, &e), EXIT_FAIL);
    assert_non_null(strstr(e.msg, p));
    char buf[64];
    assert_string_equal(read_text(buf, sizeof buf, p), "keep");
}

/* path refused with and without force, the message containing want. */
static void assert_bad_place(const char *path, const char *want)
{
    for (int force = 0; force <= 1; force++) {
        OutFile o;
        Error e = {0, ""};
        int rc = outfile_begin(&o, path, NULL, 0, "predictions", force, &e);
        if (rc != EXIT_USAGE || !strstr(e.msg, want))
            fail_msg("%s (force %d): exit %d '%s', want %d with '%s'", path, force, rc, e.msg,
                     EXIT_USAGE, want);
        assert_null(strchr(e.msg, '\n'));
    }
}

static void test_bad_places(void **state)
{
    char p[400];
    assert_bad_place(at(p, sizeof p, state, "nodir/x.h5"), "directory");
    assert_bad_place(p, "does not exist");
    assert_int_equal(access(at(p, sizeof p, state, "nodir"), F_OK), -1); /* not created */
    char file[300];
    write_text(at(file, sizeof file, state, "file.txt"), "x");
    snprintf(p, sizeof p, "%s/x.h5", file);
    assert_bad_place(p, "is not a directory");
    assert_int_equal(mkdir(at(p, sizeof p, state, "sub"), 0755), 0);
    assert_bad_place(p, "is a directory");
    assert_int_equal(mkfifo(at(p, sizeof p, state, "fifo"), 0644), 0);
    assert_bad_place(p, "not a regular file (a FIFO)");
    assert_bad_place("/dev/null", "not a regular file (a character device)");
    assert_bad_place("", "empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_own_input_refused, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_existing_refused_without_force, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_same_kind_replaced, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_abort_removes_tmp, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_commit_replaces_atomically, tu_dir_setup,
                                        tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_commit_failure, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_bad_places, tu_dir_setup, tu_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
