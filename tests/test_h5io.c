/* test_h5io.c - files opened for reading must be regular files: a FIFO (which
 * would block the open until a writer comes), a directory, a device or a
 * socket is refused at once with one line saying what it is, by
 * h5io_open_read and by h5io_probe, with the probe on or off; a regular
 * HDF5 file opens. An alarm fails the test if anything blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "testutil.h"
#include "h5io.h"

typedef TuDir Dir;

/* path is refused by every reader with "PATH: not a regular file (WHAT)". */
static void assert_refused(const char *path, const char *what)
{
    char want[400];
    snprintf(want, sizeof want, "%s: not a regular file (%s)", path, what);
    alarm(20); /* an open that blocks ends the test binary: a failure */
    for (int probe = 0; probe <= 1; probe++) {
        setenv("RNN_DIST_PROBE", probe ? "1" : "0", 1);
        Error e = {0, ""};
        hid_t f = -1;
        assert_int_equal(h5io_open_read(&f, path, &e), EXIT_USAGE);
        assert_string_equal(e.msg, want);
        assert_int_equal(h5io_probe(path, &e), EXIT_USAGE);
        assert_string_equal(e.msg, want);
        assert_int_equal(h5io_check_regular(path, &e), EXIT_USAGE);
        assert_string_equal(e.msg, want);
    }
    unsetenv("RNN_DIST_PROBE");
    alarm(0);
}

static void test_not_regular(void **state)
{
    const Dir *d = *state;
    char p[300];
    snprintf(p, sizeof p, "%s/fifo.h5", d->path);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_refused(p, "a FIFO");
    assert_refused(d->path, "a directory");
    assert_refused("/dev/null", "a character device");
    snprintf(p, sizeof p, "%s/sock", d->path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    assert_true(strlen(p) < sizeof addr.sun_path);
    memcpy(addr.sun_path, p, strlen(p) + 1);
    assert_int_equal(bind(s, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_refused(p, "a socket");
    close(s);
    /* a symbolic link is followed: to a FIFO it is refused as one */
    char link_path[300];
    snprintf(p, sizeof p, "%s/fifo.h5", d->path);
    snprintf(link_path, sizeof link_path, "%s/link.h5", d->path);
    assert_int_equal(symlink(p, link_path), 0);
    assert_refused(link_path, "a FIFO");
}

static void test_regular_and_missing(void **state)
{
    const Dir *d = *state;
    char p[300];
    snprintf(p, sizeof p, "%s/ok.h5", d->path);
    hid_t f;
    Error e = {0, ""};
    assert_int_equal(h5io_create(&f, p, &e), 0);
    assert_int_equal(h5io_write_attr_i64(f, "/", "x", 7), 0);
    assert_true(H5Fclose(f) >= 0);
    assert_int_equal(h5io_check_regular(p, &e), 0);
    assert_int_equal(h5io_open_read(&f, p, &e), 0);
    int64_t x = 0;
    assert_int_equal(h5io_read_attr_i64(&x, f, "/", "x"), 0);
    assert_int_equal(x, 7);
    H5Fclose(f);
    /* a missing file keeps its message */
    snprintf(p, sizeof p, "%s/missing.h5", d->path);
    assert_int_equal(h5io_open_read(&f, p, &e), EXIT_USAGE);
    assert_non_null(strstr(e.msg, "cannot open: No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_not_regular, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown(test_regular_and_missing, tu_dir_setup, tu_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
