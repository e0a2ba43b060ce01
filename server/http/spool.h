/* spool.h: unlinked temporary files for upload bodies, under DATA/tmp.
 * Thread safe.
 */
#ifndef XENITH_SERVER_HTTP_SPOOL_H
#define XENITH_SERVER_HTTP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

/* A new anonymous file in dir (created 0700 if missing), already
 * unlinked: *fd_out is **new**. 0 or an error from errno. */
int spool_open(const char *dir, int *fd_out);

/* Write all n bytes at offset off (the file position is left alone,
 * so two threads can each write their own part); 0, or an error from
 * errno (ERR_NOSPACE ...). */
int spool_pwrite(int fd, const void *p, size_t n, int64_t off);

#endif
