/* pub_http.c: HTTP requests on the public listener. The service thread
 * copies the request out of lws (pub_collect_request), keeps the body,
 * hands the job to the workers, and writes the finished response back
 * in chunks when the socket is writable. It never blocks on a handler.
 * HTTP/2 streams arrive through the same callbacks; what lws 4.1 leaves
 * to its user there (framing, credit, upload spooling) is marked h2.
 */
#include "server/http/pub_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "server/api/api_util.h"
#include "server/api/router.h"
#include "server/http/nul_guard.h"
#include "server/http/spool.h"

/* Request headers lws does not know by token: looked up by name (lws
 * 4.1 can not list them). Lower case, with the colon. On HTTP/2 lws
 * 4.1 drops them while parsing (lib/roles/http/parsers.c skips unknown
 * names on a mux substream), hence X-Auth-Token for the CSRF token. */
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

/* Payload of one DATA frame: the least SETTINGS_MAX_FRAME_SIZE a peer
 * may set. lws 4.1 neither splits a write into frames nor checks it. */
#define PUB_H2_FRAME 16384
/* Poll for stream credit this often (lws 4.1 only wakes file
 * transfers of its own when a WINDOW_UPDATE arrives). */
#define PUB_H2_SKINT_US (10 * 1000)

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
    job->q.http2 = pub_is_h2(wsi);
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

static void submit(struct pub_ctx *pc, struct lws *wsi, struct http_job *job)
{
    if (job->rx_paused) {
        job->rx_paused = 0;
        lws_rx_flow_control(wsi, 1);
    }
    if (job->r.status) { /* answered without the router */
        start_writing(job, wsi);
        return;
    }
    job->state = HTTP_JOB_QUEUED;
    job->conn = wsi;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    pub_submit(pc, job, PUB_TASK_ROUTE, pub_run_route);
}

/* Answer now, before the body, and hang up. */
static void answer_early(struct http_job *job, struct lws *wsi)
{
    if (!job->r.status)
        http_job_answer_too_big(job);
    if (!resp_wants_close(&job->r))
        resp_header(&job->r, "Connection", "close");
    start_writing(job, wsi);
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

int pub_http_request(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss)
{
    struct http_job *job;
    int64_t clen;

    if (pss->job) { /* lws does not pipeline; be safe */
        log_error("http: a request arrived while one is in progress");
        return -1;
    }
    if (pub_is_h2(wsi))
        pub_h2_stream_begin(wsi, pss);
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
        submit(pc, wsi, job);
        return 0;
    }
    http_job_body_kind(job, clen);
    if (job->upload) {
        /* Authorization and the spool file are for a worker; what
         * arrives meanwhile waits in spool_in, and lws reads no more. */
        job->opening = 1;
        job->spool_dir = pc->h->spool_dir;
        job->rx_paused = 1;
        lws_rx_flow_control(wsi, 0);
        pub_submit(pc, job, PUB_TASK_UPLOAD_OPEN, pub_run_upload_open);
        return 0;
    }
    if (job->too_big && clen > PUB_MAX_DISCARD)
        answer_early(job, wsi); /* not worth reading to the end */
    /* The body follows in LWS_CALLBACK_HTTP_BODY. */
    return 0;
}

/* An upload spooling, not refused or failed. */
static int spooling(const struct http_job *job)
{
    return job->upload && !job->too_big && !job->r.status;
}

static void spool_failed(struct http_job *job)
{
    if (!job->spool_err)
        job->spool_err = job->spool_err_own;
    if (job->spool_err && !job->r.status) {
        log_error("http: cannot spool an upload: %s", err_str(job->spool_err));
        http_job_answer_error(&job->r, job->spool_err, NULL,
                              "cannot store the upload");
    }
}

/* HTTP/2, while a worker writes: lws 4.1 ignores lws_rx_flow_control()
 * on h2 streams (lib/core-net/wsi.c) and re-opens the peer's window as
 * soon as a DATA frame is handed over (lib/roles/h2/http2.c,
 * do_windows), so nothing holds a sender faster than the disk back.
 * Past PUB_SPOOL_H2_MAX held, this thread writes what it holds itself,
 * at its own offset beside the worker's: memory stays bounded, and only
 * a disk slower than the network ever makes this thread wait. */
static void spool_h2_overflow(struct http_job *job)
{
    if (job->spool_in.len < PUB_SPOOL_H2_MAX)
        return;
    if (spooling(job) && !job->spool_err_own)
        job->spool_err_own = spool_pwrite(job->q.body_fd, job->spool_in.data,
                                          job->spool_in.len, job->spool_off);
    job->spool_off += (int64_t)job->spool_in.len;
    buf_reset(&job->spool_in);
}

