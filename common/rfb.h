/* rfb.h: the opening of the RFB protocol (RFC 6143 7.1-7.2), both ends,
 * for bridging a VM's VNC server to a browser (noVNC):
 *
 *   browser --- rfb_front (security None) === xenith === rfb_client
 *   handshake (None or VNC authentication with the VM's password) ---
 *   the VM's VNC server
 *
 * After both handshakes the bytes pass through unchanged: the browser's
 * ClientInit goes to the server, whose ServerInit comes back. Protocol
 * versions 3.3, 3.7 and 3.8 on both sides.
 */
#ifndef XENITH_COMMON_RFB_H
#define XENITH_COMMON_RFB_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define RFB_VERSION_38 "RFB 003.008\n"
#define RFB_VERSION_LEN 12
#define RFB_SEC_NONE 1
#define RFB_SEC_VNC  2
#define RFB_PASSWORD_MAX 8 /* VNC authentication uses 8 bytes of it */

/* The 16-byte answer to a VNC authentication challenge: each half
 * DES-encrypted with the password (NUL-padded to 8 bytes, each byte's
 * bits mirrored, as RFB does). */
void rfb_vnc_response(const uint8_t challenge[16], const char *password,
                      uint8_t out[16]);

/* The client side of the handshake on a connected, blocking-capable
 * stream fd: ProtocolVersion, then security None if offered, else VNC
 * authentication with password (NULL or "": None only), then
 * SecurityResult. On success the next bytes the server expects are
 * ClientInit. Waits at most timeout_ms in all. 0, ERR_TIMEOUT, ERR_IO
 * (closed, not RFB), ERR_UNSUPPORTED (no security type we can do) or
 * ERR_FORBIDDEN (the server refused); why_out[cap] says what. */
int rfb_client_handshake(int fd, const char *password, int timeout_ms,
                         char *why_out, size_t cap);

enum rfb_front_stage {
    RFB_FRONT_VERSION = 0, /* sent ours, waiting for the client's */
    RFB_FRONT_SECURITY,    /* sent the list, waiting for its choice */
    RFB_FRONT_DONE,        /* handshake over: pass bytes through */
};

/* The server side towards the browser, as a state machine over bytes
 * that arrive in any chunks. Offers only security None: the browser is
 * authenticated by xenith before it gets here. Not thread safe. */
struct rfb_front {
    enum rfb_front_stage stage;
    int minor; /* the version agreed: 3, 7 or 8 */
    char got[RFB_VERSION_LEN];
    size_t num_got;
};

/* Start; the caller sends RFB_VERSION_38 to the browser first. */
void rfb_front_init(struct rfb_front *f);

/* Feed n bytes from the browser. Bytes to send back are appended to
 * reply. *used_out: how many of the n bytes the handshake took (the
 * rest, once done, belongs to the server). 1 when the handshake is
 * done, 0 when it needs more, ERR_INVALID when the client breaks the
 * protocol. */
int rfb_front_feed(struct rfb_front *f, const void *in, size_t n,
                   struct buf *reply, size_t *used_out);

#endif
