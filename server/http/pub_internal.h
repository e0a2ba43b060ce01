/* pub_internal.h: the parts of the public front-end (libwebsockets),
 * shared by http_public.c (contexts, service threads), pub_http.c (HTTP
 * requests) and pub_ws.c (WebSockets).
 *
 * The front-end runs several lws contexts (struct pub_ctx), each with
 * its own service thread, all listening on the same address and port
 * (SO_REUSEPORT: the kernel spreads new connections over them). A
 * connection (wsi) lives and dies on its context's thread, and only
 * that thread touches it: the callbacks get their pub_ctx, a job sent
 * to the shared worker pools remembers it (job->home) and comes back
 * to that context's completion queue. Everything here runs on a
 * context's service thread unless said otherwise.
 */
#ifndef XENITH_SERVER_HTTP_PUB_INTERNAL_H
#define XENITH_SERVER_HTTP_PUB_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "server/core/config.h"
#include "server/http/http_job.h"

#define PUB_CHUNK      (64 * 1024)   /* rx buffer, write chunk */
#define PUB_TX_PACKET  (1024 * 1024) /* most lws hands to one SSL_write */
#define PUB_WRITE      (256 * 1024)  /* most one lws_write() of a body */
#define PUB_READ       (256 * 1024)  /* a worker reads a file this much ahead */
#define PUB_SPOOL_HIGH (1024 * 1024) /* upload bytes held: stop reading */
#define PUB_SPOOL_LOW  (256 * 1024)  /* resume below */
/* h2 upload bytes held while a worker writes: this thread writes them */
#define PUB_SPOOL_H2_MAX (4 * 1024 * 1024)
#define PUB_SLOW_WORKERS 2 /* console opens never take the handlers */
/* service threads: io-threads, or the CPUs, at most this */
#define PUB_MAX_CONTEXTS CONFIG_MAX_IO_THREADS

/* What a job went to the workers for (http_job.task); each comes back
 * to its context's service thread through pub_http_completions(). */
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

/* One lws context and its service thread. */
struct pub_ctx {
    struct http_public *h;
    int idx;
    struct lws_context *ctx; /* guarded by lock for pub_ctx_wake() */
    pthread_mutex_t lock;    /* ctx, done_head/done_tail */
    struct http_job *done_head, *done_tail; /* back from the workers */
    pthread_t thread;
    int thread_started;
    int tls_attached;        /* its SSL_CTX takes the live key pair */
    unsigned char *wbuf;     /* LWS_PRE + PUB_CHUNK */
    struct ws_conn *ws_list; /* its live WebSockets */
};

struct http_public {
    struct app *app;
    struct workers *workers; /* handlers, reads, spool writes */
    struct workers *slow;    /* console opens (seconds on libxl) */
    volatile int stopping;
    char spool_dir[PATH_MAX];
    struct tls_live *tls; /* == app->tls, freed by main */
    void *client_ssl;     /* SSL_CTX handed to lws, never used (below) */
    struct pub_ctx pcs[PUB_MAX_CONTEXTS];
    int num_pcs;
};

/* Per-connection user data of the protocol. */
struct pub_pss {
    struct http_job *job; /* the HTTP request in progress */
    struct ws_conn *ws;   /* after a WebSocket upgrade */
    struct lws *h2_conn;  /* HTTP/2: the connection it is counted on */
};

/* Wake pc's service thread (any thread; no-op once it is stopping). */
void pub_ctx_wake(struct pub_ctx *pc);

/* The jobs the workers finished for pc, oldest first, linked by ->next
 * (the caller owns them again). NULL when none. */
struct http_job *pub_ctx_take_done(struct pub_ctx *pc);

/* Hand job to the workers (slow: the console pool) for task, to run
 * fn (NULL: the router); it comes back to pc. */
void pub_submit(struct pub_ctx *pc, struct http_job *job, enum pub_task task,
                void (*fn)(struct app *app, struct http_job *job));
void pub_submit_slow(struct pub_ctx *pc, struct http_job *job,
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
int pub_write_now(struct lws *wsi, struct pub_ctx *pc, const struct resp *r);

/* HTTP callbacks (pub_http.c). Return values as lws callbacks. */
int pub_http_request(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss);
int pub_http_body(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss,
                  const void *in, size_t len);
int pub_http_body_done(struct pub_ctx *pc, struct lws *wsi,
                       struct pub_pss *pss);
int pub_http_writable(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss);
void pub_http_closed(struct pub_pss *pss);
void pub_http_completions(struct pub_ctx *pc);

/* WebSocket callbacks (pub_ws.c). */
int pub_ws_confirm(struct pub_ctx *pc, struct lws *wsi);
int pub_ws_established(struct pub_ctx *pc, struct lws *wsi,
                       struct pub_pss *pss);
int pub_ws_receive(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss,
                   const void *in, size_t len);
int pub_ws_writable(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss);
void pub_ws_closed(struct pub_ctx *pc, struct pub_pss *pss);
void pub_ws_wake(struct pub_ctx *pc);
/* A PUB_TASK_WS_OPEN job came back. */
void pub_ws_opened(struct pub_ctx *pc, struct http_job *job);
int pub_console_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len);

/* The listening sockets (pub_listen.c). Check that nothing listens on
 * addr:port (addr "": any IPv4 address; with a ':': IPv6), then bind n
 * SO_REUSEPORT sockets there: fds_out[0..n) **new**, non-blocking; or
 * an error, logged with its reason (such as "Address already in use"),
 * and none open. */
int pub_listen_open(const char *addr, int port, int n, int *fds_out);
/* Make pc accept connections from fd (**steals** it, also on failure).
 * Before pc's service thread starts. */
int pub_listen_adopt(struct pub_ctx *pc, int fd);
/* The "xenith-listen" protocol: accept, hand to lws as HTTPS. */
int pub_listen_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                  void *in, size_t len);

#endif
