"""Networks and their bridges on the test driver's pretend host (the URI
gives it two bridges that exist before xenith: br-pre and br-old): POST
creates a bridge (bridge_owned) or adopts one that is there; DELETE
removes only a bridge xenith made; a non-bridge interface or an MTU that
disagrees with an adopted bridge is 409 and changes nothing; the bridges
xenith made come back after a restart; a network in use is not
deleted."""
from xenith_client import Daemon

NETS = "/api/v1/networks"
URI = "test:///default?bridges=br-pre,br-old"


def start(data=None):
    return Daemon(extra_args=["--hv", URI], data=data).start()


def setup():
    d = start()
    return {"d": d, "c": d.admin()}


def teardown(ctx):
    ctx["d"].cleanup()


def net(c, name):
    return [n for n in c.get(NETS).json if n["name"] == name][0]


def test_create_makes_the_bridge_and_delete_removes_it(ctx):
    c = ctx["c"]
    r = c.post(NETS, {"name": "made", "bridge": "xnb0", "mtu": 9000})
    assert r.status == 201, r
    assert r.json["bridge_owned"] is True and r.json["bridge_exists"], r
    assert r.json["mtu"] == 9000, r
    assert net(c, "made")["bridge_exists"] is True
    assert c.delete(NETS + "/" + r.json["id"]).status == 204
    # the bridge went with it: a new network on that name makes it again
    r = c.post(NETS, {"name": "made2", "bridge": "xnb0"})
    assert r.status == 201 and r.json["bridge_owned"] is True, r
    assert c.delete(NETS + "/" + r.json["id"]).status == 204


def test_adopt_an_existing_bridge_and_leave_it_on_delete(ctx):
    c = ctx["c"]
    before = c.get(NETS).json
    r = c.post(NETS, {"name": "pre", "bridge": "br-pre", "mtu": 9000})
    assert r.status == 409 and r.json["error"]["field"] == "mtu", r
    assert "exists with MTU 1500" in r.json["error"]["message"], r
    assert c.get(NETS).json == before
    r = c.post(NETS, {"name": "pre", "bridge": "br-pre"})
    assert r.status == 201, r
    assert r.json["bridge_owned"] is False and r.json["bridge_exists"], r
    assert r.json["mtu"] == 1500, r
    assert c.delete(NETS + "/" + r.json["id"]).status == 204
    # still there: adopted again, not made
    r = c.post(NETS, {"name": "pre", "bridge": "br-pre", "mtu": 1500})
    assert r.status == 201 and r.json["bridge_owned"] is False, r
    assert c.delete(NETS + "/" + r.json["id"]).status == 204


def test_an_interface_that_is_no_bridge_is_409(ctx):
    c = ctx["c"]
    before = c.get(NETS).json
    r = c.post(NETS, {"name": "loop", "bridge": "lo"})
    assert r.status == 409 and r.json["error"]["field"] == "bridge", r
    assert "lo exists and is not a bridge" in r.json["error"]["message"], r
    assert c.get(NETS).json == before


def test_a_network_in_use_is_not_deleted(ctx):
    c = ctx["c"]
    r = c.post(NETS, {"name": "used", "bridge": "xnb1"})
    assert r.status == 201, r
    nid = r.json["id"]
    r = c.post("/api/v1/vms", {"name": "nicvm", "vcpus": 1,
                               "memory_mib": 64,
                               "boot": {"type": "pv", "kernel": "/k"},
                               "nics": [{"network": nid}]})
    assert r.status == 201, r
    vid = r.json["id"]
    r = c.delete(NETS + "/" + nid)
    assert r.status == 409 and "used by 1 VM NIC" in r.json["error"]["message"]
    assert net(c, "used")["bridge_exists"] is True
    assert c.delete("/api/v1/vms/" + vid).status == 204
    assert c.delete(NETS + "/" + nid).status == 204


def test_made_bridges_come_back_after_a_restart(ctx):
    d, c = ctx["d"], ctx["c"]
    r = c.post(NETS, {"name": "keep", "bridge": "xnb2", "mtu": 4000})
    assert r.status == 201 and r.json["bridge_owned"] is True, r
    r = c.post(NETS, {"name": "old", "bridge": "br-old"})
    assert r.status == 201 and r.json["bridge_owned"] is False, r
    d.stop()
    # a fresh test driver knows only lo, br-pre and br-old: xnb2 exists
    # again only because xenithd made it at start
    d2 = start(data=d.data)
    try:
        c2 = d2.admin()
        keep, old = net(c2, "keep"), net(c2, "old")
        assert keep["bridge_exists"] is True and keep["mtu"] == 4000, keep
        assert keep["bridge_owned"] is True, keep
        assert old["bridge_exists"] is True, old
        assert old["bridge_owned"] is False, old
        assert "bridge xnb2 created again" in d2.read_log()
    finally:
        d2.stop()
    ctx["d"] = start(data=d.data)
    ctx["d"].own_data = True  # teardown removes the data dir
    ctx["c"] = ctx["d"].admin()
