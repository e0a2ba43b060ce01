"""VMs: create, read, list with filters, change, delete; bad input answers
400 naming the field and changes nothing; references are checked."""
import time

from vmfixture import V1, VmEnv, expect_error

NOID = "00000000-0000-4000-8000-000000000000"


def setup():
    return VmEnv()


def teardown(env):
    env.cleanup()


def vm_count(env):
    return len(env.c.get(V1 + "/vms").json)


def test_create_returns_201_with_the_object(env):
    disk = env.disk()
    body = env.vm_body(name="web", disk=disk, tags=["prod", "web"],
                       description="front end")
    r = env.c.post(V1 + "/vms", body)
    assert r.status == 201, r
    vm = r.json
    assert len(vm["id"]) == 36
    assert vm["name"] == "web" and vm["state"] == "halted"
    assert vm["vcpus"] == 1 and vm["memory_mib"] == 128
    assert vm["boot"] == {"type": "pv", "kernel": "/boot/vmlinuz",
                          "ramdisk": "", "cmdline": ""}
    assert vm["disks"] == [{"disk": disk, "device": "xvda", "mode": "rw"}]
    assert vm["nics"][0]["network"] == env.net
    assert vm["nics"][0]["mac"].startswith("00:16:3e:")
    assert vm["tags"] == ["prod", "web"]
    assert vm["description"] == "front end"
    assert vm["domid"] is None
    assert vm["created_at"].endswith("Z") and vm["updated_at"].endswith("Z")
    assert env.get(vm["id"]) == vm
    # The disk shows the attachment.
    d = env.c.get(V1 + "/disks/" + disk).json
    assert vm["id"] in str(d), d


def test_hvm_with_cdrom_and_given_mac(env):
    cd = env.disk()
    r = env.c.post(V1 + "/vms", {
        "name": "installer", "vcpus": 2, "memory_mib": 1024,
        "boot": {"type": "hvm", "cdrom": cd},
        "nics": [{"network": env.net, "mac": "00:16:3E:12:34:56"}]})
    assert r.status == 201, r
    assert r.json["boot"] == {"type": "hvm", "cdrom": cd}
    assert r.json["nics"][0]["mac"] == "00:16:3e:12:34:56"
    # The MAC is taken now.
    r = env.c.post(V1 + "/vms", {
        "name": "other", "vcpus": 1, "memory_mib": 64,
        "boot": {"type": "hvm"},
        "nics": [{"network": env.net, "mac": "00:16:3e:12:34:56"}]})
    expect_error(r, 409, "nics")


BAD = [
    # (body changes, field)
    ({"name": ""}, "name"),
    ({"name": "x" * 65}, "name"),
    ({"name": "bad/name"}, "name"),
    ({"name": 5}, "name"),
    ({"vcpus": 0}, "vcpus"),
    ({"vcpus": 129}, "vcpus"),
    ({"vcpus": "2"}, "vcpus"),
    ({"memory_mib": 8}, "memory_mib"),
    ({"memory_mib": 2 ** 40}, "memory_mib"),
    ({"memory_mib": None}, "memory_mib"),
    ({"boot": {"type": "bios"}}, "boot"),
    ({"boot": {"type": "pv", "kernel": "relative"}}, "boot"),
    ({"boot": {"type": "pv", "kernel": "/k", "cmdline": "x" * 1025}}, "boot"),
    ({"boot": {"type": "hvm", "cdrom": "not-a-uuid"}}, "boot"),
    ({"boot": {"type": "hvm", "cdrom": NOID}}, "boot"),
    ({"disks": [{"disk": NOID, "device": "xvda"}]}, "disks"),
    ({"disks": [{"disk": "nope", "device": "xvda"}]}, "disks"),
    ({"disks": "xvda"}, "disks"),
    ({"nics": [{"network": NOID}]}, "nics"),
    ({"nics": [{"network": "lan"}]}, "nics"),
    ({"tags": ["x" * 33]}, "tags"),
    ({"tags": ["t"] * 33}, "tags"),
    ({"tags": [1]}, "tags"),
    ({"description": "x" * 1025}, "description"),
    ({"state": "running"}, "state"),
    ({"id": NOID}, "id"),
    ({"bogus": 1}, "bogus"),
]


