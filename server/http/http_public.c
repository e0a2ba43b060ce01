/* http_public.c: the public HTTPS/WebSocket listener on libwebsockets:
 * context and TLS set-up, the service thread, and the one protocol
 * callback that hands each event to pub_http.c or pub_ws.c.
 */
#include "server/http/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "server/core/app.h"
#include "server/http/h2_settings.h"
#include "server/http/pub_internal.h"
#include "server/http/tls_cert.h"
#include "server/http/tls_live.h"
#include "server/http/workers.h"

void http_wake(struct http_public *h)
{
    pthread_mutex_lock(&h->wake_lock);
    if (h->ctx)
        lws_cancel_service(h->ctx);
    pthread_mutex_unlock(&h->wake_lock);
}

static void workers_wake(void *opaque)
{
    http_wake(opaque);
}

static int pub_callback(struct lws *wsi, enum lws_callback_reasons reason,
                        void *user, void *in, size_t len)
{
    struct http_public *h = lws_context_user(lws_get_context(wsi));
    struct pub_pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        /* user is the vhost's SSL_CTX: TLS 1.2 or newer only, and the
         * replaceable key pair for every handshake. */
        if (user &&
            !SSL_CTX_set_min_proto_version((SSL_CTX *)user, TLS1_2_VERSION))
            return 1;
        if (user && h && h->tls)
            tls_live_attach(h->tls, user);
        return 0;
    case LWS_CALLBACK_HTTP:
        return pub_http_request(h, wsi, pss);
    case LWS_CALLBACK_HTTP_BODY:
        return pub_http_body(h, wsi, pss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return pub_http_body_done(h, wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pub_http_writable(h, wsi, pss);
    case LWS_CALLBACK_TIMER:
        return pub_h2_timer(wsi);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss)
            pub_http_closed(pss);
        break;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return pub_ws_confirm(h, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return pub_ws_established(h, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        return pub_ws_receive(h, wsi, pss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pub_ws_writable(h, wsi, pss);
    case LWS_CALLBACK_CLOSED:
        pub_ws_closed(h, pss);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (h) {
            pub_http_completions(h);
            pub_ws_wake(h);
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
    struct http_public *h = arg;

    while (!h->stopping)
        if (lws_service(h->ctx, 0) < 0)
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

int http_public_start(struct app *app, struct http_public **out)
{
    struct lws_context_creation_info info;
    struct http_public *h;
    char cert[PATH_MAX], key[PATH_MAX];
    struct tls_live *tls;
    int managed, rc;

    *out = NULL;
    rc = pick_tls_files(app, cert, key, sizeof(cert), &managed);
    if (!rc)
        rc = h2_settings_init(); /* WebSockets stay on HTTP/1.1 */
    if (rc)
        return rc;
    rc = tls_live_new(cert, key, managed, &tls);
    if (rc)
        return rc;
    __atomic_store_n(&app->tls, tls, __ATOMIC_RELEASE);
    h = xcalloc(1, sizeof(*h));
    h->tls = tls;
    h->app = app;
    pthread_mutex_init(&h->wake_lock, NULL);
    h->wbuf = xmalloc(LWS_PRE + PUB_CHUNK);
    if ((size_t)snprintf(h->spool_dir, sizeof(h->spool_dir), "%s/tmp",
                         app->cfg.data_dir) >= sizeof(h->spool_dir)) {
        rc = ERR_INVALID;
        goto out;
    }
    rc = workers_start(app, app->cfg.workers, workers_wake, h, &h->workers);
    if (!rc)
        rc = workers_start(app, PUB_SLOW_WORKERS, workers_wake, h, &h->slow);
    if (rc)
        goto out;

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    memset(&info, 0, sizeof(info));
    info.port = app->cfg.listen_port;
    info.iface = app->cfg.listen_addr[0] ? app->cfg.listen_addr : NULL;
    info.protocols = pub_protocols;
    info.user = h;
    info.options =
        LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (!strchr(app->cfg.listen_addr, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.ssl_cert_filepath = cert;
    info.ssl_private_key_filepath = key;
    info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                           SSL_OP_NO_TLSv1_1 | SSL_OP_CIPHER_SERVER_PREFERENCE;
    /* HTTP/2 where the client offers it; WebSockets stay HTTP/1.1
     * upgrades (h2_settings.h). */
    info.alpn = "h2,http/1.1";
    info.server_string = "xenithd";
    info.pt_serv_buf_size = PUB_CHUNK;
    info.max_http_header_data = 16384;
    info.keepalive_timeout = 30;
    info.timeout_secs = 30;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        log_error("http: cannot listen on %s:%d (TLS %s)", app->cfg.listen_addr,
                  app->cfg.listen_port, cert);
        rc = ERR_IO;
        goto out;
    }
    rc = pthread_create(&h->thread, NULL, service_main, h);
    if (rc) {
        rc = err_from_errno(rc);
        goto out;
    }
    h->thread_started = 1;
    *out = h;
    return 0;
out:
    http_public_stop(h);
    return rc;
}

void http_public_stop(struct http_public *h)
{
    struct lws_context *ctx;

    if (!h)
        return;
    h->stopping = 1;
    if (h->thread_started) {
        http_wake(h);
        pthread_join(h->thread, NULL);
    }
    pthread_mutex_lock(&h->wake_lock);
    ctx = h->ctx;
    h->ctx = NULL;
    pthread_mutex_unlock(&h->wake_lock);
    /* Closes every connection: jobs still with the workers are orphaned
     * and freed by workers_stop(). */
    if (ctx)
        lws_context_destroy(ctx);
    workers_stop(h->workers);
    workers_stop(h->slow);
    pthread_mutex_destroy(&h->wake_lock);
    free(h->wbuf);
    free(h);
}
