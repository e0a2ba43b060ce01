/* pub_ws.c: WebSockets on the public listener: /api/v1/events (the
 * event bus), /api/v1/echo, /api/v1/vms/{id}/console (the guest's text
 * console fd) and /api/v1/vms/{id}/vnc (a stream to its RFB server),
 * each adopted into the lws loop as a raw file. For /vnc the driver has
 * done the RFB handshake with the VM's server; we do the browser's side
 * (common/rfb.h, security None: xenith's session is the
 * authentication) and then pass bytes through. The upgrade
 * is checked without I/O before it is accepted (route, credentials
 * present, and for cookie sessions Origin must match Host: 4xx as
 * JSON). lws 4.1 cannot hold an upgrade open while a worker looks the
 * credentials up, so that, and opening a console, happen on a worker
 * after the 101: the connection reads nothing until the worker
 * answers, and a refusal closes it with 4401/4403 and the reason
 * before any message has flowed. Outgoing messages queue
 * per connection and go out one per writable callback; the event bus
 * callback, on a publisher's thread, only queues and wakes the loop of
 * the connection's own context (each context has its own ws_list).
 */
#include "server/http/pub_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/rfb.h"
#include "common/xalloc.h"
#include "server/api/api.h"
#include "server/api/api_util.h"
#include "server/api/router.h"
#include "server/core/app.h"
#include "server/core/auth.h"
#include "server/core/events.h"
#include "xen/hv.h"

#define WS_MAX_MESSAGE (16 * 1024 * 1024)
#define WS_MAX_EVENTS  1024               /* queued event messages */
#define WS_HIGH_WATER  (32 * 1024 * 1024) /* stop reading above */
#define WS_LOW_WATER   (4 * 1024 * 1024)  /* resume below */
#define CONSOLE_HIGH   (1024 * 1024)
#define WS_MAX_HELD    (1024 * 1024) /* received before authorization */

enum ws_kind {
    WS_EVENTS,
    WS_ECHO,
    WS_CONSOLE,
    WS_VNC,
};

struct ws_msg {
    struct ws_msg *next;
    int binary;
    size_t len;
    unsigned char *mem; /* LWS_PRE + len; payload at mem + LWS_PRE */
};

struct ws_conn {
    struct ws_conn *next, *prev; /* pc->ws_list */
    struct pub_ctx *pc;
    struct lws *wsi;
    enum ws_kind kind;

    pthread_mutex_t lock; /* the queue: the event bus adds from afar */
    struct ws_msg *head, *tail;
    size_t queued;
    size_t queued_bytes;
    int overflow;

    int sub_id;    /* events subscription */
    struct buf rx; /* message being reassembled, LWS_PRE first */
    int rx_binary;
    int rx_paused;   /* echo: the peer outruns us */
    struct lws *raw; /* console fd */
    int raw_paused;
    struct buf con_in;    /* client input not yet written to the console */
    struct rfb_front rfb; /* WS_VNC: the browser's RFB handshake */

    struct http_job *opening;        /* with a worker: authorization */
    int ready;                       /* authorized (and the console opened) */
    struct ws_msg *held, *held_tail; /* received before ready */
    size_t held_bytes;

    int close_code; /* != 0: close with this code and reason */
    char close_reason[96];
};

static void msg_free(struct ws_msg *m)
{
    if (m) {
        free(m->mem);
        free(m);
    }
}

/* Append a new message (mem **stolen**) to the list head/tail. */
static void msg_append(struct ws_msg **head, struct ws_msg **tail,
                       unsigned char *mem, size_t len, int binary)
{
    struct ws_msg *m = xcalloc(1, sizeof(*m));

    m->mem = mem;
    m->len = len;
    m->binary = binary;
    if (*tail)
        (*tail)->next = m;
    else
        *head = m;
    *tail = m;
}

/* Append a message (mem **stolen**); the caller holds c->lock. */
static void queue_locked(struct ws_conn *c, unsigned char *mem, size_t len,
                         int binary)
{
    msg_append(&c->head, &c->tail, mem, len, binary);
    c->queued++;
    c->queued_bytes += len;
}

static void queue_copy(struct ws_conn *c, const void *p, size_t len, int binary)
{
    unsigned char *mem = xmalloc(LWS_PRE + len + 1);

    memcpy(mem + LWS_PRE, p, len);
    pthread_mutex_lock(&c->lock);
    queue_locked(c, mem, len, binary);
    pthread_mutex_unlock(&c->lock);
}

