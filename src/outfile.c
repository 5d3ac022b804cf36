/* outfile.c - output files that never destroy anything (see outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5io.h"

/* The directory part of path ("." when it has none, "/" for "/x"). */
static void dir_of(char *dir, size_t len, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, len, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    snprintf(dir, len, "%.*s", (int)(n ? n : 1), path);
}

/* Describe the regular file at path into what ("an rnn_dist checkpoint",
 * "an rnn_dist parameter file" (/params alone: an init file), "a dataset",
 * ...); returns 1 when it is an earlier output of `kind` (never when kind is
 * NULL). A file HDF5 cannot open is "a file". */
static int existing_kind(char *what, size_t len, const char *path, const char *kind)
{
    hid_t f;
    if (h5io_open_read(&f, path, NULL)) {
        snprintf(what, len, "a file");
        return 0;
    }
    char out[64] = "";
    int same = 0;
    if (h5io_read_attr_str(out, sizeof out, f, "/", "rnn_dist_output") == 0 && out[0]) {
        same = kind && strcmp(out, kind) == 0;
        snprintf(what, len, "an rnn_dist %s file", out);
    } else if (h5io_attr_exists(f, "/", "format_version")) {
        snprintf(what, len, "an rnn_dist checkpoint");
    } else if (h5io_exists(f, "params")) {
        snprintf(what, len, "an rnn_dist parameter file");
    } else if (h5io_exists(f, "inputs") || h5io_exists(f, "train/inputs")) {
        snprintf(what, len, "a dataset");
    } else {
        snprintf(what, len, "an HDF5 file");
    }
    H5Fclose(f);
    return same;
}

int outfile_begin(OutFile *o, const char *path, const char *const *inputs, int n_inputs,
                  const char *kind, int force, Error *e)
{
    memset(o, 0, sizeof *o);
    o->input = -1;
    if (!path || !path[0]) return error_set(e, EXIT_USAGE, "the output path is empty");
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path ||
        snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof o->tmp)
        return error_set(e, EXIT_USAGE, "%.200s...: output path too long", path);
    char dir[OUTFILE_PATH];
    dir_of(dir, sizeof dir, path);
    struct stat ds, st;
    if (stat(dir, &ds) != 0)
        return error_set(e, EXIT_USAGE, "%s: directory %s %s", path, dir,
                         errno == ENOENT ? "does not exist" : strerror(errno));
    if (!S_ISDIR(ds.st_mode))
        return error_set(e, EXIT_USAGE, "%s: %s is not a directory", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return error_set(e, EXIT_USAGE, "%s: directory %s is not writable (%s)", path, dir,
                         strerror(errno));
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 0; /* nothing there (or a dangling link): a new file */
        return error_set(e, EXIT_USAGE, "%s: cannot check the output path: %s", path,
                         strerror(errno));
    }
    for (int i = 0; i < n_inputs; i++) {
        struct stat in;
        if (!inputs[i] || stat(inputs[i], &in) != 0) continue;
        if (in.st_dev == st.st_dev && in.st_ino == st.st_ino) {
            o->input = i;
            return error_set(e, EXIT_USAGE, "%s is one of this command's inputs (%s); choose "
                             "another file", path, inputs[i]);
        }
    }
    if (S_ISDIR(st.st_mode))
        return error_set(e, EXIT_USAGE, "%s is a directory; name a file to write", path);
    if (!S_ISREG(st.st_mode)) {
        Error why = {0, ""};
        h5io_check_regular(path, &why); /* "PATH: not a regular file (a FIFO)" */
        return error_set(e, EXIT_USAGE, "%s; choose another file", why.msg);
    }
    if (force) return 0;
    char what[128];
    if (existing_kind(what, sizeof what, path, kind)) return 0;
    return error_set(e, EXIT_USAGE, "%s exists (%s); give --force to replace it, or choose "
                     "another file", path, what);
}

int outfile_commit(OutFile *o, Error *e)
{
    int fd = open(o->tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0 || rename(o->tmp, o->path) != 0) {
        int err = errno;
        if (fd >= 0) close(fd);
        unlink(o->tmp);
        return error_set(e, EXIT_FAIL, "%s: cannot write: %s", o->path, strerror(err));
    }
    close(fd);
    char dir[OUTFILE_PATH];
    dir_of(dir, sizeof dir, o->path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    int rc = dfd < 0 ? -1 : fsync(dfd);
    int err = errno;
    if (dfd >= 0) close(dfd);
    /* some file systems cannot sync a directory (EINVAL): the rename stands */
    if (rc != 0 && err != EINVAL)
        return error_set(e, EXIT_FAIL, "%s: written, but its directory %s could not be synced: "
                         "%s", o->path, dir, strerror(err));
    return 0;
}

void outfile_abort(OutFile *o)
{
    if (o->tmp[0]) unlink(o->tmp);
}
