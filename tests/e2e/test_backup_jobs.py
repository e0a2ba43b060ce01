"""Backup jobs end to end: CRUD and bad input (400 naming the field,
nothing changed), the schedule preview, run now of a job with two VMs
(one running) with per-VM results, snapshots in the repository and a
byte-identical restore (build/xenith-backup on the repository), the
second run incremental with the reflink change map (XFS loop SR: root
only, else a SKIP line), retention, cancel mid-run, kill -9 mid-run, the
scheduler (its clock moved by the hidden --test-clock-offset) and the
catch-up run at start-up."""
import hashlib
import json
import os
import signal
import subprocess
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from xenith_client import Skip
from vmfixture import V1, VmEnv, expect_error

MIB = 1 << 20
JOBS = V1 + "/backup/jobs"
CLI = os.path.join(os.path.dirname(os.environ.get("XENITHD",
                                                  "build/xenithd")),
                   "xenith-backup")


def _mount_xfs(tmp):
    """An XFS (reflink) loop mount, or None (not root, no loop)."""
    if os.geteuid() != 0:
        return None, "not root"
    img, mnt = os.path.join(tmp, "xfs.img"), os.path.join(tmp, "xfs")
    os.makedirs(mnt, exist_ok=True)
    with open(img, "wb") as f:
        f.truncate(1536 * MIB)
    try:
        subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", img],
                       check=True, capture_output=True)
        subprocess.run(["mount", "-o", "loop", img, mnt], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        return None, str(e)
    return mnt, None


def setup():
    env = VmEnv()
    ctx = {"env": env, "c": env.c, "mnt": None}
    try:
        tmp = os.path.join(env.d.data, "t")
        os.makedirs(tmp)
        mnt, why = _mount_xfs(tmp)
        ctx["why"] = why
        sr_path = env.sr_path
        sr = env.sr
        if mnt:
            ctx["mnt"] = mnt
            sr_path = os.path.join(mnt, "sr")
            r = env.c.post(V1 + "/srs", {"name": "xfs", "type": "file",
                                         "path": sr_path})
            assert r.status == 201, r
            sr = r.json["id"]
        ctx["sr"], ctx["sr_path"] = sr, sr_path
        ctx["repo_path"] = os.path.join(env.d.data, "repo")
        r = env.c.post(V1 + "/backup/repositories",
                       {"name": "main", "path": ctx["repo_path"]})
        assert r.status == 201, r
        ctx["repo"] = r.json["id"]
    except BaseException:
        teardown(ctx)
        raise
    return ctx


def teardown(ctx):
    if not ctx:
        return
    ctx["env"].d.stop()
    for m in (ctx.get("mnt"), ctx.get("tmpfs")):
        if m:
            subprocess.run(["umount", m], capture_output=True)
    ctx["env"].cleanup()


# ---- helpers ----

def _disk(ctx, name, size, fill=None):
    r = ctx["c"].post(V1 + "/disks", {"name": name, "sr": ctx["sr"],
                                      "size_bytes": size})
    assert r.status == 201, r
    d = r.json
    if fill:
        with open(_image(ctx, d), "r+b") as f:
            for off, data in fill:
                f.seek(off)
                f.write(data)
    return d


def _image(ctx, disk):
    return os.path.join(ctx["sr_path"], disk["id"] + ".raw")


def _vm(ctx, name, size=8 * MIB, fill=None, **kw):
    d = _disk(ctx, name + "-root", size, fill)
    return ctx["env"].vm(name=name, disk=d["id"], **kw), d


def _job(ctx, **kw):
    body = {"name": "job-%d" % time.time_ns(), "repository": ctx["repo"]}
    body.update(kw)
    r = ctx["c"].post(JOBS, body)
    assert r.status == 201, r
    return r.json


def _run(ctx, job, expect="success", timeout=120):
    r = ctx["c"].post("%s/%s/run" % (JOBS, job["id"]))
    assert r.status == 202, r
    assert r.json["kind"] == "backup.run", r
    if not expect:
        return r.json
    t = ctx["c"].wait_task(r.json["id"], timeout=timeout)
    assert t["status"] == expect, t
    return t


def _runs(c, job_id):
    r = c.get("%s/%s/runs" % (JOBS, job_id))
    assert r.status == 200, r
    return r.json


def _cli(*args, check=True):
    p = subprocess.run([CLI] + list(args), capture_output=True, text=True)
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p


def _snapshots(ctx, name=None):
    out = json.loads(_cli("snapshots", "--repo", ctx["repo_path"],
                          "--json").stdout)["snapshots"]
    return [s for s in out if name is None or s["name"] == name]


def _sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MIB), b""):
            h.update(b)
    return h.hexdigest()


