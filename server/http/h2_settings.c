/* h2_settings.c: the SETTINGS frame patch of h2_settings.h and the
 * SSL_write() that applies it. */
#include "server/http/h2_settings.h"

#include <string.h>

#include <openssl/ssl.h>

#include "common/err.h"
#include "common/log.h"
#include "server/http/ssl_next.h"

#define FRAME_HEAD           9
#define FRAME_SETTINGS       0x4
#define SETTING_LEN          6
#define SET_CONNECT_PROTOCOL 0x8
#define SETTINGS_MAX         (FRAME_HEAD + 16 * SETTING_LEN)

static unsigned long be(const unsigned char *p, int n)
{
    unsigned long v = 0;

    while (n--)
        v = v << 8 | *p++;
    return v;
}

/* Offset of the ENABLE_CONNECT_PROTOCOL = 1 entry, or 0. */
static size_t find_connect(const unsigned char *p, size_t len)
{
    size_t off;

    if (len < FRAME_HEAD + SETTING_LEN || len > SETTINGS_MAX ||
        be(p, 3) != len - FRAME_HEAD || (len - FRAME_HEAD) % SETTING_LEN ||
        p[3] != FRAME_SETTINGS || p[4] != 0 || be(p + 5, 4) != 0)
        return 0;
    for (off = FRAME_HEAD; off < len; off += SETTING_LEN)
        if (be(p + off, 2) == SET_CONNECT_PROTOCOL && be(p + off + 2, 4) == 1)
            return off;
    return 0;
}

int h2_settings_wants_patch(const unsigned char *p, size_t len)
{
    return find_connect(p, len) != 0;
}

int h2_settings_no_connect(unsigned char *p, size_t len)
{
    size_t off = find_connect(p, len);

    if (!off)
        return 0;
    memset(p + off + 2, 0, 4);
    return 1;
}

/* libssl's SSL_write: set by h2_settings_init(), or on first use. */
typedef int (*ssl_write_fn)(SSL *, const void *, int);
static void *real_write;

static ssl_write_fn lookup(void)
{
    ssl_write_fn fn;

    *(void **)&fn = ssl_next(&real_write, "SSL_write");
    return fn;
}

int h2_settings_init(void)
{
    if (!lookup()) {
        log_error("tls: cannot find libssl's SSL_write");
        return ERR_IO;
    }
    return 0;
}

int SSL_write(SSL *ssl, const void *buf, int num)
{
    unsigned char copy[SETTINGS_MAX];
    ssl_write_fn fn = lookup();

    if (!fn)
        return -1;
    if (num > 0 && h2_settings_wants_patch(buf, (size_t)num)) {
        /* lws writes the frame alone; a retry (it sets a moving write
         * buffer) passes the same bytes, patched the same way. */
        memcpy(copy, buf, (size_t)num);
        h2_settings_no_connect(copy, (size_t)num);
        return fn(ssl, copy, num);
    }
    return fn(ssl, buf, num);
}
