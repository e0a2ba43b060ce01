/* static.h: the browser UI's static files (app->web_root), served by
 * the router for every non-/api path, on both front-ends: no path
 * traversal, correct MIME types, ETag/If-None-Match, a precompressed
 * .gz/.br twin when the client accepts it, and index.html for "/" and
 * for unknown paths without a dot (client-side routes).
 */
#ifndef XENITH_SERVER_HTTP_STATIC_H
#define XENITH_SERVER_HTTP_STATIC_H

#include "server/api/req.h"

struct app;

void static_serve(struct app *app, const struct req *q, struct resp *r);

#endif
