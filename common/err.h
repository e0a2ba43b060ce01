/* err.h: the one error enum of xenith and its mapping to HTTP.
 *
 * Every fallible function returns 0 (ERR_OK) or a negative enum err.
 * err_http_status() and err_code() give the HTTP status and the stable
 * string ("not_found") the API puts into {"error":{"code":...}}.
 * Thread safe: pure functions over a constant table.
 */
#ifndef XENITH_COMMON_ERR_H
#define XENITH_COMMON_ERR_H

enum err {
    ERR_OK = 0,
    ERR_INVALID = -1,      /* 400 invalid: a field is wrong */
    ERR_BADJSON = -2,      /* 400 bad_json: body is not JSON */
    ERR_UNAUTH = -3,       /* 401 unauthorized */
    ERR_FORBIDDEN = -4,    /* 403 forbidden */
    ERR_NOTFOUND = -5,     /* 404 not_found */
    ERR_METHOD = -6,       /* 405 method_not_allowed */
    ERR_CONFLICT = -7,     /* 409 conflict: state or reference */
    ERR_TOOBIG = -8,       /* 413 payload_too_large */
    ERR_MEDIA = -9,        /* 415 unsupported_media_type */
    ERR_RATE = -10,        /* 429 too_many_requests */
    ERR_INTERNAL = -11,    /* 500 internal */
    ERR_IO = -12,          /* 500 io_error */
    ERR_UNSUPPORTED = -13, /* 501 not_implemented */
    ERR_BUSY = -14,        /* 503 busy */
    ERR_NOSPACE = -15,     /* 507 insufficient_storage */
    ERR_CANCELLED = -16,   /* 409 cancelled: a task was cancelled */
    ERR_TIMEOUT = -17,     /* 504 timeout */
    ERR_EXISTS = -18,      /* 409 exists: unique name taken */
};

/* HTTP status for an error code (500 for unknown codes, 200 for ERR_OK). */
int err_http_status(int e);

/* Stable machine-readable code, e.g. "not_found". Never NULL. */
const char *err_code(int e);

/* A short human sentence for the code, e.g. "not found". Never NULL. */
const char *err_str(int e);

/* Map an errno value to the closest enum err (ENOSPC -> ERR_NOSPACE ...). */
int err_from_errno(int errnum);

#endif
