/* h5io_probe.c - the probe child that walks a file before this process opens it (see h5io.h). */
#include "h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"

/* The probe child: touch every part of the file HDF5 would parse. */
static herr_t probe_attr(hid_t loc, const char *name, const H5A_info_t *info, void *ctx)
{
    (void)info;
    (void)ctx;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return 0;
    hid_t ty = H5Aget_type(a), sp = H5Aget_space(a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t size = ty >= 0 ? H5Tget_size(ty) : 0;
    if (ty >= 0 && n > 0 && size > 0 && (size_t)n * size <= ((size_t)1 << 20) &&
        H5Tget_class(ty) != H5T_VLEN && H5Tis_variable_str(ty) <= 0) {
        void *buf = calloc((size_t)n, size);
        if (buf) H5Aread(a, ty, buf);
        free(buf);
    }
    if (sp >= 0) H5Sclose(sp);
    if (ty >= 0) H5Tclose(ty);
    H5Aclose(a);
    return 0;
}

/* Read rows [first, first + rows) of an open dataset (all other dimensions
 * whole) in memory type mt, in blocks of at most 16 MiB. */
static void probe_rows(hid_t ds, hid_t mt, hid_t sp, int rank, const hsize_t *dims,
                       hsize_t first, hsize_t rows)
{
    const size_t cap = (size_t)16 << 20;
    hsize_t start[H5IO_MAX_RANK] = {0}, count[H5IO_MAX_RANK];
    /* the buffer holds rows in the memory type, which may be wider than the
     * file's (a 16-bit float reads as a float) */
    size_t row_bytes = H5Tget_size(mt);
    for (int i = 1; i < rank; i++) {
        count[i] = dims[i];
        row_bytes = dims[i] <= cap && row_bytes * dims[i] <= cap ? row_bytes * dims[i] : 0;
    }
    hsize_t block = row_bytes ? cap / row_bytes : 0;
    if (block > rows) block = rows;
    void *buf = block ? malloc(block * row_bytes) : NULL;
    for (hsize_t r = first; buf && r < first + rows; r += block) {
        start[0] = r;
        count[0] = first + rows - r < block ? first + rows - r : block;
        hid_t msp = H5Screate_simple(rank, count, NULL);
        if (msp >= 0 && H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) >= 0)
            H5Dread(ds, mt, msp, sp, H5P_DEFAULT, buf);
        if (msp >= 0) H5Sclose(msp);
    }
    free(buf);
}

/* Read a dataset whole (in memory type mt) while *budget (bytes, stored and
 * in memory) allows, else its first and last row. */
static void probe_data(hid_t ds, hid_t mt, hid_t sp, int rank, const hsize_t *dims,
                       double *budget)
{
    double logical = (double)H5Tget_size(mt);
    for (int i = 0; i < rank; i++) logical *= (double)dims[i];
    double stored = (double)H5Dget_storage_size(ds);
    double cost = logical > stored ? logical : stored;
    /* never-written storage reads as fill values: not worth the time */
    if (cost <= *budget && h5io_written(ds) == 1) {
        *budget -= cost;
        probe_rows(ds, mt, sp, rank, dims, 0, dims[0]);
        return;
    }
    probe_rows(ds, mt, sp, rank, dims, 0, 1);
    probe_rows(ds, mt, sp, rank, dims, dims[0] - 1, 1);
}

static herr_t probe_object(hid_t loc, const char *name, const H5O_info_t *info, void *ctx)
{
    H5Aiterate_by_name(loc, name, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, probe_attr, NULL,
                       H5P_DEFAULT);
    if (info->type != H5O_TYPE_DATASET) return 0;
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    hid_t ty = H5Dget_type(ds), sp = H5Dget_space(ds), mt = -1;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[H5IO_MAX_RANK];
    if (ty >= 0 && rank >= 1 && rank <= H5IO_MAX_RANK &&
        H5Sget_simple_extent_dims(sp, dims, NULL) >= 0 && dims[0] > 0 &&
        H5Tget_class(ty) != H5T_VLEN && H5Tis_variable_str(ty) <= 0 && H5Tget_size(ty) <= 64 &&
        (mt = H5Tget_native_type(ty, H5T_DIR_DEFAULT)) >= 0)
        probe_data(ds, mt, sp, rank, dims, ctx);
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (ty >= 0) H5Tclose(ty);
    H5Dclose(ds);
    return 0;
}

