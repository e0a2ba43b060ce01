/* netlink.h: Linux bridges through rtnetlink (a raw NETLINK_ROUTE
 * socket; no `ip`, no libnl), for the libxl driver's networks.
 *
 * Two layers: message building and parsing into caller buffers (pure,
 * unit tested byte for byte), and the three operations the driver needs,
 * each on its own short-lived socket. Errors are negative enum err with
 * the reason recorded through hv_fail (hv_last_error()). Thread safe:
 * no shared state.
 */
#ifndef XENITH_XEN_LIBXL_NETLINK_H
#define XENITH_XEN_LIBXL_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include "xen/hv.h"

#define LX_NL_MSG_MAX  512 /* a request; ours are < 100 bytes */
#define LX_NL_NEST_MAX 4

/* A request being built: an nlmsghdr and an ifinfomsg, then attributes. */
struct lx_nl_msg {
    unsigned char buf[LX_NL_MSG_MAX] __attribute__((aligned(4)));
    size_t len;
    size_t nest[LX_NL_NEST_MAX]; /* offsets of open nested attributes */
    size_t num_nest;
    int overflow; /* an attribute did not fit: the message is unusable */
};

/* Start a message of type (RTM_NEWLINK ...) with nlmsg flags, sequence
 * number seq and an ifinfomsg of ifindex, ifi_flags and ifi_change. */
void lx_nl_msg_init(struct lx_nl_msg *m, uint16_t type, uint16_t flags,
                    uint32_t seq, int ifindex, unsigned int ifi_flags,
                    unsigned int ifi_change);
/* Append an attribute (payload len bytes of data, padded to 4). */
void lx_nl_put(struct lx_nl_msg *m, uint16_t type, const void *data,
               size_t len);
void lx_nl_put_u32(struct lx_nl_msg *m, uint16_t type, uint32_t v);
void lx_nl_put_str(struct lx_nl_msg *m, uint16_t type, const char *s);
/* Open and close a nested attribute. */
void lx_nl_nest_begin(struct lx_nl_msg *m, uint16_t type);
void lx_nl_nest_end(struct lx_nl_msg *m);
/* 0, or ERR_INVALID if something did not fit (or nesting is unclosed);
 * sets nlmsg_len. */
int lx_nl_msg_finish(struct lx_nl_msg *m);

/* The requests. Each returns lx_nl_msg_finish's answer. */
/* RTM_NEWLINK, create-exclusive, kind "bridge", MTU mtu, set up. */
int lx_nl_build_newbridge(struct lx_nl_msg *m, uint32_t seq, const char *name,
                          int mtu);
/* RTM_GETLINK of one interface by name, or every interface (name NULL,
 * a dump). */
int lx_nl_build_getlink(struct lx_nl_msg *m, uint32_t seq, const char *name);
/* RTM_DELLINK of ifindex. */
int lx_nl_build_dellink(struct lx_nl_msg *m, uint32_t seq, int ifindex);

/* One interface from an RTM_NEWLINK message. */
struct lx_nl_link {
    int ifindex;
    char name[16];
    unsigned int flags; /* IFF_UP ... */
    int mtu;
    int master;    /* ifindex of the bridge it is a port of, 0 if none */
    char kind[16]; /* IFLA_INFO_KIND: "bridge", "vif" ... or "" */
};

/* Parse one netlink message (len bytes from msg, an nlmsghdr) that is
 * an RTM_NEWLINK into out. 0 or ERR_INVALID (short or another type). */
int lx_nl_parse_link(const void *msg, size_t len, struct lx_nl_link *out);

/* ---- operations on the host (need CAP_NET_ADMIN to change) ---- */

/* Send a finished request and wait for its ACK: 0 or an errno (the
 * kernel's answer, or ETIMEDOUT ...). */
int lx_nl_exec(struct lx_nl_msg *m);

/* hv_net_info: the interface named name, and how many ports it has. */
int lx_nl_bridge_info(const char *name, struct hv_bridge *out);
/* hv_net_create: ERR_EXISTS when the name is taken. */
int lx_nl_bridge_create(const char *name, int mtu);
/* hv_net_delete: ERR_NOTFOUND, or ERR_CONFLICT when it is no bridge or
 * has ports. */
int lx_nl_bridge_delete(const char *name);

#endif