def test_bad_input_names_the_field_and_changes_nothing(env):
    before = vm_count(env)
    disk = env.disk()
    for change, field in BAD:
        body = env.vm_body(disk=disk)
        body.update(change)
        r = env.c.post(V1 + "/vms", body)
        expect_error(r, 400, field)
    for missing in ("name", "vcpus", "memory_mib"):
        body = env.vm_body(disk=disk)
        del body[missing]
        expect_error(env.c.post(V1 + "/vms", body), 400, missing)
    many = env.vm_body(disk=disk)
    many["disks"] = [{"disk": disk, "device": "xvd" + chr(97 + i)}
                     for i in range(17)]
    expect_error(env.c.post(V1 + "/vms", many), 400, "disks")
    many = env.vm_body(disk=disk)
    many["nics"] = [{"network": env.net}] * 9
    expect_error(env.c.post(V1 + "/vms", many), 400, "nics")
    dup = env.vm_body(disk=disk)
    dup["disks"] = [{"disk": disk, "device": "xvda"},
                    {"disk": env.disk(), "device": "xvda"}]
    expect_error(env.c.post(V1 + "/vms", dup), 400, "disks")
    # Malformed JSON, not an object, wrong content type.
    r = env.c.post(V1 + "/vms", raw=b'{"name":')
    expect_error(r, 400)
    assert r.json["error"]["code"] == "bad_json", r
    expect_error(env.c.post(V1 + "/vms", raw=b"[]"), 400)
    r = env.c.post(V1 + "/vms", raw=b"{}", content_type="text/plain")
    assert r.status == 415, r
    assert vm_count(env) == before
    # The disk is still free: a good create takes it.
    env.vm(disk=disk)
    # boot defaults to HVM without install media.
    r = env.c.post(V1 + "/vms", {"name": "bare", "vcpus": 1,
                                 "memory_mib": 64})
    assert r.status == 201, r
    assert r.json["boot"] == {"type": "hvm", "cdrom": None}, r


def test_disk_of_another_vm_is_409(env):
    disk = env.disk()
    env.vm(disk=disk)
    before = vm_count(env)
    expect_error(env.c.post(V1 + "/vms", env.vm_body(disk=disk)), 409,
                 "disks")
    assert vm_count(env) == before


def test_get_bad_and_unknown_ids(env):
    expect_error(env.c.get(V1 + "/vms/nope"), 400, "id")
    expect_error(env.c.get(V1 + "/vms/" + NOID), 404)
    expect_error(env.c.patch(V1 + "/vms/" + NOID, {"name": "x"}), 404)
    expect_error(env.c.delete(V1 + "/vms/" + NOID), 404)


def test_list_filters(env):
    a = env.vm(tags=["blue"])
    b = env.vm(tags=["green", "blue"])
    c = env.vm(tags=["green"])
    ids = lambda r: {v["id"] for v in r.json}
    r = env.c.get(V1 + "/vms?tag=blue")
    assert r.status == 200, r
    assert {a["id"], b["id"]} <= ids(r) and c["id"] not in ids(r)
    r = env.c.get(V1 + "/vms?tag=green&state=halted")
    assert {b["id"], c["id"]} <= ids(r) and a["id"] not in ids(r)
    assert env.c.get(V1 + "/vms?state=running").json == []
    expect_error(env.c.get(V1 + "/vms?state=exploded"), 400, "state")
    for v in env.c.get(V1 + "/vms").json:
        assert set(v) >= {"id", "name", "state", "vcpus", "memory_mib",
                          "boot", "disks", "nics", "tags"}


def test_patch(env):
    disk, disk2 = env.disk(), env.disk()
    vm = env.vm(disk=disk)
    url = V1 + "/vms/" + vm["id"]
    r = env.c.patch(url, {"name": "renamed", "tags": ["x"],
                          "description": "new", "vcpus": 4,
                          "memory_mib": 2048})
    assert r.status == 200, r
    v = r.json
    assert (v["name"], v["tags"], v["description"], v["vcpus"],
            v["memory_mib"]) == ("renamed", ["x"], "new", 4, 2048)
    assert v["disks"] == vm["disks"] and v["nics"] == vm["nics"]
    # Bad input changes nothing (the good name in the same body neither).
    for change, field in BAD[:14]:
        body = {"name": "should-not-stick"}
        body.update(change)
        expect_error(env.c.patch(url, body), 400, field)
    expect_error(env.c.patch(url, {"disks": [{"disk": NOID,
                                              "device": "xvda"}]}),
                 400, "disks")
    assert env.get(vm["id"])["name"] == "renamed"
    # Swap disks while halted; the old one is free again.
    r = env.c.patch(url, {"disks": [{"disk": disk2, "device": "xvdb",
                                     "mode": "ro"}],
                          "nics": []})
    assert r.status == 200, r
    assert r.json["disks"] == [{"disk": disk2, "device": "xvdb",
                                "mode": "ro"}]
    assert r.json["nics"] == []
    env.vm(disk=disk)


