/* pub_h2.c: what the public listener does for HTTP/2 beyond pub_http.c's
 * framing: the headers h2 forbids, request-body credit, and retiring a
 * connection before lws 4.1's window arithmetic makes a client fail it.
 * Service thread only.
 */
#include "server/http/pub_internal.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

/* Answer headers HTTP/2 forbids (RFC 9113 8.2.2): a peer treats them
 * as a protocol error. */
static const char *const forbidden_headers[] = {
    "Connection",        "Keep-Alive", "Proxy-Connection",
    "Transfer-Encoding", "Upgrade",
};

/* What lws is told the peer may send on an h2 stream, at least. */
#define PUB_H2_RX_WINDOW (1024 * 1024)

/* Requests on one h2 connection before it is closed once idle, and
 * the wait for that. lws 4.1 opens the connection's window by 256 KiB
 * for every new stream whether it sends a body or not (and by what an
 * upload leaves unused); past 2^31 - 1 the client must fail the
 * connection (RFC 9113 6.9.1): at request 8192 with no body at all. */
#define PUB_H2_MAX_STREAMS 1000
#define PUB_H2_RETIRE_US   (1000 * 1000)
/* A connection's count, in its network wsi's opaque user data:
 * streams begun << 16 | streams open. */
#define PUB_H2_OPEN_MASK 0xffffu
#define PUB_H2_BEGUN     (PUB_H2_OPEN_MASK + 1)

int pub_is_h2(struct lws *wsi)
{
    return lws_get_network_wsi(wsi) != wsi;
}

static uintptr_t h2_conn_count(struct lws *nwsi)
{
    return (uintptr_t)lws_get_opaque_user_data(nwsi);
}

static void h2_conn_set(struct lws *nwsi, uintptr_t count)
{
    lws_set_opaque_user_data(nwsi, (void *)count);
}

void pub_h2_stream_begin(struct lws *wsi, struct pub_pss *pss)
{
    struct lws *nwsi = lws_get_network_wsi(wsi);

    h2_conn_set(nwsi, h2_conn_count(nwsi) + PUB_H2_BEGUN + 1);
    pss->h2_conn = nwsi;
}

static int h2_conn_spent(uintptr_t count)
{
    return !(count & PUB_H2_OPEN_MASK) &&
           count / PUB_H2_BEGUN >= PUB_H2_MAX_STREAMS;
}

void pub_h2_stream_end(struct pub_pss *pss)
{
    struct lws *nwsi = pss->h2_conn;
    uintptr_t count;

    if (!nwsi)
        return;
    pss->h2_conn = NULL;
    count = h2_conn_count(nwsi) - 1;
    h2_conn_set(nwsi, count);
    if (h2_conn_spent(count)) /* lws cancels it if the connection goes */
        lws_set_timer_usecs(nwsi, PUB_H2_RETIRE_US);
}

int pub_h2_timer(struct lws *wsi)
{
    if (pub_is_h2(wsi)) { /* a stream waited for credit */
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (!h2_conn_spent(h2_conn_count(wsi)))
        return 0; /* a request came meanwhile: its end re-arms */
    if (lws_send_pipe_choked(wsi)) {
        lws_set_timer_usecs(wsi, PUB_H2_RETIRE_US);
        return 0;
    }
    log_debug("http: closing an idle h2 connection after %lu requests",
              (unsigned long)(h2_conn_count(wsi) / PUB_H2_BEGUN));
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    return 0;
}

int pub_h2_forbidden_header(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(forbidden_headers) / sizeof(forbidden_headers[0]);
         i++)
        if (!strcasecmp(name, forbidden_headers[i]))
            return 1;
    return 0;
}

/* HTTP/2 request bodies: lws 4.1 does not count the DATA that arrives
 * while a new stream waits for its dispatch (LRS_DEFERRING_ACTION,
 * lib/roles/h2/http2.c), so its estimate of the peer's window runs high
 * by up to the first 256 KiB it granted, and it re-opens the window only
 * once that estimate falls to a frame: the upload stalls for good. Keep
 * the estimate at PUB_H2_RX_WINDOW or more: the real window is then at
 * least that less 256 KiB, and never more than the estimate. */
void pub_h2_rx_credit(struct lws *wsi)
{
    int est = lws_h2_get_peer_txcredit_estimate(wsi);

    if (est < PUB_H2_RX_WINDOW)
        lws_h2_update_peer_txcredit(wsi, LWS_H2_STREAM_SID,
                                    PUB_H2_RX_WINDOW - est);
}
