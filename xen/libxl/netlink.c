/* netlink.c: Linux bridges through rtnetlink. netlink.h describes it;
 * rtnetlink(7) and netlink(7) the protocol. Every request asks for an
 * ACK, so each exchange ends with an NLMSG_ERROR (0 = done) or, for a
 * dump, NLMSG_DONE.
 */
#include "xen/libxl/netlink.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

#define LX_NL_RECV_MAX  (64 * 1024)
#define LX_NL_TIMEOUT_S 5

/* ---- building ---- */

void lx_nl_msg_init(struct lx_nl_msg *m, uint16_t type, uint16_t flags,
                    uint32_t seq, int ifindex, unsigned int ifi_flags,
                    unsigned int ifi_change)
{
    struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
    struct ifinfomsg *ifi = (struct ifinfomsg *)(m->buf + NLMSG_HDRLEN);

    memset(m, 0, sizeof(*m));
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = ifi_flags;
    ifi->ifi_change = ifi_change;
    m->len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*ifi));
}

void lx_nl_put(struct lx_nl_msg *m, uint16_t type, const void *data, size_t len)
{
    struct rtattr *a;
    size_t need;

    if (m->overflow || len > 0xffff - RTA_LENGTH(0)) {
        m->overflow = 1;
        return;
    }
    need = RTA_ALIGN(RTA_LENGTH(len));
    if (need > sizeof(m->buf) - m->len) {
        m->overflow = 1;
        return;
    }
    a = (struct rtattr *)(m->buf + m->len);
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(a), data, len);
    m->len += need; /* the padding is zero from lx_nl_msg_init */
}

void lx_nl_put_u32(struct lx_nl_msg *m, uint16_t type, uint32_t v)
{
    lx_nl_put(m, type, &v, sizeof(v));
}

void lx_nl_put_str(struct lx_nl_msg *m, uint16_t type, const char *s)
{
    lx_nl_put(m, type, s, strlen(s) + 1);
}

void lx_nl_nest_begin(struct lx_nl_msg *m, uint16_t type)
{
    if (m->num_nest == LX_NL_NEST_MAX) {
        m->overflow = 1;
        return;
    }
    m->nest[m->num_nest++] = m->len;
    lx_nl_put(m, type, NULL, 0);
}

void lx_nl_nest_end(struct lx_nl_msg *m)
{
    struct rtattr *a;

    if (!m->num_nest || m->overflow) {
        m->overflow = 1;
        return;
    }
    a = (struct rtattr *)(m->buf + m->nest[--m->num_nest]);
    a->rta_len = (unsigned short)(m->len - m->nest[m->num_nest]);
}

int lx_nl_msg_finish(struct lx_nl_msg *m)
{
    if (m->overflow || m->num_nest)
        return hv_fail(ERR_INVALID, "netlink request does not fit");
    ((struct nlmsghdr *)m->buf)->nlmsg_len = (uint32_t)m->len;
    return 0;
}

static int lx_nl_check_name(const char *name)
{
    size_t len = strlen(name);

    if (len < 1 || len >= IFNAMSIZ)
        return hv_fail(ERR_INVALID, "bridge name '%s' is not 1 to %d bytes",
                       name, IFNAMSIZ - 1);
    return 0;
}

int lx_nl_build_newbridge(struct lx_nl_msg *m, uint32_t seq, const char *name,
                          int mtu)
{
    int rc = lx_nl_check_name(name);

    if (rc)
        return rc;
    if (mtu < 68 || mtu > 65535)
        return hv_fail(ERR_INVALID, "mtu %d not in 68..65535", mtu);
    lx_nl_msg_init(m, RTM_NEWLINK,
                   NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq,
                   0, IFF_UP, IFF_UP);
    lx_nl_put_str(m, IFLA_IFNAME, name);
    lx_nl_put_u32(m, IFLA_MTU, (uint32_t)mtu);
    lx_nl_nest_begin(m, IFLA_LINKINFO);
    lx_nl_put_str(m, IFLA_INFO_KIND, "bridge");
    lx_nl_nest_end(m);
    return lx_nl_msg_finish(m);
}

int lx_nl_build_getlink(struct lx_nl_msg *m, uint32_t seq, const char *name)
{
    int rc;

    if (!name) {
        lx_nl_msg_init(m, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0, 0,
                       0);
        return lx_nl_msg_finish(m);
    }
    rc = lx_nl_check_name(name);
    if (rc)
        return rc;
    lx_nl_msg_init(m, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 0, 0, 0);
    lx_nl_put_str(m, IFLA_IFNAME, name);
    return lx_nl_msg_finish(m);
}

