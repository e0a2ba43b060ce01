"""VM power actions as tasks: every action and the state it leaves in GET
/vms/{id} and in the task result; illegal transitions answer 409 naming
the state; the shutdown timeout; one task per VM; live changes; stats. (Guest-initiated changes through the driver's events are
covered by tests/unit/vms/test_api_vms.c.)"""
import os
import time

from vmfixture import V1, VmEnv, expect_error


def setup():
    return VmEnv()


def teardown(env):
    env.cleanup()


def test_full_cycle(env):
    vm = env.vm()
    vid = vm["id"]
    t = env.action(vid, "start")
    assert t["target"] == {"type": "vm", "id": vid}, t
    assert t["result"]["state"] == "running", t
    assert t["user"] == "admin", t
    v = env.get(vid)
    assert v["state"] == "running" and isinstance(v["domid"], int), v
    for action, state in (("pause", "paused"), ("resume", "running"),
                          ("reboot", "running"), ("suspend", "suspended"),
                          ("resume", "running"), ("shutdown", "halted"),
                          ("start", "running"), ("destroy", "halted")):
        t = env.action(vid, action)
        assert t["result"]["state"] == state, (action, t)
        v = env.get(vid)
        assert v["state"] == state, (action, v)
        if state == "halted" or state == "suspended":
            assert v["domid"] is None, v


def test_illegal_transitions_name_the_state(env):
    vid = env.vm()["id"]
    for action in ("shutdown", "reboot", "pause", "resume", "suspend",
                   "destroy"):
        r = env.c.post("%s/vms/%s/%s" % (V1, vid, action))
        expect_error(r, 409, message="vm is halted")
    env.action(vid, "start")
    for action in ("start", "resume"):
        expect_error(env.c.post("%s/vms/%s/%s" % (V1, vid, action)), 409,
                     message="vm is running")
    env.action(vid, "pause")
    for action in ("pause", "shutdown", "reboot", "start"):
        expect_error(env.c.post("%s/vms/%s/%s" % (V1, vid, action)), 409,
                     message="vm is paused")
    env.action(vid, "suspend")
    expect_error(env.c.post("%s/vms/%s/start" % (V1, vid)), 409,
                 message="use resume")
    for action in ("pause", "shutdown", "suspend"):
        expect_error(env.c.post("%s/vms/%s/%s" % (V1, vid, action)), 409,
                     message="vm is suspended")
    # Destroying a suspended VM drops its state file.
    sfile = os.path.join(env.sr_path, vid + ".suspend")
    assert os.path.exists(sfile)
    env.action(vid, "destroy")
    assert env.get(vid)["state"] == "halted"
    assert not os.path.exists(sfile)


def test_suspend_file_in_the_sr(env):
    vid = env.vm()["id"]
    env.action(vid, "start")
    env.action(vid, "suspend")
    sfile = os.path.join(env.sr_path, vid + ".suspend")
    assert os.path.exists(sfile)
    # A suspended VM may be deleted: its state file goes with it.
    r = env.c.delete(V1 + "/vms/" + vid)
    assert r.status == 204, r
    assert not os.path.exists(sfile)


def test_action_body_rules(env):
    vid = env.vm()["id"]
    url = "%s/vms/%s/start" % (V1, vid)
    expect_error(env.c.post(url, {"timeout_s": 5}), 400, "timeout_s")
    expect_error(env.c.post(url, raw=b"[1]"), 400)
    expect_error(env.c.post(url, raw=b"{nope"), 400)
    assert env.get(vid)["state"] == "halted"
    env.action(vid, "start", body={})
    url = "%s/vms/%s/shutdown" % (V1, vid)
    for bad in ({"timeout_s": 0}, {"timeout_s": 3601}, {"timeout_s": "5"},
                {"timeout_s": 1, "force": True}):
        r = env.c.post(url, bad)
        assert r.status == 400, (bad, r)
        assert r.json["error"]["field"] in ("timeout_s", "force"), r
    assert env.get(vid)["state"] == "running"
    env.action(vid, "shutdown", body={"timeout_s": 30})
    expect_error(env.c.post(V1 + "/vms/nope/start"), 400, "id")
    expect_error(env.c.post(V1 + "/vms/00000000-0000-4000-8000-"
                            "000000000000/start"), 404)