/* Hand what spool_in holds to a worker (one write at a time, each at
 * its offset), and stop reading while too much waits. */
static void spool_kick(struct pub_ctx *pc, struct lws *wsi,
                       struct http_job *job)
{
    if (!job->in_flight && job->spool_in.len) {
        struct buf t = job->spool_out;

        job->spool_out = job->spool_in;
        job->spool_in = t;
        job->spool_out_off = job->spool_off;
        job->spool_off += (int64_t)job->spool_out.len;
        pub_submit(pc, job, PUB_TASK_SPOOL, pub_run_spool);
    }
    if (job->q.http2) {
        spool_h2_overflow(job);
        return;
    }
    if (job->spool_in.len >= PUB_SPOOL_HIGH && !job->rx_paused) {
        job->rx_paused = 1;
        lws_rx_flow_control(wsi, 0);
    }
}

/* The whole body is in (and written): on to the router. */
static void body_finish(struct pub_ctx *pc, struct lws *wsi,
                        struct http_job *job)
{
    if (job->too_big && !job->r.status)
        http_job_answer_too_big(job);
    else if (!job->r.status && http_job_body_end(job)) {
        http_job_answer_error(&job->r, ERR_IO, NULL,
                              "cannot read the upload back");
    }
    submit(pc, wsi, job);
}

static void upload_opened(struct pub_ctx *pc, struct http_job *job)
{
    struct lws *wsi = job->conn;

    job->opening = 0;
    if (job->spool_err && !job->r.status)
        http_job_answer_error(&job->r, job->spool_err, NULL,
                              "cannot store the upload");
    if ((job->too_big || job->r.status) && job->body_expect > PUB_MAX_DISCARD) {
        job->rx_paused = 0;
        lws_rx_flow_control(wsi, 1);
        answer_early(job, wsi);
        return;
    }
    if (job->body_got > HTTP_MAX_UPLOAD)
        job->too_big = 1;
    if (!spooling(job))
        buf_reset(&job->spool_in);
    job->rx_paused = 0;
    lws_rx_flow_control(wsi, 1);
    spool_kick(pc, wsi, job);
    if (!job->in_flight && job->body_done)
        body_finish(pc, wsi, job);
}

static void spooled(struct pub_ctx *pc, struct http_job *job)
{
    struct lws *wsi = job->conn;

    spool_failed(job);
    if (!spooling(job))
        buf_reset(&job->spool_in);
    spool_kick(pc, wsi, job);
    if (job->rx_paused && job->spool_in.len < PUB_SPOOL_LOW) {
        job->rx_paused = 0;
        lws_rx_flow_control(wsi, 1);
    }
    if (!job->in_flight && job->body_done)
        body_finish(pc, wsi, job);
}

int pub_http_body(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss,
                  const void *in, size_t len)
{
    struct http_job *job = pss->job;

    if (pub_is_h2(wsi))
        pub_h2_rx_credit(wsi);
    if (!job || job->state != HTTP_JOB_READING)
        return 0;
    if (job->opening) { /* a worker has job->upload and job->r */
        job->body_got += (int64_t)len;
        buf_append(&job->spool_in, in, len);
        return 0;
    }
    if (!job->upload)
        return http_job_body_add(job, in, len) ? -1 : 0; /* memory */
    job->body_got += (int64_t)len;
    if (job->body_got > HTTP_MAX_UPLOAD)
        job->too_big = 1;
    if (!spooling(job))
        return 0; /* read and dropped */
    buf_append(&job->spool_in, in, len);
    spool_kick(pc, wsi, job);
    return 0;
}

int pub_http_body_done(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss)
{
    struct http_job *job = pss->job;

    if (!job || job->state != HTTP_JOB_READING)
        return 0;
    job->body_done = 1;
    if (job->in_flight)
        return 0; /* upload_opened() or spooled() finishes */
    if (spooling(job) && job->spool_in.len)
        spool_kick(pc, wsi, job);
    if (job->in_flight)
        return 0; /* spooled() finishes */
    body_finish(pc, wsi, job);
    return 0;
}

void pub_http_completions(struct pub_ctx *pc)
{
    struct http_job *job = pub_ctx_take_done(pc), *next;

    for (; job; job = next) {
        next = job->next;
        job->next = NULL;
        job->in_flight = 0;
        if (job->orphaned) {
            http_job_free(job);
            continue;
        }
        switch ((enum pub_task)job->task) {
        case PUB_TASK_ROUTE:
            start_writing(job, job->conn);
            break;
        case PUB_TASK_READ:
            lws_callback_on_writable(job->conn);
            break;
        case PUB_TASK_UPLOAD_OPEN:
            upload_opened(pc, job);
            break;
        case PUB_TASK_SPOOL:
            spooled(pc, job);
            break;
        case PUB_TASK_WS_OPEN:
            pub_ws_opened(pc, job);
            break;
        }
    }
}