static void ws_close_later(struct ws_conn *c, int code, const char *reason)
{
    if (!c->close_code) {
        c->close_code = code;
        xstrlcpy(c->close_reason, reason, sizeof(c->close_reason));
    }
    lws_callback_on_writable(c->wsi);
}

/* The event bus, on a publisher's thread: copy, queue, wake. */
static void on_event(void *opaque, const char *json, size_t len)
{
    struct ws_conn *c = opaque;
    unsigned char *mem;

    pthread_mutex_lock(&c->lock);
    if (c->overflow) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (c->queued >= WS_MAX_EVENTS) {
        c->overflow = 1;
    } else {
        mem = xmalloc(LWS_PRE + len + 1);
        memcpy(mem + LWS_PRE, json, len);
        queue_locked(c, mem, len, 0);
    }
    pthread_mutex_unlock(&c->lock);
    pub_ctx_wake(c->pc);
}

/* "https://host:port" names the same host:port as Host? */
static int origin_matches_host(const struct req *q)
{
    const char *origin = req_header(q, "Origin");
    const char *host = req_header(q, "Host");
    const char *o;

    if (!origin || !host)
        return 0;
    o = strstr(origin, "://");
    if (!o)
        return 0;
    return !strcasecmp(o + 3, host);
}

/* Credentials to look up, without looking: a bearer token or the
 * session cookie. */
static int has_credentials(const struct req *q)
{
    char sid[128];

    return req_header(q, "Authorization") ||
           !req_cookie(q, AUTH_COOKIE, sid, sizeof(sid));
}

/* The upgrade request: route, credentials present, Origin; no I/O (the
 * service thread). 0 to accept, 1 when an error was written, -1 to
 * hang up. */
int pub_ws_confirm(struct pub_ctx *pc, struct lws *wsi)
{
    struct http_job *job = http_job_new();
    struct req *q = &job->q;
    struct resp *r = &job->r;
    int rc;

    if (pub_collect_request(wsi, job))
        api_error(r, ERR_INVALID, NULL, "bad request path");
    else if (strncmp(q->path, "/api/", 5))
        api_error(r, ERR_NOTFOUND, NULL, "no WebSocket endpoint at %s",
                  q->path);
    else if (router_match(q, r))
        ; /* r filled */
    else if (!(q->route->flags & ROUTE_WEBSOCKET))
        api_error(r, ERR_INVALID, NULL, "%s is not a WebSocket endpoint",
                  q->path);
    else if (q->route->min_role == ROLE_NONE)
        ; /* open to all */
    else if (!has_credentials(q))
        api_error(r, ERR_UNAUTH, NULL, "log in or send an API token");
    else if (!req_header(q, "Authorization") && !origin_matches_host(q))
        api_error(r, ERR_FORBIDDEN, "Origin",
                  "the Origin of a cookie-authenticated WebSocket must "
                  "match its Host");
    if (!r->status) {
        http_job_free(job);
        return 0;
    }
    router_security_headers(r);
    rc = pub_write_now(wsi, pc, r);
    http_job_log(job, "wss");
    http_job_free(job);
    return rc ? -1 : 1;
}

/* A handler thread: the router's authorization (the DB), then for a
 * console hv_console_open(), which may take seconds on libxl. */
void pub_run_ws_open(struct app *app, struct http_job *job)
{
    struct req *q = &job->q;
    struct resp *r = &job->r;

    if (router_match(q, r) || router_authorize(app, q, r))
        return;
    if (q->who.via == AUTH_VIA_SESSION && !origin_matches_host(q)) {
        api_error(r, ERR_FORBIDDEN, "Origin",
                  "the Origin of a cookie-authenticated WebSocket must "
                  "match its Host");
        return;
    }
    if (q->route->fn == api_vm_console) {
        job->aux_err = hv_console_open(app->hv, q->params[0], &job->aux_fd);
        if (job->aux_err)
            snprintf(job->aux_why, sizeof(job->aux_why),
                     "console unavailable: %s", hv_last_error());
    } else if (q->route->fn == api_vm_vnc) {
        if (api_vm_vnc_check(app, q, r)) /* 404, 409 */
            return;
        job->aux_err = hv_vnc_open(app->hv, q->params[0], &job->aux_fd);
        if (job->aux_err)
            snprintf(job->aux_why, sizeof(job->aux_why), "vnc unavailable: %s",
                     hv_last_error());
    }
}

