/* NEEDSWORK: the libxl driver; for now it only opens where Xen runs. */
#include "xen/hv_driver.h"

#include <string.h>

#include "common/err.h"
#include "xen/hv_probe.h"

static int libxl_drv_open(const char *uri, void **priv_out)
{
    static int dummy;

    if (strcmp(uri, "xen:///system"))
        return hv_fail(ERR_INVALID, "unknown xen URI '%s'", uri);
    if (!hv_probe_xen())
        return hv_fail(ERR_UNSUPPORTED, "Xen is not running on this host");
    *priv_out = &dummy;
    return 0;
}

const struct hv_driver hv_libxl_driver = {
    .version = HV_DRIVER_VERSION,
    .name = "libxl",
    .scheme = "xen://",
    .open = libxl_drv_open,
};
