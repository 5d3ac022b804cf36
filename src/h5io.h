/* h5io.h - HDF5 helpers with error checks.
 *
 * HDF5's own error stack printing is switched off (h5io_init); every failure
 * comes back as a return code plus one line in an Error naming the file and
 * the object. Handles are plain hid_t; the caller closes what it opens.
 * h5io_check_regular and h5io_probe are in h5io_probe.c, the rest in h5io.c.
 */
#ifndef RNN_H5IO_H
#define RNN_H5IO_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"

#define H5IO_MAX_RANK 4

/* Silence HDF5's automatic error printing. Call once at start-up. */
void h5io_init(void);

/* Open an existing file read-only. Refuses (EXIT_USAGE) a missing file, one
 * that is not a regular file (h5io_check_regular), a file that is not HDF5,
 * or one HDF5 cannot open. Before HDF5 touches the file in this process,
 * h5io_probe checks it in a child process. */
int h5io_open_read(hid_t *file, const char *path, Error *e);

/* An input file opened once in this process: checked, probed and opened
 * read-only (h5io_input_open, as h5io_open_read), then handed to every
 * reader of it (the *_in functions of dataset.h and checkpoint.h) instead of
 * its path, so a file is probed once and opened once however many readers
 * it has. path: the name as given, for messages. Closed once, by its opener
 * (h5io_input_close); a reader that keeps the file open past its call (a
 * streamed Dataset) holds its own reference. */
#define H5IO_PATH 4200
typedef struct H5Input {
    hid_t file;            /* -1 when closed */
    char path[H5IO_PATH];
} H5Input;

/* Open path into *in as h5io_open_read does (same refusals and messages;
 * also "PATH: path too long"). On failure in->file is -1. */
int h5io_input_open(H5Input *in, const char *path, Error *e);

/* Close an input (nothing when it is closed); in->file becomes -1. */
void h5io_input_close(H5Input *in);

/* Is path a regular file (symbolic links followed)? Decided by stat alone,
 * before anything opens it: opening a FIFO blocks until a writer comes, and
 * a device may do anything. EXIT_USAGE otherwise, one line: "PATH: not a
 * regular file (a FIFO)" (a directory, a socket, a character device, a block
 * device), or "PATH: cannot open: REASON" when stat fails. */
int h5io_check_regular(const char *path, Error *e);

/* HDF5 itself has crashed and hung on malformed files (public CVEs), so a
 * file is first walked by a short-lived child process: its superblock, every
 * object header and attribute, and the data of every dataset: whole while
 * the datasets read so far (stored or in memory, whichever is larger) stay
 * within H5IO_PROBE_FULL_MB (or $RNN_DIST_PROBE_FULL_MB), then the first
 * and last row of each (a large file is not read twice by every rank).
 * A child that crashes, hangs past H5IO_PROBE_SECONDS (or
 * $RNN_DIST_PROBE_SECONDS) or fails makes this return EXIT_USAGE with one
 * line saying so; the caller's process never parses such a file.
 * RNN_DIST_PROBE=0 in the environment turns the probe off (the fuzzing
 * harness, which wants HDF5's crashes in its own process). A path that is
 * not a regular file is refused first (h5io_check_regular), probe or not. */
#define H5IO_PROBE_SECONDS 30
#define H5IO_PROBE_FULL_MB 256
int h5io_probe(const char *path, Error *e);
/* Create (truncate) a file for writing. */
int h5io_create(hid_t *file, const char *path, Error *e);

/* Read every dataset of an open file whole (HDF5 verifies the checksums of
 * what it reads); need_fletcher: a dataset without the Fletcher-32 filter
 * fails too. Returns 0, or -1 with bad[0..len) saying what failed first. */
int h5io_read_all(hid_t file, int need_fletcher, char *bad, size_t len);

/* Was every element of dataset ds written? 1 yes, 0 no (storage not
 * allocated, or chunks missing: such elements read as fill values, so a few
 * bytes of file can declare terabytes), -1 when HDF5 cannot tell (damage). */
int h5io_written(hid_t ds);

/* Does `name` (a path relative to loc) exist? Intermediate groups are checked. */
int h5io_exists(hid_t loc, const char *name);

/* Shape and element class of a dataset. */
typedef struct H5Shape {
    int rank;
    size_t dims[H5IO_MAX_RANK];
    H5T_class_t cls;   /* H5T_INTEGER, H5T_FLOAT, ... */
    size_t size;       /* bytes per element */
} H5Shape;

