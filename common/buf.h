/* buf.h: a growable byte buffer, always NUL-terminated (curl's dynbuf
 * and git's strbuf are the tone).
 *
 * struct buf b = BUF_INIT; buf_append(&b, ...); use b.data, b.len;
 * buf_release(&b). An optional cap (buf_set_cap) bounds buffers that
 * hold untrusted input: appends that would pass it fail with ERR_TOOBIG
 * and leave the buffer unchanged. Not thread safe.
 */
#ifndef XENITH_COMMON_BUF_H
#define XENITH_COMMON_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append, then NUL-terminated */
    size_t len;
    size_t alloc;
    size_t cap; /* 0 = unbounded */
};

#define BUF_INIT      \
    {                 \
        NULL, 0, 0, 0 \
    }

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);

/* Append; return 0 or ERR_TOOBIG when the cap would be passed. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hand the bytes to the caller (**new**, NUL-terminated, never NULL) and
 * leave the buffer empty. */
char *buf_detach(struct buf *b, size_t *len_out);

/* Data pointer or "" when empty (**borrowed**). */
const char *buf_str(const struct buf *b);

#endif