/* Adopt the console fd a worker opened (**steals** fd). */
static void adopt_console(struct ws_conn *c, int fd, const char *vm_id)
{
    lws_sock_file_fd_type u;
    int fl;

    fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    u.filefd = (lws_filefd_type)(intptr_t)fd;
    c->raw = lws_adopt_descriptor_vhost(lws_get_vhost(c->wsi),
                                        LWS_ADOPT_RAW_FILE_DESC, u,
                                        "xenith-console", NULL);
    if (!c->raw) {
        log_error("http: cannot adopt the console fd of vm=%s", vm_id);
        close(fd);
        ws_close_later(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                       "console unavailable");
        return;
    }
    lws_set_opaque_user_data(c->raw, c);
}

/* The "message" of the API error in r (for a close reason), into
 * out[cap]; the status when there is none. */
static void error_message(const struct resp *r, char *out, size_t cap)
{
    static const char key[] = "\"message\":\"";
    const char *m = strstr(buf_str(&r->body), key);
    size_t n;

    if (!m) {
        snprintf(out, cap, "refused (%d)", r->status);
        return;
    }
    m += sizeof(key) - 1;
    for (n = 0; m[n] && m[n] != '"' && n + 1 < cap; n++)
        out[n] = m[n];
    out[n] = '\0';
}

int pub_ws_established(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss)
{
    char path[512];
    struct req q;
    struct resp scratch;
    struct ws_conn *c;
    int rc;

    memset(&q, 0, sizeof(q));
    q.method = "GET";
    q.path = path;
    q.body_fd = -1;
    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
        return -1;
    resp_init(&scratch);
    rc = router_match(&q, &scratch);
    resp_release(&scratch);
    if (rc || !q.route)
        return -1;

    c = xcalloc(1, sizeof(*c));
    c->pc = pc;
    c->wsi = wsi;
    pthread_mutex_init(&c->lock, NULL);
    buf_init(&c->rx, LWS_PRE + WS_MAX_MESSAGE);
    buf_init(&c->con_in, 0);
    c->next = pc->ws_list;
    if (pc->ws_list)
        pc->ws_list->prev = c;
    pc->ws_list = c;
    pss->ws = c;
    if (q.route->fn == api_events) {
        /* Subscribed now, sent only once authorized: an event published
         * while the worker decides is not lost (a client that opens
         * /events and then acts sees its own changes). */
        c->kind = WS_EVENTS;
        c->sub_id = events_subscribe(pc->h->app->events, on_event, c);
    } else if (q.route->fn == api_vm_console)
        c->kind = WS_CONSOLE;
    else if (q.route->fn == api_vm_vnc)
        c->kind = WS_VNC;
    else
        c->kind = WS_ECHO;

    /* Authorization (and the console) on a worker; read nothing until
     * it answers. */
    c->opening = http_job_new();
    c->opening->conn = c;
    if (pub_collect_request(wsi, c->opening)) {
        http_job_free(c->opening);
        c->opening = NULL;
        return -1;
    }
    lws_rx_flow_control(wsi, 0);
    if (c->kind == WS_CONSOLE || c->kind == WS_VNC)
        pub_submit_slow(pc, c->opening, PUB_TASK_WS_OPEN, pub_run_ws_open);
    else
        pub_submit(pc, c->opening, PUB_TASK_WS_OPEN, pub_run_ws_open);
    return 0;
}

static void console_input(struct ws_conn *c, const char *p, size_t n)
{
    if (c->con_in.len + n > CONSOLE_HIGH) {
        ws_close_later(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                       "console input too fast");
        return;
    }
    buf_append(&c->con_in, p, n);
    if (c->raw)
        lws_callback_on_writable(c->raw);
}

/* Browser bytes on /vnc: the RFB handshake first (answered here), the
 * rest to the VM's server. */