int lx_nl_build_dellink(struct lx_nl_msg *m, uint32_t seq, int ifindex)
{
    lx_nl_msg_init(m, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex, 0,
                   0);
    return lx_nl_msg_finish(m);
}

/* ---- parsing ---- */

static void lx_nl_copy_str(char *dst, size_t cap, const struct rtattr *a)
{
    size_t n = RTA_PAYLOAD(a);

    if (n >= cap)
        n = cap - 1;
    memcpy(dst, RTA_DATA(a), n);
    dst[n] = '\0';
}

static uint32_t lx_nl_u32(const struct rtattr *a)
{
    uint32_t v = 0;

    if (RTA_PAYLOAD(a) >= sizeof(v))
        memcpy(&v, RTA_DATA(a), sizeof(v));
    return v;
}

static void lx_nl_parse_linkinfo(const struct rtattr *nest,
                                 struct lx_nl_link *out)
{
    const struct rtattr *a = RTA_DATA(nest);
    unsigned int left = RTA_PAYLOAD(nest);

    for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
        if ((a->rta_type & NLA_TYPE_MASK) == IFLA_INFO_KIND)
            lx_nl_copy_str(out->kind, sizeof(out->kind), a);
}

int lx_nl_parse_link(const void *msg, size_t len, struct lx_nl_link *out)
{
    const struct nlmsghdr *h = msg;
    const struct ifinfomsg *ifi;
    const struct rtattr *a;
    unsigned int left;

    memset(out, 0, sizeof(*out));
    if (len < NLMSG_HDRLEN || h->nlmsg_len > len ||
        h->nlmsg_type != RTM_NEWLINK ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
        return ERR_INVALID;
    ifi = NLMSG_DATA(h);
    out->ifindex = ifi->ifi_index;
    out->flags = ifi->ifi_flags;
    a = IFLA_RTA(ifi);
    left = IFLA_PAYLOAD(h);
    for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
        switch (a->rta_type & NLA_TYPE_MASK) {
        case IFLA_IFNAME:
            lx_nl_copy_str(out->name, sizeof(out->name), a);
            break;
        case IFLA_MTU:
            out->mtu = (int)lx_nl_u32(a);
            break;
        case IFLA_MASTER:
            out->master = (int)lx_nl_u32(a);
            break;
        case IFLA_LINKINFO:
            lx_nl_parse_linkinfo(a, out);
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- talking to the kernel ---- */

typedef void (*lx_nl_link_cb)(void *opaque, const struct lx_nl_link *l);

static int lx_nl_open(void)
{
    struct sockaddr_nl sa;
    struct timeval tv = { .tv_sec = LX_NL_TIMEOUT_S };
    int fd;

    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        int e = errno;

        close(fd);
        return -e;
    }
    return fd;
}

/* Handle one received message of our request. 1 when the exchange is
 * over (*err_out set: 0 or an errno), 0 to read on. */
static int lx_nl_one(const struct nlmsghdr *h, lx_nl_link_cb cb, void *opaque,
                     int *err_out)
{
    struct lx_nl_link l;

    if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);

        *err_out = h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ? EPROTO : -e->error;
        return 1;
    }
    if (h->nlmsg_type == NLMSG_DONE) {
        int v = 0;

        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(v)))
            memcpy(&v, NLMSG_DATA(h), sizeof(v));
        *err_out = v < 0 ? -v : 0;
        return 1;
    }
    if (cb && !lx_nl_parse_link(h, h->nlmsg_len, &l))
        cb(opaque, &l);
    return 0;
}

/* Send m and read the answers until its ACK or the end of the dump,
 * giving each interface to cb. 0 or an errno (the kernel's, or a local
 * one). */
static int lx_nl_talk(struct lx_nl_msg *m, lx_nl_link_cb cb, void *opaque)
{
    const struct nlmsghdr *req = (const struct nlmsghdr *)m->buf;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    char *buf = NULL;
    int fd, err = 0, done = 0;
    ssize_t n;

    fd = lx_nl_open();
    if (fd < 0)
        return -fd;
    if (sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&kernel,
               sizeof(kernel)) != (ssize_t)m->len) {
        err = errno ? errno : EIO;
        goto out;
    }
    buf = xmalloc(LX_NL_RECV_MAX);
    while (!done) {
        const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
        unsigned int left;

        n = recv(fd, buf, LX_NL_RECV_MAX, MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = errno == EAGAIN ? ETIMEDOUT : errno;
            goto out;
        }
        if (n > LX_NL_RECV_MAX || n == 0) {
            err = n ? EMSGSIZE : EPROTO;
            goto out;
        }
        left = (unsigned int)n;
        for (; !done && NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
            if (h->nlmsg_seq == req->nlmsg_seq)
                done = lx_nl_one(h, cb, opaque, &err);
    }
out:
    free(buf);
    close(fd);
    return err;
}

