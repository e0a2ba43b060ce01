/* libxl_vnc.c: an HVM domain's graphical console. libxl starts the
 * qemu-xen device model with its VNC server on 127.0.0.1 (a free port,
 * libxl_config.c) and the per-start random password lx_vnc_password()
 * puts into the config; libxl hands the password to qemu over QMP and
 * keeps it in xenstore (console/vnc-pass, dom0-only). lx_vnc_open reads
 * the port and the password from xenstore, connects on loopback and
 * answers the VNC authentication challenge itself (common/rfb.h), so
 * the browser behind xenith's WebSocket never sees the password. The
 * password is never logged.
 */
#include "xen/libxl/libxl_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xenstore.h>

#include "common/err.h"
#include "common/rfb.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

#define LX_VNC_WAIT_MS 15000 /* qemu writes vnc-port once VNC listens */
#define LX_VNC_HS_MS   5000  /* connect + RFB handshake */

int lx_vnc_password(libxl_domain_config *d)
{
    static const char chars[] = "abcdefghijkmnopqrstuvwxyz"
                                "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    uint8_t rnd[RFB_PASSWORD_MAX];
    char *pw;
    size_t i;

    if (d->b_info.type != LIBXL_DOMAIN_TYPE_HVM)
        return 0;
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return hv_fail(ERR_INTERNAL, "getrandom: %s", strerror(errno));
    pw = xmalloc(RFB_PASSWORD_MAX + 1);
    for (i = 0; i < RFB_PASSWORD_MAX; i++)
        pw[i] = chars[rnd[i] % (sizeof(chars) - 1)];
    pw[RFB_PASSWORD_MAX] = '\0';
    free(d->b_info.u.hvm.vnc.passwd);
    d->b_info.u.hvm.vnc.passwd = pw;
    memset(rnd, 0, sizeof(rnd));
    return 0;
}

/* /local/domain/<domid>/console/<key> (**new**, free()) or NULL. */
static char *console_node(struct xs_handle *xs, uint32_t domid,
                          const char *key)
{
    char path[96];
    unsigned int len;

    snprintf(path, sizeof(path), "/local/domain/%u/console/%s", domid, key);
    return xs_read(xs, XBT_NULL, path, &len);
}

static int vnc_connect(const char *uuid, const char *listen, int port,
                       int *fd_out)
{
    struct sockaddr_in sa;
    int fd, rc;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, listen, &sa.sin_addr) != 1 ||
        (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
        return hv_fail(ERR_CONFLICT,
                       "vm %s: VNC listens on '%s', not on loopback", uuid,
                       listen);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hv_fail(err_from_errno(errno), "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        rc = hv_fail(ERR_IO, "vm %s: connect to VNC %s:%d: %s", uuid, listen,
                     port, strerror(errno));
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

int lx_vnc_open(void *priv, const char *uuid, int *fd_out)
{
    struct lx *x = priv;
    struct xs_handle *xs = NULL;
    libxl_dominfo info;
    char *port = NULL, *listen = NULL, *pass = NULL, *end;
    char why[160];
    uint32_t domid;
    long p = 0;
    int fd = -1, rc, waited;

    rc = lx_find(x, uuid, &domid, &info);
    if (rc)
        return rc;
    rc = info.domain_type == LIBXL_DOMAIN_TYPE_HVM ? 0 : ERR_CONFLICT;
    libxl_dominfo_dispose(&info);
    if (rc)
        return hv_fail(rc, "vm %s is not HVM: no graphical console", uuid);
    xs = xs_open(XS_OPEN_READONLY);
    if (!xs)
        return hv_fail(ERR_IO, "xenstore: %s", strerror(errno));
    /* Right after create, libxl writes vnc-port only once qemu answers
     * query-vnc. */
    for (waited = 0;; waited += LX_POLL_MS) {
        port = console_node(xs, domid, "vnc-port");
        if (port || waited >= LX_VNC_WAIT_MS)
            break;
        time_sleep_ms(LX_POLL_MS);
    }
    if (port)
        p = strtol(port, &end, 10);
    if (!port || *end || p <= 0 || p > 65535) {
        rc = hv_fail(ERR_IO, "vm %s (domid %u) has no VNC port in xenstore",
                     uuid, domid);
        goto out;
    }
    listen = console_node(xs, domid, "vnc-listen");
    pass = console_node(xs, domid, "vnc-pass");
    rc = vnc_connect(uuid, listen ? listen : "127.0.0.1", (int)p, &fd);
    if (rc)
        goto out;
    rc = rfb_client_handshake(fd, pass, LX_VNC_HS_MS, why, sizeof(why));
    if (rc) {
        rc = hv_fail(rc, "vm %s: VNC handshake: %s", uuid, why);
        goto out;
    }
    *fd_out = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (pass) {
        memset(pass, 0, strlen(pass));
        free(pass);
    }
    free(listen);
    free(port);
    xs_close(xs);
    return rc;
}