void pub_http_closed(struct pub_pss *pss)
{
    struct http_job *job = pss->job;

    pub_h2_stream_end(pss);
    pss->job = NULL;
    if (!job)
        return;
    if (job->in_flight)
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

        if (pub_is_h2(wsi) && pub_h2_forbidden_header(r->extra[i].name))
            continue;
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

int pub_write_now(struct lws *wsi, struct pub_ctx *pc, const struct resp *r)
{
    unsigned char *start = pc->wbuf + LWS_PRE, *p = start;
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

/* The next piece of the body, up to cap bytes, in place: *src_out
 * points into r->body or the read-ahead. Its length; 0 when nothing is
 * at hand (the read-ahead is used up, or the body sent). */
static size_t next_piece(struct http_job *job, const unsigned char **src_out,
                         size_t cap)
{
    struct resp *r = &job->r;
    size_t n;

    if (job->body_off < r->body.len) {
        n = r->body.len - job->body_off;
        if (n > cap)
            n = cap;
        *src_out = (const unsigned char *)r->body.data + job->body_off;
        job->body_off += n;
        return n;
    }
    n = job->rd_len - job->rd_off;
    if (n > cap)
        n = cap;
    *src_out = job->rd + job->rd_off;
    job->rd_off += n;
    return n;
}

static int finish(struct lws *wsi, struct pub_pss *pss, struct http_job *job)
{
    int close_after = resp_wants_close(&job->r);

    http_job_log(job, job->q.http2 ? "h2" : "https");
    http_job_free(job);
    pss->job = NULL;
    if (close_after)
        return -1;
    if (!pub_is_h2(wsi))
        nul_guard_rearm(lws_get_ssl(wsi));
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Copy up to cap bytes of the body (r->body, then the read-ahead of
 * r->body_fd) to buf. Its length; 0 when nothing is at hand. */
static size_t copy_body(struct http_job *job, unsigned char *buf, size_t cap)
{
    const unsigned char *src;
    size_t n, got = 0;

    while (got < cap && (n = next_piece(job, &src, cap - got))) {
        memcpy(buf + got, src, n);
        got += n;
    }
    return got;
}

static int body_left(const struct http_job *job)
{
    return job->body_off < job->r.body.len || job->rd_off < job->rd_len ||
           job->fd_left > 0;
}

/* HTTP/2: DATA frames of at most PUB_H2_FRAME bytes and the stream's
 * credit, copied behind the LWS_PRE bytes lws writes the frame header
 * into. */
static int write_body_h2(struct pub_ctx *pc, struct lws *wsi,
                         struct pub_pss *pss, struct http_job *job)
{
    unsigned char *start = pc->wbuf + LWS_PRE;
    size_t n;
    int cr, last;

    for (;;) {
        if (job->rd_err)
            return -1;
        cr = lws_wsi_tx_credit(wsi, LWSTXCR_US_TO_PEER, 0);
        if (cr <= 0) {
            lws_set_timer_usecs(wsi, PUB_H2_SKINT_US);
            return 0;
        }
        n = copy_body(job, start,
                      cr < PUB_H2_FRAME ? (size_t)cr : PUB_H2_FRAME);
        if (!n)
            break;
        last = !body_left(job);
        if (lws_write(wsi, start, n,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        if (last)
            return finish(wsi, pss, job);
        if (job->rd_off >= job->rd_len && job->body_off >= job->r.body.len)
            break; /* the read-ahead is sent */
        if (lws_send_pipe_choked(wsi)) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    pub_submit(pc, job, PUB_TASK_READ, pub_run_read);
    return 0;
}

/* HTTP/2: the headers in a HEADERS frame (ending the stream when no
 * body follows), then the body as far as the socket takes it. */
static int write_head_h2(struct pub_ctx *pc, struct lws *wsi,
                         struct pub_pss *pss, struct http_job *job)
{
    unsigned char *start = pc->wbuf + LWS_PRE, *p = start;
    unsigned char *end = start + PUB_H2_FRAME;
    int64_t len = (int64_t)job->r.body.len;
    int last;
    size_t n;

    if (job->r.body_fd >= 0)
        len += job->r.body_fd_len;
    last = !strcmp(job->q.method, "HEAD") || len == 0;
    if (add_headers(wsi, &job->r, len, &p, end)) {
        log_debug("http: %s %s: headers too large", job->q.method, job->q.path);
        return -1;
    }
    n = (size_t)(p - start);
    if (lws_write(wsi, start, n,
                  LWS_WRITE_HTTP_HEADERS |
                      (last ? LWS_WRITE_H2_STREAM_END : 0)) != (int)n)
        return -1;
    job->hdr_sent = 1;
    if (last)
        return finish(wsi, pss, job);
    if (lws_send_pipe_choked(wsi)) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    return write_body_h2(pc, wsi, pss, job);
}

/* The status line, headers and as much of the body as fits into one
 * write (one TLS record for most API answers). */
static int write_head(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss,
                      struct http_job *job)
{
    unsigned char *start = pc->wbuf + LWS_PRE, *p = start;
    unsigned char *end = start + PUB_CHUNK;
    int64_t len = (int64_t)job->r.body.len;
    int head = !strcmp(job->q.method, "HEAD"), last;
    size_t n;

    if (job->r.body_fd >= 0)
        len += job->r.body_fd_len;
    if (add_headers(wsi, &job->r, len, &p, end - 1) ||
        lws_finalize_http_header(wsi, &p, end - 1)) {
        log_debug("http: %s %s: headers too large", job->q.method, job->q.path);
        return -1;
    }
    if (!head && !job->rd_err)
        p += copy_body(job, p, (size_t)(end - p));
    last = head || len == 0 || !body_left(job);
    n = (size_t)(p - start);
    if (lws_write(wsi, start, n,
                  last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) {
        /* Usually the client went away before its answer. */
        log_debug("http: %s %s: cannot write the headers", job->q.method,
                  job->q.path);
        return -1;
    }
    job->hdr_sent = 1;
    if (last)
        return finish(wsi, pss, job);
    lws_callback_on_writable(wsi);
    return 0;
}

int pub_http_writable(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss)
{
    struct http_job *job = pss->job;

    if (!job || job->state != HTTP_JOB_WRITING || job->in_flight)
        return 0;
    if (job->q.http2)
        return job->hdr_sent ? write_body_h2(pc, wsi, pss, job)
                             : write_head_h2(pc, wsi, pss, job);
    if (!job->hdr_sent)
        return write_head(pc, wsi, pss, job);
    for (;;) {
        const unsigned char *src;
        size_t n;
        int last;

        if (job->rd_err)
            return -1;
        n = next_piece(job, &src, PUB_WRITE);
        if (!n)
            break;
        last = !body_left(job);
        /* Straight from the job's buffers: on HTTP/1.1 (h2 goes to
         * write_body_h2) without stream compression (no lws mounts)
         * lws_write() does not use the LWS_PRE bytes before them, and it
         * keeps a copy of what the socket does not take. */
        if (lws_write(wsi, (unsigned char *)src, n,
                      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        if (last)
            return finish(wsi, pss, job);
        if (job->rd_off >= job->rd_len && job->body_off >= job->r.body.len)
            break; /* the read-ahead is sent or with lws */
        if (lws_send_pipe_choked(wsi)) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    /* A worker reads on while the socket drains. */
    pub_submit(pc, job, PUB_TASK_READ, pub_run_read);
    return 0;
}

/* lws 4.1 answers what its parser refuses (no method, a bad %XX
 * escape, a path that is not absolute, an unknown Upgrade) with a bare
 * HTML "403 Forbidden" from lws_return_http_status() before any of our
 * callbacks runs, and offers no hook for it. The library calls that
 * exported function through its PLT, so this definition takes its
 * place: those refusals become our JSON 400 with the security headers
 * (and the connection closes, as lws hangs up after them). Every other
 * status goes to the library's own function. */
int lws_return_http_status(struct lws *wsi, unsigned int code,
                           const char *html_body)
{
    typedef int (*status_fn)(struct lws *, unsigned int, const char *);
    struct pub_ctx *pc = lws_context_user(lws_get_context(wsi));
    status_fn real;
    struct resp r;
    int rc;

    if (code != HTTP_STATUS_FORBIDDEN || !pc) {
        *(void **)&real = dlsym(RTLD_NEXT, "lws_return_http_status");
        return real ? real(wsi, code, html_body) : 1;
    }
    resp_init(&r);
    http_job_answer_error(&r, ERR_INVALID, NULL, "malformed request");
    resp_header(&r, "Connection", "close");
    rc = pub_write_now(wsi, pc, &r);
    resp_release(&r);
    return rc ? 1 : 0;
}
