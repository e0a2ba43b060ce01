/* api_networks.c: networks, each a Linux bridge in dom0.
 *
 * NEEDSWORK: a network is only a record in the DB for now. Creating
 * (and removing) the real bridge through netlink belongs to the libxl
 * driver issue; until then "bridge_exists" tells whether a bridge of
 * that name is present on the host.
 */
#include "server/api/api.h"

#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_storage.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/events.h"

static json_t *net_to_json(const struct db_network *n)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:o, s:b}", "id", n->id, "name",
                     n->name, "bridge", n->bridge, "mtu", n->mtu, "created_at",
                     api_time(n->created_at), "bridge_exists",
                     if_nametoindex(n->bridge) != 0);
}

int api_networks_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_network *list = NULL;
    size_t i, num = 0;
    json_t *arr;
    int rc;

    (void)q;
    rc = db_network_list(app->db, &list, &num);
    if (rc)
        return rc;
    arr = json_array();
    for (i = 0; i < num; i++)
        json_array_append_new(arr, net_to_json(&list[i]));
    free(list);
    return api_json(r, 200, arr);
}

/* A Linux interface name: 1..15 of [A-Za-z0-9_.-], not "." or "..". */
static int net_check_bridge(struct resp *r, const char *b)
{
    size_t i, len = strlen(b);

    if (len < 1 || len > 15 || !strcmp(b, ".") || !strcmp(b, ".."))
        return api_error(r, ERR_INVALID, "bridge",
                         "bridge must be 1 to 15 characters, not '.' or "
                         "'..'");
    for (i = 0; i < len; i++) {
        char c = b[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return api_error(r, ERR_INVALID, "bridge",
                             "bridge may hold letters, digits, '_', '.' and "
                             "'-' only");
    }
    return 0;
}

/* 409 naming the field when name or bridge is taken, else 0. */
static int net_check_taken(struct app *app, struct resp *r,
                           const struct db_network *n)
{
    struct db_network *list = NULL;
    size_t i, num = 0;
    int rc;

    rc = db_network_list(app->db, &list, &num);
    if (rc)
        return rc;
    for (i = 0; i < num && !rc; i++) {
        if (!strcmp(list[i].name, n->name))
            rc = api_error(r, ERR_EXISTS, "name", "a network named '%s' exists",
                           n->name);
        else if (!strcmp(list[i].bridge, n->bridge))
            rc = api_error(r, ERR_EXISTS, "bridge",
                           "network '%s' already uses bridge %s", list[i].name,
                           n->bridge);
    }
    free(list);
    return rc;
}

int api_networks_create(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "bridge", "mtu", NULL };
    const char *name, *bridge;
    struct db_network n;
    int64_t mtu = 1500;
    json_t *body = NULL, *o;
    int rc;

    memset(&n, 0, sizeof(n));
    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    if ((rc = api_get_str(r, body, "name", 1, 1, 64, &name)) < 0 ||
        (rc = api_check_name(r, "name", name)) < 0 ||
        (rc = api_get_str(r, body, "bridge", 1, 1, 15, &bridge)) < 0 ||
        (rc = net_check_bridge(r, bridge)) < 0 ||
        (rc = api_get_int(r, body, "mtu", 0, 68, 65535, &mtu)) < 0)
        goto out;
    uuid_generate(n.id);
    xstrlcpy(n.name, name, sizeof(n.name));
    xstrlcpy(n.bridge, bridge, sizeof(n.bridge));
    n.mtu = (int)mtu;
    n.created_at = time_now();
    rc = net_check_taken(app, r, &n);
    if (rc)
        goto out;
    rc = db_network_insert(app->db, &n);
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot record the network: %s",
                       err_str(rc));
        goto out;
    }
    log_info("network: created %s (%s) on bridge %s", n.name, n.id, n.bridge);
    xstrlcpy(r->audit_target, n.id, sizeof(r->audit_target));
    o = net_to_json(&n);
    events_publish(app->events, "network", "created", n.id, json_deep_copy(o));
    rc = api_json(r, 201, o);
out:
    json_decref(body);
    return rc;
}

int api_network_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_network n;
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    rc = db_network_get(app->db, id, &n);
    if (rc)
        return api_error(r, rc, NULL, "network %s: %s", id, err_str(rc));
    return api_json(r, 200, net_to_json(&n));
}

int api_network_delete(struct app *app, struct req *q, struct resp *r)
{
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    xstrlcpy(r->audit_target, id, sizeof(r->audit_target));
    rc = db_network_delete(app->db, id);
    if (rc == ERR_CONFLICT)
        return api_error(r, rc, NULL, "network %s is used by a VM's NIC", id);
    if (rc)
        return api_error(r, rc, NULL, "network %s: %s", id, err_str(rc));
    events_publish(app->events, "network", "deleted", id, NULL);
    r->status = 204;
    return 0;
}