static void vnc_input(struct ws_conn *c, const char *p, size_t n)
{
    struct buf reply = BUF_INIT;
    size_t used = 0;
    int rc;

    if (c->rfb.stage != RFB_FRONT_DONE) {
        if (!c->raw) {
            ws_close_later(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                           "RFB: the server speaks first");
            return;
        }
        rc = rfb_front_feed(&c->rfb, p, n, &reply, &used);
        if (reply.len) {
            queue_copy(c, reply.data, reply.len, 1);
            lws_callback_on_writable(c->wsi);
        }
        buf_release(&reply);
        if (rc < 0) {
            ws_close_later(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                           "RFB: bad client handshake");
            return;
        }
    }
    if (used < n)
        console_input(c, p + used, n - used);
}

/* Deliver a whole received message (payload at mem + LWS_PRE;
 * **steals** mem). */
static void ws_deliver(struct ws_conn *c, unsigned char *mem, size_t n,
                       int binary)
{
    switch (c->kind) {
    case WS_ECHO:
        pthread_mutex_lock(&c->lock);
        queue_locked(c, mem, n, binary);
        pthread_mutex_unlock(&c->lock);
        if (c->queued_bytes > WS_HIGH_WATER && !c->rx_paused) {
            c->rx_paused = 1;
            lws_rx_flow_control(c->wsi, 0);
        }
        lws_callback_on_writable(c->wsi);
        return;
    case WS_CONSOLE:
        console_input(c, (const char *)mem + LWS_PRE, n);
        break;
    case WS_VNC:
        vnc_input(c, (const char *)mem + LWS_PRE, n);
        break;
    case WS_EVENTS:
        break; /* nothing to say to the bus */
    }
    free(mem);
}

static void hold(struct ws_conn *c, unsigned char *mem, size_t n, int binary)
{
    msg_append(&c->held, &c->held_tail, mem, n, binary);
    c->held_bytes += n;
}

void pub_ws_opened(struct pub_ctx *pc, struct http_job *job)
{
    struct ws_conn *c = job->conn;
    struct ws_msg *m;
    char reason[96];

    (void)pc;
    c->opening = NULL;
    /* Reading again (lws also holds back writes while it is off). */
    if (!c->rx_paused)
        lws_rx_flow_control(c->wsi, 1);
    if (job->r.status) {
        error_message(&job->r, reason, sizeof(reason));
        http_job_log(job, "wss");
        ws_close_later(c, 4000 + job->r.status, reason);
        http_job_free(job);
        return;
    }
    log_debug("http: wss %s upgrade %s (%s)", job->q.peer, job->q.path,
              job->q.who.username);
    c->ready = 1;
    if (c->kind == WS_EVENTS) {
        lws_callback_on_writable(c->wsi); /* what queued meanwhile */
    } else if ((c->kind == WS_CONSOLE || c->kind == WS_VNC) && job->aux_err) {
        log_debug("http: console of vm=%s: %s", job->q.params[0], job->aux_why);
        /* close_reason truncates: a close frame carries 123 bytes */
        ws_close_later(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, job->aux_why);
    } else if (c->kind == WS_CONSOLE || c->kind == WS_VNC) {
        adopt_console(c, job->aux_fd, job->q.params[0]);
        job->aux_fd = -1;
        if (c->raw && c->kind == WS_VNC) {
            rfb_front_init(&c->rfb);
            queue_copy(c, RFB_VERSION_38, RFB_VERSION_LEN, 1);
            lws_callback_on_writable(c->wsi);
        }
    }
    while ((m = c->held)) {
        c->held = m->next;
        c->held_bytes -= m->len;
        ws_deliver(c, m->mem, m->len, m->binary);
        free(m);
    }
    c->held_tail = NULL;
    http_job_free(job);
}

int pub_ws_receive(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss,
                   const void *in, size_t len)
{
    struct ws_conn *c = pss->ws;
    unsigned char *mem;
    size_t n;

    (void)pc;
    if (!c || c->close_code)
        return 0;
    if (lws_is_first_fragment(wsi)) {
        static const char pre[LWS_PRE];

        buf_reset(&c->rx);
        c->rx_binary = lws_frame_is_binary(wsi);
        if (buf_append(&c->rx, pre, LWS_PRE))
            return -1;
    }
    if (buf_append(&c->rx, in, len)) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"message over 16 MiB", 19);
        return -1;
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;

    /* A whole message. */
    n = c->rx.len - LWS_PRE;
    mem = (unsigned char *)buf_detach(&c->rx, NULL);
    buf_init(&c->rx, LWS_PRE + WS_MAX_MESSAGE);
    if (c->ready) {
        ws_deliver(c, mem, n, c->rx_binary);
    } else if (c->held_bytes + n > WS_MAX_HELD) {
        free(mem);
        ws_close_later(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                       "too much before authorization");
    } else {
        hold(c, mem, n, c->rx_binary);
    }
    return 0;
}

