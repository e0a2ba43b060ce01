/* libxl_vnc.c: an HVM domain's graphical console. libxl starts the
 * qemu-xen device model with its VNC server on 127.0.0.1 in dom0 at a
 * free port (libxl_config.c) and writes the port to xenstore
 * (console/vnc-port); lx_vnc_open connects there and does the RFB
 * handshake (common/rfb.h), so xenith's WebSocket carries the session
 * from ClientInit on.
 *
 * No VNC password: Debian 12's qemu-system-xen has only QEMU's built-in
 * cipher backend, without DES, and exits at start-up when a VNC password
 * is set ("Cipher backend does not support DES algorithm"). The server
 * is reachable from dom0 only (loopback; the driver refuses any other
 * listen address) and every browser is authenticated by xenith. A
 * domain whose qemu does ask for VNC authentication (one started by xl
 * with vncpasswd, with a qemu that has DES) is answered with the
 * password libxl keeps in xenstore (console/vnc-pass or
 * /vm/<uuid>/vncpasswd, readable in dom0 only); it is never logged or
 * sent to the browser.
 */
#include "xen/libxl/libxl_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xenstore.h>

#include "common/err.h"
#include "common/rfb.h"
#include "common/timeutil.h"
#include "xen/hv_driver.h"

#define LX_VNC_WAIT_MS 15000 /* qemu writes vnc-port once VNC listens */
#define LX_VNC_HS_MS   5000  /* connect + RFB handshake */

/* /local/domain/<domid>/console/<key> (**new**, free()) or NULL. */
static char *console_node(struct xs_handle *xs, uint32_t domid, const char *key)
{
    char path[96];
    unsigned int len;

    snprintf(path, sizeof(path), "/local/domain/%u/console/%s", domid, key);
    return xs_read(xs, XBT_NULL, path, &len);
}

/* A VNC password libxl keeps for the domain (**new**), or NULL. */
static char *find_password(struct xs_handle *xs, uint32_t domid)
{
    char path[96], *vm, *pw = console_node(xs, domid, "vnc-pass");
    unsigned int len;

    if (pw && pw[0])
        return pw;
    free(pw);
    pw = NULL;
    snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
    vm = xs_read(xs, XBT_NULL, path, &len);
    if (vm && strlen(vm) < sizeof(path) - 16) {
        snprintf(path, sizeof(path), "%s/vncpasswd", vm);
        pw = xs_read(xs, XBT_NULL, path, &len);
    }
    free(vm);
    if (pw && pw[0])
        return pw;
    free(pw);
    return NULL;
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
    rc = lx_is_hvm(domid, &info) ? 0 : ERR_CONFLICT;
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
    pass = find_password(xs, domid);
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
