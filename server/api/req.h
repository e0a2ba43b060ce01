/* req.h: the one request/response shape every front-end produces and
 * every handler consumes. Handlers never see libwebsockets or
 * libmicrohttpd types: a front-end fills a struct req, calls
 * router_dispatch(), and sends the struct resp it gets back.
 */
#ifndef XENITH_SERVER_API_REQ_H
#define XENITH_SERVER_API_REQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

#define REQ_MAX_PARAMS 4
#define REQ_MAX_BODY   (1024 * 1024) /* 413 above this, uploads excepted */
#define RESP_MAX_EXTRA 16

struct http_header {
    const char *name;  /* borrowed */
    const char *value; /* borrowed */
};

enum role {
    ROLE_NONE = 0,
    ROLE_VIEWER = 1,
    ROLE_OPERATOR = 2,
    ROLE_ADMIN = 3,
};

enum auth_via {
    AUTH_VIA_NONE = 0,
    AUTH_VIA_SESSION, /* cookie xenith_session; CSRF token required */
    AUTH_VIA_TOKEN,   /* Authorization: Bearer */
    AUTH_VIA_PEER,    /* local UNIX socket, SO_PEERCRED */
};

/* Who is calling, filled in by the router's auth step. */
struct principal {
    enum auth_via via;
    enum role role;   /* effective role (a token's role, ...) */
    char user_id[37]; /* users.id */
    char username[65];
    char session_id[65];      /* hash of the session secret, via=SESSION */
    char token_id[37];        /* tokens.id, via=TOKEN */
    char csrf_token[65];      /* the session's CSRF token, via=SESSION */
    int must_change_password; /* only ROUTE_PWCHANGE routes until set */
};

struct req {
    /* Filled by the front-end; all borrowed, valid until the response
     * has been produced. */
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded, without the query string */
    const char *query;  /* raw query string without '?', or NULL */
    const struct http_header *headers;
    size_t num_headers;
    const char *body; /* NULL when empty; not NUL-terminated */
    size_t body_len;
    int body_fd;    /* upload routes: body spooled to this fd, else -1 */
    char peer[64];  /* "127.0.0.1", "::1", or "unix" */
    int local;      /* 1 on the local UNIX socket */
    int http2;      /* 1 on an HTTP/2 stream */
    uid_t peer_uid; /* local only: SO_PEERCRED uid */

    /* Filled by the router. */
    const char *params[REQ_MAX_PARAMS]; /* {id} path segments, in order */
    size_t num_params;
    char param_buf[256]; /* storage for params */
    struct principal who;
    const struct route *route; /* the matched route, or NULL */
};

struct resp {
    int status;               /* 0 until set */
    const char *content_type; /* borrowed, static string */
    struct buf body;
    int body_fd;         /* >= 0: stream this file after body */
    int64_t body_fd_len; /* bytes to send from body_fd */
    struct {
        char *name;  /* new */
        char *value; /* new */
    } extra[RESP_MAX_EXTRA];
    size_t num_extra;
    /* Set by handlers for the audit log: the object acted on. */
    char audit_target[128];
};

void resp_init(struct resp *r);
void resp_release(struct resp *r);

/* Add a response header (copied). Silently ignored past RESP_MAX_EXTRA. */
void resp_header(struct resp *r, const char *name, const char *value);

/* Case-insensitive header lookup; NULL if absent (**borrowed**). */
const char *req_header(const struct req *q, const char *name);

/* Value of cookie `name` from the Cookie header into out[cap];
 * 0 or ERR_NOTFOUND. */
int req_cookie(const struct req *q, const char *name, char *out, size_t cap);

/* Value of query parameter `name` (URL-decoded) into out[cap];
 * 0, ERR_NOTFOUND, or ERR_INVALID when longer than cap. */
int req_query(const struct req *q, const char *name, char *out, size_t cap);

#endif
