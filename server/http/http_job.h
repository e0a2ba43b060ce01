/* http_job.h: one HTTP request in flight between a front-end and the
 * router: the request's copied strings, its body (capped, or spooled
 * to a temp file for upload routes) and the response the router fills.
 *
 * A job is built on the front-end's I/O thread, runs on a handler
 * thread (workers.h) and is written back by the I/O thread. Only one
 * thread touches a job at a time; the hand-over is through the worker
 * queues' mutex. Not thread safe by itself.
 */
#ifndef XENITH_SERVER_HTTP_HTTP_JOB_H
#define XENITH_SERVER_HTTP_HTTP_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "server/api/req.h"

struct app;
struct http_job;

/* A blocking call the I/O thread hands to the workers instead of a
 * request (opening a WebSocket's console): returns 0 with a **new** fd
 * in *fd_out, or an error with a reason in why[cap]. */
typedef int (*http_job_open_fn)(struct app *app, const char *arg, int *fd_out,
                                char *why, size_t cap);

#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_UPLOAD  (1024LL * 1024 * 1024 * 1024) /* 1 TiB */

enum http_job_state {
    HTTP_JOB_READING = 0, /* headers done, body arriving */
    HTTP_JOB_QUEUED,      /* with the workers (queued, running, done) */
    HTTP_JOB_WRITING,     /* back on the I/O thread, being sent */
};

struct http_job {
    struct http_job *next; /* queue link */
    struct req q;
    struct resp r;
    enum http_job_state state;
    int orphaned; /* connection gone while QUEUED: free on pick-up */

    /* Strings of q (method, path, query, header names and values),
     * NUL-separated; resolved into q by http_job_seal(). */
    struct buf strs;
    size_t method_off, path_off;
    size_t hdr_off[HTTP_MAX_HEADERS][2];
    struct http_header hdrs[HTTP_MAX_HEADERS];
    size_t num_hdrs;
    struct buf query; /* q.query, re-encoded */

    struct buf body;     /* capped at REQ_MAX_BODY */
    int upload;          /* ROUTE_UPLOAD: body goes to q.body_fd */
    int too_big;         /* declared length over the cap: discard, 413 */
    int64_t body_expect; /* Content-Length, -1 if none */
    int64_t body_got;

    int begun;   /* MHD: headers collected */
    int bad_uri; /* MHD: the raw path has %00 or a bad escape */

    /* open != NULL: not a request; a worker runs open(app, open_arg)
     * instead of the router. open_fd (closed by http_job_free unless
     * taken, i.e. set to -1) or open_rc and open_why hold the result. */
    http_job_open_fn open;
    char open_arg[64];
    int open_fd;
    int open_rc;
    char open_why[160];

    /* Writing back. */
    void *conn;   /* the front-end's connection (opaque) */
    int hdr_sent; /* status line and headers written */
    size_t body_off;
    int64_t fd_left;
    int64_t t_start_us;
};

/* A new empty job (q.body_fd = -1, r initialised). **new** */
struct http_job *http_job_new(void);
/* Releases everything, closes the spool and response fds. NULL ok. */
void http_job_free(struct http_job *job);

/* Record the request's parts (copied). A header past HTTP_MAX_HEADERS
 * is dropped with ERR_TOOBIG. */
void http_job_set_method(struct http_job *job, const char *method);
void http_job_set_path(struct http_job *job, const char *path);
/* Append one decoded query parameter; it is re-encoded into q.query so
 * req_query() decodes it again. value may be NULL ("flag"). */
void http_job_add_query(struct http_job *job, const char *name,
                        const char *value);
int http_job_add_header(struct http_job *job, const char *name,
                        const char *value);

/* Point q's strings into the job's storage (after the last add). */
void http_job_seal(struct http_job *job);

/* Decide how the body is kept, from q's route (router_match) and the
 * declared length: capped buffer, spool file under spool_dir, or
 * discard (too_big). Upload routes are authorized here, before their
 * body is stored: on failure job->r holds the 401/403 and the body is
 * discarded. 0 or an error (spool file not creatable). */
int http_job_body_begin(struct http_job *job, struct app *app,
                        const char *spool_dir, int64_t content_length);
/* Keep n more body bytes. 0, or ERR_IO for a spool write error. */
int http_job_body_add(struct http_job *job, const void *p, size_t n);
/* The body is complete: fill q.body/q.body_len or rewind q.body_fd. */
int http_job_body_end(struct http_job *job);

/* Fill job->r with a 413 (body over REQ_MAX_BODY) JSON error and the
 * security headers, without running the router. */
void http_job_answer_too_big(struct http_job *job);

/* Fill r with an error (api_error) and the security headers, for
 * answers a front-end gives without the router. */
void http_job_answer_error(struct resp *r, int err, const char *field,
                           const char *msg);

/* Run the router on the job, or its open call (a handler thread). */
void http_job_run(struct app *app, struct http_job *job);

/* One LOG_DEBUG line for the finished request (never header values). */
void http_job_log(const struct http_job *job, const char *proto);

#endif