def test_shutdown_timeout_leaves_it_running(env):
    vid = env.vm(cmdline="quiet xenith.ignore_shutdown")["id"]
    env.action(vid, "start")
    t = env.action(vid, "shutdown", body={"timeout_s": 1},
                   expect="failure")
    assert "timeout" in t["error"]["message"], t
    assert env.get(vid)["state"] == "running"
    # One power task per VM at a time.
    r = env.c.post("%s/vms/%s/shutdown" % (V1, vid), {"timeout_s": 2})
    assert r.status == 202, r
    r2 = env.c.post("%s/vms/%s/destroy" % (V1, vid))
    expect_error(r2, 409, message="a task is already running for this vm")
    t = env.c.wait_task(r.json["id"])
    assert t["status"] == "failure", t
    env.action(vid, "destroy")
    assert env.get(vid)["state"] == "halted"


def test_live_changes_and_halted_only_fields(env):
    vid = env.vm()["id"]
    env.action(vid, "start")
    url = V1 + "/vms/" + vid
    r = env.c.patch(url, {"vcpus": 2, "memory_mib": 256, "name": "live"})
    assert r.status == 200, r
    assert (r.json["vcpus"], r.json["memory_mib"]) == (2, 256), r
    # disks and nics change live (test_vm_hotplug.py); boot does not
    r = env.c.patch(url, {"boot": {"type": "hvm"}})
    expect_error(r, 409, field="state",
                 message="vm is running: boot changes only while halted")
    expect_error(env.c.delete(url), 409, message="vm is running")
    v = env.get(vid)
    assert v["boot"]["type"] == "pv" and len(v["disks"]) == 1, v
    env.action(vid, "destroy")


def test_stats(env):
    vid = env.vm()["id"]
    expect_error(env.c.get("%s/vms/%s/stats" % (V1, vid)), 409,
                 message="vm is halted")
    env.action(vid, "start")
    r = env.c.get("%s/vms/%s/stats" % (V1, vid))
    assert r.status == 200, r
    for k in ("cpu_pct", "memory_bytes", "memory_max_bytes", "disk_read_bps",
              "disk_write_bps", "net_rx_bps", "net_tx_bps",
              "disk_read_bytes", "disk_write_bytes", "net_rx_bytes",
              "net_tx_bytes"):
        assert isinstance(r.json[k], (int, float)), (k, r.json)
    assert r.json["memory_max_bytes"] > 0
    env.action(vid, "destroy")


def test_start_failure_reports_the_driver_error(env):
    disk = env.disk()
    vid = env.vm(disk=disk)["id"]
    # The image vanishes behind the daemon's back: the driver refuses.
    d = env.c.get(V1 + "/disks/" + disk).json
    path = [p for p in (os.path.join(env.sr_path, f)
                        for f in os.listdir(env.sr_path)) if disk in p][0]
    os.rename(path, path + ".away")
    try:
        t = env.action(vid, "start", expect="failure")
        assert t["error"]["message"], t
        assert env.get(vid)["state"] == "halted"
    finally:
        os.rename(path + ".away", path)
    assert d["id"] == disk
    env.action(vid, "start")
    env.action(vid, "destroy")



def test_vm_events_on_the_bus(env):
    vid = env.vm()["id"]
    ws = env.c.websocket("/api/v1/events")
    assert ws.status == 101, ws.head
    try:
        env.action(vid, "start")
        deadline = time.time() + 10
        while time.time() < deadline:
            msg = ws.recv_json(timeout=10)
            if (msg.get("type") == "vm" and msg.get("id") == vid and
                    msg["data"]["state"] == "running"):
                assert msg["action"] == "updated", msg
                assert msg["data"]["id"] == vid, msg
                break
        else:
            raise AssertionError("no vm event")
    finally:
        ws.close()
    env.action(vid, "destroy")
