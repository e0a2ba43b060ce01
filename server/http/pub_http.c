/* pub_http.c: HTTP requests on the public listener. The service thread
 * copies the request out of lws (pub_collect_request), keeps the body,
 * hands the job to the workers, and writes the finished response back
 * in chunks when the socket is writable. It never blocks on a handler.
 */
#include "server/http/pub_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "server/api/api_util.h"
#include "server/api/router.h"
#include "server/http/workers.h"

/* Request headers lws does not know by token: looked up by name (lws
 * 4.1 can not list them). Lower case, with the colon. */
static const char *const custom_headers[] = {
    "x-csrf-token:",
    "x-requested-with:",
};

/* A body over the cap is read and dropped up to this size, so the
 * client sees the 413; beyond it the answer comes at once. */
#define PUB_MAX_DISCARD (16LL * 1024 * 1024)

static const struct {
    enum lws_token_indexes tok;
    const char *method;
} methods[] = {
    { WSI_TOKEN_GET_URI, "GET" },       { WSI_TOKEN_POST_URI, "POST" },
    { WSI_TOKEN_PUT_URI, "PUT" },       { WSI_TOKEN_PATCH_URI, "PATCH" },
    { WSI_TOKEN_DELETE_URI, "DELETE" }, { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
    { WSI_TOKEN_HEAD_URI, "HEAD" },
};

static int is_request_line_token(int tok)
{
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if ((int)methods[i].tok == tok)
            return 1;
    return tok == WSI_TOKEN_HTTP_URI_ARGS || tok == WSI_TOKEN_HTTP ||
           tok == WSI_TOKEN_HTTP1_0 || tok == WSI_TOKEN_CONNECT;
}

/* Copy the whole (possibly fragmented) header tok; NULL if absent.
 * **new** */
static char *hdr_dup(struct lws *wsi, int tok)
{
    int n = lws_hdr_total_length(wsi, (enum lws_token_indexes)tok);
    char *v;

    if (n <= 0)
        return NULL;
    v = malloc((size_t)n + 1);
    if (!v)
        abort();
    if (lws_hdr_copy(wsi, v, n + 1, (enum lws_token_indexes)tok) < 0) {
        free(v);
        return NULL;
    }
    return v;
}

/* Cookie headers: lws joins several without a separator; use "; ".
 * **new**, NULL if absent. */
static char *cookie_dup(struct lws *wsi)
{
    struct buf b = BUF_INIT;
    char frag[8192];
    int i, n;

    for (i = 0;; i++) {
        n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag),
                                  WSI_TOKEN_HTTP_COOKIE, i);
        if (n < 0)
            break;
        if (b.len)
            buf_puts(&b, "; ");
        buf_append(&b, frag, (size_t)n);
    }
    if (!b.len) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static void collect_headers(struct lws *wsi, struct http_job *job)
{
    char name[64], *v;
    size_t i;
    int tok, n;

    for (tok = 0; tok < WSI_TOKEN_COUNT; tok++) {
        const char *s;
        size_t len;

        if (is_request_line_token(tok))
            continue;
        s = (const char *)lws_token_to_string((enum lws_token_indexes)tok);
        if (!s || !*s || *s == ':')
            continue;
        len = strlen(s);
        if (s[len - 1] == ':')
            len--;
        if (!len || len >= sizeof(name))
            continue;
        v = tok == WSI_TOKEN_HTTP_COOKIE ? cookie_dup(wsi) : hdr_dup(wsi, tok);
        if (!v)
            continue;
        memcpy(name, s, len);
        name[len] = '\0';
        http_job_add_header(job, name, v);
        free(v);
    }
    for (i = 0; i < sizeof(custom_headers) / sizeof(custom_headers[0]); i++) {
        const char *cn = custom_headers[i];

        n = lws_hdr_custom_length(wsi, cn, (int)strlen(cn));
        if (n < 0)
            continue;
        v = malloc((size_t)n + 1);
        if (!v)
            abort();
        if (lws_hdr_custom_copy(wsi, v, n + 1, cn, (int)strlen(cn)) >= 0) {
            size_t len = strlen(cn) - 1;

            memcpy(name, cn, len);
            name[len] = '\0';
            http_job_add_header(job, name, v);
        }
        free(v);
    }
}

static void collect_query(struct lws *wsi, struct http_job *job)
{
    char frag[4096];
    int i, n;

    for (i = 0;; i++) {
        char *eq;

        n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag),
                                  WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        if (n == 0)
            continue;
        eq = strchr(frag, '=');
        if (eq)
            *eq = '\0';
        http_job_add_query(job, frag, eq ? eq + 1 : NULL);
    }
}

