/* filestamp.c - file change and identity checks (see filestamp.h). */
#include "filestamp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"

#define SAMPLE_BYTES (64u << 10)
#define SAMPLES 16

int filestamp_take(FileStamp *s, const char *path, Error *e)
{
    struct stat st;
    if (stat(path, &st))
        return error_set(e, EXIT_USAGE, "%s: %s", path, strerror(errno));
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    s->size = (uint64_t)st.st_size;
    s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

int filestamp_changed(char *what, size_t len, const FileStamp *s, const char *path)
{
    FileStamp now;
    if (filestamp_take(&now, path, NULL)) {
        snprintf(what, len, "it is gone (%s)", strerror(errno));
        return 1;
    }
    if (now.dev != s->dev || now.ino != s->ino) {
        snprintf(what, len, "it was replaced by another file");
        return 1;
    }
    if (now.size != s->size) {
        snprintf(what, len, "its size went from %llu to %llu bytes",
                 (unsigned long long)s->size, (unsigned long long)now.size);
        return 1;
    }
    if (now.mtime_ns != s->mtime_ns) {
        time_t t = (time_t)(now.mtime_ns / 1000000000);
        struct tm tm;
        char when[32] = "?";
        if (localtime_r(&t, &tm)) strftime(when, sizeof when, "%H:%M:%S", &tm);
        snprintf(what, len, "it was modified at %s", when);
        return 1;
    }
    return 0;
}

int filestamp_fingerprint(uint64_t *hash, uint64_t *bytes, const char *path, Error *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        int err = errno;
        if (fd >= 0) close(fd);
        return error_set(e, EXIT_USAGE, "%s: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(e, EXIT_USAGE, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size, h = HASH_FNV_BASIS;
    h = hash_fnv1a(h, &size, sizeof size);
    unsigned char *buf = malloc(SAMPLE_BYTES);
    CHECK(buf != NULL);
    uint64_t last = size > SAMPLE_BYTES ? size - SAMPLE_BYTES : 0;
    for (int i = 0; i <= SAMPLES + 1; i++) {
        uint64_t at = i == 0 ? 0 : i == SAMPLES + 1 ? last : last / (SAMPLES + 1) * (uint64_t)i;
        ssize_t n = pread(fd, buf, SAMPLE_BYTES, (off_t)at);
        if (n < 0) {
            int err = errno;
            free(buf);
            close(fd);
            return error_set(e, EXIT_USAGE, "%s: %s", path, strerror(err));
        }
        h = hash_fnv1a(h, buf, (size_t)n);
    }
    free(buf);
    close(fd);
    *hash = h;
    *bytes = size;
    return 0;
}
