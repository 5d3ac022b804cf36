/* h5image.h - HDF5 files built in memory and written to disk with plain
 * write(): HDF5 never meets a full disk, which it does not survive (a failed
 * H5Fclose leaves the file open, and HDF5's own clean-up at exit, inside
 * MPI_Finalize, then crashes on it).
 */
#ifndef RNN_H5IMAGE_H
#define RNN_H5IMAGE_H

#include <hdf5.h>

#include "check.h"

/* Create an HDF5 file in memory (HDF5's core driver, no backing store) in
 * HDF5's newest file format, whose metadata (superblock, object headers with
 * their attributes, B-trees) carries checksums: for files that must detect
 * damage (checkpoints, with h5io_write_f32_checked data). One at a time per
 * process (HDF5 knows it by a fixed name). Returns 0, or EXIT_FAIL with e
 * filled (e may be NULL). */
int h5image_create(hid_t *file, Error *e);

/* Write the image of the memory file `file` (h5image_create) to path
 * (created or truncated, mode 0644) and fsync it; `file` is closed in every
 * case. HDF5 1.10 leaves the superblock's checksum of the still-open file in
 * the image while clearing its "open for writing" flag, so the image would
 * fail its own check: the checksum is recomputed (Jenkins' lookup3, HDF5's
 * metadata checksum) when it does not match. Returns 0, or -1 with errno set
 * (path is then partly written: the caller removes it). */
int h5image_save(hid_t file, const char *path);

#endif
