/* cfgfile.c - reading a config file's text (see cfgfile.h). */
#include "cfgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest config file read. */
#define FILE_MAX (1 << 20)

/* Refuse anything but a regular file, naming what it is. */
static int refuse_irregular(const char *path, mode_t mode, Error *e)
{
    if (S_ISREG(mode)) return 0;
    const char *what = S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO"
                     : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
                     : S_ISSOCK(mode) ? "a socket" : "not a regular file";
    return error_set(e, EXIT_USAGE, "%s: cannot read config file: it is %s (a config file must "
                     "be a regular file)", path, what);
}

int cfgfile_read(char **text, const char *path, Error *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return error_set(e, EXIT_USAGE, "%s: cannot open config file: %s", path, strerror(errno));
    if (refuse_irregular(path, st.st_mode, e)) return EXIT_USAGE;
    /* O_NONBLOCK: should path have become a FIFO since, open cannot block */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return error_set(e, EXIT_USAGE, "%s: cannot open config file: %s", path, strerror(errno));
    int rc = fstat(fd, &st) != 0 ? error_set(e, EXIT_USAGE, "%s: cannot read config file: %s",
                                             path, strerror(errno))
                                 : refuse_irregular(path, st.st_mode, e);
    if (rc) {
        close(fd);
        return rc;
    }
    char *buf = xcalloc(FILE_MAX + 2, 1);
    size_t n = 0;
    while (n <= FILE_MAX) {
        ssize_t got = read(fd, buf + n, FILE_MAX + 1 - n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got < 0) {
                int err = errno;
                close(fd);
                free(buf);
                return error_set(e, EXIT_USAGE, "%s: cannot read config file: %s", path,
                                 strerror(err));
            }
            break;
        }
        n += (size_t)got;
    }
    close(fd);
    const char *nul = memchr(buf, '\0', n);
    if (n > FILE_MAX) {
        rc = error_set(e, EXIT_USAGE, "%s: too large for a config file (more than %d bytes)",
                       path, FILE_MAX);
    } else if (nul) {
        int line = 1;
        for (const char *p = buf; p < nul; p++) line += *p == '\n';
        rc = error_set(e, EXIT_USAGE, "%s:%d: a NUL byte: not a text file", path, line);
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    return 0;
}
