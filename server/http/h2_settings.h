/* h2_settings.h: keep WebSockets off HTTP/2. lws 4.1 announces RFC
 * 8441 (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1) on every h2 connection
 * and offers no option against it (lib/roles/h2/ops-h2.c,
 * lws_h2_stock_settings; info.http2_settings reaches only ids 1-5), so
 * Chromium and Firefox would carry WebSockets on h2 streams, where lws
 * neither splits its writes into frames the peer accepts nor holds a
 * fast sender back. h2_settings.c stands in for SSL_write() (lws calls
 * it through its PLT) and turns that one setting to 0 in the server's
 * SETTINGS frame: browsers then open an HTTP/1.1 connection of their
 * own for each WebSocket, as with any server without RFC 8441.
 */
#ifndef XENITH_SERVER_HTTP_H2_SETTINGS_H
#define XENITH_SERVER_HTTP_H2_SETTINGS_H

#include <stddef.h>

/* Look libssl's SSL_write() up, before the listener starts; calling
 * it is also what links this stand-in into the daemon. 0 or ERR_IO. */
int h2_settings_init(void);

/* If p[0..len) is exactly one HTTP/2 SETTINGS frame (stream 0, not an
 * ACK) that sets ENABLE_CONNECT_PROTOCOL to 1, set it to 0 in place
 * and return 1; else change nothing and return 0. */
int h2_settings_no_connect(unsigned char *p, size_t len);

/* Does h2_settings_no_connect() have anything to do in p[0..len)? */
int h2_settings_wants_patch(const unsigned char *p, size_t len);

#endif
