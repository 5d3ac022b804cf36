/* cfgfile.h - the text of a config file, read safely.
 *
 * A config file is a regular file (a directory, FIFO, device or socket is
 * refused by name, and opening never blocks, even should the path become a
 * FIFO between the checks), of at most 1 MiB, without NUL bytes.
 */
#ifndef RNN_CFGFILE_H
#define RNN_CFGFILE_H

#include "check.h"

/* The whole regular file at path, NUL-terminated, in *text (malloc'd; the
 * caller frees it). Returns 0, or EXIT_USAGE with a message naming path:
 * cannot open or read it (with errno), not a regular file, larger than
 * 1 MiB, or a NUL byte (naming its line as path:line). */
int cfgfile_read(char **text, const char *path, Error *e);

#endif
