/* api_ws.c: the WebSocket routes reached without an upgrade. The
 * public front-end (server/http/pub_ws.c) streams these after
 * authorizing the upgrade; a plain GET (or the local socket, which has
 * no WebSockets) gets 426 Upgrade Required.
 */
#include "server/api/api.h"

#include <jansson.h>

#include <string.h>

#include "common/err.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/api/api_vm_util.h"

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

int api_vm_vnc(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return upgrade_required(q, r);
}

int api_vm_vnc_check(struct app *app, struct req *q, struct resp *r)
{
    struct db_vm vm;
    json_t *boot = NULL;
    const char *type;
    int rc;

    memset(&vm, 0, sizeof(vm));
    rc = api_vm_load(app, q, r, &vm);
    if (rc)
        goto out;
    if (strcmp(vm.state, "running") && strcmp(vm.state, "paused")) {
        rc = api_error(r, ERR_CONFLICT, "state",
                       "vm is %s: a graphical console needs it running",
                       vm.state);
        goto out;
    }
    boot = json_loads(vm.boot ? vm.boot : "{}", 0, NULL);
    type = json_string_value(json_object_get(boot, "type"));
    if (!type || strcmp(type, "hvm")) {
        rc = api_error(r, ERR_CONFLICT, "boot",
                       "vm boots %s: only HVM guests have a graphical "
                       "console (use /console)",
                       type ? type : "?");
        goto out;
    }
    rc = 0;
out:
    json_decref(boot);
    db_vm_release(&vm);
    return rc;
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
