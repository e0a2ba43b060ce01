/* http_public.c: the public HTTPS/WebSocket listener on libwebsockets:
 * the contexts and their TLS set-up, one service thread each, the
 * completion queues the workers hand jobs back through, and the one
 * protocol callback that hands each event to pub_http.c or pub_ws.c.
 */
#include "server/http/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "server/core/app.h"
#include "server/http/h2_settings.h"
#include "server/http/nul_guard.h"
#include "server/http/pub_internal.h"
#include "server/http/tls_cert.h"
#include "server/http/tls_live.h"
#include "server/http/workers.h"

void pub_ctx_wake(struct pub_ctx *pc)
{
    pthread_mutex_lock(&pc->lock);
    if (pc->ctx)
        lws_cancel_service(pc->ctx);
    pthread_mutex_unlock(&pc->lock);
}

/* workers_done_fn: back to the context that sent the job. Its service
 * thread takes the whole queue on each wake-up, so only a job that
 * finds the queue empty needs to wake it. */
static void job_done(struct http_job *job)
{
    struct pub_ctx *pc = job->home;

    job->next = NULL;
    pthread_mutex_lock(&pc->lock);
    if (pc->done_tail) {
        pc->done_tail->next = job;
    } else {
        pc->done_head = job;
        if (pc->ctx)
            lws_cancel_service(pc->ctx);
    }
    pc->done_tail = job;
    pthread_mutex_unlock(&pc->lock);
}

struct http_job *pub_ctx_take_done(struct pub_ctx *pc)
{
    struct http_job *head;

    pthread_mutex_lock(&pc->lock);
    head = pc->done_head;
    pc->done_head = pc->done_tail = NULL;
    pthread_mutex_unlock(&pc->lock);
    return head;
}

