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

    /* Writing back. */
    void *conn;   /* the front-end's connection (opaque) */
    void *home;   /* the front-end's I/O thread that owns conn (opaque) */
    int hdr_sent; /* status line and headers written */
    size_t body_off;
    int64_t fd_left;
    int64_t t_start_us;

    /* The public front-end's steps off its service thread (pub_*.c).
     * While in_flight a worker owns the fields its run function names;
     * the service thread keeps to the others. */
    void (*run)(struct app *app, struct http_job *job); /* NULL: router */
    int task;              /* what the service thread does on return */
    int in_flight;         /* with the workers: a close orphans it */
    const char *spool_dir; /* borrowed */
    unsigned char *rd;     /* read-ahead of r.body_fd (a worker fills) */
    size_t rd_len, rd_off;
    int rd_err;
    struct buf spool_in;   /* upload bytes received, not yet handed on */
    struct buf spool_out;  /* upload bytes a worker writes to q.body_fd */
    int64_t spool_out_off; /* ...at this offset */
    int64_t spool_off;     /* upload bytes handed on so far */
    int spool_err;
    int spool_err_own; /* h2: the service thread's own write failed */
    int opening;       /* upload: authorization and spool file pending */
    int body_done;     /* the last body byte has arrived */
    int rx_paused;     /* lws_rx_flow_control(0) in force */
    int aux_fd;        /* WebSocket console fd (**new**), -1 */
    int aux_err;       /* why it could not be opened */
    char aux_why[160]; /* and in words (the driver's last error) */
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
 * discarded. 0 or an error (spool file not creatable). May block (the
 * DB, the file system): http_job_body_kind() and http_job_upload_open()
 * are its two halves for callers that must not. */
int http_job_body_begin(struct http_job *job, struct app *app,
                        const char *spool_dir, int64_t content_length);
/* The first half, without I/O: sets job->upload for an upload route,
 * else job->too_big for a body over REQ_MAX_BODY. */
void http_job_body_kind(struct http_job *job, int64_t content_length);
/* The second half for an upload: authorize it and open its spool file
 * (or too_big over HTTP_MAX_UPLOAD). On refusal job->r holds the
 * 401/403 and job->upload is 0. 0 or an error (no spool file). */
int http_job_upload_open(struct http_job *job, struct app *app,
                         const char *spool_dir);
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

/* Run job->run, or the router when it is NULL (a handler thread). */
void http_job_run(struct app *app, struct http_job *job);

/* One LOG_DEBUG line for the finished request (never header values). */
void http_job_log(const struct http_job *job, const char *proto);

#endif
