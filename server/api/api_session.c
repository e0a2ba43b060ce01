/* api_session.c: log in, who am I, log out. */
#include "server/api/api.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db/db_sessions.h"
#include "db/db_users.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/audit.h"
#include "server/core/auth.h"
#include "server/core/auth_limit.h"

/* {"user":{...},"csrf_token":...,"via":...} for who. must_change comes
 * from the users row (0 for root on the local socket). */
static json_t *session_json(const struct principal *who, int must_change)
{
    static const char *const via[] = { "none", "session", "token", "peer" };

    return json_pack(
        "{s:{s:o, s:s, s:s, s:b}, s:o, s:s}", "user", "id",
        who->user_id[0] ? json_string(who->user_id) : json_null(), "username",
        who->username, "role", auth_role_name(who->role),
        "must_change_password", must_change, "csrf_token",
        who->csrf_token[0] ? json_string(who->csrf_token) : json_null(), "via",
        via[who->via]);
}

static int session_login(struct app *app, struct req *q, struct resp *r,
                         const char **username_out)
{
    static const char *const allowed[] = { "username", "password", NULL };
    char secret[AUTH_SECRET_HEXLEN], cookie[160], wait_s[24];
    const char *username, *password;
    struct principal who;
    struct db_user u;
    json_t *body = NULL;
    int64_t wait;
    int rc;

    if (api_body(q, r, allowed, &body))
        return ERR_INVALID;
    if (api_get_str(r, body, "username", 1, 1, 64, &username) < 0 ||
        api_get_str(r, body, "password", 1, 1, AUTH_PASSWORD_MAX, &password) <
            0) {
        rc = ERR_INVALID;
        goto out;
    }
    *username_out = username;
    wait = auth_limit_check(app->db, username, q->peer);
    if (wait > 0) {
        snprintf(wait_s, sizeof(wait_s), "%" PRId64, wait);
        resp_header(r, "Retry-After", wait_s);
        rc = api_error(r, ERR_RATE, NULL,
                       "too many failed log-ins; try again in %" PRId64 " s",
                       wait);
        goto out;
    }
    rc = auth_password_check(app, username, password, &u);
    if (rc) {
        auth_limit_fail(app->db, username, q->peer);
        rc = api_error(r, ERR_UNAUTH, NULL, "wrong username or password");
        goto out;
    }
    auth_limit_success(app->db, username);
    rc = auth_session_create(app, &u, q->peer, secret, &who);
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot create a session: %s", err_str(rc));
        goto out;
    }
    snprintf(cookie, sizeof(cookie),
             AUTH_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Strict",
             secret);
    resp_header(r, "Set-Cookie", cookie);
    memset(secret, 0, sizeof(secret));
    memset(cookie, 0, sizeof(cookie));
    api_json(r, 200, session_json(&who, u.must_change_password));
    log_info("session: %s logged in from %s", u.username, q->peer);
out:
    /* The audit row needs the name after body is gone: copy it. */
    if (*username_out)
        xstrlcpy(r->audit_target, *username_out, sizeof(r->audit_target));
    json_decref(body);
    return rc;
}

int api_session_create(struct app *app, struct req *q, struct resp *r)
{
    const char *username = NULL;
    int rc = session_login(app, q, r, &username);

    /* ROUTE_NOAUDIT: record the name that was tried, never the
     * password. */
    audit_record_as(app, q, r, r->audit_target);
    return rc;
}

int api_session_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_user u;
    int must_change = 0;

    if (q->who.user_id[0] && !db_user_get(app->db, q->who.user_id, &u))
        must_change = u.must_change_password;
    return api_json(r, 200, session_json(&q->who, must_change));
}

int api_session_delete(struct app *app, struct req *q, struct resp *r)
{
    if (q->who.via == AUTH_VIA_SESSION) {
        int rc = db_session_delete(app->db, q->who.session_id);

        if (rc && rc != ERR_NOTFOUND)
            return api_error(r, rc, NULL, "cannot end the session: %s",
                             err_str(rc));
    }
    resp_header(r, "Set-Cookie",
                AUTH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; "
                            "SameSite=Strict");
    r->status = 204;
    return 0;
}
