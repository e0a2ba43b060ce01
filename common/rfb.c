/* rfb.c: see rfb.h. */
#include "common/rfb.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/des.h"
#include "common/err.h"
#include "common/timeutil.h"

#define RFB_REASON_MAX 256 /* of a server's failure reason we read */

static uint8_t mirror(uint8_t b)
{
    uint8_t r = 0;
    int i;

    for (i = 0; i < 8; i++)
        if (b & (1u << i))
            r |= (uint8_t)(0x80u >> i);
    return r;
}

void rfb_vnc_response(const uint8_t challenge[16], const char *password,
                      uint8_t out[16])
{
    uint8_t key[8] = { 0 };
    size_t i;

    for (i = 0; i < 8 && password && password[i]; i++)
        key[i] = mirror((uint8_t)password[i]);
    des_encrypt_block(key, challenge, out);
    des_encrypt_block(key, challenge + 8, out + 8);
    memset(key, 0, sizeof(key));
}

struct rfb_io {
    int fd;
    int64_t deadline_ms;
    char *why;
    size_t cap;
};

static int io_wait(struct rfb_io *io, short events)
{
    struct pollfd p = { .fd = io->fd, .events = events };
    int64_t left = io->deadline_ms - time_mono_ms();
    int n;

    if (left <= 0) {
        snprintf(io->why, io->cap, "no answer from the VNC server in time");
        return ERR_TIMEOUT;
    }
    n = poll(&p, 1, (int)left);
    if (n < 0 && errno != EINTR) {
        snprintf(io->why, io->cap, "poll: %s", strerror(errno));
        return ERR_IO;
    }
    return 0;
}