def _bases(ctx):
    return {f for f in os.listdir(ctx["sr_path"]) if ".bkbase" in f}


def _jobs_state(c):
    r = c.get(JOBS)
    assert r.status == 200, r
    return r.json


# ---- CRUD and input ----

def test_crud_and_bad_input_changes_nothing(ctx):
    c = ctx["c"]
    vm, _ = _vm(ctx, "crud")
    job = _job(ctx, name="crud", vms=[vm["id"]], tags=["web", "web"],
               schedule="30 2 * * mon-fri", timezone="Europe/Paris",
               retention={"last": 3, "weekly": 2}, concurrency=2)
    assert job["vms"] == [vm["id"]] and job["tags"] == ["web"], job
    assert job["retention"] == {"last": 3, "hourly": 0, "daily": 0,
                                "weekly": 2, "monthly": 0, "yearly": 0}, job
    assert job["concurrency"] == 2 and job["enabled"] is True, job
    assert len(job["next_runs"]) == 5 and job["last_run"] is None, job
    assert job["repository"] == ctx["repo"] and job["created"], job
    r = c.get(JOBS + "/" + job["id"])
    assert r.status == 200 and r.json == job, r

    before = _jobs_state(c)
    bad = [
        ({"name": "x"}, "repository"),
        ({"repository": ctx["repo"]}, "name"),
        ({"name": "", "repository": ctx["repo"]}, "name"),
        ({"name": "crud", "repository": ctx["repo"]}, "name"),  # 409
        ({"name": "b", "repository": "00000000-0000-4000-8000-000000000000"},
         "repository"),
        ({"name": "b", "repository": ctx["repo"], "vms": ["nope"]}, "vms"),
        ({"name": "b", "repository": ctx["repo"],
          "vms": ["00000000-0000-4000-8000-000000000000"]}, "vms"),
        ({"name": "b", "repository": ctx["repo"], "vms": "x"}, "vms"),
        ({"name": "b", "repository": ctx["repo"], "tags": [""]}, "tags"),
        ({"name": "b", "repository": ctx["repo"], "tags": [3]}, "tags"),
        ({"name": "b", "repository": ctx["repo"], "schedule": "61 * * * *"},
         "schedule"),
        ({"name": "b", "repository": ctx["repo"], "schedule": "* * *"},
         "schedule"),
        ({"name": "b", "repository": ctx["repo"], "schedule": "0 0 * foo *"},
         "schedule"),
        ({"name": "b", "repository": ctx["repo"], "timezone": "Mars/Olympus"},
         "timezone"),
        ({"name": "b", "repository": ctx["repo"],
          "timezone": "../../etc/passwd"}, "timezone"),
        ({"name": "b", "repository": ctx["repo"], "retention": {"last": -1}},
         "retention"),
        ({"name": "b", "repository": ctx["repo"], "retention": {"often": 1}},
         "retention"),
        ({"name": "b", "repository": ctx["repo"], "retention": 5},
         "retention"),
        ({"name": "b", "repository": ctx["repo"], "concurrency": 0},
         "concurrency"),
        ({"name": "b", "repository": ctx["repo"], "concurrency": 9},
         "concurrency"),
        ({"name": "b", "repository": ctx["repo"], "enabled": "yes"},
         "enabled"),
        ({"name": "b", "repository": ctx["repo"], "bogus": 1}, "bogus"),
    ]
    for body, field in bad:
        r = c.post(JOBS, body)
        assert r.status in (400, 409), (body, r)
        assert r.json["error"]["field"] == field, (body, r)
    _job(ctx, name="taken")
    before = _jobs_state(c)
    patch_bad = [
        ({"name": ""}, "name"), ({"name": "taken"}, "name"),
        ({"repository": "00000000-0000-4000-8000-000000000000"},
         "repository"),
        ({"vms": ["nope"]}, "vms"), ({"tags": [3]}, "tags"),
        ({"schedule": "61 * * * *"}, "schedule"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"retention": {"last": -1}}, "retention"),
        ({"concurrency": 9}, "concurrency"), ({"enabled": "yes"}, "enabled"),
        ({"bogus": 1}, "bogus"),
        # One good field and one bad: neither is applied.
        ({"name": "renamed", "schedule": "0 0 31 2 8"}, "schedule"),
    ]
    for body, field in patch_bad:
        r = c.patch(JOBS + "/" + job["id"], body)
        assert r.status in (400, 409), (body, r)
        assert r.json["error"]["field"] == field, (body, r)
    assert _jobs_state(c) == before

    r = c.patch(JOBS + "/" + job["id"], {"name": "crud2", "schedule": "",
                                         "tags": [], "enabled": False})
    assert r.status == 200, r
    assert r.json["name"] == "crud2" and r.json["schedule"] == "", r
    assert r.json["next_runs"] == [] and r.json["tags"] == [], r
    assert r.json["vms"] == [vm["id"]], r  # untouched
    # The repository is in use: it cannot be forgotten.
    expect_error(c.delete(V1 + "/backup/repositories/" + ctx["repo"]), 409)
    r = c.delete(JOBS + "/" + job["id"])
    assert r.status == 204, r
    expect_error(c.get(JOBS + "/" + job["id"]), 404)
    expect_error(c.delete(JOBS + "/" + job["id"]), 404)
    expect_error(c.post("%s/%s/run" % (JOBS, job["id"])), 404)
    expect_error(c.get(JOBS + "/not-a-uuid"), 400, "id")


