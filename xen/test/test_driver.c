/* NEEDSWORK: the in-memory test driver is being written; until then it
 * opens and answers ERR_UNSUPPORTED for everything (501 at the API). */
#include "xen/hv_driver.h"

#include <string.h>

#include "common/err.h"

static int test_open(const char *uri, void **priv_out)
{
    static int dummy;

    if (strncmp(uri, "test:///default", 15))
        return hv_fail(ERR_INVALID, "unknown test URI '%s'", uri);
    *priv_out = &dummy;
    return 0;
}

const struct hv_driver hv_test_driver = {
    .version = HV_DRIVER_VERSION,
    .name = "test",
    .scheme = "test://",
    .open = test_open,
};