int pub_collect_request(struct lws *wsi, struct http_job *job)
{
    char *path = NULL;
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        path = hdr_dup(wsi, methods[i].tok);
        if (path) {
            http_job_set_method(job, methods[i].method);
            break;
        }
    }
    if (!path) {
        http_job_set_method(job, "?");
        http_job_set_path(job, "/");
    } else {
        http_job_set_path(job, path);
    }
    collect_headers(wsi, job);
    collect_query(wsi, job);
    http_job_seal(job);
    if (lws_get_peer_simple(wsi, job->q.peer, sizeof(job->q.peer)) == NULL)
        job->q.peer[0] = '\0';
    /* lws has decoded %XX (a NUL or a bad escape fails in its parser)
     * and folded "." and ".." segments. */
    if (!path || path[0] != '/') {
        free(path);
        return ERR_INVALID;
    }
    free(path);
    return 0;
}

static int resp_wants_close(const struct resp *r)
{
    size_t i;

    for (i = 0; i < r->num_extra; i++)
        if (!strcasecmp(r->extra[i].name, "Connection") &&
            !strcasecmp(r->extra[i].value, "close"))
            return 1;
    return 0;
}

static void start_writing(struct http_job *job, struct lws *wsi)
{
    job->state = HTTP_JOB_WRITING;
    job->conn = wsi;
    lws_callback_on_writable(wsi);
}

static void submit(struct http_public *h, struct lws *wsi, struct http_job *job)
{
    if (job->r.status) { /* answered without the router */
        start_writing(job, wsi);
        return;
    }
    job->state = HTTP_JOB_QUEUED;
    job->conn = wsi;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    workers_submit(h->workers, job);
}

static int parse_length(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s) {
        *out = -1;
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return ERR_INVALID;
    *out = v;
    return 0;
}

int pub_http_request(struct http_public *h, struct lws *wsi,
                     struct pub_pss *pss)
{
    struct http_job *job;
    int64_t clen;
    int rc;

    if (pss->job) { /* lws does not pipeline; be safe */
        log_error("http: a request arrived while one is in progress");
        return -1;
    }
    job = http_job_new();
    pss->job = job;
    job->conn = wsi;
    if (pub_collect_request(wsi, job)) {
        http_job_answer_error(&job->r, ERR_INVALID, NULL, "bad request path");
        start_writing(job, wsi);
        return 0;
    }
    if (req_header(&job->q, "Transfer-Encoding")) {
        /* lws 4.1 cannot read chunked request bodies: refuse, and hang
         * up so the body is never parsed as the next request. */
        http_job_answer_error(&job->r, ERR_INVALID, "Transfer-Encoding",
                              "send the body with a Content-Length");
        resp_header(&job->r, "Connection", "close");
        start_writing(job, wsi);
        return 0;
    }
    if (parse_length(req_header(&job->q, "Content-Length"), &clen)) {
        http_job_answer_error(&job->r, ERR_INVALID, "Content-Length",
                              "bad Content-Length");
        resp_header(&job->r, "Connection", "close");
        start_writing(job, wsi);
        return 0;
    }
    if (clen <= 0) {
        http_job_body_end(job);
        submit(h, wsi, job);
        return 0;
    }
    rc = http_job_body_begin(job, h->app, h->spool_dir, clen);
    if (!rc && (job->too_big || job->r.status) && clen > PUB_MAX_DISCARD) {
        /* Not worth reading to the end: answer now and hang up. */
        if (!job->r.status)
            http_job_answer_too_big(job);
        if (!resp_wants_close(&job->r))
            resp_header(&job->r, "Connection", "close");
        start_writing(job, wsi);
        return 0;
    }
    if (rc) {
        http_job_answer_error(&job->r, rc, NULL, "cannot store the upload");
    }
    /* The body follows in LWS_CALLBACK_HTTP_BODY. */
    return 0;
}

int pub_http_body(struct http_public *h, struct pub_pss *pss, const void *in,
                  size_t len)
{
    struct http_job *job = pss->job;
    int rc;

    (void)h;
    if (!job || job->state != HTTP_JOB_READING || job->r.status)
        return 0;
    rc = http_job_body_add(job, in, len);
    if (rc) {
        log_error("http: cannot spool an upload: %s", err_str(rc));
        http_job_answer_error(&job->r, rc, NULL, "cannot store the upload");
    }
    return 0;
}

int pub_http_body_done(struct http_public *h, struct lws *wsi,
                       struct pub_pss *pss)
{
    struct http_job *job = pss->job;

    if (!job || job->state != HTTP_JOB_READING)
        return 0;
    if (job->too_big && !job->r.status)
        http_job_answer_too_big(job);
    else if (!job->r.status && http_job_body_end(job)) {
        http_job_answer_error(&job->r, ERR_IO, NULL,
                              "cannot read the upload back");
    }
    submit(h, wsi, job);
    return 0;
}

