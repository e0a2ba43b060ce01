"""Disks and NICs of a running (or paused) VM change live: PATCH
/vms/{id} turns the difference into driver detach/attach calls, seen
here in the test guest's console ("xenith-test: disk attached"); an
emulated disk (hd*/sd*) cannot come or go live (409); a failed step
undoes the ones before it and changes nothing; a suspended VM's devices
do not change (409)."""
import os
import socket

from vmfixture import V1, VmEnv, expect_error


def setup():
    return VmEnv()


def teardown(env):
    env.cleanup()


def console(env, vid):
    """Everything the guest's console replays now, as text."""
    ws = env.c.websocket("%s/vms/%s/console" % (V1, vid))
    assert ws.status == 101, ws.head
    out = b""
    try:
        while True:
            try:
                op, data = ws.recv(timeout=0.5)
            except socket.timeout:
                break
            if op == 8:
                break
            out += data
    finally:
        ws.close()
    return out.decode(errors="replace")


def disks(v):
    return sorted((d["device"], d["disk"], d["mode"]) for d in v["disks"])


def running_vm(env):
    """A started VM: (vm, its id, its URL)."""
    vm = env.vm()
    env.action(vm["id"], "start")
    return vm, vm["id"], V1 + "/vms/" + vm["id"]


def disk_plugs(env, vid):
    """(detaches, attaches) of disks the guest's console reports."""
    out = console(env, vid)
    return out.count("disk detached"), out.count("disk attached")


def test_attach_and_detach_a_disk_live(env):
    vm, vid, url = running_vm(env)
    d2 = env.disk()
    r = env.c.patch(url, {"disks": vm["disks"] + [{"disk": d2,
                                                   "device": "xvdb"}]})
    assert r.status == 200, r
    assert ("xvdb", d2, "rw") in disks(env.get(vid)), r
    assert disk_plugs(env, vid) == (0, 1)
    # now attached here: another VM cannot have it
    r = env.c.post(V1 + "/vms", env.vm_body(disk=d2))
    expect_error(r, 409, field="disks")
    r = env.c.patch(url, {"disks": vm["disks"]})
    assert r.status == 200, r
    assert disks(env.get(vid)) == disks(vm)
    assert disk_plugs(env, vid) == (1, 1)
    # a mode change is a detach and an attach
    ro = [dict(vm["disks"][0], mode="ro")]
    r = env.c.patch(url, {"disks": ro})
    assert r.status == 200 and r.json["disks"][0]["mode"] == "ro", r
    assert disk_plugs(env, vid) == (2, 2)
    env.action(vid, "destroy")


def test_attach_and_detach_a_nic_live_also_when_paused(env):
    vm, vid, url = running_vm(env)
    env.action(vid, "pause")
    r = env.c.patch(url, {"nics": vm["nics"] + [{"network": env.net}]})
    assert r.status == 200 and len(r.json["nics"]) == 2, r
    assert console(env, vid).count("xenith-test: nic attached") == 1
    env.action(vid, "resume")
    r = env.c.patch(url, {"nics": []})
    assert r.status == 200 and r.json["nics"] == [], r
    assert console(env, vid).count("xenith-test: nic detached") == 2
    env.action(vid, "destroy")


def test_an_emulated_disk_cannot_change_live(env):
    vm, vid, url = running_vm(env)
    r = env.c.patch(url, {"disks": vm["disks"] + [{"disk": env.disk(),
                                                   "device": "hdb"}]})
    expect_error(r, 409, field="disks", message="hdb is an emulated device")
    assert disks(env.get(vid)) == disks(vm)
    assert disk_plugs(env, vid) == (0, 0)
    env.action(vid, "destroy")


def test_a_failed_step_undoes_the_others(env):
    vm, vid, url = running_vm(env)
    bad = env.disk()
    # its image vanishes behind the daemon's back: the driver refuses it
    path = [os.path.join(env.sr_path, f) for f in os.listdir(env.sr_path)
            if bad in f][0]
    os.rename(path, path + ".away")
    try:
        # detach xvda, attach the broken one as xvda: the attach fails,
        # and xvda is attached again
        r = env.c.patch(url, {"disks": [{"disk": bad, "device": "xvda"}]})
        expect_error(r, 404, field="disks", message="cannot attach disk xvda")
    finally:
        os.rename(path + ".away", path)
    v = env.get(vid)
    assert disks(v) == disks(vm) and v["state"] == "running", v
    assert disk_plugs(env, vid) == (1, 1)
    env.action(vid, "destroy")


def test_suspended_or_halted(env):
    vm, vid, url = running_vm(env)
    env.action(vid, "suspend")
    for body in ({"disks": []}, {"nics": []}):
        r = env.c.patch(url, body)
        expect_error(r, 409, field="state", message="vm is suspended")
    assert disks(env.get(vid)) == disks(vm)
    env.action(vid, "resume")
    env.action(vid, "destroy")
    # halted: a record change only
    r = env.c.patch(url, {"disks": [], "nics": []})
    assert r.status == 200 and r.json["disks"] == [], r
