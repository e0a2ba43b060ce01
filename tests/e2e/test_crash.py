"""SIGKILL during writes: threads create, change, start and delete VMs
while the daemon is killed at random moments, five times. After every
restart each VM loads, no task is left pending or running (they are
interrupted), VM states agree with the (fresh) hypervisor, and SQLite's
integrity check passes."""
import os
import random
import shutil
import signal
import sqlite3
import tempfile
import threading
import time

from vmfixture import V1
from xenith_client import Daemon

ROUNDS = 5


def hammer(d, session, stop, net, disks, errors):
    """One writer with its own connection on a shared session (logging
    in is slow on purpose); loops until stop is set. Connection errors
    are expected: the daemon dies under it."""
    rnd = random.Random()
    c = d.client()
    c.cookie, c.csrf = session.cookie, session.csrf
    mine = []
    while not stop.is_set():
        try:
            op = rnd.random()
            if op < 0.45 or not mine:
                body = {"name": "crash%d" % rnd.randrange(10 ** 6),
                        "vcpus": rnd.randint(1, 4),
                        "memory_mib": rnd.choice([64, 128, 256]),
                        "boot": {"type": "pv", "kernel": "/boot/k"},
                        "nics": [{"network": net}] * rnd.randint(0, 3),
                        "tags": ["t%d" % i for i in range(rnd.randint(0, 5))]}
                if disks and rnd.random() < 0.3:
                    body["disks"] = [{"disk": rnd.choice(disks),
                                      "device": "xvda"}]
                r = c.post(V1 + "/vms", body)
                if r.status == 201:
                    mine.append(r.json["id"])
                elif r.status not in (409,):
                    errors.append(("create", r.status, r.body[:200]))
            elif op < 0.75:
                vid = rnd.choice(mine)
                r = c.patch(V1 + "/vms/" + vid, {
                    "name": "upd%d" % rnd.randrange(1000),
                    "nics": [{"network": net}] * rnd.randint(0, 4),
                    "tags": ["x"] * rnd.randint(0, 3)})
                if r.status not in (200, 404, 409):
                    errors.append(("patch", r.status, r.body[:200]))
            elif op < 0.9:
                vid = rnd.choice(mine)
                c.post("%s/vms/%s/%s" % (V1, vid, rnd.choice(
                    ["start", "destroy", "pause", "resume"])))
            else:
                vid = mine.pop(rnd.randrange(len(mine)))
                c.delete(V1 + "/vms/" + vid)
        except Exception:
            if stop.is_set():
                return
            time.sleep(0.02)
            c.close()


def check_consistent(d):
    c = d.admin()
    r = c.get(V1 + "/tasks")
    assert r.status == 200, r
    tasks = r.json if isinstance(r.json, list) else r.json.get("tasks", [])
    live = [t for t in tasks if t["status"] in ("pending", "running")]
    assert not live, live
    r = c.get(V1 + "/vms")
    assert r.status == 200, r
    for v in r.json:
        one = c.get(V1 + "/vms/" + v["id"])
        assert one.status == 200, one
        vm = one.json
        assert vm["state"] in ("halted", "running", "paused", "suspended")
        # A fresh test hypervisor runs nothing: reconcile halted them all.
        assert vm["state"] == "halted", vm
        assert len({n["mac"] for n in vm["nics"]}) == len(vm["nics"]), vm
    return len(r.json)


def integrity(path):
    conn = sqlite3.connect(path)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    assert ok == "ok", ok
    assert fk == [], fk


def test_sigkill_during_writes_leaves_a_consistent_db(ctx):
    data = tempfile.mkdtemp(prefix="xenith-crash-")
    try:
        d = Daemon(data=data).start()
        c = d.admin()
        sr_path = os.path.join(data, "srs", "crash")
        r = c.post(V1 + "/srs", {"name": "crash", "type": "file",
                                 "path": sr_path})
        assert r.status == 201, r
        sr = r.json["id"]
        net = c.post(V1 + "/networks", {"name": "lan",
                                        "bridge": "xenbr0"}).json["id"]
        disks = [c.post(V1 + "/disks", {"name": "d%d" % i, "sr": sr,
                                        "size_bytes": 1 << 20}).json["id"]
                 for i in range(8)]
        errors = []
        seen = 0
        for rnd in range(ROUNDS):
            stop = threading.Event()
            session = d.admin()
            threads = [threading.Thread(target=hammer,
                                        args=(d, session, stop, net, disks,
                                              errors))
                       for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.5, 1.5))
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            stop.set()
            for t in threads:
                t.join(30)
            d.stop()
            integrity(os.path.join(data, "xenith.db"))
            d = Daemon(data=data).start()
            seen = max(seen, check_consistent(d))
        assert not errors, errors[:5]
        assert seen > 0  # the writers did write
        d.stop()
        integrity(os.path.join(data, "xenith.db"))
    finally:
        try:
            d.stop()
        except Exception:
            pass
        shutil.rmtree(data, ignore_errors=True)
