/* api_ws.c: the WebSocket routes reached without an upgrade. The
 * public front-end (server/http/pub_ws.c) streams these after
 * authorizing the upgrade; a plain GET (or the local socket, which has
 * no WebSockets) gets 426 Upgrade Required.
 */
#include "server/api/api.h"

#include <jansson.h>

#include "server/api/api_util.h"

/* common/err.h has no code for 426: the same error shape, by hand. */
static int upgrade_required(struct req *q, struct resp *r)
{
    json_t *e = json_pack("{s:{s:s,s:s}}", "error", "code", "upgrade_required",
                          "message",
                          "this endpoint is a WebSocket: send Upgrade: "
                          "websocket on the HTTPS port");

    (void)q;
    resp_header(r, "Upgrade", "websocket");
    return api_json(r, 426, e);
}

int api_vm_console(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return upgrade_required(q, r);
}

int api_events(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return upgrade_required(q, r);
}

int api_echo(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return upgrade_required(q, r);
}
