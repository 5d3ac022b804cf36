/* test_check.c - check_fail and the abort hook (check.h), without MPI: a
 * failed CHECK prints file:line and calls the installed hook (dist_abort
 * under rnn_dist); with no hook it exits with EXIT_FAIL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

/* What the test hook saw. The hook takes no context (check.h), so it
 * reports through this file's statics; one test at a time uses them. */
static jmp_buf hook_jump;
static int hook_calls;
static int hook_code;

static void hook_record(int code)
{
    hook_calls++;
    hook_code = code;
    longjmp(hook_jump, 1);
}

/* Point stderr at a fresh temporary file; returns the saved stderr fd. */
static int stderr_capture(FILE **tmp)
{
    fflush(stderr);
    *tmp = tmpfile();
    assert_non_null(*tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(*tmp), STDERR_FILENO) >= 0);
    return saved;
}

/* Put stderr back and read what was captured into buf (size n). */
static void stderr_restore(char *buf, size_t n, FILE *tmp, int saved)
{
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t got = fread(buf, 1, n - 1, tmp);
    buf[got] = '\0';
    fclose(tmp);
}

static void test_failed_check_calls_the_hook(void **state)
{
    (void)state;
    hook_calls = 0;
    hook_code = -1;
    CheckAbort old = check_set_abort(hook_record);
    FILE *tmp;
    int saved = stderr_capture(&tmp);
    const int line = __LINE__ + 2; /* the CHECK_MSG's */
    if (setjmp(hook_jump) == 0)
        CHECK_MSG(1 + 1 == 3, "arithmetic");
    char msg[512];
    stderr_restore(msg, sizeof msg, tmp, saved);
    check_set_abort(old);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_code, EXIT_FAIL);
    char want[512];
    snprintf(want, sizeof want, "rnn_dist: internal error at %s:%d: 1 + 1 == 3: arithmetic\n",
             __FILE__, line);
    assert_string_equal(msg, want);
}

static void test_passing_check_leaves_the_hook_alone(void **state)
{
    (void)state;
    hook_calls = 0;
    CheckAbort old = check_set_abort(hook_record);
    if (setjmp(hook_jump) == 0) {
        CHECK(1 + 1 == 2);
        CHECK_MSG(2 > 1, "order");
    }
    check_set_abort(old);
    assert_int_equal(hook_calls, 0);
}

static void test_set_abort_returns_the_previous_hook(void **state)
{
    (void)state;
    CheckAbort old = check_set_abort(hook_record);
    assert_ptr_equal(check_set_abort(NULL), hook_record);
    assert_null(check_set_abort(old));
}

/* No hook: the process prints the failure and exits with EXIT_FAIL (in a
 * child, so this test runner survives). */
static void test_no_hook_exits_with_exit_fail(void **state)
{
    (void)state;
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], STDERR_FILENO);
        close(fd[0]);
        check_set_abort(NULL);
        check_fail("here.c", 7, "cond", NULL);
    }
    close(fd[1]);
    char msg[512];
    size_t got = 0;
    for (ssize_t r; got < sizeof msg - 1 && (r = read(fd[0], msg + got, sizeof msg - 1 - got)) > 0;)
        got += (size_t)r;
    msg[got] = '\0';
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), EXIT_FAIL);
    assert_string_equal(msg, "rnn_dist: internal error at here.c:7: cond\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_check_calls_the_hook),
        cmocka_unit_test(test_passing_check_leaves_the_hook_alone),
        cmocka_unit_test(test_set_abort_returns_the_previous_hook),
        cmocka_unit_test(test_no_hook_exits_with_exit_fail),
    };
    return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
