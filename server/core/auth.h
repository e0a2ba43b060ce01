/* auth.h: who is calling. Sessions (cookie xenith_session + CSRF
 * token), API tokens (Authorization: Bearer), and local-socket peers
 * (SO_PEERCRED: root is admin, other uids by the config's local-user
 * table). Secrets are stored only as SHA-256 hashes; passwords with
 * scrypt (common/hash.h, per-user salt). Thread safe.
 */
#ifndef XENITH_SERVER_CORE_AUTH_H
#define XENITH_SERVER_CORE_AUTH_H

#include <stddef.h>

#include "server/api/req.h"

struct app;
struct db_user;

#define AUTH_COOKIE        "xenith_session"
#define AUTH_TOKEN_PREFIX  "xnt_"
#define AUTH_PASSWORD_MIN  8
#define AUTH_PASSWORD_MAX  256
#define AUTH_SECRET_HEXLEN 65 /* 32 random bytes as hex + NUL */
#define AUTH_TOUCH_EVERY_S 60 /* last_seen / last_used granularity */

/* Fill q->who from the request's credentials. 0 when authenticated,
 * ERR_UNAUTH when there are none or they are invalid/expired,
 * ERR_FORBIDDEN for an unmapped local peer. */
int auth_request(struct app *app, struct req *q);

/* 0 if q carries the CSRF token of its session (constant-time
 * compare) in X-CSRF-Token, or when that header is absent in
 * X-Auth-Token (HTTP/2), else ERR_FORBIDDEN. */
int auth_check_csrf(const struct req *q);

/* Role name <-> enum ("admin", "operator", "viewer"). */
const char *auth_role_name(enum role r);
int auth_role_parse(const char *s, enum role *out); /* 0 or ERR_INVALID */

/* 0 if s is a valid username: 1..64 characters of [a-z0-9._-]. */
int auth_username_check(const char *s);

/* Check a log-in. 0 with *out filled when username exists and password
 * matches; ERR_UNAUTH otherwise, taking about as long whether or not
 * the user exists. Does not rate-limit (see auth_limit.h). */
int auth_password_check(struct app *app, const char *username,
                        const char *password, struct db_user *out);

/* Start a session for u seen from source: the cookie value (a secret:
 * never log it) into secret_out, and who_out filled as auth_request()
 * would for that cookie. Also prunes expired sessions. */
int auth_session_create(struct app *app, const struct db_user *u,
                        const char *source, char secret_out[AUTH_SECRET_HEXLEN],
                        struct principal *who_out);

/* First start: create user admin when there are no users, with the
 * password from password_file or a random one written to
 * DATA/initial-admin-password (0600) and printed once to stderr. */
int auth_bootstrap_admin(struct app *app, const char *password_file);

#endif
