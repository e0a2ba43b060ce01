/* http.h: the two front-ends, both feeding router_dispatch().
 *
 * http_public: libwebsockets on the public TLS port: HTTP/1.1 and
 * WebSocket on one port, served by app->cfg.io_threads lws contexts
 * (0: one per CPU, at most 4), each with its own service thread and
 * SO_REUSEPORT socket. The service threads only do socket I/O:
 * handlers, WebSocket authorization, upload spool writes and response
 * file reads run on one shared pool of app->cfg.workers handler
 * threads, console opens on two more of their own, and each comes back
 * to the thread that owns its connection via lws_cancel_service()
 * (pub_internal.h, enum pub_task).
 *
 * http_local: libmicrohttpd on the UNIX socket DATA/xenithd.sock (mode
 * 0660) for the CLI and scripts on the host, authenticated by
 * SO_PEERCRED.
 */
#ifndef XENITH_SERVER_HTTP_HTTP_H
#define XENITH_SERVER_HTTP_HTTP_H

struct app;
struct http_public;
struct http_local;

/* Load or generate the certificate (ECDSA P-256, self-signed, SAN =
 * hostname + 127.0.0.1) and start listening. */
int http_public_start(struct app *app, struct http_public **out);
void http_public_stop(struct http_public *h); /* NULL ok */

int http_local_start(struct app *app, const char *sock_path,
                     struct http_local **out);
void http_local_stop(struct http_local *h); /* NULL ok */

#endif