int lx_nl_exec(struct lx_nl_msg *m)
{
    return lx_nl_talk(m, NULL, NULL);
}

/* A sequence number per request (only our own socket sees it). */
static uint32_t lx_nl_seq(void)
{
    static _Atomic uint32_t seq;

    return ++seq;
}

static void lx_nl_keep(void *opaque, const struct lx_nl_link *l)
{
    *(struct lx_nl_link *)opaque = *l;
}

struct lx_nl_ports {
    int master;
    int count;
};

static void lx_nl_count_port(void *opaque, const struct lx_nl_link *l)
{
    struct lx_nl_ports *p = opaque;

    if (l->master == p->master)
        p->count++;
}

/* hv_fail for an errno of the kernel while doing what to name. */
static int lx_nl_fail(int e, const char *what, const char *name)
{
    int err;

    switch (e) {
    case EEXIST:
        return hv_fail(ERR_EXISTS, "an interface named %s exists", name);
    case ENODEV:
        return hv_fail(ERR_NOTFOUND, "no interface named %s", name);
    case EOPNOTSUPP:
        err = ERR_UNSUPPORTED;
        break;
    case EINVAL:
    case ERANGE:
        err = ERR_INVALID;
        break;
    default:
        err = ERR_INTERNAL;
        break;
    }
    log_error("netlink: %s %s: %s", what, name, strerror(e));
    return hv_fail(err, "cannot %s %s: %s", what, name, strerror(e));
}

static int lx_nl_get(const char *name, struct lx_nl_link *out)
{
    struct lx_nl_msg m;
    int rc, e;

    memset(out, 0, sizeof(*out));
    rc = lx_nl_build_getlink(&m, lx_nl_seq(), name);
    if (rc)
        return rc;
    e = lx_nl_talk(&m, lx_nl_keep, out);
    if (e)
        return lx_nl_fail(e, "look up interface", name);
    if (!out->ifindex)
        return hv_fail(ERR_INTERNAL, "netlink: no answer for %s", name);
    return 0;
}

/* lx_nl_bridge_info, also giving the interface's index. */
static int lx_nl_info(const char *name, struct hv_bridge *out, int *ifindex_out)
{
    struct lx_nl_ports ports = { 0, 0 };
    struct lx_nl_link l;
    struct lx_nl_msg m;
    int rc, e;

    memset(out, 0, sizeof(*out));
    *ifindex_out = 0;
    rc = lx_nl_get(name, &l);
    if (rc == ERR_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    out->exists = 1;
    out->is_bridge = !strcmp(l.kind, "bridge");
    out->up = (l.flags & IFF_UP) != 0;
    out->mtu = l.mtu;
    *ifindex_out = l.ifindex;
    if (!out->is_bridge)
        return 0;
    ports.master = l.ifindex;
    rc = lx_nl_build_getlink(&m, lx_nl_seq(), NULL);
    if (rc)
        return rc;
    e = lx_nl_talk(&m, lx_nl_count_port, &ports);
    if (e)
        return lx_nl_fail(e, "list the ports of", name);
    out->num_ports = ports.count;
    return 0;
}

int lx_nl_bridge_info(const char *name, struct hv_bridge *out)
{
    int ifindex;

    return lx_nl_info(name, out, &ifindex);
}

int lx_nl_bridge_create(const char *name, int mtu)
{
    struct lx_nl_msg m;
    int rc, e;

    rc = lx_nl_build_newbridge(&m, lx_nl_seq(), name, mtu);
    if (rc)
        return rc;
    e = lx_nl_exec(&m);
    if (e)
        return lx_nl_fail(e, "create bridge", name);
    log_info("netlink: created bridge %s (mtu %d)", name, mtu);
    return 0;
}

int lx_nl_bridge_delete(const char *name)
{
    struct hv_bridge b;
    struct lx_nl_msg m;
    int rc, e, ifindex;

    rc = lx_nl_info(name, &b, &ifindex);
    if (rc)
        return rc;
    if (!b.exists)
        return hv_fail(ERR_NOTFOUND, "no interface named %s", name);
    if (!b.is_bridge)
        return hv_fail(ERR_CONFLICT, "interface %s is not a bridge", name);
    if (b.num_ports)
        return hv_fail(ERR_CONFLICT, "bridge %s has %d port%s in use", name,
                       b.num_ports, b.num_ports == 1 ? "" : "s");
    rc = lx_nl_build_dellink(&m, lx_nl_seq(), ifindex);
    if (rc)
        return rc;
    e = lx_nl_exec(&m);
    if (e)
        return lx_nl_fail(e, "delete bridge", name);
    log_info("netlink: deleted bridge %s", name);
    return 0;
}
