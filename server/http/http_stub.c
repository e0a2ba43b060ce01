/* NEEDSWORK: the front-ends are being written. */
#include "server/http/http.h"

#include <stddef.h>

#include "common/err.h"
#include "common/log.h"

int http_public_start(struct app *app, struct http_public **out)
{
    (void)app;
    *out = NULL;
    log_error("http: the public listener is not built yet");
    return ERR_UNSUPPORTED;
}

void http_public_stop(struct http_public *h)
{
    (void)h;
}

int http_local_start(struct app *app, const char *sock_path,
                     struct http_local **out)
{
    (void)app;
    (void)sock_path;
    *out = NULL;
    log_error("http: the local socket is not built yet");
    return ERR_UNSUPPORTED;
}

void http_local_stop(struct http_local *h)
{
    (void)h;
}
