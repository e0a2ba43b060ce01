"""Backup errors reach the API in words: which operation failed on which
object and why, not a generic "io error". A run into a full repository
(a tiny tmpfs: root only, else NOT RUN) names the chunk, the
repository and "No space left on device" in the task error, the task
result and the run; prune and gc on a repository another process has
locked name the holder's pid, host and start time."""
import json
import os
import socket
import subprocess
import time

from xenith_client import Skip
from vmfixture import V1, VmEnv

MIB = 1 << 20
JOBS = V1 + "/backup/jobs"
REPOS = V1 + "/backup/repositories"


def setup():
    env = VmEnv()
    ctx = {"env": env, "c": env.c, "mounts": []}
    try:
        ctx["tmp"] = os.path.join(env.d.data, "t")
        os.makedirs(ctx["tmp"])
    except BaseException:
        teardown(ctx)
        raise
    return ctx


def teardown(ctx):
    if not ctx:
        return
    ctx["env"].d.stop()
    for m in ctx["mounts"]:
        subprocess.run(["umount", m], capture_output=True)
    ctx["env"].cleanup()


def _repo(ctx, name, path):
    r = ctx["c"].post(REPOS, {"name": name, "path": path})
    assert r.status == 201, r
    return r.json


def _vm(ctx, name, size, data):
    r = ctx["c"].post(V1 + "/disks", {"name": name + "-root",
                                      "sr": ctx["env"].sr,
                                      "size_bytes": size})
    assert r.status == 201, r
    disk = r.json
    with open(os.path.join(ctx["env"].sr_path, disk["id"] + ".raw"),
              "r+b") as f:
        f.write(data)
    return ctx["env"].vm(name=name, disk=disk["id"])


def _run(ctx, job_id):
    r = ctx["c"].post("%s/%s/run" % (JOBS, job_id))
    assert r.status == 202, r
    return ctx["c"].wait_task(r.json["id"], timeout=60)


def _tmpfs(ctx, name, size):
    """A tmpfs of size bytes, or None (not root)."""
    if os.geteuid() != 0:
        return None
    mnt = os.path.join(ctx["tmp"], name)
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size,
                        "tmpfs", mnt], capture_output=True, text=True)
    if p.returncode:
        return None
    ctx["mounts"].append(mnt)
    return mnt


def test_full_repository_is_named_with_the_errno(ctx):
    c = ctx["c"]
    mnt = _tmpfs(ctx, "full", 2 * MIB)
    if not mnt:
        raise Skip("no tmpfs (not root)")
    repo = _repo(ctx, "tiny", os.path.join(mnt, "r"))
    vm = _vm(ctx, "bigvm", 8 * MIB, os.urandom(6 * MIB))
    r = c.post(JOBS, {"name": "to-full", "repository": repo["id"],
                      "vms": [vm["id"]]})
    assert r.status == 201, r
    job = r.json
    t = _run(ctx, job["id"])
    assert t["status"] == "failure", t
    msg = t["error"]["message"]
    assert "1 of 1 VM(s) failed; bigvm: backup: writing chunk " in msg, msg
    assert "in repository %s/r: No space left on device" % mnt in msg, msg
    assert "io error" not in msg and "no space left" not in msg, msg
    res = t["result"]["vms"][0]
    assert res["status"] == "failure", res
    assert "No space left on device" in res["error"], res
    run = c.get("%s/%s/runs" % (JOBS, job["id"])).json[0]
    assert run["vms"][0]["error"] == res["error"], run
    assert c.delete("%s/%s" % (JOBS, job["id"])).status == 204


def _lock(repo_path, pid, host, op, start):
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    with open(os.path.join(repo_path, "locks", "exclusive"), "w") as f:
        json.dump({"pid": pid, "host": host, "boot_id": boot,
                   "start_unix": start, "op": op}, f)


def test_locked_repository_names_the_holder(ctx):
    c = ctx["c"]
    path = os.path.join(ctx["tmp"], "locked")
    repo = _repo(ctx, "locked", path)
    start = int(time.time()) - 90
    host = socket.gethostname()
    # A live holder: this test's own pid on this host.
    _lock(path, os.getpid(), host, "gc", start)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    want = "repository %s is locked by pid %d on host %s since %s (gc)" % (
        path, os.getpid(), host, since)
    r = c.post("%s/%s/prune" % (REPOS, repo["id"]), {"keep_last": 1})
    assert r.status == 202, r
    t = c.wait_task(r.json["id"])
    assert t["status"] == "failure", t
    assert t["error"]["message"] == (
        "prune of backup repository %s failed: %s" % (repo["id"], want)), t
    r = c.post("%s/%s/gc" % (REPOS, repo["id"]))
    assert r.status == 202, r
    t = c.wait_task(r.json["id"])
    assert t["status"] == "failure", t
    assert want in t["error"]["message"], t
    os.unlink(os.path.join(path, "locks", "exclusive"))
    r = c.post("%s/%s/gc" % (REPOS, repo["id"]))
    assert c.wait_task(r.json["id"])["status"] == "success"


def test_unlock_removes_a_dead_hosts_lock_only_when_named(ctx):
    c = ctx["c"]
    path = os.path.join(ctx["tmp"], "shared")
    repo = _repo(ctx, "shared", path)
    base = "%s/%s" % (REPOS, repo["id"])
    # What a host that died while sharing the repository (NFS) leaves: a
    # lock no process here can be asked about.
    _lock(path, 4242, "dead-host.example", "gc", int(time.time()) - 60)
    lock = os.path.join(path, "locks", "exclusive")
    t = c.wait_task(c.post(base + "/gc").json["id"])
    assert t["status"] == "failure", t
    assert "on host dead-host.example" in t["error"]["message"], t
    # Not named: the lock looks live, stays, and the task names it.
    r = c.post(base + "/unlock", {})
    assert r.status == 202, r
    t = c.wait_task(r.json["id"])
    assert t["status"] == "failure" and t["kind"] == "backup.unlock", t
    assert "locked by pid 4242 on host dead-host.example" in \
        t["error"]["message"], t
    assert os.path.exists(lock)
    # Bad input changes nothing: this host, an empty or non-string host,
    # an unknown field.
    tasks = len(c.get(V1 + "/tasks").json)
    for body, field in [({"host": socket.gethostname()}, "host"),
                        ({"host": ""}, "host"), ({"host": 7}, "host"),
                        ({"force": True}, "force")]:
        r = c.post(base + "/unlock", body)
        assert r.status == 400 and r.error["field"] == field, (body, r)
    assert len(c.get(V1 + "/tasks").json) == tasks
    assert os.path.exists(lock)
    t = c.wait_task(c.post(base + "/unlock",
                           {"host": "dead-host.example"}).json["id"])
    assert t["status"] == "success", t
    assert t["result"] == {"backup_locks_removed": 0, "chunks_checked": 0,
                           "chunks_removed": 0, "exclusive_removed": True}, t
    assert not os.path.exists(lock)
    t = c.wait_task(c.post(base + "/gc").json["id"])
    assert t["status"] == "success", t
