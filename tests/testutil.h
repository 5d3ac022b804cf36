/* testutil.h - helpers shared by the cmocka tests. */
#ifndef RNN_TESTUTIL_H
#define RNN_TESTUTIL_H

/* Absolute path of a file under tests/ (uses the TESTS_DIR environment
 * variable, default "tests"). Returns a static buffer. */
const char *tu_path(const char *rel);

#endif
