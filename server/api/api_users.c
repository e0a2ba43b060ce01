/* api_users.c: user accounts (admin only, by routes.c) and passwords.
 *
 * PATCH /users/{id} changes only "role" and "must_change_password";
 * usernames are fixed once created (they appear in the audit log and in
 * the local-user table of the config). Passwords change only through
 * POST /users/{id}/password. No change may leave zero admins (409).
 */
#include "server/api/api.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_sessions.h"
#include "db/db_users.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/auth.h"
#include "server/core/auth_limit.h"

static json_t *user_json(const struct db_user *u)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o}", "id", u->id, "username",
                     u->username, "role", u->role, "must_change_password",
                     u->must_change_password, "created_at",
                     api_time(u->created_at), "updated_at",
                     api_time(u->updated_at));
}

int api_users_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_user *list = NULL;
    size_t i, num = 0;
    json_t *arr;
    int rc;

    (void)q;
    rc = db_user_list(app->db, &list, &num);
    if (rc)
        return api_error(r, rc, NULL, "cannot list users: %s", err_str(rc));
    arr = json_array();
    for (i = 0; i < num; i++)
        json_array_append_new(arr, user_json(&list[i]));
    free(list);
    return api_json(r, 200, arr);
}

/* "role" of obj into *out if present: 1, 0 when absent, or an error
 * naming the field. */
static int get_role(struct resp *r, json_t *obj, int required, enum role *out)
{
    const char *s;
    int rc = api_get_str(r, obj, "role", required, 1, 16, &s);

    if (rc <= 0)
        return rc;
    if (auth_role_parse(s, out))
        return api_error(r, ERR_INVALID, "role",
                         "role must be admin, operator or viewer");
    return 1;
}

static int get_password(struct resp *r, json_t *obj, const char *key,
                        const char **out)
{
    return api_get_str(r, obj, key, 1, AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX,
                       out);
}

int api_users_create(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "username", "password", "role",
                                           "must_change_password", NULL };
    const char *username, *password;
    struct db_user u;
    json_t *body = NULL;
    enum role role;
    int rc, must = 0;

    if (api_body(q, r, allowed, &body))
        return ERR_INVALID;
    memset(&u, 0, sizeof(u));
    rc = ERR_INVALID;
    if (api_get_str(r, body, "username", 1, 1, 64, &username) < 0)
        goto out;
    if (auth_username_check(username)) {
        api_error(r, ERR_INVALID, "username",
                  "username must be 1 to 64 characters of a-z, 0-9, '.', "
                  "'_' and '-'");
        goto out;
    }
    if (get_password(r, body, "password", &password) < 0 ||
        get_role(r, body, 1, &role) < 0 ||
        api_get_bool(r, body, "must_change_password", 0, &must) < 0)
        goto out;
    uuid_generate(u.id);
    xstrlcpy(u.username, username, sizeof(u.username));
    xstrlcpy(u.role, auth_role_name(role), sizeof(u.role));
    u.must_change_password = must;
    u.created_at = u.updated_at = time_now();
    rc = password_hash(password, u.pw_hash, sizeof(u.pw_hash));
    if (rc) {
        api_error(r, rc, NULL, "cannot hash the password");
        goto out;
    }
    rc = db_user_insert(app->db, &u);
    if (rc == ERR_EXISTS) {
        api_error(r, rc, "username", "user %s exists", u.username);
        goto out;
    }
    if (rc) {
        api_error(r, rc, NULL, "cannot create the user: %s", err_str(rc));
        goto out;
    }
    xstrlcpy(r->audit_target, u.id, sizeof(r->audit_target));
    api_json(r, 201, user_json(&u));
out:
    json_decref(body);
    return rc;
}

/* Load the user named by path parameter 0, or answer 400/404. */
static int load_user(struct app *app, struct req *q, struct resp *r,
                     struct db_user *out)
{
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    rc = db_user_get(app->db, id, out);
    if (rc)
        return api_error(r, rc, NULL, "user %s: %s", id, err_str(rc));
    return 0;
}

int api_user_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_user u;

    if (load_user(app, q, r, &u))
        return ERR_INVALID;
    return api_json(r, 200, user_json(&u));
}

/* ERR_CONFLICT (answered, naming field) if taking u's admin role away
 * would leave no admin. Caller holds the transaction. */
static int check_last_admin(struct app *app, struct resp *r,
                            const struct db_user *u, const char *field)
{
    int64_t admins = 0;
    int rc;

    if (strcmp(u->role, "admin"))
        return 0;
    rc = db_user_count(app->db, "admin", &admins);
    if (rc)
        return api_error(r, rc, NULL, "cannot count admins: %s", err_str(rc));
    if (admins <= 1)
        return api_error(r, ERR_CONFLICT, field,
                         "%s is the last admin; make another admin first",
                         u->username);
    return 0;
}

