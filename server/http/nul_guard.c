/* nul_guard.c: the request-line scan of nul_guard.h and the SSL_read()
 * that applies it, with each server connection's scan state kept in the
 * SSL object's ex_data. */
#include "server/http/nul_guard.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "common/err.h"
#include "common/log.h"
#include "server/http/ssl_next.h"

void nul_guard_scan(struct nul_guard *g, unsigned char *buf, size_t n)
{
    size_t i;

    for (i = 0; i < n && g->on; i++) {
        unsigned char c = buf[i];

        if (c == '\n') {
            g->on = 0;
            g->seen = 0;
        } else if (g->seen == 2 && c == '0') {
            buf[i] = 'g'; /* "%0g": lws refuses it, and we answer */
            g->seen = 0;
        } else if (g->seen == 1 && c == '0') {
            g->seen = 2;
        } else {
            g->seen = c == '%';
        }
    }
}

/* libssl's SSL_read: set by nul_guard_init(), or on first use. */
typedef int (*ssl_read_fn)(SSL *, void *, int);
static void *real_read;
/* The ex_data slot of a connection's guard: set by nul_guard_init()
 * before the listener's threads start; until then nothing is guarded. */
static int guard_idx = -1;

static void guard_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                       long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    free(ptr);
}

static ssl_read_fn lookup(void)
{
    ssl_read_fn fn;

    *(void **)&fn = ssl_next(&real_read, "SSL_read");
    return fn;
}

int nul_guard_init(void)
{
    if (!lookup()) {
        log_error("tls: cannot find libssl's SSL_read");
        return ERR_IO;
    }
    if (guard_idx < 0)
        guard_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, guard_free);
    return 0;
}

/* The connection's guard, made on its first read: NULL for h2 and TLS
 * clients (and if OpenSSL cannot keep it: then it is not guarded). */
static struct nul_guard *guard_of(SSL *ssl)
{
    struct nul_guard *g;
    const unsigned char *alpn;
    unsigned int alpn_len;

    if (guard_idx < 0 || !SSL_is_server(ssl))
        return NULL;
    g = SSL_get_ex_data(ssl, guard_idx);
    if (g)
        return g;
    g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    g->h2 = alpn_len == 2 && !memcmp(alpn, "h2", 2);
    g->on = !g->h2;
    if (!SSL_set_ex_data(ssl, guard_idx, g)) {
        free(g);
        return NULL;
    }
    return g;
}

int SSL_read(SSL *ssl, void *buf, int num)
{
    ssl_read_fn fn = lookup();
    struct nul_guard *g;
    int n;

    if (!fn)
        return -1;
    n = fn(ssl, buf, num);
    if (n > 0 && (g = guard_of(ssl)) && g->on)
        nul_guard_scan(g, buf, (size_t)n);
    return n;
}

void nul_guard_rearm(struct ssl_st *ssl)
{
    struct nul_guard *g = ssl ? guard_of(ssl) : NULL;

    if (g) {
        g->on = !g->h2;
        g->seen = 0;
    }
}
