"""Networks: create, list, get, delete; bad bridge names and MTUs; 409
for a taken name or bridge. Each network is a bridge made through the
driver (the test driver's pretend host here, never the real one);
test_network_bridges.py covers adopting, ownership and restarts."""
from xenith_client import Daemon

NETS = "/api/v1/networks"


def setup():
    d = Daemon().start()
    return {"d": d, "c": d.admin()}


def teardown(ctx):
    ctx["d"].cleanup()


def test_create_list_get_delete(ctx):
    c = ctx["c"]
    r = c.post(NETS, {"name": "lan", "bridge": "xenbr7"})
    assert r.status == 201, r
    n = r.json
    assert len(n["id"]) == 36 and n["mtu"] == 1500, n
    assert n["bridge"] == "xenbr7" and n["bridge_exists"] is True, n
    assert n["bridge_owned"] is True, n
    r = c.post(NETS, {"name": "jumbo", "bridge": "xenbr8", "mtu": 9000})
    assert r.status == 201 and r.json["mtu"] == 9000, r
    assert r.json["bridge_exists"] is True, r
    names = [x["name"] for x in c.get(NETS).json]
    assert "lan" in names and "jumbo" in names
    r = c.get(NETS + "/" + n["id"])
    assert r.status == 200 and r.json["name"] == "lan", r
    assert c.delete(NETS + "/" + n["id"]).status == 204
    assert c.get(NETS + "/" + n["id"]).status == 404
    assert c.delete(NETS + "/" + n["id"]).status == 404
    assert c.delete(NETS + "/" + r.json["id"]).status == 404


def test_bad_input_names_the_field_and_changes_nothing(ctx):
    c = ctx["c"]
    before = c.get(NETS).json
    good = {"name": "x", "bridge": "xenbr1"}
    cases = [
        (dict(good, bridge="."), "bridge"),
        (dict(good, bridge=".."), "bridge"),
        (dict(good, bridge=""), "bridge"),
        (dict(good, bridge="b" * 16), "bridge"),
        (dict(good, bridge="br 0"), "bridge"),
        (dict(good, bridge="br/0"), "bridge"),
        (dict(good, bridge=5), "bridge"),
        (dict(good, mtu=67), "mtu"),
        (dict(good, mtu=65536), "mtu"),
        (dict(good, mtu="1500"), "mtu"),
        (dict(good, name="n" * 65), "name"),
        (dict(good, vlan=3), "vlan"),
        ({"bridge": "xenbr1"}, "name"),
    ]
    for body, field in cases:
        r = c.post(NETS, body)
        assert r.status == 400, (body, r)
        assert r.json["error"]["field"] == field, (body, r)
    r = c.post(NETS, raw=b"[1,", content_type="application/json")
    assert r.status == 400 and r.json["error"]["code"] == "bad_json", r
    assert c.get(NETS + "/zz").json["error"]["field"] == "id"
    assert c.get(NETS).json == before


def test_taken_name_or_bridge_is_409(ctx):
    c = ctx["c"]
    r = c.post(NETS, {"name": "dmz", "bridge": "xenbr2"})
    assert r.status == 201, r
    r = c.post(NETS, {"name": "dmz", "bridge": "xenbr3"})
    assert r.status == 409 and r.json["error"]["field"] == "name", r
    r = c.post(NETS, {"name": "dmz2", "bridge": "xenbr2"})
    assert r.status == 409 and r.json["error"]["field"] == "bridge", r