def test_schedule_preview(ctx):
    c = ctx["c"]
    r = c.get(V1 + "/backup/schedule/preview?schedule=0+2+*+*+1-5"
                   "&timezone=Europe%2FParis")
    assert r.status == 200, r
    runs = r.json["next_runs"]
    assert len(runs) == 5, r
    paris = ZoneInfo("Europe/Paris")
    prev = time.time()
    for s in runs:
        t = datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc)
        local = t.astimezone(paris)
        assert (local.hour, local.minute) == (2, 0), (s, local)
        assert local.weekday() < 5, (s, local)
        assert t.timestamp() > prev, runs
        prev = t.timestamp()
    r = c.get(V1 + "/backup/schedule/preview?schedule=*%2F15+*+*+*+*")
    assert r.status == 200, r
    ts = [datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
          for s in r.json["next_runs"]]
    assert all(t.minute % 15 == 0 for t in ts), r
    assert all((b - a).total_seconds() == 900 for a, b in zip(ts, ts[1:])), r
    expect_error(c.get(V1 + "/backup/schedule/preview?schedule=0+25+*+*+*"),
                 400, "schedule", "hour")
    expect_error(c.get(V1 + "/backup/schedule/preview"), 400, "schedule")
    expect_error(c.get(V1 + "/backup/schedule/preview?schedule=0+0+*+*+*"
                            "&timezone=Nowhere%2FLand"), 400, "timezone")



def test_host_time_zone_is_the_default(ctx):
    c = ctx["c"]
    assert _job(ctx)["timezone"] == "UTC"
    r = c.patch(V1 + "/settings", {"timezone": "Asia/Kolkata"})
    assert r.status == 200, r
    try:
        assert _job(ctx)["timezone"] == "Asia/Kolkata"
        assert _job(ctx, timezone="UTC")["timezone"] == "UTC"
        # The preview without a zone reads the schedule in the host's:
        # 02:00 in Kolkata (UTC+5:30) is 20:30 UTC.
        r = c.get(V1 + "/backup/schedule/preview?schedule=0+2+*+*+*")
        assert r.status == 200, r
        assert all(s.endswith("T20:30:00Z") for s in r.json["next_runs"]), r
    finally:
        assert c.patch(V1 + "/settings", {"timezone": "UTC"}).status == 200


# ---- runs ----

