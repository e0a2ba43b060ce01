#include "common/err.h"

#include <errno.h>
#include <stddef.h>

struct err_row {
    int e;
    int status;
    const char *code;
    const char *str;
};

static const struct err_row err_table[] = {
    { ERR_OK, 200, "ok", "ok" },
    { ERR_INVALID, 400, "invalid", "invalid request" },
    { ERR_BADJSON, 400, "bad_json", "request body is not valid JSON" },
    { ERR_UNAUTH, 401, "unauthorized", "authentication required" },
    { ERR_FORBIDDEN, 403, "forbidden", "not allowed for this role" },
    { ERR_NOTFOUND, 404, "not_found", "not found" },
    { ERR_METHOD, 405, "method_not_allowed", "method not allowed" },
    { ERR_CONFLICT, 409, "conflict", "conflict with current state" },
    { ERR_TOOBIG, 413, "payload_too_large", "request body too large" },
    { ERR_MEDIA, 415, "unsupported_media_type", "unsupported media type" },
    { ERR_RATE, 429, "too_many_requests", "too many requests" },
    { ERR_INTERNAL, 500, "internal", "internal error" },
    { ERR_IO, 500, "io_error", "input/output error" },
    { ERR_UNSUPPORTED, 501, "not_implemented", "not implemented" },
    { ERR_BUSY, 503, "busy", "busy, try again" },
    { ERR_NOSPACE, 507, "insufficient_storage", "no space left" },
    { ERR_CANCELLED, 409, "cancelled", "cancelled" },
    { ERR_TIMEOUT, 504, "timeout", "timed out" },
    { ERR_EXISTS, 409, "exists", "already exists" },
};

static const struct err_row *err_find(int e)
{
    size_t i;

    for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].e == e)
            return &err_table[i];
    return err_find(ERR_INTERNAL);
}

int err_http_status(int e)
{
    return err_find(e)->status;
}

const char *err_code(int e)
{
    return err_find(e)->code;
}

const char *err_str(int e)
{
    return err_find(e)->str;
}

int err_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return ERR_OK;
    case ENOENT:
        return ERR_NOTFOUND;
    case EEXIST:
        return ERR_EXISTS;
    case ENOSPC:
    case EDQUOT:
        return ERR_NOSPACE;
    case EACCES:
    case EPERM:
        return ERR_FORBIDDEN;
    case EINVAL:
        return ERR_INVALID;
    case EBUSY:
        return ERR_BUSY;
    case ETIMEDOUT:
        return ERR_TIMEOUT;
    case ENOSYS:
    case EOPNOTSUPP:
        return ERR_UNSUPPORTED;
    default:
        return ERR_IO;
    }
}