void pub_http_completions(struct http_public *h)
{
    struct http_job *job = workers_take_done(h->workers), *next;

    for (; job; job = next) {
        next = job->next;
        job->next = NULL;
        if (job->open) {
            pub_ws_opened(h, job);
            continue;
        }
        if (job->orphaned) {
            http_job_free(job);
            continue;
        }
        start_writing(job, job->conn);
    }
}

void pub_http_closed(struct pub_pss *pss)
{
    struct http_job *job = pss->job;

    pss->job = NULL;
    if (!job)
        return;
    if (job->state == HTTP_JOB_QUEUED)
        job->orphaned = 1; /* the workers or the done queue own it */
    else
        http_job_free(job);
}

/* Status line and headers into [*p, end). 0 or -1. */
static int add_headers(struct lws *wsi, const struct resp *r, int64_t len,
                       unsigned char **p, unsigned char *end)
{
    char name[128];
    size_t i;

    if (lws_add_http_common_headers(wsi, (unsigned int)r->status,
                                    r->content_type, (lws_filepos_t)len, p,
                                    end))
        return -1;
    for (i = 0; i < r->num_extra; i++) {
        const char *v = r->extra[i].value;

        if ((size_t)snprintf(name, sizeof(name), "%s:", r->extra[i].name) >=
            sizeof(name))
            continue;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)v,
                                        (int)strlen(v), p, end))
            return -1;
    }
    return 0;
}

int pub_write_now(struct lws *wsi, struct http_public *h, const struct resp *r)
{
    unsigned char *start = h->wbuf + LWS_PRE, *p = start;
    unsigned char *end = start + PUB_CHUNK - 1;

    if (add_headers(wsi, r, (int64_t)r->body.len, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    if (r->body.len > PUB_CHUNK)
        return -1;
    memcpy(start, buf_str(&r->body), r->body.len);
    if (lws_write(wsi, start, r->body.len, LWS_WRITE_HTTP_FINAL) !=
        (int)r->body.len)
        return -1;
    return 0;
}

static int finish(struct lws *wsi, struct pub_pss *pss, struct http_job *job)
{
    int close_after = resp_wants_close(&job->r);

    http_job_log(job, "https");
    http_job_free(job);
    pss->job = NULL;
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Next piece of the body into buf[cap]: from r->body, then r->body_fd.
 * Returns the length, 0 at the end, -1 on a read error. */
static ssize_t next_chunk(struct http_job *job, unsigned char *buf, size_t cap)
{
    struct resp *r = &job->r;
    size_t n;
    ssize_t got;

    if (job->body_off < r->body.len) {
        n = r->body.len - job->body_off;
        if (n > cap)
            n = cap;
        memcpy(buf, r->body.data + job->body_off, n);
        job->body_off += n;
        return (ssize_t)n;
    }
    if (job->fd_left <= 0)
        return 0;
    n = job->fd_left < (int64_t)cap ? (size_t)job->fd_left : cap;
    do
        got = read(r->body_fd, buf, n);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        log_error("http: %s: the file ended early or failed: %s", job->q.path,
                  got ? strerror(errno) : "end of file");
        return -1;
    }
    job->fd_left -= got;
    return got;
}

int pub_http_writable(struct http_public *h, struct lws *wsi,
                      struct pub_pss *pss)
{
    struct http_job *job = pss->job;
    unsigned char *start = h->wbuf + LWS_PRE, *p = start;
    unsigned char *end = start + PUB_CHUNK - 1;
    int head;

    if (!job || job->state != HTTP_JOB_WRITING)
        return 0;
    head = job->q.method && !strcmp(job->q.method, "HEAD");
    if (!job->hdr_sent) {
        int64_t len = (int64_t)job->r.body.len;

        if (job->r.body_fd >= 0)
            len += job->r.body_fd_len;
        if (add_headers(wsi, &job->r, len, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end)) {
            /* Usually the client went away before its answer. */
            log_debug("http: %s %s: cannot write the headers", job->q.method,
                      job->q.path);
            return -1;
        }
        job->hdr_sent = 1;
        job->fd_left = job->r.body_fd >= 0 ? job->r.body_fd_len : 0;
        if (head || len == 0)
            return finish(wsi, pss, job);
        lws_callback_on_writable(wsi);
        return 0;
    }
    for (;;) {
        ssize_t n = next_chunk(job, start, PUB_CHUNK);
        int last;

        if (n < 0)
            return -1;
        last = job->body_off >= job->r.body.len && job->fd_left <= 0;
        if (lws_write(wsi, start, (size_t)n,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != n)
            return -1;
        if (last)
            return finish(wsi, pss, job);
        if (lws_send_pipe_choked(wsi))
            break;
    }
    lws_callback_on_writable(wsi);
    return 0;
}
