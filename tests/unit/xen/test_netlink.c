/* xen/libxl/netlink.c: the rtnetlink requests byte for byte, the parser
 * on messages built here, and (when this process may make its own
 * network namespace: root, or unprivileged user namespaces) the bridge
 * operations against the real kernel in a fresh, empty namespace, which
 * never touches the host's interfaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>

#include <cmocka.h>

#include "common/err.h"
#include "xen/hv.h"
#include "xen/libxl/netlink.h"

static void test_newbridge_bytes(void **state)
{
    /* little-endian x86: the golden request of `ip link add br-x mtu
     * 9000 up type bridge` */
    static const unsigned char want[] = {
        /* nlmsghdr: len 68, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 7 */
        68, 0, 0, 0, 16, 0, 0x05, 0x06, 7, 0, 0, 0, 0, 0, 0, 0,
        /* ifinfomsg: AF_UNSPEC, index 0, flags IFF_UP, change IFF_UP */
        0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
        /* IFLA_IFNAME "br-x" */
        9, 0, 3, 0, 'b', 'r', '-', 'x', 0, 0, 0, 0,
        /* IFLA_MTU 9000 */
        8, 0, 4, 0, 0x28, 0x23, 0, 0,
        /* IFLA_LINKINFO { IFLA_INFO_KIND "bridge" } */
        16, 0, 18, 0, 11, 0, 1, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0
    };
    struct lx_nl_msg m;

    (void)state;
    assert_int_equal(lx_nl_build_newbridge(&m, 7, "br-x", 9000), 0);
    assert_int_equal(m.len, sizeof(want));
    assert_memory_equal(m.buf, want, sizeof(want));
}

static void test_getlink_dellink(void **state)
{
    const struct nlmsghdr *h;
    const struct ifinfomsg *ifi;
    struct lx_nl_msg m;

    (void)state;
    h = (const struct nlmsghdr *)m.buf;
    ifi = NLMSG_DATA(h);

    assert_int_equal(lx_nl_build_getlink(&m, 3, NULL), 0);
    assert_int_equal(h->nlmsg_len, NLMSG_LENGTH(sizeof(*ifi)));
    assert_int_equal(h->nlmsg_type, RTM_GETLINK);
    assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    assert_int_equal(h->nlmsg_seq, 3);

    assert_int_equal(lx_nl_build_getlink(&m, 4, "xenbr0"), 0);
    assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    /* header, ifinfomsg, IFLA_IFNAME "xenbr0\0" (4 + 7, padded to 12) */
    assert_int_equal(h->nlmsg_len, 16 + 16 + 12);
    assert_string_equal((const char *)m.buf + 36, "xenbr0");

    assert_int_equal(lx_nl_build_dellink(&m, 5, 42), 0);
    assert_int_equal(h->nlmsg_type, RTM_DELLINK);
    assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
    assert_int_equal(ifi->ifi_index, 42);
    assert_int_equal(h->nlmsg_len, 32);
}

static void test_bad_input(void **state)
{
    static char big[LX_NL_MSG_MAX];
    struct lx_nl_msg m;

    (void)state;
    assert_int_equal(lx_nl_build_newbridge(&m, 1, "", 1500), ERR_INVALID);
    assert_int_equal(lx_nl_build_newbridge(&m, 1, "b234567890123456", 1500),
                     ERR_INVALID);
    assert_int_equal(lx_nl_build_newbridge(&m, 1, "br0", 67), ERR_INVALID);
    assert_int_equal(lx_nl_build_newbridge(&m, 1, "br0", 65536), ERR_INVALID);
    assert_int_equal(lx_nl_build_getlink(&m, 1, ""), ERR_INVALID);
    assert_int_equal(lx_nl_build_newbridge(&m, 1, "b23456789012345", 65535), 0);

    lx_nl_msg_init(&m, RTM_NEWLINK, NLM_F_REQUEST, 1, 0, 0, 0);
    lx_nl_put(&m, IFLA_IFALIAS, big, sizeof(big));
    assert_int_equal(lx_nl_msg_finish(&m), ERR_INVALID);

    lx_nl_msg_init(&m, RTM_NEWLINK, NLM_F_REQUEST, 1, 0, 0, 0);
    lx_nl_nest_begin(&m, IFLA_LINKINFO);
    assert_int_equal(lx_nl_msg_finish(&m), ERR_INVALID);

    lx_nl_msg_init(&m, RTM_NEWLINK, NLM_F_REQUEST, 1, 0, 0, 0);
    lx_nl_nest_end(&m);
    assert_int_equal(lx_nl_msg_finish(&m), ERR_INVALID);
}