int api_user_patch(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "role", "must_change_password",
                                           NULL };
    struct db_user u;
    json_t *body = NULL;
    enum role role = ROLE_NONE;
    int rc, has_role, has_must, must = 0;

    if (load_user(app, q, r, &u))
        return ERR_INVALID;
    if (api_body(q, r, allowed, &body))
        return ERR_INVALID;
    rc = ERR_INVALID;
    has_role = get_role(r, body, 0, &role);
    if (has_role < 0)
        goto out;
    has_must = api_get_bool(r, body, "must_change_password", 0, &must);
    if (has_must < 0)
        goto out;
    rc = db_begin(app->db);
    if (rc) {
        api_error(r, rc, NULL, "database busy: %s", err_str(rc));
        goto out;
    }
    /* Re-read inside the transaction so the admin count is current. */
    rc = db_user_get(app->db, u.id, &u);
    if (!rc && has_role && role != ROLE_ADMIN)
        rc = check_last_admin(app, r, &u, "role");
    if (!rc) {
        if (has_role)
            xstrlcpy(u.role, auth_role_name(role), sizeof(u.role));
        if (has_must)
            u.must_change_password = must;
        u.updated_at = time_now();
        rc = db_user_update(app->db, &u);
    }
    if (rc) {
        db_rollback(app->db);
        if (!r->status)
            api_error(r, rc, NULL, "cannot change user %s: %s", u.id,
                      err_str(rc));
        goto out;
    }
    rc = db_commit(app->db);
    if (rc) {
        api_error(r, rc, NULL, "cannot change user %s: %s", u.id, err_str(rc));
        goto out;
    }
    api_json(r, 200, user_json(&u));
out:
    json_decref(body);
    return rc;
}

int api_user_delete(struct app *app, struct req *q, struct resp *r)
{
    struct db_user u;
    int rc;

    if (load_user(app, q, r, &u))
        return ERR_INVALID;
    if (!strcmp(u.id, q->who.user_id))
        return api_error(r, ERR_CONFLICT, "id", "you cannot delete yourself");
    rc = db_begin(app->db);
    if (rc)
        return api_error(r, rc, NULL, "database busy: %s", err_str(rc));
    rc = check_last_admin(app, r, &u, "id");
    if (!rc)
        rc = db_user_delete(app->db, u.id);
    if (rc) {
        db_rollback(app->db);
        if (!r->status)
            api_error(r, rc, NULL, "cannot delete user %s: %s", u.id,
                      err_str(rc));
        return rc;
    }
    rc = db_commit(app->db);
    if (rc)
        return api_error(r, rc, NULL, "cannot delete user %s: %s", u.id,
                         err_str(rc));
    log_info("users: %s deleted user %s", q->who.username, u.username);
    r->status = 204;
    return 0;
}

/* A non-admin changing their own password proves the current one. */
static int check_current_password(struct app *app, struct req *q,
                                  struct resp *r, json_t *body,
                                  const struct db_user *u)
{
    const char *cur;
    int64_t wait;
    int rc =
        api_get_str(r, body, "current_password", 1, 1, AUTH_PASSWORD_MAX, &cur);

    if (rc < 0)
        return rc;
    wait = auth_limit_check(app->db, u->username, q->peer);
    if (wait > 0)
        return api_error(r, ERR_RATE, "current_password",
                         "too many wrong passwords; try again later");
    if (password_verify(cur, u->pw_hash)) {
        auth_limit_fail(app->db, u->username, q->peer);
        return api_error(r, ERR_FORBIDDEN, "current_password",
                         "current_password is wrong");
    }
    return 0;
}

int api_user_password(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "password", "current_password",
                                           NULL };
    const char *password;
    char hash[PASSWORD_HASH_MAX];
    struct db_user u;
    json_t *body = NULL;
    int rc, own;

    if (load_user(app, q, r, &u))
        return ERR_INVALID;
    own = !strcmp(u.id, q->who.user_id);
    if (!own && q->who.role < ROLE_ADMIN)
        return api_error(r, ERR_FORBIDDEN, NULL,
                         "only an admin may set another user's password");
    if (api_body(q, r, allowed, &body))
        return ERR_INVALID;
    rc = get_password(r, body, "password", &password);
    if (rc < 0)
        goto out;
    /* Your own password needs the current one, admin or not (a stolen
     * session must not lock the owner out); an admin setting someone
     * else's does not, but a current_password sent anyway must still be
     * well-formed. */
    if (own) {
        rc = check_current_password(app, q, r, body, &u);
        if (rc)
            goto out;
    } else {
        const char *cur;

        rc = api_get_str(r, body, "current_password", 0, 1, AUTH_PASSWORD_MAX,
                         &cur);
        if (rc < 0)
            goto out;
    }
    rc = password_hash(password, hash, sizeof(hash));
    if (rc) {
        api_error(r, rc, NULL, "cannot hash the password");
        goto out;
    }
    rc = db_begin(app->db);
    if (rc) {
        api_error(r, rc, NULL, "database busy: %s", err_str(rc));
        goto out;
    }
    rc = db_user_set_password(app->db, u.id, hash, 0, time_now());
    if (!rc)
        rc = db_session_delete_user(
            app->db, u.id,
            own && q->who.session_id[0] ? q->who.session_id : NULL);
    if (rc) {
        db_rollback(app->db);
        api_error(r, rc, NULL, "cannot set the password: %s", err_str(rc));
        goto out;
    }
    rc = db_commit(app->db);
    if (rc) {
        api_error(r, rc, NULL, "cannot set the password: %s", err_str(rc));
        goto out;
    }
    log_info("users: %s set the password of %s", q->who.username, u.username);
    r->status = 204;
out:
    memset(hash, 0, sizeof(hash));
    json_decref(body);
    return rc;
}