def _fill(seed, size):
    """Data islands between holes, some text-like, some random."""
    rnd = os.urandom
    return [(0, rnd(MIB)), (2 * MIB, (b"line %d of text\n" % seed) * 40000),
            (size - MIB, rnd(MIB // 2))]


def test_no_reflink_sr_says_so(ctx):
    """On an SR without reflink every run reads everything, and the task
    result says why in words."""
    c, env = ctx["c"], ctx["env"]
    sr = env.sr
    if os.geteuid() == 0:  # a tmpfs never has reflink
        mnt = os.path.join(env.d.data, "t", "tmpfs-sr")
        os.makedirs(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs",
                        mnt], check=True)
        ctx["tmpfs"] = mnt
        r = c.post(V1 + "/srs", {"name": "plain", "type": "file",
                                 "path": os.path.join(mnt, "sr")})
        assert r.status == 201, r
        sr = r.json["id"]
    got = c.get(V1 + "/srs/" + sr).json
    if got["reflink"] is not False:
        raise Skip("no SR without reflink")
    r = c.post(V1 + "/disks", {"name": "plain-root", "sr": sr,
                               "size_bytes": 4 * MIB})
    assert r.status == 201, r
    with open(os.path.join(got["path"], r.json["id"] + ".raw"), "r+b") as f:
        f.write(os.urandom(MIB))
    vm = env.vm(name="plainvm", disk=r.json["id"])
    job = _job(ctx, name="plain", vms=[vm["id"]])
    for _ in range(2):
        v = _run(ctx, job)["result"]["vms"][0]
        assert v["used_changemap"] is False and v["bytes_read"] >= MIB, v
        assert _runs(c, job["id"])[0]["vms"][0]["read_note"] == v["read_note"]
        assert v["read_note"] == (
            "read all data: SR '%s' cannot make reflink clones (XFS with "
            "reflink or btrfs can), so a run cannot tell what changed; only "
            "new chunks were stored" % got["name"]), v
    assert c.delete(JOBS + "/" + job["id"]).status == 204


def test_run_now_two_vms_incremental_restore(ctx):
    c, env = ctx["c"], ctx["env"]
    a, da = _vm(ctx, "alpha", 8 * MIB, _fill(1, 8 * MIB), tags=["prod"])
    b, db = _vm(ctx, "beta", 8 * MIB, _fill(2, 8 * MIB))
    env.action(a["id"], "start")
    job = _job(ctx, name="two", vms=[b["id"]], tags=["prod"], concurrency=2)
    bases0 = _bases(ctx)
    t = _run(ctx, job)
    assert t["bytes_total"] == 16 * MIB and t["bytes_done"] == 16 * MIB, t
    runs = _runs(c, job["id"])
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["status"] == "success" and run["trigger"] == "manual", run
    assert run["task"] == t["id"] and run["finished"], run
    by = {v["vm"]: v for v in run["vms"]}
    assert set(by) == {a["id"], b["id"]}, run
    for v in by.values():
        assert v["status"] == "success" and v["snapshot"], v
        assert v["bytes_read"] > 0 and v["error"] is None, v
    assert env.get(a["id"])["state"] == "running"  # resumed after the clone
    reflink = c.get(V1 + "/srs/" + ctx["sr"]).json["reflink"]
    for v in t["result"]["vms"]:
        want = ("the first backup of this disk by this job" if reflink
                else "cannot make reflink clones")
        assert want in v["read_note"], v
        # The job history keeps the same note.
        assert by[v["vm"]]["read_note"] == v["read_note"], (by, v)
    r = c.get(JOBS + "/" + job["id"])
    assert r.json["last_run"]["id"] == run["id"], r

    snaps = {s["id"]: s for s in _snapshots(ctx)}
    for v in by.values():
        assert v["snapshot"] in snaps, (v, snaps)
        assert snaps[v["snapshot"]]["name"] == v["vm_name"]
    # The manifest keeps the job and the VM's configuration.
    with open(os.path.join(ctx["repo_path"], "snapshots",
                           by[a["id"]]["snapshot"] + ".json")) as f:
        m = json.load(f)
    assert m["job"] == job["id"], m
    cfg = m["vm_config"]
    assert cfg["vm"] == a["id"] and cfg["name"] == "alpha", cfg
    assert cfg["vcpus"] == 1 and cfg["memory_mib"] == 128, cfg
    assert cfg["boot"] == a["boot"] and cfg["tags"] == ["prod"], cfg
    assert cfg["disks"] == [{"device": "xvda", "name": "alpha-root",
                             "size_bytes": 8 * MIB, "mode": "rw"}], cfg
    assert cfg["nics"] == [{"network": env.net,
                            "mac": a["nics"][0]["mac"]}], cfg

    bases1 = _bases(ctx) - bases0
    assert len(bases1) == (2 if ctx["mnt"] else 0), bases1
    # Change alpha a little; the second run is incremental. Meanwhile an
    # unrelated image was backed up under the name "alpha": the change
    # map must still build on the job's own previous backup.
    with open(_image(ctx, da), "r+b") as f:
        f.seek(5 * MIB)
        f.write(os.urandom(MIB // 4))
    other = os.path.join(env.d.data, "other.img")
    with open(other, "wb") as f:
        f.write(os.urandom(8 * MIB))
    _cli("backup-file", "--repo", ctx["repo_path"], "--name", "alpha",
         "--disk-name", "xvda", "--quiet", other)
    t = _run(ctx, job)
    run2 = _runs(c, job["id"])[0]
    by2 = {v["vm"]: v for v in run2["vms"]}
    for v in t["result"]["vms"]:
        want = ("read only what changed since the previous run" if reflink
                else "cannot make reflink clones")
        assert want in v["read_note"], v
        assert by2[v["vm"]]["read_note"] == v["read_note"], (by2, v)
    assert run2["id"] != run["id"] and run2["status"] == "success", run2
    if ctx["mnt"]:
        for v in by2.values():
            assert v["used_changemap"] is True, v
        # Unchanged beta: nothing to read; alpha: about the change only.
        assert by2[b["id"]]["bytes_read"] < by[b["id"]]["bytes_read"], by2
        assert by2[a["id"]]["bytes_read"] <= 2 * MIB, by2
        # One kept clone per disk, the first run's replaced.
        bases = _bases(ctx) - bases0
        assert len(bases) == 2 and not bases & bases1, (bases, bases1)
    else:
        print("SKIP change-map check: no XFS reflink SR (%s)" % ctx["why"])
        for v in by2.values():
            assert v["used_changemap"] is False, v

    # The API lists them by VM, with the job; a new VM restored from
    # beta's second backup has beta's configuration and bytes.
    r = c.get(V1 + "/backup/snapshots?vm=%s&repository=%s" % (b["id"],
                                                              ctx["repo"]))
    assert r.status == 200, r
    assert [x["id"] for x in r.json] == [by2[b["id"]]["snapshot"],
                                         by[b["id"]]["snapshot"]], r
    assert all(x["job"] == job["id"] and x["vm"] == b["id"]
               for x in r.json), r
    r = c.get(V1 + "/backup/snapshots?vm=" + a["id"])
    assert [(x["id"], x["parent"]) for x in r.json] == [
        (by2[a["id"]]["snapshot"], by[a["id"]]["snapshot"]),
        (by[a["id"]]["snapshot"], None)], r
    r = c.post(V1 + "/backup/snapshots/%s/restore" % by2[b["id"]]["snapshot"],
               {"mode": "new-vm"})
    assert r.status == 202, r
    t = c.wait_task(r.json["id"], timeout=60)
    assert t["status"] == "success", t
    nvm = t["result"]["vm"]
    assert nvm["name"] == "beta restored" and nvm["tags"] == b["tags"], nvm
    ndisk = c.get(V1 + "/disks/" + nvm["disks"][0]["disk"]).json
    assert _sha(_image(ctx, ndisk)) == _sha(_image(ctx, db))
    # And the CLI restores both disks byte-identical, no daemon needed.
    out = os.path.join(env.d.data, "restored.raw")
    for vm_id, disk in ((a["id"], da), (b["id"], db)):
        _cli("restore", "--repo", ctx["repo_path"], by2[vm_id]["snapshot"],
             out)
        assert _sha(out) == _sha(_image(ctx, disk)), vm_id
        os.unlink(out)
    env.action(a["id"], "destroy")
    # A deleted VM's kept clone goes with it; the job keeps the other.
    r = c.delete(V1 + "/vms/" + a["id"])
    assert r.status == 204, r
    deadline = time.time() + 10
    while len(_bases(ctx) - bases0) > (1 if ctx["mnt"] else 0):
        assert time.time() < deadline, _bases(ctx) - bases0
        time.sleep(0.05)
    r = c.get(JOBS + "/" + job["id"])
    assert r.json["vms"] == [b["id"]], r  # alpha came by tag only


def test_encrypted_repository_job_seals_metadata(ctx):
    """A job into an encrypted repository: the daemon writes sealed
    manifests and indexes (format 2), reads them back for the next run's
    parent, the snapshot list, retention and restore."""
    c, env = ctx["c"], ctx["env"]
    path = os.path.join(env.d.data, "repo-enc")
    pw = "Sealed-metadata-passphrase-1"
    r = c.post(V1 + "/backup/repositories",
               {"name": "sealed", "path": path, "passphrase": pw})
    assert r.status == 201 and r.json["encrypted"], r
    repo = r.json["id"]
    v, d = _vm(ctx, "sealedvm", 4 * MIB, [(0, b"sealed guest data" * 999)])
    job = _job(ctx, name="sealed", vms=[v["id"]], repository=repo,
               retention={"last": 1})
    snaps = []
    for i in range(2):
        with open(_image(ctx, d), "r+b") as f:
            f.seek(2 * MIB)
            f.write(os.urandom(MIB // 2))
        t = _run(ctx, job)
        snaps.append(t["result"]["vms"][0]["snapshot"])
    with open(os.path.join(path, "config")) as f:
        assert json.load(f)["version"] == 2
    for sub in ("snapshots", "indexes"):
        names = os.listdir(os.path.join(path, sub))
        assert names, sub
        for n in names:
            with open(os.path.join(path, sub, n), "rb") as f:
                data = f.read()
            assert data[:4] == b"XBKS", (sub, n)
            assert b"sealedvm" not in data and v["id"].encode() not in data
    # The second run built on the first (its sealed manifest was read);
    # retention kept one.
    r = c.get(V1 + "/backup/snapshots?repository=" + repo)
    assert r.status == 200, r
    assert [(x["id"], x["parent"], x["vm"], x["name"]) for x in r.json] == [
        (snaps[1], snaps[0], v["id"], "sealedvm")], r.json
    r = c.post(V1 + "/backup/snapshots/%s/restore" % snaps[1],
               {"mode": "new-vm"})
    assert r.status == 202, r
    t = c.wait_task(r.json["id"], timeout=60)
    assert t["status"] == "success", t
    ndisk = c.get(V1 + "/disks/" + t["result"]["vm"]["disks"][0]["disk"]).json
    assert _sha(_image(ctx, ndisk)) == _sha(_image(ctx, d))
    # Without the passphrase the CLI says what is missing.
    p = _cli("snapshots", "--repo", path, check=False)
    assert p.returncode == 1 and "passphrase" in p.stderr, p.stderr
    assert c.delete(JOBS + "/" + job["id"]).status == 204


def test_retention_prunes_per_vm(ctx):
    vm, _ = _vm(ctx, "kept", 4 * MIB, _fill(3, 4 * MIB))
    other, _ = _vm(ctx, "other", 4 * MIB, _fill(4, 4 * MIB))
    job = _job(ctx, name="keep2", vms=[vm["id"]], retention={"last": 2})
    solo = _job(ctx, name="solo", vms=[other["id"]])
    for _ in range(3):
        _run(ctx, solo)
    ids = []
    for _ in range(3):
        _run(ctx, job)
        ids.append(_runs(ctx["c"], job["id"])[0]["vms"][0]["snapshot"])
    left = [s["id"] for s in _snapshots(ctx, "kept")]
    assert sorted(left) == sorted(ids[1:]), (left, ids)
    assert len(_snapshots(ctx, "other")) == 3  # another VM: untouched


def _big_job(ctx, name, n=3, size=96 * MIB):
    vms = []
    for i in range(n):
        vm, _ = _vm(ctx, "%s%d" % (name, i), size,
                    [(0, os.urandom(size))])
        vms.append(vm["id"])
    return _job(ctx, name=name, vms=vms, concurrency=1)


def _wait_bytes(c, task_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = c.get(V1 + "/tasks/" + task_id)
        assert r.status == 200, r
        if (r.json.get("bytes_done") or 0) > 0 or \
                r.json["status"] not in ("pending", "running"):
            return r.json
        time.sleep(0.01)
    raise AssertionError("no progress: %r" % r.json)


def test_cancel_mid_run(ctx):
    c = ctx["c"]
    job = _big_job(ctx, "cancel")
    t = _run(ctx, job, expect=None)
    # A second run of the same job while it runs: 409.
    expect_error(c.post("%s/%s/run" % (JOBS, job["id"])), 409)
    expect_error(c.delete(JOBS + "/" + job["id"]), 409)
    st = _wait_bytes(c, t["id"])
    assert st["status"] == "running", st
    r = c.post(V1 + "/tasks/%s/cancel" % t["id"])
    assert r.status in (200, 202), r
    t = c.wait_task(t["id"], timeout=60)
    assert t["status"] == "cancelled", t
    run = _runs(c, job["id"])[0]
    assert run["status"] == "cancelled", run
    assert all(v["status"] in ("success", "cancelled") for v in run["vms"])
    assert any(v["status"] == "cancelled" for v in run["vms"]), run
    _cli("verify", "--repo", ctx["repo_path"])
    # The job runs again after a cancel.
    _run(ctx, job)


def _stop_mid_run(ctx, job, sig, reason):
    """Stop the daemon with sig once a run of job made progress, start
    it again: the run and its task are interrupted, with reason."""
    env = ctx["env"]
    t = _run(ctx, job, expect=None)
    st = _wait_bytes(ctx["c"], t["id"])
    assert st["status"] == "running", st
    rc = env.d.stop(sig=sig)
    assert rc == (0 if sig == signal.SIGTERM else -sig), env.d.read_log()
    env.d.start()
    c = env.d.admin()
    ctx["c"] = env.c = c
    run = _runs(c, job["id"])[0]
    assert run["status"] == "interrupted", run
    assert reason in run["error"] and run["finished"], run
    r = c.get(V1 + "/tasks/" + t["id"])
    assert r.json["status"] == "interrupted", r
    return c, run


def test_kill9_mid_run_is_interrupted(ctx):
    job = _big_job(ctx, "killed")
    before = _bases(ctx)
    c, run = _stop_mid_run(ctx, job, signal.SIGKILL,
                           "stopped while the run was running")
    assert all(v["status"] in ("success", "interrupted")
               for v in run["vms"]), run
    _cli("verify", "--repo", ctx["repo_path"])
    # The clones the killed run made are swept at start-up.
    # (A VM finished before the kill keeps its clone, as recorded.)
    done = sum(v["status"] == "success" for v in run["vms"])
    new = _bases(ctx) - before
    assert before <= _bases(ctx) and len(new) == done, (before, new, run)
    # And the job runs again (the dead process's lock is broken).
    _run(ctx, job)


# ---- the scheduler ----

def _wait_run(c, job_id, trigger, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = _runs(c, job_id)
        if runs and runs[0]["trigger"] == trigger and \
                runs[0]["status"] != "running":
            return runs
        time.sleep(0.2)
    raise AssertionError("no %s run of %s: %r" % (trigger, job_id,
                                                  _runs(c, job_id)))


def _iso(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()


def test_scheduler_and_catch_up(ctx):
    # The scheduler's clock 10 s before a minute boundary, so an every-
    # minute job is due within seconds.
    now = time.time()
    offset = int(60 - now % 60) - 10
    if offset < 0:
        offset += 60
    env = VmEnv(extra_args=["--test-clock-offset", str(offset)])
    try:
        c = env.c
        r = c.post(V1 + "/backup/repositories",
                   {"name": "s", "path": os.path.join(env.d.data, "repo")})
        assert r.status == 201, r
        repo = r.json["id"]
        vm = env.vm(name="sched")
        r = c.post(JOBS, {"name": "minutely", "repository": repo,
                          "vms": [vm["id"]], "schedule": "* * * * *"})
        assert r.status == 201, r
        minutely = r.json
        r = c.post(JOBS, {"name": "daily", "repository": repo,
                          "vms": [vm["id"]], "schedule": "0 3 * * *"})
        assert r.status == 201, r
        daily = r.json
        # Due at next_runs[0] by the scheduler's clock (a minute later
        # when set-up was slow).
        due = _iso(minutely["next_runs"][0]) - offset - time.time()
        assert due < 61, (due, minutely)
        runs = _wait_run(c, minutely["id"], "schedule", due + 15)
        assert runs[0]["status"] == "success", runs
        assert len(runs) == 1, (runs, env.d.read_log())
        assert _runs(c, daily["id"]) == []
        r = c.patch(JOBS + "/" + minutely["id"], {"enabled": False})
        assert r.status == 200 and r.json["next_runs"] == [], r

        # Down for two days (by the scheduler's clock): the daily job
        # missed two 03:00 runs and catches up once.
        env.d.stop()
        env.d.extra = ["--test-clock-offset", str(offset + 2 * 86400)]
        env.d.start()
        c = env.d.admin()
        runs = _wait_run(c, daily["id"], "catch-up", 20)
        assert runs[0]["status"] == "success", runs
        time.sleep(2)
        assert len(_runs(c, daily["id"])) == 1
        assert len(_runs(c, minutely["id"])) == 1  # disabled: no catch-up
    finally:
        env.cleanup()


def test_sigterm_mid_run_stops_cleanly(ctx):
    job = _big_job(ctx, "termed", n=2)
    _stop_mid_run(ctx, job, signal.SIGTERM, "shutting down")
    assert "stopped cleanly" in ctx["env"].d.read_log()
    _cli("verify", "--repo", ctx["repo_path"])


def test_changes_arrive_as_events(ctx):
    c = ctx["c"]
    vm, _ = _vm(ctx, "evented")
    ws = c.websocket("/api/v1/events")
    assert ws.status == 101, ws.head
    try:
        job = _job(ctx, name="evented", vms=[vm["id"]])
        r = c.patch(JOBS + "/" + job["id"], {"concurrency": 2})
        assert r.status == 200, r
        _run(ctx, job)
        run_id = _runs(c, job["id"])[0]["id"]
        assert c.delete(JOBS + "/" + job["id"]).status == 204
        want = [("job", "created", job["id"]), ("job", "updated", job["id"]),
                ("run", "created", run_id), ("run", "updated", run_id),
                ("job", "deleted", job["id"])]
        got = []
        deadline = time.time() + 10
        while time.time() < deadline and (not got or got[-1] != want[-1]):
            m = ws.recv_json(timeout=10)
            if m.get("type") == "backup":
                got.append((m["kind"], m["action"], m["id"]))
        # A run publishes "updated" once per VM and once at its end.
        dedup = [g for i, g in enumerate(got) if i == 0 or g != got[i - 1]]
        assert dedup == want, got
    finally:
        ws.close()


def test_a_failed_vm_fails_the_run_not_the_others(ctx):
    c = ctx["c"]
    good, _ = _vm(ctx, "fine", 4 * MIB, _fill(5, 4 * MIB))
    empty = ctx["env"].vm(name="diskless", disks=[])
    job = _job(ctx, name="mixed", vms=[good["id"], empty["id"]])
    t = _run(ctx, job, expect="failure")
    assert "1 of 2 VM(s) failed" in t["error"]["message"], t
    assert "diskless" in t["error"]["message"], t
    run = _runs(c, job["id"])[0]
    assert run["status"] == "failure" and run["task"] == t["id"], run
    by = {v["vm_name"]: v for v in run["vms"]}
    assert by["fine"]["status"] == "success" and by["fine"]["snapshot"], run
    assert by["diskless"]["status"] == "failure", run
    assert by["diskless"]["snapshot"] is None, run
    assert "no disk" in by["diskless"]["error"], run
    # A job that selects nothing fails and says so.
    job = _job(ctx, name="nothing", tags=["no-vm-has-this"])
    t = _run(ctx, job, expect="failure")
    assert "selects no VM" in t["error"]["message"], t
