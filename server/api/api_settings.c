/* api_settings.c: host settings: the time zone (the default for backup
 * schedules) and the public listener's TLS certificate, replaceable
 * while running.
 */
#include "server/api/api.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/events.h"
#include "server/core/settings.h"
#include "server/http/tls_live.h"

#define PEM_FIELD_MAX (200 * 1024)

static json_t *tls_json(struct app *app)
{
    struct tls_live *tls = __atomic_load_n(&app->tls, __ATOMIC_ACQUIRE);
    struct tls_info ti;

    if (!tls || tls_live_info(tls, &ti))
        return json_null();
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b}", "subject",
                     ti.subject, "issuer", ti.issuer, "san", ti.san,
                     "sha256_fingerprint", ti.sha256, "not_before",
                     api_time(ti.not_before), "not_after",
                     api_time(ti.not_after), "self_signed", ti.self_signed,
                     "replaceable", ti.replaceable);
}

static json_t *settings_json(struct app *app)
{
    char tz[80];

    settings_timezone(app->db, tz, sizeof(tz));
    return json_pack("{s:s, s:o}", "timezone", tz, "tls", tls_json(app));
}

int api_settings_get(struct app *app, struct req *q, struct resp *r)
{
    (void)q;
    return api_json(r, 200, settings_json(app));
}

int api_settings_patch(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "timezone", NULL };
    const char *tz = NULL;
    json_t *body = NULL, *o;
    int rc;

    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    rc = api_get_str(r, body, "timezone", 0, 1, 64, &tz);
    if (rc < 0)
        goto out;
    if (tz && !settings_timezone_valid(tz)) {
        rc = api_error(r, ERR_INVALID, "timezone",
                       "timezone must be an IANA time zone name such as "
                       "Europe/Paris or UTC");
        goto out;
    }
    xstrlcpy(r->audit_target, "settings", sizeof(r->audit_target));
    if (tz && (rc = db_setting_set(app->db, SETTINGS_TZ_KEY, tz))) {
        rc = api_error(r, rc, NULL, "cannot store the time zone: %s",
                       err_str(rc));
        goto out;
    }
    o = settings_json(app);
    events_publish(app->events, "settings", "updated", "settings",
                   json_deep_copy(o));
    rc = api_json(r, 200, o);
out:
    json_decref(body);
    return rc;
}

/* A required PEM string field (newlines allowed, unlike api_get_str). */
static int get_pem(struct resp *r, json_t *body, const char *key,
                   const char **out)
{
    json_t *v = json_object_get(body, key);

    if (!v)
        return api_error(r, ERR_INVALID, key, "%s is required", key);
    if (!json_is_string(v) || !json_string_length(v) ||
        json_string_length(v) > PEM_FIELD_MAX)
        return api_error(r, ERR_INVALID, key,
                         "%s must be PEM text of at most %d bytes", key,
                         PEM_FIELD_MAX);
    *out = json_string_value(v);
    return 0;
}

int api_settings_tls_put(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "certificate", "private_key", NULL };
    struct tls_live *tls = __atomic_load_n(&app->tls, __ATOMIC_ACQUIRE);
    const char *cert = NULL, *key = NULL, *field;
    char why[200];
    json_t *body = NULL, *o;
    int rc;

    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    if ((rc = get_pem(r, body, "certificate", &cert)) < 0 ||
        (rc = get_pem(r, body, "private_key", &key)) < 0)
        goto out;
    xstrlcpy(r->audit_target, "tls", sizeof(r->audit_target));
    if (!tls) {
        rc = api_error(r, ERR_BUSY, NULL, "the public listener is not running");
        goto out;
    }
    rc = tls_live_replace(tls, cert, key, &field, why, sizeof(why));
    if (rc) {
        rc = api_error(r, rc, field, "%s", why);
        goto out;
    }
    o = tls_json(app);
    events_publish(app->events, "settings", "updated", "tls",
                   json_deep_copy(o));
    rc = api_json(r, 200, o);
out:
    json_decref(body);
    return rc;
}