static int io_read(struct rfb_io *io, void *p, size_t n)
{
    char *c = p;
    ssize_t r;
    int rc;

    while (n) {
        rc = io_wait(io, POLLIN);
        if (rc)
            return rc;
        r = recv(io->fd, c, n, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            snprintf(io->why, io->cap, "the VNC server closed: %s",
                     r ? strerror(errno) : "end of stream");
            return ERR_IO;
        }
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static int io_write(struct rfb_io *io, const void *p, size_t n)
{
    const char *c = p;
    ssize_t w;
    int rc;

    while (n) {
        rc = io_wait(io, POLLOUT);
        if (rc)
            return rc;
        w = send(io->fd, c, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w <= 0) {
            snprintf(io->why, io->cap, "write to the VNC server: %s",
                     strerror(errno));
            return ERR_IO;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A failure reason (u32 length + text) from the server into io->why. */
static int read_reason(struct rfb_io *io, int err, const char *what)
{
    char text[RFB_REASON_MAX + 1];
    uint8_t len[4];
    uint32_t n;
    int rc;

    rc = io_read(io, len, 4);
    if (rc)
        return rc;
    n = get_u32(len);
    if (n > RFB_REASON_MAX)
        n = RFB_REASON_MAX;
    rc = io_read(io, text, n);
    if (rc)
        return rc;
    text[n] = '\0';
    snprintf(io->why, io->cap, "%s: %s", what, text);
    return err;
}

static int parse_version(const char *v, int *minor_out)
{
    int major, minor;
    char nl;

    if (memcmp(v, "RFB ", 4) || sscanf(v + 4, "%3d.%3d%c", &major, &minor,
                                       &nl) != 3 ||
        nl != '\n' || major != 3)
        return ERR_INVALID;
    *minor_out = minor >= 8 ? 8 : minor == 7 ? 7 : 3;
    return 0;
}

static int vnc_auth(struct rfb_io *io, const char *password)
{
    uint8_t challenge[16], answer[16];
    int rc;

    rc = io_read(io, challenge, sizeof(challenge));
    if (rc)
        return rc;
    rfb_vnc_response(challenge, password, answer);
    rc = io_write(io, answer, sizeof(answer));
    memset(answer, 0, sizeof(answer));
    return rc;
}

/* 3.7/3.8: the list of types; pick None, else VNC auth with a password. */
static int choose_security(struct rfb_io *io, const char *password,
                           uint8_t *type_out)
{
    uint8_t n, types[255], pick = 0;
    int rc, i;

    rc = io_read(io, &n, 1);
    if (rc)
        return rc;
    if (!n)
        return read_reason(io, ERR_FORBIDDEN, "the VNC server refused");
    rc = io_read(io, types, n);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        if (types[i] == RFB_SEC_NONE)
            pick = RFB_SEC_NONE;
        else if (types[i] == RFB_SEC_VNC && !pick && password && password[0])
            pick = RFB_SEC_VNC;
    }
    if (!pick) {
        snprintf(io->why, io->cap,
                 "the VNC server offers no security type we can use");
        return ERR_UNSUPPORTED;
    }
    *type_out = pick;
    return io_write(io, &pick, 1);
}

int rfb_client_handshake(int fd, const char *password, int timeout_ms,
                         char *why_out, size_t cap)
{
    struct rfb_io io = { fd, time_mono_ms() + timeout_ms, why_out, cap };
    char version[RFB_VERSION_LEN + 1];
    uint8_t type = 0, word[4];
    int rc, minor;

    why_out[0] = '\0';
    rc = io_read(&io, version, RFB_VERSION_LEN);
    if (rc)
        return rc;
    version[RFB_VERSION_LEN] = '\0';
    if (parse_version(version, &minor)) {
        snprintf(why_out, cap, "not an RFB server");
        return ERR_IO;
    }
    snprintf(version, sizeof(version), "RFB 003.00%d\n", minor);
    rc = io_write(&io, version, RFB_VERSION_LEN);
    if (rc)
        return rc;
    if (minor == 3) {
        rc = io_read(&io, word, 4);
        if (rc)
            return rc;
        type = (uint8_t)get_u32(word);
        if (get_u32(word) == 0)
            return read_reason(&io, ERR_FORBIDDEN, "the VNC server refused");
        if (type != RFB_SEC_NONE &&
            (type != RFB_SEC_VNC || !password || !password[0])) {
            snprintf(why_out, cap, "the VNC server wants security type %u",
                     (unsigned int)get_u32(word));
            return ERR_UNSUPPORTED;
        }
    } else {
        rc = choose_security(&io, password, &type);
        if (rc)
            return rc;
    }
    if (type == RFB_SEC_VNC) {
        rc = vnc_auth(&io, password);
        if (rc)
            return rc;
    }
    if (type == RFB_SEC_NONE && minor < 8)
        return 0; /* no SecurityResult for None before 3.8 */
    rc = io_read(&io, word, 4);
    if (rc)
        return rc;
    if (get_u32(word) == 0)
        return 0;
    if (minor == 8)
        return read_reason(&io, ERR_FORBIDDEN, "VNC authentication failed");
    snprintf(why_out, cap, "VNC authentication failed");
    return ERR_FORBIDDEN;
}

void rfb_front_init(struct rfb_front *f)
{
    memset(f, 0, sizeof(*f));
    f->stage = RFB_FRONT_VERSION;
}

int rfb_front_feed(struct rfb_front *f, const void *in, size_t n,
                   struct buf *reply, size_t *used_out)
{
    const uint8_t *p = in;
    size_t used = 0, take;
    uint8_t word[4];

    while (f->stage != RFB_FRONT_DONE && used < n) {
        if (f->stage == RFB_FRONT_VERSION) {
            take = RFB_VERSION_LEN - f->num_got;
            if (take > n - used)
                take = n - used;
            memcpy(f->got + f->num_got, p + used, take);
            f->num_got += take;
            used += take;
            if (f->num_got < RFB_VERSION_LEN)
                break;
            if (parse_version(f->got, &f->minor))
                return ERR_INVALID;
            if (f->minor == 3) {
                put_u32(word, RFB_SEC_NONE);
                buf_append(reply, word, 4);
                f->stage = RFB_FRONT_DONE;
            } else {
                buf_append(reply, "\x01\x01", 2);
                f->stage = RFB_FRONT_SECURITY;
            }
        } else {
            if (p[used++] != RFB_SEC_NONE)
                return ERR_INVALID;
            if (f->minor == 8) {
                put_u32(word, 0);
                buf_append(reply, word, 4);
            }
            f->stage = RFB_FRONT_DONE;
        }
    }
    *used_out = used;
    return f->stage == RFB_FRONT_DONE;
}
