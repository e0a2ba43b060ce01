/* NEEDSWORK: static file serving is being written. */
#include "server/http/static.h"

#include "common/err.h"
#include "server/api/api_util.h"

void static_serve(struct app *app, const struct req *q, struct resp *r)
{
    (void)app;
    api_error(r, ERR_NOTFOUND, NULL, "no such file: %s", q->path);
}
