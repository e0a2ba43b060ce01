#include "server/core/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_sessions.h"
#include "db/db_tokens.h"
#include "db/db_users.h"
#include "server/core/app.h"

const char *auth_role_name(enum role r)
{
    switch (r) {
    case ROLE_ADMIN:
        return "admin";
    case ROLE_OPERATOR:
        return "operator";
    case ROLE_VIEWER:
        return "viewer";
    default:
        return "none";
    }
}

int auth_role_parse(const char *s, enum role *out)
{
    if (!strcmp(s, "admin"))
        *out = ROLE_ADMIN;
    else if (!strcmp(s, "operator"))
        *out = ROLE_OPERATOR;
    else if (!strcmp(s, "viewer"))
        *out = ROLE_VIEWER;
    else
        return ERR_INVALID;
    return 0;
}

int auth_username_check(const char *s)
{
    size_t i, len = strlen(s);

    if (len < 1 || len > 64)
        return ERR_INVALID;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return ERR_INVALID;
    }
    return 0;
}

/* The user's role as an enum; ROLE_NONE for a corrupt row. */
static enum role user_role(const struct db_user *u)
{
    enum role r;

    return auth_role_parse(u->role, &r) ? ROLE_NONE : r;
}

static void who_from_user(struct principal *who, const struct db_user *u,
                          enum auth_via via)
{
    who->via = via;
    who->role = user_role(u);
    xstrlcpy(who->user_id, u->id, sizeof(who->user_id));
    xstrlcpy(who->username, u->username, sizeof(who->username));
    who->must_change_password = u->must_change_password;
}

static int auth_peer(struct app *app, struct req *q)
{
    struct db_user u;
    size_t i;

    if (q->peer_uid == 0) {
        q->who.via = AUTH_VIA_PEER;
        q->who.role = ROLE_ADMIN;
        xstrlcpy(q->who.username, "root", sizeof(q->who.username));
        return 0;
    }
    for (i = 0; i < app->cfg.num_local_users; i++) {
        const struct config_local_user *lu = &app->cfg.local_users[i];

        if (lu->uid != q->peer_uid)
            continue;
        if (db_user_get_by_name(app->db, lu->username, &u)) {
            log_warn("auth: local uid %u maps to unknown user %s",
                     (unsigned)q->peer_uid, lu->username);
            return ERR_FORBIDDEN;
        }
        who_from_user(&q->who, &u, AUTH_VIA_PEER);
        return 0;
    }
    return ERR_FORBIDDEN;
}

static int auth_bearer(struct app *app, struct req *q, const char *secret)
{
    char h[SHA256_HEXLEN];
    struct db_token t;
    struct db_user u;
    enum role tr;
    int64_t now = time_now();

    if (!*secret || strlen(secret) > 256)
        return ERR_UNAUTH;
    sha256_hex(secret, strlen(secret), h);
    if (db_token_get_by_hash(app->db, h, &t))
        return ERR_UNAUTH;
    if (t.expires_at && t.expires_at <= now)
        return ERR_UNAUTH;
    if (db_user_get(app->db, t.user_id, &u) || auth_role_parse(t.role, &tr))
        return ERR_UNAUTH;
    who_from_user(&q->who, &u, AUTH_VIA_TOKEN);
    if (tr < q->who.role)
        q->who.role = tr;
    xstrlcpy(q->who.token_id, t.id, sizeof(q->who.token_id));
    if (now - t.last_used >= AUTH_TOUCH_EVERY_S)
        db_token_touch(app->db, t.id, now);
    return 0;
}

