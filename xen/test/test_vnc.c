/* test_vnc.c: the test HVM guests' graphical consoles, an in-process RFB
 * 3.8 server (RFC 6143) per open console, so the /vnc bridge and the
 * browser can be tested without Xen.
 *
 * Each HVM domain has a TDRV_FB_W x TDRV_FB_H framebuffer (colour bars,
 * a gradient, the VM's name and the keys typed so far). hv_vnc_open
 * makes a socketpair, registers the driver's end with the driver thread
 * (which answers the client), and does the client side of the handshake
 * (security None) on the caller's end with common/rfb.h, as the libxl
 * driver does with qemu's server. The server answers
 * FramebufferUpdateRequest with one Raw rectangle in the client's pixel
 * format (8, 16 or 32 bits per pixel, true colour); an incremental
 * request waits until a key press changes the screen. Output a client
 * does not read is buffered up to TDRV_VNC_OUT_MAX, then the client is
 * dropped. Everything but the client handshake runs with the driver
 * lock held.
 */
#include "xen/test/test_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/rfb.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

#define TDRV_VNC_OUT_MAX   (8 * 1024 * 1024)
#define TDRV_VNC_CUT_MAX   (1024 * 1024) /* ClientCutText we accept */
#define TDRV_VNC_HS_MS     5000          /* the client handshake */
#define TDRV_VNC_READ      4096

enum vnc_stage {
    VNC_VERSION = 0, /* sent ours, want the client's 12 bytes */
    VNC_SECURITY,    /* offered None, want the client's choice */
    VNC_INIT,        /* want ClientInit */
    VNC_MESSAGES,    /* normal client messages */
};

static void put16(uint8_t *p, unsigned int v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static unsigned int get16(const uint8_t *p)
{
    return (unsigned int)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void vnc_draw(struct tdrv_dom *dom)
{
    static const uint32_t bars[8] = { 0xffffff, 0xffff00, 0x00ffff,
                                      0x00ff00, 0xff00ff, 0xff0000,
                                      0x0000ff, 0x000000 };
    const int w = TDRV_FB_W, h = TDRV_FB_H;
    uint32_t *fb = dom->fb;
    char line[96];
    int x, y;

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            uint32_t r = (uint32_t)(x * 255 / (w - 1));
            uint32_t g = (uint32_t)(y * 255 / (h - 1));

            fb[y * w + x] = y < 40 ? bars[x * 8 / w] : r << 16 | g << 8 | 0x80;
        }
    }
    for (y = 56; y < 188; y++)
        for (x = 8; x < w - 8; x++)
            fb[y * w + x] = 0x202040;
    tdrv_fb_text(fb, w, h, 16, 64, 2, 0xffffff, "XENITH TEST HVM");
    tdrv_fb_text(fb, w, h, 16, 92, 2, 0x80ff80, dom->cfg.name);
    snprintf(line, sizeof(line), "DOMID %d  %dX%d", dom->domid, w, h);
    tdrv_fb_text(fb, w, h, 16, 120, 1, 0xc0c0c0, line);
    snprintf(line, sizeof(line), "KEYS: %s", dom->typed);
    tdrv_fb_text(fb, w, h, 16, 150, 2, 0xffff80, line);
    dom->fb_serial++;
}

static void vnc_close(struct tdrv_dom *dom, struct tdrv_vnc *v)
{
    close(v->fd);
    buf_release(&v->out);
    *v = dom->vnc[--dom->num_vnc];
}

void tdrv_vnc_release(struct tdrv_dom *dom)
{
    while (dom->num_vnc)
        vnc_close(dom, &dom->vnc[dom->num_vnc - 1]);
    free(dom->fb);
    dom->fb = NULL;
}

