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

#define PUB_CHUNK        (64 * 1024)   /* rx buffer, write chunk */
#define PUB_TX_PACKET    (1024 * 1024) /* most lws hands to one SSL_write */
#define PUB_WRITE        (256 * 1024)  /* most one lws_write() of a body */
#define PUB_READ         (256 * 1024) /* a worker reads a file this much ahead */
#define PUB_SPOOL_HIGH   (1024 * 1024) /* upload bytes held: stop reading */
#define PUB_SPOOL_LOW    (256 * 1024)  /* resume below */
#define PUB_SLOW_WORKERS 2 /* console opens never take the handlers */

/* What a job went to the workers for (http_job.task); each comes back
 * to the service thread through pub_http_completions(). */
enum pub_task {
    PUB_TASK_ROUTE = 0,   /* the router, then the first read-ahead */
    PUB_TASK_READ,        /* the next PUB_READ bytes of r.body_fd */
    PUB_TASK_UPLOAD_OPEN, /* authorize an upload, open its spool file */
    PUB_TASK_SPOOL,       /* write spool_out to the spool file */
    PUB_TASK_WS_OPEN,     /* authorize a WebSocket, open a console */
};

struct app;
struct workers;
struct ws_conn;

struct http_public {
    struct app *app;
    struct lws_context *ctx; /* guarded by wake_lock for http_wake() */
    pthread_mutex_t wake_lock;
    struct workers *workers; /* handlers, reads, spool writes */
    struct workers *slow;    /* console opens (seconds on libxl) */
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
    struct lws *h2_conn;  /* HTTP/2: the connection it is counted on */
};

/* Wake the service thread (any thread; no-op once stopping). */
void http_wake(struct http_public *h);

/* Hand job to the workers (slow: the console pool) for task, to run
 * fn (NULL: the router). */
void pub_submit(struct http_public *h, struct http_job *job, enum pub_task task,
                void (*fn)(struct app *app, struct http_job *job));
void pub_submit_slow(struct http_public *h, struct http_job *job,
                     enum pub_task task,
                     void (*fn)(struct app *app, struct http_job *job));

/* Run on a handler thread (pub_tasks.c, pub_ws.c): each touches only
 * the job's fields its task names. */
void pub_run_route(struct app *app, struct http_job *job);
void pub_run_read(struct app *app, struct http_job *job);
void pub_run_upload_open(struct app *app, struct http_job *job);
void pub_run_spool(struct app *app, struct http_job *job);
void pub_run_ws_open(struct app *app, struct http_job *job);

/* Fill job's method, path, headers, query and peer from wsi's parsed
 * header table. 0, or ERR_INVALID (the path is not absolute). */
int pub_collect_request(struct lws *wsi, struct http_job *job);

/* HTTP/2 (pub_h2.c). 1 if wsi is an h2 stream (lws multiplexes it on
 * a connection). */
int pub_is_h2(struct lws *wsi);
/* 1 for a response header h2 forbids (Connection, Upgrade, ...). */
int pub_h2_forbidden_header(const char *name);
/* A request began / its stream ended: the count of its connection. */
void pub_h2_stream_begin(struct lws *wsi, struct pub_pss *pss);
void pub_h2_stream_end(struct pub_pss *pss);
/* A piece of request body came in on an h2 stream. */
void pub_h2_rx_credit(struct lws *wsi);
/* LWS_CALLBACK_TIMER: an h2 stream waiting for credit, or an h2
 * connection to retire. */
int pub_h2_timer(struct lws *wsi);

/* Write a complete response (headers and body) at once; for answers
 * given before a connection is upgraded. 0 or -1. */
int pub_write_now(struct lws *wsi, struct http_public *h, const struct resp *r);

/* HTTP callbacks (pub_http.c). Return values as lws callbacks. */
int pub_http_request(struct http_public *h, struct lws *wsi,
                     struct pub_pss *pss);
int pub_http_body(struct http_public *h, struct lws *wsi, struct pub_pss *pss,
                  const void *in, size_t len);
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
/* A PUB_TASK_WS_OPEN job came back. */
void pub_ws_opened(struct http_public *h, struct http_job *job);
int pub_console_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len);

#endif