int pub_ws_writable(struct pub_ctx *pc, struct lws *wsi, struct pub_pss *pss)
{
    struct ws_conn *c = pss->ws;
    struct ws_msg *m;
    int more, low, n;

    (void)pc;
    if (!c || (!c->ready && !c->close_code))
        return 0; /* nothing goes out before authorization */
    pthread_mutex_lock(&c->lock);
    if (c->overflow && !c->close_code) {
        c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        xstrlcpy(c->close_reason, "too slow", sizeof(c->close_reason));
    }
    m = c->close_code ? NULL : c->head;
    if (m) {
        c->head = m->next;
        if (!c->head)
            c->tail = NULL;
        c->queued--;
        c->queued_bytes -= m->len;
    }
    more = c->head != NULL;
    low = c->queued_bytes < WS_LOW_WATER;
    pthread_mutex_unlock(&c->lock);

    if (c->close_code) {
        lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason,
                         strlen(c->close_reason));
        return -1;
    }
    if (m) {
        n = lws_write(wsi, m->mem + LWS_PRE, m->len,
                      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        if (n < (int)m->len) {
            msg_free(m);
            return -1;
        }
        msg_free(m);
    }
    if (c->rx_paused && low) {
        c->rx_paused = 0;
        lws_rx_flow_control(wsi, 1);
    }
    if (c->raw_paused && c->raw && low) {
        c->raw_paused = 0;
        lws_rx_flow_control(c->raw, 1);
    }
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

void pub_ws_closed(struct pub_ctx *pc, struct pub_pss *pss)
{
    struct ws_conn *c = pss ? pss->ws : NULL;
    struct ws_msg *m;

    if (!c)
        return;
    pss->ws = NULL;
    if (c->opening)
        c->opening->orphaned = 1; /* freed when it comes back */
    while ((m = c->held)) {
        c->held = m->next;
        msg_free(m);
    }
    if (c->sub_id > 0)
        events_unsubscribe(pc->h->app->events, c->sub_id);
    if (c->raw) {
        lws_set_opaque_user_data(c->raw, NULL);
        lws_set_timeout(c->raw, PENDING_TIMEOUT_KILLED_BY_PARENT,
                        LWS_TO_KILL_ASYNC);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        pc->ws_list = c->next;
    if (c->next)
        c->next->prev = c->prev;
    while ((m = c->head)) {
        c->head = m->next;
        msg_free(m);
    }
    buf_release(&c->rx);
    buf_release(&c->con_in);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void pub_ws_wake(struct pub_ctx *pc)
{
    struct ws_conn *c;

    for (c = pc->ws_list; c; c = c->next) {
        int ready;

        if (c->kind != WS_EVENTS)
            continue;
        pthread_mutex_lock(&c->lock);
        ready = c->head || c->overflow;
        pthread_mutex_unlock(&c->lock);
        if (ready)
            lws_callback_on_writable(c->wsi);
    }
}

/* The console fd, adopted as a raw file: guest output becomes binary
 * messages, queued input is written back. */
int pub_console_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len)
{
    struct ws_conn *c = lws_get_opaque_user_data(wsi);
    int fd = (int)(intptr_t)lws_get_socket_fd(wsi);
    char buf[16384];
    ssize_t n;

    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (!c)
            return -1;
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n <= 0)
            return -1;
        queue_copy(c, buf, (size_t)n, 1);
        lws_callback_on_writable(c->wsi);
        if (c->queued_bytes > CONSOLE_HIGH && !c->raw_paused) {
            c->raw_paused = 1;
            lws_rx_flow_control(wsi, 0);
        }
        return 0;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        if (!c || !c->con_in.len)
            return 0;
        n = write(fd, c->con_in.data, c->con_in.len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        if (n < 0)
            return -1;
        memmove(c->con_in.data, c->con_in.data + n, c->con_in.len - (size_t)n);
        c->con_in.len -= (size_t)n;
        if (c->con_in.len)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (c) {
            c->raw = NULL;
            ws_close_later(c, LWS_CLOSE_STATUS_NORMAL, "console closed");
        }
        return 0;
    default:
        return 0;
    }
}
