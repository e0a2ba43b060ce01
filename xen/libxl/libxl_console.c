/* libxl_console.c: a domain's text console is the dom0 pty that
 * xenconsoled (PV/PVH: the PV console) or qemu (HVM: the emulated serial
 * port, named in xenstore at /local/domain/<id>/serial/0/tty) exposes;
 * we open it raw. tests/xen exercises both. */
#include "xen/libxl/libxl_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <xenstore.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "xen/hv_driver.h"

int lx_is_hvm(uint32_t domid, const libxl_dominfo *info)
{
    struct xs_handle *xs;
    char path[64], *type;
    unsigned int len;
    int hvm = 1;

    if (info->domain_type != LIBXL_DOMAIN_TYPE_HVM)
        return 0;
    xs = xs_open(XS_OPEN_READONLY);
    if (!xs)
        return 1;
    snprintf(path, sizeof(path), "/libxl/%u/type", domid);
    type = xs_read(xs, XBT_NULL, path, &len);
    if (type && !strcmp(type, "pvh"))
        hvm = 0;
    free(type);
    xs_close(xs);
    return hvm;
}

int lx_console_open(void *priv, const char *uuid, int *fd_out)
{
    struct lx *x = priv;
    libxl_dominfo info;
    libxl_console_type type;
    struct termios tio;
    uint32_t domid;
    char *path = NULL;
    int fd = -1, rc, r, waited;

    rc = lx_find(x, uuid, &domid, &info);
    if (rc)
        return rc;
    type = lx_is_hvm(domid, &info) ? LIBXL_CONSOLE_TYPE_SERIAL
                                   : LIBXL_CONSOLE_TYPE_PV;
    libxl_dominfo_dispose(&info);
    /* Real Xen: right after a domain is (re)created, xenconsoled has not
     * yet written /local/domain/N/console/tty, and libxl answers
     * ERROR_FAIL; wait for it up to LX_TTY_WAIT_MS. */
    for (waited = 0;; waited += LX_POLL_MS) {
        r = libxl_console_get_tty(x->ctx, domid, 0, type, &path);
        if ((!r && path) || waited >= LX_TTY_WAIT_MS)
            break;
        free(path);
        path = NULL;
        time_sleep_ms(LX_POLL_MS);
    }
    if (r || !path) {
        rc = lx_fail(r ? r : ERROR_FAIL, "console_get_tty", uuid);
        goto out;
    }
    fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        rc = hv_fail(err_from_errno(errno), "vm %s console %s: %s", uuid, path,
                     strerror(errno));
        goto out;
    }
    if (!tcgetattr(fd, &tio)) {
        cfmakeraw(&tio);
        tcsetattr(fd, TCSANOW, &tio);
    }
    *fd_out = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}
