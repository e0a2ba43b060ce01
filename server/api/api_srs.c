/* NEEDSWORK: not built yet; every handler here answers 501. */
#include "server/api/api.h"

#include "common/err.h"
#include "server/api/api_util.h"

int api_srs_list(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_srs_create(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_sr_get(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_sr_delete(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}
