/* fuzz_common.h - shared by the libFuzzer targets fuzz_dataset.c and
 * fuzz_checkpoint.c (and their replay driver replay.c).
 *
 * Each input is written to a fresh file in /dev/shm (a new inode every time:
 * HDF5 recognises an already-open file by device and inode, so reusing one
 * could hand a reader the previous input) and the real readers are called on
 * its path, exactly as rnn_dist calls them. Errors must come back as Error
 * codes; a crash, a sanitizer report, a CHECK (exit) or a hang is a finding.
 */
#ifndef RNN_FUZZ_COMMON_H
#define RNN_FUZZ_COMMON_H

#include <fcntl.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write data[0..size) to a new file; returns its path (static storage). */
static const char *fuzz_write_input(const char *tag, const uint8_t *data, size_t size)
{
    static char path[256];
    static int inited;
    if (!inited) {
        h5io_init(); /* no HDF5 error stacks on stderr, as rnn_dist */
        /* HDF5 parses the input in this process, not in h5io_probe's child:
         * a crash or hang in HDF5 is a finding here, not a refused file */
        setenv("RNN_DIST_PROBE", "0", 1);
        const char *dir = getenv("FUZZ_TMPDIR");
        if (!dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/rnn_dist-fuzz-%s-%ld.h5", dir, tag, (long)getpid());
        inited = 1;
    }
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        perror(path);
        abort();
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            perror(path);
            abort();
        }
        off += (size_t)w;
    }
    close(fd);
    return path;
}

/* After one input: close whatever HDF5 still holds open (HDF5 itself leaks
 * handles on some error paths of damaged files; without this a long run
 * would run out of file descriptors) and remove the file.
 * FUZZ_REPORT_IDS=1 prints the count of ids left open. */
static void fuzz_cleanup(const char *path)
{
    ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (n > 0) {
        if (getenv("FUZZ_REPORT_IDS")) fprintf(stderr, "fuzz: %zd HDF5 ids left open\n", n);
        hid_t *ids = calloc((size_t)n, sizeof(hid_t));
        if (ids) {
            ssize_t m = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_ALL, (size_t)n, ids);
            for (ssize_t i = 0; i < m; i++) {
                H5I_type_t t = H5Iget_type(ids[i]);
                if (t == H5I_FILE) continue;
                if (t == H5I_ATTR) H5Aclose(ids[i]);
                else if (t == H5I_DATATYPE) H5Tclose(ids[i]);
                else H5Oclose(ids[i]);
            }
            m = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)n, ids);
            for (ssize_t i = 0; i < m; i++) H5Fclose(ids[i]);
            free(ids);
        }
    }
    unlink(path);
}

/* A FILE for inspect's output. */
static FILE *fuzz_devnull(void)
{
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    return f;
}

#endif
