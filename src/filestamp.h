/* filestamp.h - is this the same input file? Two questions, two answers:
 *  - during a run: has the file changed since it was opened (size, mtime,
 *    inode: a file rewritten, truncated or replaced in place)? Cheap: a stat.
 *  - on resume: is it the file the run started with, wherever it now lives
 *    (a moved or copied file is the same; a rewritten one is not)? A
 *    fingerprint of its size and sampled contents.
 */
#ifndef RNN_FILESTAMP_H
#define RNN_FILESTAMP_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"

/* What stat says of a file. */
typedef struct FileStamp {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
} FileStamp;

/* Stat path into s. 0, or EXIT_USAGE naming the path and errno. */
int filestamp_take(FileStamp *s, const char *path, Error *e);

/* Has path changed since s was taken? 0 no; 1 yes, with what[0..len) saying
 * how ("its size went from 100 to 0 bytes", "it was modified at 10:00:03",
 * "it was replaced by another file", "it is gone"). */
int filestamp_changed(char *what, size_t len, const FileStamp *s, const char *path);

/* Identity of a file's contents: FNV-1a over its size and up to 18 sampled
 * blocks of 64 KiB (the first, the last, 16 evenly spaced): about 1 MiB read
 * whatever the file's size. 0, or EXIT_USAGE naming the path and errno. */
int filestamp_fingerprint(uint64_t *hash, uint64_t *bytes, const char *path, Error *e);

#endif
