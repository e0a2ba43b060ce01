/* sr.h: file storage repositories: a directory of sparse raw images.
 * The only code that touches image files for the API (the test driver
 * and the libxl driver get paths from it). Thread safe.
 */
#ifndef XENITH_SERVER_CORE_SR_H
#define XENITH_SERVER_CORE_SR_H

#include <stddef.h>
#include <stdint.h>

struct sr_usage {
    uint64_t size_bytes; /* filesystem size */
    uint64_t free_bytes;
    uint64_t used_bytes; /* allocated by the SR's images */
    int reflink;         /* 1 if FICLONE works in this directory */
};

/* Lexical clean-up of a path into out[cap]: collapse "//", drop a
 * trailing "/". */
void sr_path_clean(const char *in, char *out, size_t cap);

/* Create the directory if missing (mode 0700) and check it is writable.
 * ERR_INVALID for a relative path or a non-directory. */
int sr_prepare(const char *path);

int sr_usage(const char *path, struct sr_usage *out);

/* A new sparse image file of size bytes; file_out[128] gets its name
 * ("<uuid>.raw"). ERR_EXISTS, ERR_NOSPACE, ERR_IO. */
int sr_image_create(const char *sr_path, const char *disk_id, uint64_t size,
                    char file_out[128]);

/* Grow (never shrink: ERR_INVALID) an image. */
int sr_image_resize(const char *sr_path, const char *file, uint64_t size);

/* Remove an image (ERR_NOTFOUND is not an error for the caller to fear:
 * it is returned so a missing file can be logged). */
int sr_image_delete(const char *sr_path, const char *file);

/* Allocated bytes of an image (st_blocks * 512). */
int sr_image_used(const char *sr_path, const char *file, uint64_t *used_out);

/* A crash-consistent copy of src as dst_file: reflink clone (FICLONE)
 * when the filesystem supports it, else a sparse copy (holes kept).
 * *reflinked_out (may be NULL) says which. Written to a temp name and
 * renamed, so a crash never leaves a half copy under dst_file. */
int sr_image_clone(const char *sr_path, const char *src_file,
                   const char *dst_file, int *reflinked_out);

/* Full path of an image into out[cap]. ERR_INVALID for a file name
 * with a directory part or a leading dot, or when out is too small. */
int sr_image_path(const char *sr_path, const char *file, char *out, size_t cap);

/* Replace the image with the raw bytes of src_fd (a regular file is
 * read from offset 0 with pread, anything else read to its end): the
 * result is size bytes long (the rest zero); all-zero 64 KiB blocks are
 * left as holes. Written to "<file>.tmp-XXXXXX", fsynced and renamed over the
 * image only when complete, so a failure leaves the old image intact.
 * *len_out (may be NULL) gets the bytes read. ERR_TOOBIG when src holds
 * more than size bytes. */
int sr_image_import(const char *sr_path, const char *file, int src_fd,
                    uint64_t size, uint64_t *len_out);

/* fsync an image written by someone else (a restore). */
int sr_image_sync(const char *sr_path, const char *file);

/* Rename image from to to inside the SR (replacing to) and fsync the
 * directory: with sr_image_sync first, a crash leaves the old or the
 * new image, never a half one. */
int sr_image_rename(const char *sr_path, const char *from, const char *to);

/* Open an image read-only: *fd_out is a **new** fd. */
int sr_image_open(const char *sr_path, const char *file, int *fd_out);

#endif