/* Describe dataset `name` under loc. */
int h5io_shape(H5Shape *s, hid_t loc, const char *name, const char *file, Error *e);

/* Read rows [row0, row0 + nrows) of dataset `name` (first dimension) into
 * out, converting to float32 (h5io_read_f32) or int32 (h5io_read_i32). */
int h5io_read_f32(float *out, hid_t loc, const char *name, size_t row0, size_t nrows,
                  const char *file, Error *e);
int h5io_read_i32(int32_t *out, hid_t loc, const char *name, size_t row0, size_t nrows,
                  const char *file, Error *e);

/* Read the rows row0 + rows[i], i < nrows (rows ascending, no repeats) of
 * dataset `name` into out, packed in that order, in few large reads
 * (h5io_rows.c): a span of wanted rows whose gaps are at most 64 KiB of
 * rows, and at most 256 KiB in all, is one read (through a staging buffer
 * when it has gaps). A row past the end is refused (EXIT_USAGE, naming the
 * rows); nrows = 0 reads nothing. */
int h5io_read_f32_rows(float *out, hid_t loc, const char *name, size_t row0, const size_t *rows,
                       size_t nrows, const char *file, Error *e);
int h5io_read_i32_rows(int32_t *out, hid_t loc, const char *name, size_t row0,
                       const size_t *rows, size_t nrows, const char *file, Error *e);

/* Write a whole dataset of float32 / int32 with the given shape. */
int h5io_write_f32(hid_t loc, const char *name, const float *data, int rank,
                   const size_t *dims, Error *e);
int h5io_write_i32(hid_t loc, const char *name, const int32_t *data, int rank,
                   const size_t *dims, Error *e);
/* h5io_write_f32, chunked with HDF5's Fletcher-32 checksum filter: a read of
 * damaged data fails instead of returning wrong numbers. */
int h5io_write_f32_checked(hid_t loc, const char *name, const float *data, int rank,
                           const size_t *dims, Error *e);

/* Create a float32 / int32 dataset of the given shape, unwritten (its
 * storage comes with the first write), to be written a block of rows at a
 * time with h5io_write_*_slab: an output larger than memory. */
int h5io_create_f32(hid_t loc, const char *name, int rank, const size_t *dims, Error *e);
int h5io_create_i32(hid_t loc, const char *name, int rank, const size_t *dims, Error *e);
/* Write rows [row0, row0 + nrows) (the first dimension; the others whole) of
 * the existing dataset `name` from data [nrows, dims[1], ...] (one hyperslab,
 * one write). */
int h5io_write_f32_slab(hid_t loc, const char *name, const float *data, size_t row0,
                        size_t nrows, Error *e);
int h5io_write_i32_slab(hid_t loc, const char *name, const int32_t *data, size_t row0,
                        size_t nrows, Error *e);

/* Attributes on an object (loc itself when obj is "."). Readers return
 * non-zero when the attribute is missing or of the wrong class. */
int h5io_attr_exists(hid_t loc, const char *obj, const char *attr);
int h5io_read_attr_i64(int64_t *v, hid_t loc, const char *obj, const char *attr);
int h5io_read_attr_f64(double *v, hid_t loc, const char *obj, const char *attr);
int h5io_read_attr_str(char *buf, size_t len, hid_t loc, const char *obj, const char *attr);
/* A numeric attribute of exactly n elements (any shape; a scalar is 1) as
 * doubles into v[0..n): 0, -1 when missing or not a number, -2 when it holds
 * another number of elements. */
int h5io_read_attr_f64_n(double *v, size_t n, hid_t loc, const char *obj, const char *attr);
/* A one-dimensional integer attribute read as bytes (each element converted
 * to uint8): *out malloc'd [*n] (the caller frees), *n >= 1. Non-zero when
 * it is missing, not a 1-D integer array, empty or over max elements. */
int h5io_read_attr_u8s(uint8_t **out, size_t *n, hid_t loc, const char *obj, const char *attr,
                       size_t max);
int h5io_write_attr_i64(hid_t loc, const char *obj, const char *attr, int64_t v);
int h5io_write_attr_f64(hid_t loc, const char *obj, const char *attr, double v);
int h5io_write_attr_str(hid_t loc, const char *obj, const char *attr, const char *v);

/* Create group `name` under loc (intermediate groups too); returns its id. */
hid_t h5io_group(hid_t loc, const char *name);

#endif