static int auth_cookie(struct app *app, struct req *q)
{
    char secret[AUTH_SECRET_HEXLEN], sid[SHA256_HEXLEN];
    struct db_session s;
    struct db_user u;
    int64_t now = time_now();

    if (req_cookie(q, AUTH_COOKIE, secret, sizeof(secret)) || !secret[0])
        return ERR_UNAUTH;
    sha256_hex(secret, strlen(secret), sid);
    if (db_session_get(app->db, sid, &s))
        return ERR_UNAUTH;
    if (s.expires_at <= now || now - s.last_seen > app->cfg.session_idle_s) {
        db_session_delete(app->db, sid);
        return ERR_UNAUTH;
    }
    if (db_user_get(app->db, s.user_id, &u))
        return ERR_UNAUTH;
    who_from_user(&q->who, &u, AUTH_VIA_SESSION);
    xstrlcpy(q->who.session_id, sid, sizeof(q->who.session_id));
    xstrlcpy(q->who.csrf_token, s.csrf_token, sizeof(q->who.csrf_token));
    if (now - s.last_seen >= AUTH_TOUCH_EVERY_S)
        db_session_touch(app->db, sid, now);
    return 0;
}

int auth_request(struct app *app, struct req *q)
{
    const char *authz;
    int rc;

    memset(&q->who, 0, sizeof(q->who));
    if (q->local)
        rc = auth_peer(app, q);
    else if ((authz = req_header(q, "Authorization")))
        rc = strncmp(authz, "Bearer ", 7) ? ERR_UNAUTH
                                          : auth_bearer(app, q, authz + 7);
    else
        rc = auth_cookie(app, q);
    if (rc)
        memset(&q->who, 0, sizeof(q->who));
    return rc;
}

int auth_check_csrf(const struct req *q)
{
    const char *h = req_header(q, "X-CSRF-Token");

    /* The same token under a name lws 4.1 parses on HTTP/2 (it drops
     * X-CSRF-Token there); like it, a header no other site can set. */
    if (!h)
        h = req_header(q, "X-Auth-Token");
    if (q->who.via != AUTH_VIA_SESSION || !h || !q->who.csrf_token[0] ||
        !ct_streq(h, q->who.csrf_token))
        return ERR_FORBIDDEN;
    return 0;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void dummy_init(void)
{
    char pw[33];

    rand_hex(pw, 16);
    if (password_hash(pw, dummy_hash, sizeof(dummy_hash)))
        dummy_hash[0] = '\0';
}

int auth_password_check(struct app *app, const char *username,
                        const char *password, struct db_user *out)
{
    int rc;

    pthread_once(&dummy_once, dummy_init);
    rc = db_user_get_by_name(app->db, username, out);
    if (rc) {
        /* Same work as for a real user, so timing does not tell. */
        password_verify(password, dummy_hash);
        return ERR_UNAUTH;
    }
    rc = password_verify(password, out->pw_hash);
    if (rc == ERR_INVALID)
        log_error("auth: user %s has an unreadable password hash", username);
    return rc ? ERR_UNAUTH : 0;
}

int auth_session_create(struct app *app, const struct db_user *u,
                        const char *source, char secret_out[AUTH_SECRET_HEXLEN],
                        struct principal *who_out)
{
    struct db_session s;
    int64_t now = time_now();
    int rc;

    db_session_prune(app->db, now, now - app->cfg.session_idle_s);
    memset(&s, 0, sizeof(s));
    rand_hex(secret_out, 32);
    sha256_hex(secret_out, strlen(secret_out), s.id);
    xstrlcpy(s.user_id, u->id, sizeof(s.user_id));
    rand_hex(s.csrf_token, 32);
    xstrlcpy(s.source, source, sizeof(s.source));
    s.created_at = now;
    s.last_seen = now;
    s.expires_at = now + app->cfg.session_max_s;
    rc = db_session_insert(app->db, &s);
    if (rc)
        return rc;
    memset(who_out, 0, sizeof(*who_out));
    who_from_user(who_out, u, AUTH_VIA_SESSION);
    xstrlcpy(who_out->session_id, s.id, sizeof(who_out->session_id));
    xstrlcpy(who_out->csrf_token, s.csrf_token, sizeof(who_out->csrf_token));
    return 0;
}
