/* api_host.c: this host (from the hypervisor driver) and the pool it
 * belongs to (one host for now). */
#include "server/api/api.h"

#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_storage.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/events.h"
#include "xen/hv.h"

static json_t *host_to_json(struct app *app, const struct hv_host_info *h)
{
    return json_pack(
        "{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:s}", "hostname", h->hostname,
        "driver", hv_driver_name(app->hv), "hypervisor_version", h->hv_version,
        "cpus", h->cpus, "memory_total_bytes", (json_int_t)h->mem_total_bytes,
        "memory_free_bytes", (json_int_t)h->mem_free_bytes, "uptime_s",
        (json_int_t)h->uptime_s, "version", XENITH_VERSION);
}

int api_host_get(struct app *app, struct req *q, struct resp *r)
{
    struct hv_host_info h;
    int rc;

    (void)q;
    memset(&h, 0, sizeof(h));
    rc = hv_host_info(app->hv, &h);
    if (rc)
        return api_error(r, rc, NULL, "host information: %s",
                         hv_last_error()[0] ? hv_last_error() : err_str(rc));
    return api_json(r, 200, host_to_json(app, &h));
}

/* The pool's JSON: its one host is this one. When the driver cannot
 * describe the host, the entry has the hostname and driver only. */
static json_t *pool_to_json(struct app *app, const struct db_pool *p)
{
    struct hv_host_info h;
    json_t *hosts = json_array();

    memset(&h, 0, sizeof(h));
    if (hv_host_info(app->hv, &h) == 0) {
        json_array_append_new(hosts, host_to_json(app, &h));
    } else {
        if (gethostname(h.hostname, sizeof(h.hostname) - 1) < 0)
            xstrlcpy(h.hostname, "localhost", sizeof(h.hostname));
        json_array_append_new(hosts,
                              json_pack("{s:s, s:s}", "hostname", h.hostname,
                                        "driver", hv_driver_name(app->hv)));
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", p->id, "name", p->name,
                     "description", p->description, "default_sr",
                     p->default_sr[0] ? json_string(p->default_sr)
                                      : json_null(),
                     "hosts", hosts);
}

int api_pool_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_pool p;
    int rc;

    (void)q;
    rc = db_pool_get(app->db, &p);
    if (rc)
        return rc;
    return api_json(r, 200, pool_to_json(app, &p));
}

/* default_sr: null, or the id of an existing SR; written to p. */
static int pool_get_default_sr(struct app *app, struct resp *r, json_t *body,
                               struct db_pool *p)
{
    json_t *v = json_object_get(body, "default_sr");
    struct db_sr sr;
    const char *id;

    if (!v)
        return 0;
    if (json_is_null(v)) {
        p->default_sr[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return api_error(r, ERR_INVALID, "default_sr",
                         "default_sr must be an SR id or null");
    id = json_string_value(v);
    if (!uuid_valid(id) || db_sr_get(app->db, id, &sr))
        return api_error(r, ERR_INVALID, "default_sr",
                         "default_sr is not a known SR id");
    xstrlcpy(p->default_sr, sr.id, sizeof(p->default_sr));
    return 0;
}

int api_pool_patch(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "description", "default_sr",
                                           NULL };
    const char *name = NULL, *desc = NULL;
    struct db_pool p;
    json_t *body = NULL, *o;
    int rc;

    rc = db_pool_get(app->db, &p);
    if (rc)
        return rc;
    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    if ((rc = api_get_str(r, body, "name", 0, 1, 64, &name)) < 0 ||
        (name && (rc = api_check_name(r, "name", name)) < 0) ||
        (rc = api_get_str(r, body, "description", 0, 0,
                          sizeof(p.description) - 1, &desc)) < 0 ||
        (rc = pool_get_default_sr(app, r, body, &p)) < 0)
        goto out;
    if (name)
        xstrlcpy(p.name, name, sizeof(p.name));
    if (desc)
        xstrlcpy(p.description, desc, sizeof(p.description));
    xstrlcpy(r->audit_target, p.id, sizeof(r->audit_target));
    rc = db_pool_update(app->db, &p);
    if (rc == ERR_CONFLICT)
        rc = api_error(r, ERR_INVALID, "default_sr",
                       "default_sr is not a known SR id");
    else if (rc)
        rc = api_error(r, rc, NULL, "cannot change the pool: %s", err_str(rc));
    if (rc)
        goto out;
    o = pool_to_json(app, &p);
    events_publish(app->events, "pool", "updated", p.id, json_deep_copy(o));
    rc = api_json(r, 200, o);
out:
    json_decref(body);
    return rc;
}
