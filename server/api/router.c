#include "server/api/router.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/audit.h"
#include "server/core/auth.h"
#include "server/http/static.h"

/* Match path against pattern; on success fill q->params. */
static int route_match_path(const char *pattern, const char *path,
                            struct req *q)
{
    size_t np = 0, used = 0;
    const char *p = pattern, *s = path;

    while (*p && *s) {
        if (*p == '{') {
            const char *pend = strchr(p, '}');
            size_t len = strcspn(s, "/");

            if (!pend || len == 0 || np >= REQ_MAX_PARAMS ||
                used + len + 1 > sizeof(q->param_buf))
                return 0;
            memcpy(q->param_buf + used, s, len);
            q->param_buf[used + len] = '\0';
            q->params[np++] = q->param_buf + used;
            used += len + 1;
            p = pend + 1;
            s += len;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    if (*p || *s)
        return 0;
    q->num_params = np;
    return 1;
}

int router_match(struct req *q, struct resp *r)
{
    char allow[128] = "";
    size_t i;
    int path_found = 0;
    const char *method = q->method;

    if (!strcmp(method, "HEAD"))
        method = "GET";
    for (i = 0; i < api_num_routes; i++) {
        const struct route *rt = &api_routes[i];

        if (!route_match_path(rt->pattern, q->path, q))
            continue;
        if (!strcmp(rt->method, method)) {
            q->route = rt;
            return 0;
        }
        if (!strstr(allow, rt->method)) {
            size_t len = strlen(allow);

            snprintf(allow + len, sizeof(allow) - len, "%s%s", len ? ", " : "",
                     rt->method);
        }
        path_found = 1;
    }
    q->num_params = 0;
    if (path_found) {
        resp_header(r, "Allow", allow);
        return api_error(r, ERR_METHOD, NULL, "%s is not allowed on %s",
                         q->method, q->path);
    }
    return api_error(r, ERR_NOTFOUND, NULL, "no such API route: %s", q->path);
}

static int is_safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD");
}

int router_authorize(struct app *app, struct req *q, struct resp *r)
{
    const struct route *rt = q->route;
    int rc;

    if (rt->min_role == ROLE_NONE)
        return 0;
    rc = auth_request(app, q);
    if (rc == ERR_FORBIDDEN)
        return api_error(r, rc, NULL,
                         "this local user is not mapped to a "
                         "xenith user");
    if (rc)
        return api_error(r, ERR_UNAUTH, NULL, "log in or send an API token");
    if (q->who.role < rt->min_role)
        return api_error(r, ERR_FORBIDDEN, NULL, "role %s may not %s %s",
                         auth_role_name(q->who.role), q->method, rt->pattern);
    if (q->who.must_change_password && !(rt->flags & ROUTE_PWCHANGE))
        return api_error(r, ERR_FORBIDDEN, "password",
                         "change your password first "
                         "(POST /api/v1/users/{id}/password)");
    if (q->who.via == AUTH_VIA_SESSION && !is_safe_method(q->method) &&
        auth_check_csrf(q))
        return api_error(r, ERR_FORBIDDEN, "X-CSRF-Token",
                         q->http2 ? "missing or wrong CSRF token: over "
                                    "HTTP/2 send it as X-Auth-Token (the "
                                    "server's HTTP/2 library drops "
                                    "X-CSRF-Token)"
                                  : "missing or wrong X-CSRF-Token header");
    return 0;
}

static int router_check_body(const struct req *q, struct resp *r)
{
    const char *ct;

    if (q->route->flags & ROUTE_UPLOAD)
        return 0;
    if (q->body_len > REQ_MAX_BODY)
        return api_error(r, ERR_TOOBIG, NULL, "request body over %d bytes",
                         REQ_MAX_BODY);
    if (q->body_len == 0)
        return 0;
    ct = req_header(q, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) ||
        (ct[16] && ct[16] != ';' && ct[16] != ' '))
        return api_error(r, ERR_MEDIA, "Content-Type",
                         "the body must be application/json");
    return 0;
}

void router_security_headers(struct resp *r)
{
    resp_header(r, "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; "
                "img-src 'self' data:; connect-src 'self'; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    resp_header(r, "Strict-Transport-Security", "max-age=31536000");
    resp_header(r, "X-Frame-Options", "DENY");
    resp_header(r, "X-Content-Type-Options", "nosniff");
    resp_header(r, "Referrer-Policy", "no-referrer");
}

static void router_api(struct app *app, struct req *q, struct resp *r)
{
    int rc;

    if (router_match(q, r))
        return;
    if (router_authorize(app, q, r) || router_check_body(q, r))
        goto audit;
    resp_header(r, "Cache-Control", "no-store");
    rc = q->route->fn(app, q, r);
    if (rc && !r->status)
        api_error(r, rc, NULL, "%s", err_str(rc));
    if (!r->status) {
        log_error("router: %s %s produced no response", q->method, q->path);
        api_error(r, ERR_INTERNAL, NULL, "internal error");
    }
audit:
    if (!is_safe_method(q->method) && !(q->route->flags & ROUTE_NOAUDIT))
        audit_record(app, q, r);
}

void router_dispatch(struct app *app, struct req *q, struct resp *r)
{
    q->route = NULL;
    q->num_params = 0;
    memset(&q->who, 0, sizeof(q->who));
    if (!strncmp(q->path, "/api/", 5) || !strcmp(q->path, "/api"))
        router_api(app, q, r);
    else
        static_serve(app, q, r);
    router_security_headers(r);
}
