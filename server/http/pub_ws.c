/* pub_ws.c: WebSockets on the public listener. NEEDSWORK: being
 * written; every upgrade is refused for now. */
#include "server/http/pub_internal.h"

#include "common/err.h"
#include "server/api/api_util.h"
#include "server/api/router.h"

int pub_ws_confirm(struct http_public *h, struct lws *wsi)
{
    struct resp r;
    int rc;

    resp_init(&r);
    api_error(&r, ERR_UNSUPPORTED, NULL, "WebSockets are not built yet");
    router_security_headers(&r);
    rc = pub_write_now(wsi, h, &r);
    resp_release(&r);
    return rc ? -1 : 1;
}

int pub_ws_established(struct http_public *h, struct lws *wsi,
                       struct pub_pss *pss)
{
    (void)h;
    (void)wsi;
    (void)pss;
    return -1;
}

int pub_ws_receive(struct http_public *h, struct lws *wsi, struct pub_pss *pss,
                   const void *in, size_t len)
{
    (void)h;
    (void)wsi;
    (void)pss;
    (void)in;
    (void)len;
    return -1;
}

int pub_ws_writable(struct http_public *h, struct lws *wsi, struct pub_pss *pss)
{
    (void)h;
    (void)wsi;
    (void)pss;
    return -1;
}

void pub_ws_closed(struct http_public *h, struct pub_pss *pss)
{
    (void)h;
    (void)pss;
}

void pub_ws_wake(struct http_public *h)
{
    (void)h;
}

int pub_console_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len)
{
    (void)wsi;
    (void)reason;
    (void)user;
    (void)in;
    (void)len;
    return 0;
}