/* Send what is buffered, as far as the socket takes it. 0 or -1. */
static int vnc_flush(struct tdrv_vnc *v)
{
    while (v->out.len) {
        ssize_t w =
            send(v->fd, v->out.data, v->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return 0;
        if (w <= 0)
            return -1;
        memmove(v->out.data, v->out.data + w, v->out.len - (size_t)w);
        v->out.len -= (size_t)w;
    }
    return 0;
}

static int vnc_send(struct tdrv_vnc *v, const void *p, size_t n)
{
    if (buf_append(&v->out, p, n))
        return -1; /* the client does not read */
    return vnc_flush(v);
}

static void pack_pixel(const struct tdrv_vnc *v, uint32_t rgb, uint8_t *out)
{
    uint32_t r = ((rgb >> 16) & 0xff) * (uint32_t)v->rmax / 255;
    uint32_t g = ((rgb >> 8) & 0xff) * (uint32_t)v->gmax / 255;
    uint32_t b = (rgb & 0xff) * (uint32_t)v->bmax / 255;
    uint32_t px = r << v->rshift | g << v->gshift | b << v->bshift;
    int i, n = v->bpp / 8;

    for (i = 0; i < n; i++) {
        int shift = v->big ? 8 * (n - 1 - i) : 8 * i;

        out[i] = (uint8_t)(px >> shift);
    }
}

/* One FramebufferUpdate: the requested rectangle (clipped), Raw. */
static int vnc_update(struct tdrv_dom *dom, struct tdrv_vnc *v)
{
    int x = v->req[0], y = v->req[1], w = v->req[2], h = v->req[3];
    int bytes = v->bpp / 8, row, col;
    uint8_t hdr[16], *px;
    size_t n;
    int rc;

    if (x > TDRV_FB_W)
        x = TDRV_FB_W;
    if (y > TDRV_FB_H)
        y = TDRV_FB_H;
    if (w > TDRV_FB_W - x)
        w = TDRV_FB_W - x;
    if (h > TDRV_FB_H - y)
        h = TDRV_FB_H - y;
    memset(hdr, 0, sizeof(hdr));
    put16(hdr + 2, 1);
    put16(hdr + 4, (unsigned int)x);
    put16(hdr + 6, (unsigned int)y);
    put16(hdr + 8, (unsigned int)w);
    put16(hdr + 10, (unsigned int)h);
    put32(hdr + 12, 0); /* Raw */
    n = (size_t)w * (size_t)h * (size_t)bytes;
    px = xmalloc(n ? n : 1);
    for (row = 0; row < h; row++)
        for (col = 0; col < w; col++)
            pack_pixel(v, dom->fb[(y + row) * TDRV_FB_W + x + col],
                       px + ((size_t)row * (size_t)w + (size_t)col) *
                                (size_t)bytes);
    rc = vnc_send(v, hdr, sizeof(hdr));
    if (!rc)
        rc = vnc_send(v, px, n);
    free(px);
    v->pending = 0;
    v->sent_serial = dom->fb_serial;
    return rc;
}

static int vnc_server_init(struct tdrv_dom *dom, struct tdrv_vnc *v)
{
    uint8_t m[24];
    size_t name_len = strlen(dom->cfg.name);

    put16(m, TDRV_FB_W);
    put16(m + 2, TDRV_FB_H);
    m[4] = 32; /* bits per pixel */
    m[5] = 24; /* depth */
    m[6] = 0;  /* little endian */
    m[7] = 1;  /* true colour */
    put16(m + 8, 255);
    put16(m + 10, 255);
    put16(m + 12, 255);
    m[14] = 16;
    m[15] = 8;
    m[16] = 0;
    m[17] = m[18] = m[19] = 0;
    put32(m + 20, (uint32_t)name_len);
    if (vnc_send(v, m, sizeof(m)))
        return -1;
    return vnc_send(v, dom->cfg.name, name_len);
}

static int vnc_set_pixel_format(struct tdrv_vnc *v, const uint8_t *m)
{
    int bpp = m[4];

    if ((bpp != 8 && bpp != 16 && bpp != 32) || !m[7])
        return -1; /* colour maps are not served */
    v->bpp = bpp;
    v->big = m[6] != 0;
    v->rmax = (int)get16(m + 8);
    v->gmax = (int)get16(m + 10);
    v->bmax = (int)get16(m + 12);
    v->rshift = m[14] & 31;
    v->gshift = m[15] & 31;
    v->bshift = m[16] & 31;
    return 0;
}

/* Every client waiting for a change gets it. */
static void vnc_changed(struct tdrv_dom *dom)
{
    size_t i;

    for (i = 0; i < dom->num_vnc;) {
        struct tdrv_vnc *v = &dom->vnc[i];

        if (v->pending && vnc_update(dom, v)) {
            vnc_close(dom, v);
            continue;
        }
        i++;
    }
}

static void vnc_key(struct tdrv_dom *dom, const uint8_t *m)
{
    uint32_t key = get32(m + 4);
    size_t n = strlen(dom->typed);

    if (!m[1] || key < 0x20 || key > 0x7e)
        return; /* releases and non-ASCII keys change nothing */
    if (n == TDRV_TYPED_MAX) {
        memmove(dom->typed, dom->typed + 1, n);
        n--;
    }
    dom->typed[n] = (char)key;
    dom->typed[n + 1] = '\0';
    vnc_draw(dom);
}

/* The length of the message in v->in so far (its header part for the
 * two with a variable body), or -1 for an unknown type. */
static int vnc_msg_len(const struct tdrv_vnc *v)
{
    switch (v->stage) {
    case VNC_VERSION:
        return RFB_VERSION_LEN;
    case VNC_SECURITY:
    case VNC_INIT:
        return 1;
    default:
        break;
    }
    switch (v->in[0]) {
    case 0: /* SetPixelFormat */
        return 20;
    case 2: /* SetEncodings */
        return 4;
    case 3: /* FramebufferUpdateRequest */
        return 10;
    case 4: /* KeyEvent */
        return 8;
    case 5: /* PointerEvent */
        return 6;
    case 6: /* ClientCutText */
        return 8;
    default:
        return -1;
    }
}

/* A whole message in v->in. 0, 1 (the screen changed) or -1 (drop). */
static int vnc_message(struct tdrv_dom *dom, struct tdrv_vnc *v)
{
    const uint8_t *m = v->in;

    switch (v->stage) {
    case VNC_VERSION:
        if (memcmp(m, RFB_VERSION_38, RFB_VERSION_LEN))
            return -1; /* this server speaks 3.8 only */
        v->stage = VNC_SECURITY;
        return vnc_send(v, "\x01\x01", 2);
    case VNC_SECURITY:
        if (m[0] != RFB_SEC_NONE)
            return -1;
        v->stage = VNC_INIT;
        return vnc_send(v, "\0\0\0\0", 4);
    case VNC_INIT:
        v->stage = VNC_MESSAGES;
        return vnc_server_init(dom, v);
    default:
        break;
    }
    switch (m[0]) {
    case 0:
        return vnc_set_pixel_format(v, m);
    case 2:
        v->skip = 4 * (uint64_t)get16(m + 2);
        return 0;
    case 3:
        v->req[0] = (int)get16(m + 2);
        v->req[1] = (int)get16(m + 4);
        v->req[2] = (int)get16(m + 6);
        v->req[3] = (int)get16(m + 8);
        v->pending = 1;
        if (!m[1] || v->sent_serial != dom->fb_serial)
            return vnc_update(dom, v);
        return 0;
    case 4:
        vnc_key(dom, m);
        return 1;
    case 6:
        v->skip = get32(m + 4);
        return v->skip > TDRV_VNC_CUT_MAX ? -1 : 0;
    default:
        return 0; /* PointerEvent: nothing to point at */
    }
}

/* Bytes from the client. 0, 1 (the screen changed) or -1 (drop). */
static int vnc_feed(struct tdrv_dom *dom, struct tdrv_vnc *v,
                    const uint8_t *p, size_t n)
{
    int changed = 0, need, rc;

    while (n) {
        if (v->skip) {
            size_t k = v->skip < n ? (size_t)v->skip : n;

            v->skip -= k;
            p += k;
            n -= k;
            continue;
        }
        v->in[v->in_len++] = *p++;
        n--;
        need = vnc_msg_len(v);
        if (need < 0)
            return -1;
        if (v->in_len < (size_t)need)
            continue;
        rc = vnc_message(dom, v);
        v->in_len = 0;
        if (rc < 0)
            return -1;
        changed |= rc;
    }
    return changed;
}

void tdrv_vnc_ready(struct tdrv_dom *dom, struct tdrv_vnc *v, short revents)
{
    uint8_t in[TDRV_VNC_READ];
    ssize_t n;
    int rc = 0;

    (void)revents;
    if (vnc_flush(v)) {
        vnc_close(dom, v);
        return;
    }
    n = recv(v->fd, in, sizeof(in), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0)
        rc = vnc_feed(dom, v, in, (size_t)n);
    if (n <= 0 || rc < 0) {
        vnc_close(dom, v);
        return;
    }
    if (rc > 0)
        vnc_changed(dom);
}

int tdrv_vnc_open(void *priv, const char *uuid, int *fd_out)
{
    struct tdrv *d = priv;
    struct tdrv_dom *dom;
    struct tdrv_vnc *v;
    char why[160];
    int sv[2] = { -1, -1 };
    int rc;

    rc = tdrv_lock_dom(d, uuid, TDRV_OP_VNC_OPEN, &dom);
    if (rc)
        return rc;
    if (dom->cfg.boot != HV_BOOT_HVM) {
        rc = hv_fail(ERR_CONFLICT, "vm %s is not HVM: no graphical console",
                     uuid);
        goto out;
    }
    if (dom->num_vnc >= TDRV_MAX_VNC) {
        rc = hv_fail(ERR_BUSY, "vm %s has %d graphical consoles open", uuid,
                     TDRV_MAX_VNC);
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        rc = hv_fail(err_from_errno(errno), "socketpair: %s", strerror(errno));
        goto out;
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    if (!dom->fb) {
        dom->fb = xcalloc((size_t)TDRV_FB_W * TDRV_FB_H, sizeof(*dom->fb));
        vnc_draw(dom);
    }
    v = &dom->vnc[dom->num_vnc++];
    memset(v, 0, sizeof(*v));
    v->id = d->next_console_id++;
    v->fd = sv[0];
    sv[0] = -1;
    buf_init(&v->out, TDRV_VNC_OUT_MAX);
    v->bpp = 32;
    v->rmax = v->gmax = v->bmax = 255;
    v->rshift = 16;
    v->gshift = 8;
    vnc_send(v, RFB_VERSION_38, RFB_VERSION_LEN);
    tdrv_wake(d);
    pthread_mutex_unlock(&d->lock);

    /* The driver thread answers; a client end that fails here closes,
     * which drops the server end too. */
    rc = rfb_client_handshake(sv[1], NULL, TDRV_VNC_HS_MS, why, sizeof(why));
    if (rc) {
        close(sv[1]);
        return hv_fail(rc, "vm %s: vnc handshake: %s", uuid, why);
    }
    *fd_out = sv[1];
    return 0;
out:
    pthread_mutex_unlock(&d->lock);
    return rc;
}
