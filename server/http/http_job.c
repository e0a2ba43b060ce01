#include "server/http/http_job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "server/api/api_util.h"
#include "server/api/router.h"
#include "server/http/spool.h"

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct http_job *http_job_new(void)
{
    struct http_job *job = xcalloc(1, sizeof(*job));

    buf_init(&job->strs, 0);
    buf_init(&job->query, 0);
    buf_init(&job->body, REQ_MAX_BODY);
    resp_init(&job->r);
    buf_init(&job->spool_in, 0);
    buf_init(&job->spool_out, 0);
    job->q.body_fd = -1;
    job->aux_fd = -1;
    job->body_expect = -1;
    job->t_start_us = mono_us();
    return job;
}

void http_job_free(struct http_job *job)
{
    if (!job)
        return;
    buf_release(&job->strs);
    buf_release(&job->query);
    buf_release(&job->body);
    resp_release(&job->r);
    buf_release(&job->spool_in);
    buf_release(&job->spool_out);
    free(job->rd);
    if (job->q.body_fd >= 0)
        close(job->q.body_fd);
    if (job->aux_fd >= 0)
        close(job->aux_fd);
    free(job);
}

/* Append s with its NUL; returns its offset. */
static size_t strs_add(struct http_job *job, const char *s)
{
    size_t off = job->strs.len;

    buf_append(&job->strs, s, strlen(s) + 1);
    return off;
}

void http_job_set_method(struct http_job *job, const char *method)
{
    job->method_off = strs_add(job, method);
}

void http_job_set_path(struct http_job *job, const char *path)
{
    job->path_off = strs_add(job, path);
}

static void query_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr("-._~:@/,", c)) {
            buf_append(b, s, 1);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };

            buf_append(b, e, 3);
        }
    }
}

void http_job_add_query(struct http_job *job, const char *name,
                        const char *value)
{
    if (job->query.len)
        buf_puts(&job->query, "&");
    query_encode(&job->query, name);
    if (value) {
        buf_puts(&job->query, "=");
        query_encode(&job->query, value);
    }
}

int http_job_add_header(struct http_job *job, const char *name,
                        const char *value)
{
    if (job->num_hdrs >= HTTP_MAX_HEADERS)
        return ERR_TOOBIG;
    job->hdr_off[job->num_hdrs][0] = strs_add(job, name);
    job->hdr_off[job->num_hdrs][1] = strs_add(job, value);
    job->num_hdrs++;
    return 0;
}

void http_job_seal(struct http_job *job)
{
    const char *base;
    size_t i;

    if (!job->strs.data)
        strs_add(job, "");
    base = job->strs.data;
    job->q.method = base + job->method_off;
    job->q.path = base + job->path_off;
    job->q.query = job->query.len ? job->query.data : NULL;
    for (i = 0; i < job->num_hdrs; i++) {
        job->hdrs[i].name = base + job->hdr_off[i][0];
        job->hdrs[i].value = base + job->hdr_off[i][1];
    }
    job->q.headers = job->hdrs;
    job->q.num_headers = job->num_hdrs;
}

void http_job_body_kind(struct http_job *job, int64_t content_length)
{
    struct resp scratch;

    job->body_expect = content_length;
    resp_init(&scratch);
    job->upload = !strncmp(job->q.path, "/api/", 5) &&
                  !router_match(&job->q, &scratch) && job->q.route &&
                  (job->q.route->flags & ROUTE_UPLOAD);
    resp_release(&scratch);
    job->q.route = NULL;
    job->q.num_params = 0;
    if (!job->upload && content_length > REQ_MAX_BODY)
        job->too_big = 1;
}

int http_job_upload_open(struct http_job *job, struct app *app,
                         const char *spool_dir)
{
    struct resp scratch;
    int rc;

    resp_init(&scratch);
    rc = router_match(&job->q, &scratch);
    resp_release(&scratch);
    if (!rc && router_authorize(app, &job->q, &job->r)) {
        /* Nobody spools gigabytes before logging in: the body is
         * discarded and the 401/403 sent when it has arrived. */
        router_security_headers(&job->r);
        job->upload = 0;
    }
    job->q.route = NULL;
    job->q.num_params = 0;
    memset(&job->q.who, 0, sizeof(job->q.who));
    if (job->r.status)
        return 0;
    if (job->body_expect > HTTP_MAX_UPLOAD) {
        job->too_big = 1;
        return 0;
    }
    rc = spool_open(spool_dir, &job->q.body_fd);
    if (rc)
        log_error("http: cannot create an upload spool file in %s: %s",
                  spool_dir, err_str(rc));
    return rc;
}

int http_job_body_begin(struct http_job *job, struct app *app,
                        const char *spool_dir, int64_t content_length)
{
    http_job_body_kind(job, content_length);
    return job->upload ? http_job_upload_open(job, app, spool_dir) : 0;
}

int http_job_body_add(struct http_job *job, const void *p, size_t n)
{
    int64_t off;

    job->body_got += (int64_t)n;
    if (job->too_big || job->r.status)
        return 0;
    if (job->upload) {
        if (job->body_got > HTTP_MAX_UPLOAD) {
            job->too_big = 1;
            return 0;
        }
        off = job->spool_off;
        job->spool_off += (int64_t)n;
        return spool_pwrite(job->q.body_fd, p, n, off);
    }
    if (buf_append(&job->body, p, n))
        job->too_big = 1;
    return 0;
}

int http_job_body_end(struct http_job *job)
{
    if (job->upload) {
        if (job->q.body_fd >= 0 && lseek(job->q.body_fd, 0, SEEK_SET) < 0)
            return err_from_errno(errno);
        job->q.body_len = (size_t)job->body_got;
        return 0;
    }
    job->q.body = job->body.len ? job->body.data : NULL;
    job->q.body_len = job->body.len;
    return 0;
}

void http_job_answer_too_big(struct http_job *job)
{
    if (job->upload)
        api_error(&job->r, ERR_TOOBIG, NULL, "upload over %lld bytes",
                  (long long)HTTP_MAX_UPLOAD);
    else
        api_error(&job->r, ERR_TOOBIG, NULL, "request body over %d bytes",
                  REQ_MAX_BODY);
    resp_header(&job->r, "Connection", "close");
    router_security_headers(&job->r);
}

void http_job_answer_error(struct resp *r, int err, const char *field,
                           const char *msg)
{
    api_error(r, err, field, "%s", msg);
    router_security_headers(r);
}

void http_job_run(struct app *app, struct http_job *job)
{
    if (job->run)
        job->run(app, job);
    else
        router_dispatch(app, &job->q, &job->r);
}

void http_job_log(const struct http_job *job, const char *proto)
{
    int64_t us = mono_us() - job->t_start_us;

    log_debug("http: %s %s %s %s %d %lld.%03lldms", proto, job->q.peer,
              job->q.method ? job->q.method : "-",
              job->q.path ? job->q.path : "-", job->r.status,
              (long long)(us / 1000), (long long)(us % 1000));
}
