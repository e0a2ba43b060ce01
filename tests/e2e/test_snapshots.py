"""VM snapshots: take (a running VM is paused only around the clones),
list, revert restoring the disk bytes and the configuration, delete;
bad input and illegal states."""
from vmfixture import V1, VmEnv, expect_error

SIZE = 1 << 20
NOID = "00000000-0000-4000-8000-000000000000"


def setup():
    return VmEnv()


def teardown(env):
    env.cleanup()


def put_bytes(env, disk, data):
    r = env.c.post("%s/disks/%s/import" % (V1, disk), raw=data,
                   content_type="application/octet-stream")
    assert r.status in (200, 201), r


def get_bytes(env, disk):
    r = env.c.get("%s/disks/%s/export" % (V1, disk))
    assert r.status == 200, r
    return r.body


def test_snapshot_and_revert_restore_disk_bytes(env):
    disk = env.disk(SIZE)
    marker = b"xenith snapshot marker\n" + b"\x01" * 1000
    put_bytes(env, disk, marker)
    vm = env.vm(disk=disk)
    vid = vm["id"]
    env.action(vid, "start")

    r = env.c.post("%s/vms/%s/snapshots" % (V1, vid), {"name": "before"})
    assert r.status == 201, r
    snap = r.json
    assert snap["name"] == "before" and len(snap["id"]) == 36
    assert isinstance(snap["pause_ms"], int) and snap["pause_ms"] >= 0
    assert snap["config"]["vcpus"] == 1
    assert [d["device"] for d in snap["disks"]] == ["xvda"]
    clone = snap["disks"][0]["disk"]
    cd = env.c.get(V1 + "/disks/" + clone)
    assert cd.status == 200, cd
    src_name = env.c.get(V1 + "/disks/" + disk).json["name"]
    assert cd.json["name"] == src_name + "@before", cd
    assert env.get(vid)["state"] == "running"   # resumed after the clone

    r = env.c.get("%s/vms/%s/snapshots" % (V1, vid))
    assert r.status == 200 and [s["id"] for s in r.json] == [snap["id"]], r

    # Change the VM: disk bytes and configuration.
    env.action(vid, "destroy")
    put_bytes(env, disk, b"overwritten!" + b"\x02" * 2000)
    r = env.c.patch(V1 + "/vms/" + vid, {"vcpus": 4, "memory_mib": 512,
                                         "boot": {"type": "hvm"}})
    assert r.status == 200, r
    assert get_bytes(env, disk)[:12] == b"overwritten!"

    r = env.c.post("%s/vms/%s/snapshots/%s/revert" % (V1, vid, snap["id"]))
    assert r.status == 200, r
    v = r.json
    assert (v["vcpus"], v["memory_mib"], v["boot"]["type"]) == (1, 128,
                                                                 "pv"), v
    data = get_bytes(env, disk)
    assert data[:len(marker)] == marker
    assert len(data) == SIZE
    assert data[len(marker):len(marker) + 2000] == b"\0" * 2000
    # The VM still boots from the reverted disk.
    env.action(vid, "start")
    env.action(vid, "destroy")

    r = env.c.delete("%s/vms/%s/snapshots/%s" % (V1, vid, snap["id"]))
    assert r.status == 204, r
    assert env.c.get(V1 + "/disks/" + clone).status == 404
    assert env.c.get("%s/vms/%s/snapshots" % (V1, vid)).json == []


def test_revert_needs_a_halted_vm(env):
    vid = env.vm()["id"]
    r = env.c.post("%s/vms/%s/snapshots" % (V1, vid), {"name": "s"})
    assert r.status == 201, r
    assert r.json["pause_ms"] == 0     # halted: no pause
    sid = r.json["id"]
    env.action(vid, "start")
    url = "%s/vms/%s/snapshots/%s/revert" % (V1, vid, sid)
    expect_error(env.c.post(url), 409, message="vm is running")
    env.action(vid, "pause")
    expect_error(env.c.post(url), 409, message="vm is paused")
    env.action(vid, "destroy")
    assert env.c.post(url).status == 200


def test_snapshot_bad_input(env):
    vid = env.vm()["id"]
    url = "%s/vms/%s/snapshots" % (V1, vid)
    for body, field in (({}, "name"), ({"name": ""}, "name"),
                        ({"name": "x" * 65}, "name"),
                        ({"name": "a/b"}, "name"), ({"name": 3}, "name"),
                        ({"name": "ok", "extra": 1}, "extra")):
        expect_error(env.c.post(url, body), 400, field)
    expect_error(env.c.post(url, raw=b"{"), 400)
    assert env.c.get(url).json == []
    expect_error(env.c.post(V1 + "/vms/bad/snapshots", {"name": "s"}), 400,
                 "id")
    expect_error(env.c.post("%s/vms/%s/snapshots" % (V1, NOID),
                            {"name": "s"}), 404)
    expect_error(env.c.post("%s/%s/revert" % (url, NOID)), 404)
    expect_error(env.c.post("%s/nope/revert" % url), 400, "id")
    expect_error(env.c.delete("%s/%s" % (url, NOID)), 404)


def test_snapshot_of_another_vm_is_404(env):
    a = env.vm()["id"]
    b = env.vm()["id"]
    r = env.c.post("%s/vms/%s/snapshots" % (V1, a), {"name": "mine"})
    assert r.status == 201, r
    sid = r.json["id"]
    expect_error(env.c.post("%s/vms/%s/snapshots/%s/revert" % (V1, b, sid)),
                 404)
    expect_error(env.c.delete("%s/vms/%s/snapshots/%s" % (V1, b, sid)), 404)


def test_snapshot_holds_its_disks(env):
    vm = env.vm()
    vid = vm["id"]
    r = env.c.post("%s/vms/%s/snapshots" % (V1, vid), {"name": "keep"})
    clone = r.json["disks"][0]["disk"]
    # A snapshot's clone cannot be deleted directly.
    assert env.c.delete(V1 + "/disks/" + clone).status == 409
    # Deleting the VM drops its snapshots; the clones stay as disks.
    assert env.c.delete(V1 + "/vms/" + vid).status == 204
    assert env.c.get(V1 + "/disks/" + clone).status == 200
