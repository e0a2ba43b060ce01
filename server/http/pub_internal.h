/* pub_internal.h: the parts of the public front-end (libwebsockets),
 * shared by http_public.c (context, service thread), pub_http.c (HTTP
 * requests) and pub_ws.c (WebSockets). Everything here runs on the one
 * service thread unless said otherwise.
 */
#ifndef XENITH_SERVER_HTTP_PUB_INTERNAL_H
#define XENITH_SERVER_HTTP_PUB_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "server/http/http_job.h"

#define PUB_CHUNK     (64 * 1024)   /* rx buffer, write chunk */
#define PUB_TX_PACKET (1024 * 1024) /* most lws hands to one SSL_write */

struct app;
struct workers;
struct ws_conn;

struct http_public {
    struct app *app;
    struct lws_context *ctx; /* guarded by wake_lock for http_wake() */
    pthread_mutex_t wake_lock;
    struct workers *workers;
    pthread_t thread;
    int thread_started;
    volatile int stopping;
    char spool_dir[PATH_MAX];
    unsigned char *wbuf;     /* LWS_PRE + PUB_CHUNK, service thread */
    struct ws_conn *ws_list; /* live WebSockets, service thread */
    struct tls_live *tls;    /* == app->tls, freed by main */
};

/* Per-connection user data of the protocol. */
struct pub_pss {
    struct http_job *job; /* the HTTP request in progress */
    struct ws_conn *ws;   /* after a WebSocket upgrade */
};

/* Wake the service thread (any thread; no-op once stopping). */
void http_wake(struct http_public *h);

/* Fill job's method, path, headers, query and peer from wsi's parsed
 * header table. 0, or ERR_INVALID (the path is not absolute). */
int pub_collect_request(struct lws *wsi, struct http_job *job);

/* Write a complete response (headers and body) at once; for answers
 * given before a connection is upgraded. 0 or -1. */
int pub_write_now(struct lws *wsi, struct http_public *h, const struct resp *r);

/* HTTP callbacks (pub_http.c). Return values as lws callbacks. */
int pub_http_request(struct http_public *h, struct lws *wsi,
                     struct pub_pss *pss);
int pub_http_body(struct http_public *h, struct pub_pss *pss, const void *in,
                  size_t len);
int pub_http_body_done(struct http_public *h, struct lws *wsi,
                       struct pub_pss *pss);
int pub_http_writable(struct http_public *h, struct lws *wsi,
                      struct pub_pss *pss);
void pub_http_closed(struct pub_pss *pss);
void pub_http_completions(struct http_public *h);

/* WebSocket callbacks (pub_ws.c). */
int pub_ws_confirm(struct http_public *h, struct lws *wsi);
int pub_ws_established(struct http_public *h, struct lws *wsi,
                       struct pub_pss *pss);
int pub_ws_receive(struct http_public *h, struct lws *wsi, struct pub_pss *pss,
                   const void *in, size_t len);
int pub_ws_writable(struct http_public *h, struct lws *wsi,
                    struct pub_pss *pss);
void pub_ws_closed(struct http_public *h, struct pub_pss *pss);
void pub_ws_wake(struct http_public *h);
/* A console open (a job with ->open) came back from the workers: hand
 * its fd to its WebSocket, or close that with the reason. Frees job. */
void pub_ws_opened(struct http_public *h, struct http_job *job);
int pub_console_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len);

#endif
