/* fileutil.h: small durable-file helpers.
 */
#ifndef XENITH_COMMON_FILEUTIL_H
#define XENITH_COMMON_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Create or truncate path with mode, write len bytes, fsync, close.
 * 0 or an error (errno-based). The caller renames it into place. */
int file_write_synced(const char *path, const void *data, size_t len,
                      mode_t mode);

/* fsync the directory holding path (so a rename in it is durable). */
int file_sync_parent(const char *path);

#endif
