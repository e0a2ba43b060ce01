/* NEEDSWORK: the local socket is being written. */
#include "server/http/http.h"

#include <stddef.h>

#include "common/err.h"
#include "common/log.h"

int http_local_start(struct app *app, const char *sock_path,
                     struct http_local **out)
{
    (void)app;
    (void)sock_path;
    *out = NULL;
    log_warn("http: the local socket is not built yet");
    return 0;
}

void http_local_stop(struct http_local *h)
{
    (void)h;
}
