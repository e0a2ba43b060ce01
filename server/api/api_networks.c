/* api_networks.c: networks, each a Linux bridge in dom0.
 *
 * POST creates the bridge through the driver (hv_net_create: netlink in
 * the libxl driver, an in-memory table in the test driver), or adopts a
 * bridge of that name that is there already; "bridge_owned" records
 * which. DELETE removes the record, and the bridge only when xenith made
 * it and nothing is plugged into it. "bridge_exists" is asked of the
 * driver on every read.
 */
#include "server/api/api.h"

#include <pthread.h>
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
#include "xen/hv.h"

/* Creates and deletes one at a time: between the look at the host and
 * the record, no other request makes or removes the same bridge. */
static pthread_mutex_t net_mu = PTHREAD_MUTEX_INITIALIZER;

static json_t *net_to_json(struct app *app, const struct db_network *n)
{
    struct hv_bridge b;

    /* A driver that cannot tell (an error) says: not there. */
    if (hv_net_info(app->hv, n->bridge, &b))
        b.exists = 0;
    return json_pack("{s:s, s:s, s:s, s:i, s:o, s:b, s:b}", "id", n->id, "name",
                     n->name, "bridge", n->bridge, "mtu", n->mtu, "created_at",
                     api_time(n->created_at), "bridge_exists",
                     b.exists && b.is_bridge, "bridge_owned",
                     n->bridge_owned != 0);
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
        json_array_append_new(arr, net_to_json(app, &list[i]));
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

/* Create n's bridge, or adopt the one of that name when it is a bridge
 * (and, when the request named an MTU, has that MTU); sets
 * n->bridge_owned, and n->mtu from an adopted bridge. 0 or an error
 * written to r. */
static int net_make_bridge(struct app *app, struct resp *r, int mtu_given,
                           struct db_network *n)
{
    struct hv_bridge b;
    int rc;

    rc = hv_net_info(app->hv, n->bridge, &b);
    if (rc)
        return api_error(r, rc, "bridge", "cannot look up bridge %s: %s",
                         n->bridge, hv_last_error());
    if (b.exists && !b.is_bridge)
        return api_error(r, ERR_CONFLICT, "bridge",
                         "interface %s exists and is not a bridge", n->bridge);
    if (b.exists && mtu_given && b.mtu != n->mtu)
        return api_error(r, ERR_CONFLICT, "mtu",
                         "bridge %s exists with MTU %d, not %d", n->bridge,
                         b.mtu, n->mtu);
    if (b.exists) {
        if (b.mtu >= 68 && b.mtu <= 65535)
            n->mtu = b.mtu;
        n->bridge_owned = 0;
        return 0;
    }
    rc = hv_net_create(app->hv, n->bridge, n->mtu);
    if (rc)
        return api_error(r, rc, "bridge", "cannot create bridge %s: %s",
                         n->bridge, hv_last_error());
    n->bridge_owned = 1;
    return 0;
}

/* The record of n could not be written (err): 500/409 to r, and the
 * bridge made for it goes again. */
static void net_unmake_bridge(struct app *app, struct resp *r, int err,
                              const struct db_network *n)
{
    api_error(r, err, NULL, "cannot record the network: %s", err_str(err));
    if (n->bridge_owned && hv_net_delete(app->hv, n->bridge))
        log_error("network: cannot remove bridge %s again: %s", n->bridge,
                  hv_last_error());
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
    pthread_mutex_lock(&net_mu);
    rc = net_check_taken(app, r, &n);
    if (!rc)
        rc = net_make_bridge(app, r, json_object_get(body, "mtu") != NULL, &n);
    if (!rc) {
        rc = db_network_insert(app->db, &n);
        if (rc)
            net_unmake_bridge(app, r, rc, &n);
    }
    pthread_mutex_unlock(&net_mu);
    if (rc)
        goto out;
    log_info("network: created %s (%s) on bridge %s (%s)", n.name, n.id,
             n.bridge, n.bridge_owned ? "created" : "adopted");
    xstrlcpy(r->audit_target, n.id, sizeof(r->audit_target));
    o = net_to_json(app, &n);
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
    return api_json(r, 200, net_to_json(app, &n));
}

/* Remove n's bridge when xenith made it (n's record already deleted:
 * it is put back when the bridge stays). 0 or an error written to r. */
static int net_remove_bridge(struct app *app, struct resp *r,
                             const struct db_network *n)
{
    int rc;

    if (!n->bridge_owned)
        return 0;
    rc = hv_net_delete(app->hv, n->bridge);
    if (rc == ERR_NOTFOUND) {
        log_warn("network: bridge %s of %s was gone already", n->bridge, n->id);
        return 0;
    }
    if (!rc)
        return 0;
    api_error(r, rc, NULL, "cannot delete bridge %s: %s", n->bridge,
              hv_last_error());
    if (db_network_insert(app->db, n))
        log_error("network: cannot restore the record of %s (%s)", n->name,
                  n->id);
    return rc;
}

/* DELETE of network id, with net_mu held. */
static int net_delete_locked(struct app *app, struct resp *r, const char *id)
{
    struct db_network n;
    struct hv_bridge b;
    int64_t nics = 0;
    int rc;

    rc = db_network_get(app->db, id, &n);
    if (rc)
        return api_error(r, rc, NULL, "network %s: %s", id, err_str(rc));
    /* The refusals first, before anything is touched: a VM's NIC on
     * it, then anything else plugged into a bridge to be deleted. */
    if (!db_network_num_nics(app->db, id, &nics) && nics > 0)
        return api_error(r, ERR_CONFLICT, NULL,
                         "network %s is used by %lld VM NIC%s", n.name,
                         (long long)nics, nics == 1 ? "" : "s");
    if (n.bridge_owned && !hv_net_info(app->hv, n.bridge, &b) &&
        b.num_ports > 0)
        return api_error(r, ERR_CONFLICT, NULL,
                         "bridge %s of network %s has %d port%s in use",
                         n.bridge, n.name, b.num_ports,
                         b.num_ports == 1 ? "" : "s");
    rc = db_network_delete(app->db, id);
    if (rc == ERR_CONFLICT)
        return api_error(r, rc, NULL, "network %s is used by a VM's NIC", id);
    if (rc)
        return api_error(r, rc, NULL, "network %s: %s", id, err_str(rc));
    rc = net_remove_bridge(app, r, &n);
    if (rc)
        return rc;
    log_info("network: deleted %s (%s)%s", n.name, id,
             n.bridge_owned ? " and its bridge" : "");
    events_publish(app->events, "network", "deleted", id, NULL);
    r->status = 204;
    return 0;
}

int api_network_delete(struct app *app, struct req *q, struct resp *r)
{
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    xstrlcpy(r->audit_target, id, sizeof(r->audit_target));
    pthread_mutex_lock(&net_mu);
    rc = net_delete_locked(app, r, id);
    pthread_mutex_unlock(&net_mu);
    return rc;
}
