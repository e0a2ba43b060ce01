/* nul_guard.h: answer "%00" in an HTTP/1.1 request line. lws 4.1 hangs
 * up without a word when a path or query decodes to a NUL
 * (lib/roles/http/parsers.c, lws_parse_urldecode(), state URIPS_IDLE),
 * while a bad escape such as "%0g" goes through
 * lws_return_http_status(), which pub_http.c answers with our JSON 400.
 * nul_guard.c stands in for SSL_read() (lws calls it through its PLT)
 * and turns the second '0' of each "%00" in a request line into 'g'
 * before lws parses it, so both get the same 400.
 *
 * Only request lines are touched: the guard is on from a connection's
 * first byte, off from the end of its request line, and on again once
 * its answer is sent (nul_guard_rearm()). h2 connections (ALPN) and
 * TLS clients are never touched. A request pipelined behind another is
 * read while the guard is off: lws still hangs up on that one.
 */
#ifndef XENITH_SERVER_HTTP_NUL_GUARD_H
#define XENITH_SERVER_HTTP_NUL_GUARD_H

#include <stddef.h>

struct ssl_st;

/* One connection's scan of a request line. */
struct nul_guard {
    unsigned char on;   /* in a request line */
    unsigned char seen; /* 0; 1 after '%'; 2 after "%0" */
    unsigned char h2;   /* never on */
};

/* Look libssl's SSL_read() up, before the listener starts; calling it
 * is also what links this stand-in into the daemon. 0 or ERR_IO. */
int nul_guard_init(void);

/* Patch buf[0..n), the next bytes of a connection, as above. */
void nul_guard_scan(struct nul_guard *g, unsigned char *buf, size_t n);

/* The next bytes read on this HTTP/1.1 connection start a request. */
void nul_guard_rearm(struct ssl_st *ssl);

#endif