def test_delete_detaches_disks(env):
    disk = env.disk()
    vm = env.vm(disk=disk)
    r = env.c.delete(V1 + "/vms/" + vm["id"])
    assert r.status == 204, r
    assert not r.body
    expect_error(env.c.get(V1 + "/vms/" + vm["id"]), 404)
    # The disk survives and can be deleted now.
    assert env.c.get(V1 + "/disks/" + disk).status == 200
    assert env.c.delete(V1 + "/disks/" + disk).status == 204


def test_disk_attached_cannot_be_deleted(env):
    disk = env.disk()
    env.vm(disk=disk)
    assert env.c.delete(V1 + "/disks/" + disk).status == 409


def test_list_is_fast_with_many_vms(env):
    for i in range(200):
        r = env.c.post(V1 + "/vms", {"name": "bulk%d" % i, "vcpus": 1,
                                     "memory_mib": 64,
                                     "boot": {"type": "hvm"},
                                     "nics": [{"network": env.net}]})
        assert r.status == 201, r
    t0 = time.time()
    r = env.c.get(V1 + "/vms")
    took = time.time() - t0
    assert r.status == 200 and len(r.json) >= 200, r
    assert took < 1.0, took


def test_demo_content_on_first_start_only(env):
    import os
    from xenith_client import Daemon
    d = Daemon(extra_args=["--demo"]).start()
    try:
        c = d.admin()
        vms = sorted(c.get(V1 + "/vms").json, key=lambda v: v["name"])
        assert [(v["name"], v["state"]) for v in vms] == [
            ("demo-1", "running"), ("demo-2", "halted"),
            ("demo-3", "halted")], vms
        assert all(v["boot"]["kernel"] == "/boot/vmlinuz-demo" for v in vms)
        srs = c.get(V1 + "/srs").json
        assert [(s["name"], s["path"]) for s in srs] == [
            ("demo", os.path.join(d.data, "srs", "demo"))], srs
        nets = c.get(V1 + "/networks").json
        assert [(n["name"], n["bridge"]) for n in nets] == [
            ("demo-net", "xenbr0")], nets
        disks = c.get(V1 + "/disks").json
        assert len(disks) == 3 and all(k["size_bytes"] == 1 << 30
                                       for k in disks), disks
        heads = []
        for name in os.listdir(srs[0]["path"]):
            with open(os.path.join(srs[0]["path"], name), "rb") as f:
                heads.append(f.read(16))
        assert heads.count(b"xenith demo disk") == 1, heads
        d.stop()
        # A second start adds nothing.
        d2 = Daemon(data=d.data, extra_args=["--demo"]).start()
        c = d2.admin()
        assert len(c.get(V1 + "/vms").json) == 3
        assert len(c.get(V1 + "/srs").json) == 1
        d2.stop()
    finally:
        d.cleanup()
    # Without the flag: nothing.
    d = Daemon().start()
    try:
        assert d.admin().get(V1 + "/vms").json == []
    finally:
        d.cleanup()


def test_list_follows_every_change_at_once(env):
    """GET /vms is served from a cache: each change must show at once."""
    def names():
        return sorted(v["name"] for v in env.c.get(V1 + "/vms").json)

    r = env.c.post(V1 + "/vms", env.vm_body(name="cache-a"))
    assert r.status == 201, r
    vid = r.json["id"]
    assert "cache-a" in names()
    assert names() == names()  # a second read, from the cache, agrees
    r = env.c.patch(V1 + "/vms/" + vid, {"name": "cache-b"})
    assert r.status == 200, r
    now = names()
    assert "cache-b" in now and "cache-a" not in now
    r = env.c.post(V1 + "/vms/" + vid + "/start")
    assert r.status == 202, r
    env.c.wait_task(r.json["id"])
    listed = [v for v in env.c.get(V1 + "/vms").json if v["id"] == vid]
    assert listed[0]["state"] == "running", listed
    r = env.c.post(V1 + "/vms/" + vid + "/destroy")
    env.c.wait_task(r.json["id"])
    assert env.c.delete(V1 + "/vms/" + vid).status == 204
    assert "cache-b" not in names()
