/* h5image.c - HDF5 files built in memory, written with plain I/O (see
 * h5image.h). */
#include "h5image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int h5image_create(hid_t *file, Error *e)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    H5Pset_fapl_core(fapl, (size_t)1 << 20, 0); /* grow by 1 MiB, no backing store */
    *file = H5Fcreate("rnn_dist-memory-file", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (*file < 0) return error_set(e, EXIT_FAIL, "cannot create an HDF5 file in memory");
    return 0;
}

#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

/* Bob Jenkins' lookup3 hashlittle() of n bytes, byte by byte: HDF5's
 * H5_checksum_lookup3, its checksum of metadata (initval 0). */
static uint32_t lookup3(const unsigned char *k, size_t n)
{
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + (uint32_t)n;
    while (n > 12) {
        a += k[0] + ((uint32_t)k[1] << 8) + ((uint32_t)k[2] << 16) + ((uint32_t)k[3] << 24);
        b += k[4] + ((uint32_t)k[5] << 8) + ((uint32_t)k[6] << 16) + ((uint32_t)k[7] << 24);
        c += k[8] + ((uint32_t)k[9] << 8) + ((uint32_t)k[10] << 16) + ((uint32_t)k[11] << 24);
        a -= c; a ^= ROT(c, 4); c += b;
        b -= a; b ^= ROT(a, 6); a += c;
        c -= b; c ^= ROT(b, 8); b += a;
        a -= c; a ^= ROT(c, 16); c += b;
        b -= a; b ^= ROT(a, 19); a += c;
        c -= b; c ^= ROT(b, 4); b += a;
        n -= 12;
        k += 12;
    }
    if (n == 0) return c;
    uint32_t w[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) w[i / 4] += (uint32_t)k[i] << (8 * (i % 4));
    a += w[0];
    b += w[1];
    c += w[2];
    c ^= b; c -= ROT(b, 14);
    a ^= c; a -= ROT(c, 11);
    b ^= a; b -= ROT(a, 25);
    c ^= b; c -= ROT(b, 16);
    a ^= c; a -= ROT(c, 4);
    b ^= a; b -= ROT(a, 14);
    c ^= b; c -= ROT(b, 24);
    return c;
}

/* A version 2 or 3 superblock at the start of image: its checksum made to
 * match its bytes (signature, version, sizes, flags, 4 addresses). */
static void fix_superblock(unsigned char *image, size_t size)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (size < 12 || memcmp(image, sig, 8) != 0 || image[8] < 2) return;
    size_t at = 12 + 4 * (size_t)image[9]; /* 4 addresses of image[9] bytes */
    if (at + 4 > size) return;
    uint32_t sum = lookup3(image, at);
    for (int i = 0; i < 4; i++) image[at + (size_t)i] = (unsigned char)(sum >> (8 * i));
}

/* Write n bytes of buf to a new file path and fsync it; -1 with errno. */
static int write_file(const char *path, const char *buf, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    int rc = 0;
    for (size_t done = 0; !rc && done < n;) {
        ssize_t w = write(fd, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) rc = -1;
        else done += (size_t)w;
    }
    if (!rc && fsync(fd)) rc = -1;
    int err = rc ? (errno ? errno : EIO) : 0;
    if (close(fd) && !rc) {
        rc = -1;
        err = errno;
    }
    errno = err;
    return rc;
}

int h5image_save(hid_t file, const char *path)
{
    ssize_t size = H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(file, NULL, 0);
    char *image = size > 0 ? malloc((size_t)size) : NULL;
    if (image && H5Fget_file_image(file, image, (size_t)size) != size) size = -1;
    int closed = H5Fclose(file) >= 0;
    if (!image || size <= 0 || !closed) {
        free(image);
        errno = EIO;
        return -1;
    }
    fix_superblock((unsigned char *)image, (size_t)size);
    int rc = write_file(path, image, (size_t)size);
    int err = errno;
    free(image);
    errno = err;
    return rc;
}