static int pub_callback(struct lws *wsi, enum lws_callback_reasons reason,
                        void *user, void *in, size_t len)
{
    struct pub_ctx *pc = lws_context_user(lws_get_context(wsi));
    struct pub_pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        /* user is the vhost's SSL_CTX: TLS 1.2 or newer only, and the
         * replaceable key pair for every handshake. */
        if (user &&
            !SSL_CTX_set_min_proto_version((SSL_CTX *)user, TLS1_2_VERSION))
            return 1;
        if (user && pc && pc->h->tls && !tls_live_attach(pc->h->tls, user))
            pc->tls_attached = 1;
        return 0;
    case LWS_CALLBACK_HTTP:
        return pub_http_request(pc, wsi, pss);
    case LWS_CALLBACK_HTTP_BODY:
        return pub_http_body(pc, wsi, pss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return pub_http_body_done(pc, wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pub_http_writable(pc, wsi, pss);
    case LWS_CALLBACK_TIMER:
        return pub_h2_timer(wsi);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss)
            pub_http_closed(pss);
        break;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return pub_ws_confirm(pc, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return pub_ws_established(pc, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return pub_ws_receive(pc, wsi, pss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pub_ws_writable(pc, wsi, pss);
    case LWS_CALLBACK_CLOSED:
        pub_ws_closed(pc, pss);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* Not while the contexts are being destroyed (on the main
         * thread): what comes back then is orphaned and freed at the
         * end of http_public_stop(). */
        if (pc && !pc->h->stopping) {
            pub_http_completions(pc);
            pub_ws_wake(pc);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols pub_protocols[] = {
    { "xenith", pub_callback, sizeof(struct pub_pss), PUB_CHUNK, 0, NULL,
      PUB_TX_PACKET },
    /* The subprotocol noVNC asks for: the same endpoints, and lws
     * confirms it in Sec-WebSocket-Protocol. */
    { "binary", pub_callback, sizeof(struct pub_pss), PUB_CHUNK, 0, NULL,
      PUB_TX_PACKET },
    { "xenith-console", pub_console_cb, 0, PUB_CHUNK, 0, NULL, 0 },
    { "xenith-listen", pub_listen_cb, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void lws_log_emit(int level, const char *line)
{
    char msg[512];
    size_t n;

    xstrlcpy(msg, line, sizeof(msg));
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (level & LLL_ERR)
        log_error("lws: %s", msg);
    else
        log_debug("lws: %s", msg);
}

static void *service_main(void *arg)
{
    struct pub_ctx *pc = arg;

    while (!pc->h->stopping)
        if (lws_service(pc->ctx, 0) < 0)
            break;
    return NULL;
}

static int pick_tls_files(struct app *app, char *cert, char *key, size_t cap,
                          int *managed_out)
{
    *managed_out = 0;
    if (app->cfg.tls_cert[0] || app->cfg.tls_key[0]) {
        if (!app->cfg.tls_cert[0] || !app->cfg.tls_key[0]) {
            log_error("tls: set both tls-cert and tls-key, or neither");
            return ERR_INVALID;
        }
        xstrlcpy(cert, app->cfg.tls_cert, cap);
        xstrlcpy(key, app->cfg.tls_key, cap);
        return 0;
    }
    if ((size_t)snprintf(cert, cap, "%s/tls/cert.pem", app->cfg.data_dir) >=
            cap ||
        (size_t)snprintf(key, cap, "%s/tls/key.pem", app->cfg.data_dir) >= cap)
        return ERR_INVALID;
    *managed_out = 1;
    tls_live_recover(cert, key);
    return tls_cert_ensure(cert, key);
}

/* How many contexts: io-threads, or the online CPUs; at most
 * PUB_MAX_CONTEXTS. */
static int count_contexts(const struct app *app)
{
    long n = app->cfg.io_threads;

    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > PUB_MAX_CONTEXTS ? PUB_MAX_CONTEXTS : (int)n;
}

/* pc's lws context, listening nowhere (pub_listen.c accepts for it). */
static int ctx_create(struct pub_ctx *pc, const char *cert, const char *key)
{
    const struct app *app = pc->h->app;
    struct lws_context_creation_info info;

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = pub_protocols;
    info.user = pc;
    info.options =
        LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (!strchr(app->cfg.listen_addr, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.ssl_cert_filepath = cert;
    info.ssl_private_key_filepath = key;
    info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                           SSL_OP_NO_TLSv1_1 | SSL_OP_CIPHER_SERVER_PREFERENCE;
    /* xenithd makes no client connections, but lws 4.1 gives every
     * vhost a client SSL_CTX with the system CA bundle (~700 kB each),
     * and with several contexts it cannot free all but the last one's
     * (its SSL_CTX ex-data index is global and taken again by each
     * context). An empty one of ours, which lws leaves alone. */
    info.provided_client_ssl_ctx = pc->h->client_ssl;
    /* HTTP/2 where the client offers it; WebSockets stay HTTP/1.1
     * upgrades (h2_settings.h). */
    info.alpn = "h2,http/1.1";
    info.server_string = "xenithd";
    info.pt_serv_buf_size = PUB_CHUNK;
    info.max_http_header_data = 16384;
    info.keepalive_timeout = 30;
    info.timeout_secs = 30;
    pc->ctx = lws_create_context(&info);
    if (!pc->ctx) {
        log_error("http: cannot create the TLS context %d (%s)", pc->idx, cert);
        return ERR_IO;
    }
    /* Each context has its own SSL_CTX: every one must serve the live
     * key pair, or a certificate upload would reach only some
     * connections. */
    if (!pc->tls_attached) {
        log_error("http: context %d: cannot attach the live certificate",
                  pc->idx);
        return ERR_IO;
    }
    return 0;
}

int http_public_start(struct app *app, struct http_public **out)
{
    struct http_public *h;
    char cert[PATH_MAX], key[PATH_MAX], name[16];
    int lfds[PUB_MAX_CONTEXTS];
    struct tls_live *tls;
    int managed, rc, i, n;

    *out = NULL;
    n = count_contexts(app);
    for (i = 0; i < n; i++)
        lfds[i] = -1;
    rc = pick_tls_files(app, cert, key, sizeof(cert), &managed);
    if (!rc)
        rc = h2_settings_init(); /* WebSockets stay on HTTP/1.1 */
    if (!rc)
        rc = nul_guard_init(); /* "%00" in a request line is answered */
    if (rc)
        return rc;
    rc = tls_live_new(cert, key, managed, &tls);
    if (rc)
        return rc;
    __atomic_store_n(&app->tls, tls, __ATOMIC_RELEASE);
    h = xcalloc(1, sizeof(*h));
    h->tls = tls;
    h->app = app;
    if ((size_t)snprintf(h->spool_dir, sizeof(h->spool_dir), "%s/tmp",
                         app->cfg.data_dir) >= sizeof(h->spool_dir)) {
        rc = ERR_INVALID;
        goto out;
    }
    h->client_ssl = SSL_CTX_new(TLS_client_method());
    if (!h->client_ssl) {
        rc = ERR_INTERNAL;
        goto out;
    }
    rc = workers_start(app, app->cfg.workers, job_done, &h->workers);
    if (!rc)
        rc = workers_start(app, PUB_SLOW_WORKERS, job_done, &h->slow);
    if (!rc)
        rc = pub_listen_open(app->cfg.listen_addr, app->cfg.listen_port, n,
                             lfds);
    if (rc)
        goto out;

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    for (i = 0; i < n; i++) {
        struct pub_ctx *pc = &h->pcs[i];

        pc->h = h;
        pc->idx = i;
        pthread_mutex_init(&pc->lock, NULL);
        pc->wbuf = xmalloc(LWS_PRE + PUB_CHUNK);
        h->num_pcs++;
        rc = ctx_create(pc, cert, key);
        if (!rc) {
            rc = pub_listen_adopt(pc, lfds[i]);
            lfds[i] = -1;
        }
        if (rc)
            goto out;
    }
    for (i = 0; i < n; i++) {
        struct pub_ctx *pc = &h->pcs[i];

        rc = pthread_create(&pc->thread, NULL, service_main, pc);
        if (rc) {
            rc = err_from_errno(rc);
            goto out;
        }
        pc->thread_started = 1;
        snprintf(name, sizeof(name), "xenithd-io%d", i);
        pthread_setname_np(pc->thread, name);
    }
    log_info("http: %d service threads on %s:%d", n, app->cfg.listen_addr,
             app->cfg.listen_port);
    *out = h;
    return 0;
out:
    for (i = 0; i < n; i++)
        if (lfds[i] >= 0)
            close(lfds[i]);
    http_public_stop(h);
    return rc;
}

void http_public_stop(struct http_public *h)
{
    struct lws_context *ctx;
    struct http_job *job;
    int i;

    if (!h)
        return;
    h->stopping = 1;
    for (i = 0; i < h->num_pcs; i++)
        if (h->pcs[i].thread_started)
            pub_ctx_wake(&h->pcs[i]);
    for (i = 0; i < h->num_pcs; i++)
        if (h->pcs[i].thread_started)
            pthread_join(h->pcs[i].thread, NULL);
    /* Closes every connection: jobs still with the workers or in a
     * completion queue are orphaned. */
    for (i = 0; i < h->num_pcs; i++) {
        pthread_mutex_lock(&h->pcs[i].lock);
        ctx = h->pcs[i].ctx;
        h->pcs[i].ctx = NULL;
        pthread_mutex_unlock(&h->pcs[i].lock);
        if (ctx)
            lws_context_destroy(ctx);
    }
    /* A job running finishes into its context's queue. */
    workers_stop(h->workers);
    workers_stop(h->slow);
    for (i = 0; i < h->num_pcs; i++) {
        struct pub_ctx *pc = &h->pcs[i];
        struct http_job *next;

        for (job = pub_ctx_take_done(pc); job; job = next) {
            next = job->next;
            http_job_free(job);
        }
        pthread_mutex_destroy(&pc->lock);
        free(pc->wbuf);
    }
    SSL_CTX_free(h->client_ssl);
    free(h);
}
