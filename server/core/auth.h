/* auth.h: who is calling. Sessions (cookie xenith_session + CSRF
 * token), API tokens (Authorization: Bearer), and local-socket peers
 * (SO_PEERCRED: root is admin, other uids by the config's local-user
 * table). Secrets are stored only as SHA-256 hashes; passwords with
 * PBKDF2-SHA256 (600 000 iterations, per-user salt). Thread safe.
 */
#ifndef XENITH_SERVER_CORE_AUTH_H
#define XENITH_SERVER_CORE_AUTH_H

#include <stddef.h>

#include "server/api/req.h"

struct app;

/* Fill q->who from the request's credentials. 0 when authenticated,
 * ERR_UNAUTH when there are none or they are invalid/expired,
 * ERR_FORBIDDEN for an unmapped local peer. */
int auth_request(struct app *app, struct req *q);

/* 0 if q carries the X-CSRF-Token of its session (constant-time
 * compare), else ERR_FORBIDDEN. */
int auth_check_csrf(const struct req *q);

/* Role name <-> enum ("admin", "operator", "viewer"). */
const char *auth_role_name(enum role r);
int auth_role_parse(const char *s, enum role *out); /* 0 or ERR_INVALID */

/* First start: create user admin when there are no users, with the
 * password from password_file or a random one written to
 * DATA/initial-admin-password (0600) and printed once to stderr. */
int auth_bootstrap_admin(struct app *app, const char *password_file);

#endif
