"""Shared set-up for the VM e2e modules: a daemon with an SR, a network,
disks, and helpers for VMs and their power tasks. Standard library only."""
import os
import time

from xenith_client import Daemon

V1 = "/api/v1"


class VmEnv:
    def __init__(self, extra_args=None):
        self.d = Daemon(extra_args=extra_args).start()
        self.c = self.d.admin()
        self.sr_path = os.path.join(self.d.data, "srs", "e2e")
        r = self.c.post(V1 + "/srs", {"name": "e2e", "type": "file",
                                      "path": self.sr_path})
        assert r.status == 201, r
        self.sr = r.json["id"]
        r = self.c.post(V1 + "/networks", {"name": "lan", "bridge": "xenbr0"})
        assert r.status == 201, r
        self.net = r.json["id"]
        self.n = 0

    def cleanup(self):
        self.d.cleanup()

    def disk(self, size=1 << 20):
        self.n += 1
        r = self.c.post(V1 + "/disks", {"name": "disk%d" % self.n,
                                        "sr": self.sr, "size_bytes": size})
        assert r.status == 201, r
        return r.json["id"]

    def vm_body(self, name=None, disk=None, cmdline="", **kw):
        self.n += 1
        body = {"name": name or "vm%d" % self.n, "vcpus": 1,
                "memory_mib": 128,
                "boot": {"type": "pv", "kernel": "/boot/vmlinuz",
                         "cmdline": cmdline},
                "disks": [{"disk": disk or self.disk(), "device": "xvda"}],
                "nics": [{"network": self.net}]}
        body.update(kw)
        return body

    def vm(self, **kw):
        r = self.c.post(V1 + "/vms", self.vm_body(**kw))
        assert r.status == 201, r
        return r.json

    def get(self, vm_id):
        r = self.c.get(V1 + "/vms/" + vm_id)
        assert r.status == 200, r
        return r.json

    def action(self, vm_id, action, body=None, expect="success"):
        """POST an action, wait for its task; returns the finished task."""
        r = self.c.post("%s/vms/%s/%s" % (V1, vm_id, action), body)
        assert r.status == 202, r
        assert r.header("Location") == V1 + "/tasks/" + r.json["id"], r
        assert r.json["kind"] == "vm." + action, r
        t = self.c.wait_task(r.json["id"], timeout=60)
        if expect:
            assert t["status"] == expect, t
        return t

    def wait_state(self, vm_id, state, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.get(vm_id)["state"] == state:
                return
            time.sleep(0.05)
        raise AssertionError("vm %s never %s: %r" % (vm_id, state,
                                                     self.get(vm_id)))


def expect_error(r, status, field=None, message=None):
    assert r.status == status, r
    e = r.json["error"]
    if field is not None:
        assert e.get("field") == field, r
    if message is not None:
        assert message in e["message"], r
