/* testutil.h - helpers shared by the cmocka tests. */
#ifndef RNN_TESTUTIL_H
#define RNN_TESTUTIL_H

/* Absolute path of a file under tests/ (uses the TESTS_DIR environment
 * variable, default "tests"). Returns a static buffer. */
const char *tu_path(const char *rel);

/* c as config_write writes it, in a malloc'd string (free it). */
struct Config;
char *tu_config_text(const struct Config *c);

/* A scratch directory for one cmocka test: tu_dir_setup creates
 * /tmp/rnn_dist_test.XXXXXX (and calls h5io_init) and points *state at a
 * TuDir naming it; tu_dir_teardown removes it with its contents. */
typedef struct TuDir {
    char path[256];
} TuDir;
int tu_dir_setup(void **state);
int tu_dir_teardown(void **state);

#endif
