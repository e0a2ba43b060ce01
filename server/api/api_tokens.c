/* api_tokens.c: the caller's own API tokens. The secret
 * ("xnt_" + 64 hex digits) is answered once at creation and stored
 * only as its SHA-256. A token's role is at most its creator's current
 * role (the principal's role, so a token cannot mint a stronger one);
 * auth_request() caps it again at the owner's role on every use. */
#include "server/api/api.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_tokens.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/auth.h"

static json_t *token_json(const struct db_token *t)
{
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o}", "id", t->id, "name", t->name, "role",
        t->role, "created_at", api_time(t->created_at), "expires_at",
        api_time(t->expires_at), "last_used", api_time(t->last_used));
}

/* Tokens belong to a xenith user; root on the local socket is none. */
static int need_user(const struct req *q, struct resp *r)
{
    if (q->who.user_id[0])
        return 0;
    return api_error(r, ERR_FORBIDDEN, NULL,
                     "%s is not a xenith user and cannot own API tokens",
                     q->who.username);
}

int api_tokens_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_token *list = NULL;
    size_t i, num = 0;
    json_t *arr;
    int rc;

    if (!q->who.user_id[0])
        return api_json(r, 200, json_array());
    rc = db_token_list_user(app->db, q->who.user_id, &list, &num);
    if (rc)
        return api_error(r, rc, NULL, "cannot list tokens: %s", err_str(rc));
    arr = json_array();
    for (i = 0; i < num; i++)
        json_array_append_new(arr, token_json(&list[i]));
    free(list);
    return api_json(r, 200, arr);
}

int api_tokens_create(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "role", "expires_at", NULL };
    char secret[4 + 64 + 1];
    const char *name, *role_s, *exp_s = NULL;
    struct db_token t;
    json_t *body = NULL, *out;
    enum role role;
    int rc;

    if (need_user(q, r))
        return ERR_FORBIDDEN;
    if (api_body(q, r, allowed, &body))
        return ERR_INVALID;
    memset(&t, 0, sizeof(t));
    rc = ERR_INVALID;
    if (api_get_str(r, body, "name", 1, 1, 64, &name) < 0 ||
        api_check_name(r, "name", name) ||
        api_get_str(r, body, "role", 1, 1, 16, &role_s) < 0 ||
        api_get_str(r, body, "expires_at", 0, 1, 32, &exp_s) < 0)
        goto out;
    if (auth_role_parse(role_s, &role)) {
        api_error(r, ERR_INVALID, "role",
                  "role must be admin, operator or viewer");
        goto out;
    }
    if (exp_s && time_parse_rfc3339(exp_s, &t.expires_at)) {
        api_error(r, ERR_INVALID, "expires_at",
                  "expires_at must be an RFC 3339 UTC time like "
                  "2030-01-31T12:00:00Z");
        goto out;
    }
    if (exp_s && t.expires_at <= time_now()) {
        api_error(r, ERR_INVALID, "expires_at",
                  "expires_at must be in the future");
        goto out;
    }
    if (role > q->who.role) {
        rc = api_error(r, ERR_FORBIDDEN, "role",
                       "a %s may not create a token with role %s",
                       auth_role_name(q->who.role), role_s);
        goto out;
    }
    xstrlcpy(secret, AUTH_TOKEN_PREFIX, sizeof(secret));
    rand_hex(secret + strlen(AUTH_TOKEN_PREFIX), 32);
    uuid_generate(t.id);
    xstrlcpy(t.user_id, q->who.user_id, sizeof(t.user_id));
    xstrlcpy(t.name, name, sizeof(t.name));
    xstrlcpy(t.role, auth_role_name(role), sizeof(t.role));
    sha256_hex(secret, strlen(secret), t.secret_hash);
    t.created_at = time_now();
    rc = db_token_insert(app->db, &t);
    if (rc) {
        api_error(r, rc, NULL, "cannot create the token: %s", err_str(rc));
        goto out;
    }
    xstrlcpy(r->audit_target, t.id, sizeof(r->audit_target));
    out = token_json(&t);
    json_object_set_new(out, "token", json_string(secret));
    api_json(r, 201, out);
out:
    memset(secret, 0, sizeof(secret));
    json_decref(body);
    return rc;
}

int api_token_delete(struct app *app, struct req *q, struct resp *r)
{
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    /* Someone else's token is "not found": no hint that it exists. */
    rc = q->who.user_id[0] ? db_token_delete_own(app->db, id, q->who.user_id)
                           : ERR_NOTFOUND;
    if (rc)
        return api_error(r, rc, NULL, "token %s: %s", id, err_str(rc));
    r->status = 204;
    return 0;
}
