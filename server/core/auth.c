/* NEEDSWORK: authentication is being written; until then nobody
 * authenticates (every protected route answers 401). */
#include "server/core/auth.h"

#include <string.h>

#include "common/err.h"

int auth_request(struct app *app, struct req *q)
{
    (void)app;
    (void)q;
    return ERR_UNAUTH;
}

int auth_check_csrf(const struct req *q)
{
    (void)q;
    return ERR_FORBIDDEN;
}

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

int auth_bootstrap_admin(struct app *app, const char *password_file)
{
    (void)app;
    (void)password_file;
    return 0;
}