static void test_parse_link(void **state)
{
    struct lx_nl_link l;
    struct lx_nl_msg m;

    (void)state;
    lx_nl_msg_init(&m, RTM_NEWLINK, 0, 9, 17, IFF_UP | IFF_BROADCAST, 0);
    lx_nl_put_str(&m, IFLA_IFNAME, "vif3.0");
    lx_nl_put_u32(&m, IFLA_MTU, 1500);
    lx_nl_put_u32(&m, IFLA_MASTER, 4);
    lx_nl_nest_begin(&m, IFLA_LINKINFO | NLA_F_NESTED);
    lx_nl_put_str(&m, IFLA_INFO_KIND, "vif");
    lx_nl_nest_end(&m);
    assert_int_equal(lx_nl_msg_finish(&m), 0);

    assert_int_equal(lx_nl_parse_link(m.buf, m.len, &l), 0);
    assert_int_equal(l.ifindex, 17);
    assert_string_equal(l.name, "vif3.0");
    assert_int_equal(l.mtu, 1500);
    assert_int_equal(l.master, 4);
    assert_string_equal(l.kind, "vif");
    assert_true(l.flags & IFF_UP);

    /* truncated, or not a link */
    assert_int_equal(lx_nl_parse_link(m.buf, m.len - 1, &l), ERR_INVALID);
    assert_int_equal(lx_nl_parse_link(m.buf, 8, &l), ERR_INVALID);
    ((struct nlmsghdr *)m.buf)->nlmsg_type = RTM_NEWADDR;
    assert_int_equal(lx_nl_parse_link(m.buf, m.len, &l), ERR_INVALID);
}

/* A port for the bridge: a veth pair (the kernel names the peer) with
 * one end enslaved. 0 or an errno. */
static int add_port(const char *name, const char *bridge)
{
    struct lx_nl_msg m;

    lx_nl_msg_init(&m, RTM_NEWLINK,
                   NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 99, 0,
                   0, 0);
    lx_nl_put_str(&m, IFLA_IFNAME, name);
    lx_nl_put_u32(&m, IFLA_MASTER, if_nametoindex(bridge));
    lx_nl_nest_begin(&m, IFLA_LINKINFO);
    lx_nl_put_str(&m, IFLA_INFO_KIND, "veth");
    lx_nl_nest_end(&m);
    assert_int_equal(lx_nl_msg_finish(&m), 0);
    return lx_nl_exec(&m);
}

static void test_bridges_in_a_netns(void **state)
{
    struct lx_nl_msg m;
    struct hv_bridge b;

    (void)state;
    if (unshare(CLONE_NEWNET) && unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
        print_message("no network namespace here: live part skipped\n");
        skip();
    }
    assert_int_equal(lx_nl_bridge_info("xnbr0", &b), 0);
    assert_int_equal(b.exists, 0);
    assert_int_equal(lx_nl_bridge_delete("xnbr0"), ERR_NOTFOUND);

    assert_int_equal(lx_nl_bridge_create("xnbr0", 9000), 0);
    assert_int_equal(lx_nl_bridge_info("xnbr0", &b), 0);
    assert_true(b.exists && b.is_bridge && b.up);
    assert_int_equal(b.mtu, 9000);
    assert_int_equal(b.num_ports, 0);
    assert_int_equal(lx_nl_bridge_create("xnbr0", 1500), ERR_EXISTS);
    assert_int_equal(lx_nl_bridge_create("lo", 1500), ERR_EXISTS);

    assert_int_equal(lx_nl_bridge_info("lo", &b), 0);
    assert_true(b.exists && !b.is_bridge);
    assert_int_equal(lx_nl_bridge_delete("lo"), ERR_CONFLICT);

    if (add_port("xnport0", "xnbr0") == 0) {
        assert_int_equal(lx_nl_bridge_info("xnbr0", &b), 0);
        assert_int_equal(b.num_ports, 1);
        assert_int_equal(lx_nl_bridge_delete("xnbr0"), ERR_CONFLICT);
        assert_non_null(strstr(hv_last_error(), "1 port in use"));
        assert_int_equal(lx_nl_bridge_info("xnport0", &b), 0);
        assert_true(b.exists && !b.is_bridge);
        /* deleting one end of a veth pair removes both */
        assert_int_equal(
            lx_nl_build_dellink(&m, 100, (int)if_nametoindex("xnport0")), 0);
        assert_int_equal(lx_nl_exec(&m), 0);
        assert_int_equal(lx_nl_bridge_info("xnbr0", &b), 0);
        assert_int_equal(b.num_ports, 0);
    } else {
        print_message("no veth in this kernel: the port check skipped\n");
    }
    assert_int_equal(lx_nl_bridge_delete("xnbr0"), 0);
    assert_int_equal(lx_nl_bridge_info("xnbr0", &b), 0);
    assert_int_equal(b.exists, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newbridge_bytes),
        cmocka_unit_test(test_getlink_dellink),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_parse_link),
        cmocka_unit_test(test_bridges_in_a_netns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
