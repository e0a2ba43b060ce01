/* router.h: the one route table and the dispatcher both front-ends
 * call. The router, not the handlers, enforces authentication, role,
 * CSRF, body size and content type from each route's flags, adds the
 * security headers, turns error codes into JSON, and writes the audit
 * log for every mutating request.
 */
#ifndef XENITH_SERVER_API_ROUTER_H
#define XENITH_SERVER_API_ROUTER_H

#include <stddef.h>

#include "server/api/req.h"

struct app;

/* A handler validates, acts, and fills r. Returning a negative enum err
 * without setting r->status makes the router answer that error. */
typedef int (*api_handler)(struct app *app, struct req *q, struct resp *r);

enum route_flags {
    ROUTE_UPLOAD = 1u << 0,      /* body spooled to q->body_fd, no 1 MiB cap */
    ROUTE_NOAUDIT = 1u << 1,     /* mutating but audited by its handler */
    ROUTE_WEBSOCKET = 1u << 2,   /* upgrade; the front-end streams after auth */
    ROUTE_PUBLIC_CSRF = 1u << 3, /* public route exempt from CSRF (login) */
    ROUTE_PWCHANGE = 1u << 4,    /* open to users who must change password */
};

struct route {
    const char *method;  /* "GET" ... */
    const char *pattern; /* "/api/v1/vms/{id}"; {x} matches one segment */
    api_handler fn;
    enum role min_role; /* ROLE_NONE = public */
    unsigned flags;
    const char *summary; /* one line, for openapi.json */
};

extern const struct route api_routes[];
extern const size_t api_num_routes;

/* Fill r for q. Never fails: errors become JSON error responses. */
void router_dispatch(struct app *app, struct req *q, struct resp *r);

/* For a front-end about to accept a request: find the route for
 * (method, path) and fill q->route and q->params. Returns 0, or
 * ERR_NOTFOUND / ERR_METHOD (r filled with the error, incl. Allow). */
int router_match(struct req *q, struct resp *r);

/* Authenticate and authorize q against q->route (after router_match).
 * 0, or an error with r filled. Used by router_dispatch and by the
 * WebSocket upgrade path. */
int router_authorize(struct app *app, struct req *q, struct resp *r);

/* Add the security headers (CSP, HSTS, X-Frame-Options, nosniff,
 * Referrer-Policy) to r. */
void router_security_headers(struct resp *r);

#endif
