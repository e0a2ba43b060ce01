#include "server/api/api.h"

#include "server/api/api_util.h"
#include "server/core/app.h"
#include "xen/hv.h"

int api_health(struct app *app, struct req *q, struct resp *r)
{
    (void)q;
    return api_json(r, 200,
                    json_pack("{s:s, s:s, s:s}", "status", "ok", "version",
                              XENITH_VERSION, "driver",
                              hv_driver_name(app->hv)));
}