/* Exit statuses of the probe child. Any other end (a signal, or the exit status a
 * sanitizer uses after catching a fault) means HDF5 crashed on the file. */
enum { PROBE_WALKED = 0, PROBE_NOT_HDF5 = 64, PROBE_CANNOT_OPEN = 65 };

static int probe_walk(const char *path)
{
    if (H5Fis_hdf5(path) <= 0) return PROBE_NOT_HDF5;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return PROBE_CANNOT_OPEN;
    const char *mb = getenv("RNN_DIST_PROBE_FULL_MB");
    double budget = (mb && atof(mb) >= 0 ? atof(mb) : H5IO_PROBE_FULL_MB) * 1048576.0;
    H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE, probe_object, &budget);
    H5Fclose(f);
    return PROBE_WALKED;
}

/* What st is when it is not a regular file, for messages. */
static const char *special_kind(const struct stat *st)
{
    if (S_ISDIR(st->st_mode)) return "a directory";
    if (S_ISFIFO(st->st_mode)) return "a FIFO";
    if (S_ISSOCK(st->st_mode)) return "a socket";
    if (S_ISCHR(st->st_mode)) return "a character device";
    if (S_ISBLK(st->st_mode)) return "a block device";
    return "an unknown kind of file";
}

int h5io_check_regular(const char *path, Error *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return error_set(e, EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return error_set(e, EXIT_USAGE, "%s: not a regular file (%s)", path, special_kind(&st));
    return 0;
}

int h5io_probe(const char *path, Error *e)
{
    if (h5io_check_regular(path, e)) return EXIT_USAGE;
    const char *off = getenv("RNN_DIST_PROBE");
    if (off && strcmp(off, "0") == 0) return 0;
    const char *lim = getenv("RNN_DIST_PROBE_SECONDS");
    double limit = lim && atof(lim) > 0 ? atof(lim) : H5IO_PROBE_SECONDS;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return 0; /* no child to spare: HDF5 reads it here, as without the probe */
    if (pid == 0) {
        /* HDF5's and a sanitizer's noise about this file stay in the child */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDERR_FILENO);
        if (fault_active("probe_crash", -1)) raise(SIGSEGV);
        if (fault_active("probe_hang", -1)) sleep(3600);
        _exit(probe_walk(path));
    }
    struct timespec t0, now, nap = {0, 2000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = 0, hung = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec) >
            limit) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            hung = 1;
            break;
        }
        nanosleep(&nap, NULL);
    }
    if (hung)
        return error_set(e, EXIT_USAGE, "%s: HDF5 did not finish reading this file's structure "
                         "within %g s: damaged or hostile file, refused", path, limit);
    if (WIFSIGNALED(status))
        return error_set(e, EXIT_USAGE, "%s: HDF5 crashed reading this file's structure (%s): "
                         "damaged or hostile file, refused", path, strsignal(WTERMSIG(status)));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == PROBE_NOT_HDF5) return error_set(e, EXIT_USAGE, "%s: not an HDF5 file", path);
    if (code == PROBE_CANNOT_OPEN)
        return error_set(e, EXIT_USAGE, "%s: HDF5 cannot open this file", path);
    if (code != PROBE_WALKED)
        return error_set(e, EXIT_USAGE, "%s: HDF5 crashed reading this file's structure (exit "
                         "status %d): damaged or hostile file, refused", path, code);
    return 0;
}
