"""The backup API (issue 4 item 7): repositories (create, attach, bad
input, passphrases never shown), verify/prune/gc tasks, snapshots and
restores. Snapshots are written with the standalone CLI
(build/xenith-backup backup-file) into repositories the daemon knows,
then listed and restored through the API."""
import hashlib
import json
import os
import subprocess
import time

from xenith_client import Daemon

API = "/api/v1"
REPOS = API + "/backup/repositories"
PASS = "Backup-secret-passphrase-42"
CLI = os.environ.get("XENITH_BACKUP") or os.path.join(
    os.path.dirname(os.environ.get("XENITHD", "build/xenithd")),
    "xenith-backup")


def setup():
    d = Daemon().start()
    ctx = {"d": d, "c": d.admin(), "n": 0}
    return ctx


def teardown(ctx):
    ctx["d"].cleanup()


def _path(ctx, name):
    return os.path.join(ctx["d"].data, "bk", name)


def _uniq(ctx, base):
    ctx["n"] += 1
    return "%s-%d" % (base, ctx["n"])


def _repo(ctx, passphrase=None, **kw):
    name = _uniq(ctx, "repo")
    body = {"name": name, "path": _path(ctx, name)}
    if passphrase:
        body["passphrase"] = passphrase
    body.update(kw)
    r = ctx["c"].post(REPOS, body)
    assert r.status == 201, r
    return r.json


def _cli(args, passphrase=None, check=True):
    env = dict(os.environ)
    env.pop("XENITH_BACKUP_PASSPHRASE", None)
    if passphrase:
        env["XENITH_BACKUP_PASSPHRASE"] = passphrase
    p = subprocess.run([CLI] + args, env=env, capture_output=True, text=True,
                       timeout=120)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p


def _repo_ids(c):
    r = c.get(REPOS)
    assert r.status == 200, r
    return sorted(x["id"] for x in r.json)


def test_create_plain_repository(ctx):
    c = ctx["c"]
    repo = _repo(ctx, compression_level=3)
    assert len(repo["id"]) == 36, repo
    assert repo["encrypted"] is False and repo["key_fingerprint"] is None
    assert repo["compression_level"] == 3 and repo["chunk_size"] == 1 << 20
    assert repo["status"] == "ok" and "error" not in repo, repo
    assert repo["stats"] == {"snapshots": 0, "logical_bytes": 0,
                             "stored_bytes": 0, "chunks": 0,
                             "dedup_ratio": 0}, repo
    assert os.path.isfile(os.path.join(repo["path"], "config"))
    r = c.get(REPOS + "/" + repo["id"])
    assert r.status == 200 and r.json == repo, r
    assert repo["id"] in _repo_ids(c)
    # The CLI sees the same repository.
    st = json.loads(_cli(["stats", "--repo", repo["path"], "--json"]).stdout)
    assert st["compression"] == 3 and st["snapshots"] == 0, st


def test_create_encrypted_repository_hides_the_passphrase(ctx):
    c, d = ctx["c"], ctx["d"]
    repo = _repo(ctx, passphrase=PASS)
    assert repo["encrypted"] is True and repo["status"] == "ok", repo
    assert len(repo["key_fingerprint"]) == 32, repo
    # The CLI opens it with the passphrase only.
    assert _cli(["stats", "--repo", repo["path"]], check=False).returncode
    _cli(["stats", "--repo", repo["path"]], passphrase=PASS)
    r = c.patch(REPOS + "/" + repo["id"], {"name": _uniq(ctx, "renamed")})
    assert r.status == 200 and r.json["status"] == "ok", r
    r = c.patch(REPOS + "/" + repo["id"], {"passphrase": PASS})
    assert r.status == 200, r
    bodies = [c.get(REPOS).body, c.get(REPOS + "/" + repo["id"]).body,
              c.get(API + "/audit?limit=1000").body, d.read_log().encode()]
    with open(d.log, "rb") as f:
        bodies.append(f.read())
    for b in bodies:
        assert PASS.encode() not in b
    # At rest: sealed in the database, the key file 0600.
    for name in os.listdir(d.data):
        p = os.path.join(d.data, name)
        if os.path.isfile(p) and name != "xenithd.log":
            with open(p, "rb") as f:
                assert PASS.encode() not in f.read(), name
    key = os.path.join(d.data, "secret.key")
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert os.path.getsize(key) == 32


def test_attach_existing_repository(ctx):
    c = ctx["c"]
    enc = _repo(ctx, passphrase=PASS)
    plain = _repo(ctx)
    for r0 in (enc, plain):
        assert c.delete(REPOS + "/" + r0["id"]).status == 204
        assert c.get(REPOS + "/" + r0["id"]).status == 404
        assert os.path.isfile(os.path.join(r0["path"], "config"))
    before = _repo_ids(c)
    # Wrong or missing passphrase: 400 naming it, nothing recorded.
    for body in ({"passphrase": "Wrong-passphrase-1"}, {}):
        body.update({"name": _uniq(ctx, "att"), "path": enc["path"]})
        r = c.post(REPOS, body)
        assert r.status == 400 and r.error["field"] == "passphrase", r
        assert _repo_ids(c) == before
    # A passphrase for a plain repository is refused too.
    r = c.post(REPOS, {"name": _uniq(ctx, "att"), "path": plain["path"],
                       "passphrase": PASS})
    assert r.status == 400 and r.error["field"] == "passphrase", r
    r = c.post(REPOS, {"name": _uniq(ctx, "att"), "path": enc["path"],
                       "passphrase": PASS, "compression_level": 9})
    assert r.status == 201, r
    assert r.json["key_fingerprint"] == enc["key_fingerprint"], r
    assert r.json["compression_level"] == 1, r  # the repository's own
    r = c.post(REPOS, {"name": _uniq(ctx, "att"), "path": plain["path"]})
    assert r.status == 201 and not r.json["encrypted"], r
    # PATCH with a wrong passphrase: 400, the stored one still works.
    rid = [x for x in c.get(REPOS).json if x["path"] == enc["path"]][0]["id"]
    r = c.patch(REPOS + "/" + rid, {"passphrase": "Wrong-passphrase-2"})
    assert r.status == 400 and r.error["field"] == "passphrase", r
    assert c.get(REPOS + "/" + rid).json["status"] == "ok"


def test_bad_input_names_the_field_and_creates_nothing(ctx):
    c = ctx["c"]
    taken = _repo(ctx)
    junk = _path(ctx, "junk")
    os.makedirs(junk)
    with open(os.path.join(junk, "file.txt"), "w") as f:
        f.write("not a repository")
    fresh = _path(ctx, "never")
    cases = [
        ({"path": fresh}, "name"),
        ({"name": "", "path": fresh}, "name"),
        ({"name": "bad/name", "path": fresh}, "name"),
        ({"name": taken["name"], "path": fresh}, "name"),
        ({"name": "ok-1"}, "path"),
        ({"name": "ok-1", "path": "relative/dir"}, "path"),
        ({"name": "ok-1", "path": "/etc/xenith-backup"}, "path"),
        ({"name": "ok-1", "path": taken["path"]}, "path"),
        ({"name": "ok-1", "path": junk}, "path"),
        ({"name": "ok-1", "path": fresh, "passphrase": "short"},
         "passphrase"),
        ({"name": "ok-1", "path": fresh, "passphrase": 12345678},
         "passphrase"),
        ({"name": "ok-1", "path": fresh, "compression_level": 20},
         "compression_level"),
        ({"name": "ok-1", "path": fresh, "compression_level": -1},
         "compression_level"),
        ({"name": "ok-1", "path": fresh, "encrypt": True}, "encrypt"),
    ]
    before = _repo_ids(c)
    for body, field in cases:
        r = c.post(REPOS, body)
        assert r.status in (400, 409), (body, r)
        assert r.error["field"] == field, (body, r)
        assert _repo_ids(c) == before, body
        assert not os.path.exists(fresh), body
    assert os.listdir(junk) == ["file.txt"]
    r = c.patch(REPOS + "/" + taken["id"], {"name": "x" * 65})
    assert r.status == 400 and r.error["field"] == "name", r
    r = c.patch(REPOS + "/" + taken["id"], {"passphrase": PASS})
    assert r.status == 400 and r.error["field"] == "passphrase", r
    r = c.patch(REPOS + "/" + taken["id"], {"path": "/x"})
    assert r.status == 400 and r.error["field"] == "path", r
    assert c.get(REPOS + "/" + taken["id"]).json == taken
    assert c.get(REPOS + "/not-a-uuid").status == 400
    assert c.get(REPOS + "/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12
                 ).status == 404


def test_unavailable_repository_is_reported(ctx):
    c = ctx["c"]
    repo = _repo(ctx)
    os.rename(repo["path"], repo["path"] + ".moved")
    try:
        r = c.get(REPOS + "/" + repo["id"])
        assert r.status == 200, r
        assert r.json["status"] == "unavailable" and r.json["error"], r
        assert r.json["stats"] is None, r
    finally:
        os.rename(repo["path"] + ".moved", repo["path"])
    assert c.get(REPOS + "/" + repo["id"]).json["status"] == "ok"


MIB = 1 << 20


def _image(path, mib=8, seed=b"x"):
    """A VM-like image: random MiBs, text MiBs and holes."""
    with open(path, "wb") as f:
        f.truncate(mib * MIB)
        for i in range(0, mib, 2):
            f.seek(i * MIB)
            if i % 4 == 0:
                f.write(os.urandom(MIB))
            else:
                f.write((b"line %d of %s\n" % (i, seed)) * (MIB // 32))
    return path


def _rewrite(path, mib_index):
    with open(path, "r+b") as f:
        f.seek(mib_index * MIB)
        f.write(os.urandom(MIB))


def _sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MIB), b""):
            h.update(b)
    return h.hexdigest()


def _backup_file(repo, name, path, passphrase=None):
    p = _cli(["backup-file", "--repo", repo["path"], "--name", name,
              "--quiet", path], passphrase=passphrase)
    snap = p.stdout.strip().split()[-1]
    assert len(snap) == 36, p.stdout
    return snap


def _task(ctx, r, status="success", timeout=60):
    assert r.status == 202, r
    assert r.header("Location") == API + "/tasks/" + r.json["id"], r
    t = ctx["c"].wait_task(r.json["id"], timeout)
    assert t["status"] == status, t
    return t


def _chunk_files(repo):
    out = []
    for dirpath, _, files in os.walk(os.path.join(repo["path"], "chunks")):
        out += [os.path.join(dirpath, f) for f in files
                if not f.startswith(".")]
    return sorted(out)


def _flip_bit(path, offset=None):
    size = os.path.getsize(path)
    off = size // 2 if offset is None else offset
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x10]))


def test_verify_prune_gc_tasks(ctx):
    c = ctx["c"]
    repo = _repo(ctx)
    img = _image(_path(ctx, "vm-a.img"), 8)
    snaps = [_backup_file(repo, "vm-a", img)]
    for i in (0, 4):
        _rewrite(img, i)
        snaps.append(_backup_file(repo, "vm-a", img))
    _backup_file(repo, "vm-b", _image(_path(ctx, "vm-b.img"), 4, b"b"))
    base = REPOS + "/" + repo["id"]
    st = c.get(base).json["stats"]
    assert st["snapshots"] == 4 and st["chunks"] > 0, st
    assert st["dedup_ratio"] > 1, st  # the vm-a backups share chunks

    t = _task(ctx, c.post(base + "/verify", {}))
    res = t["result"]
    assert res["bad"] == [] and res["bad_indexes"] == [], res
    assert res["chunks_checked"] == res["chunks_total"] == st["chunks"], res
    assert res["bytes_checked"] > 0, res
    assert t["kind"] == "backup.verify" and t["target"]["id"] == repo["id"]
    assert t["bytes_done"] > 0 and t["bytes_total"] >= t["bytes_done"], t
    assert isinstance(t["rate_bps"], int) and t["eta_s"] == 0, t
    t = _task(ctx, c.post(base + "/verify", {"sample_percent": 10}))
    res = t["result"]  # a random 10% of 8 chunks: how many is luck
    assert res["chunks_total"] == st["chunks"], res
    assert res["chunks_checked"] < st["chunks"], res

    # Prune: a dry run removes nothing; then vm-a keeps its newest.
    t = _task(ctx, c.post(base + "/prune", {"keep_last": 1,
                                            "dry_run": True}))
    assert sorted(t["result"]["removed"]) == sorted(snaps[:2]), t
    assert c.get(base).json["stats"]["snapshots"] == 4
    t = _task(ctx, c.post(base + "/prune", {"keep_last": 1}))
    assert sorted(t["result"]["removed"]) == sorted(snaps[:2]), t
    assert c.get(base).json["stats"]["snapshots"] == 2
    before = c.get(base).json["stats"]["chunks"]
    time.sleep(1.1)  # gc keeps chunks written in its own second
    t = _task(ctx, c.post(base + "/gc"))
    res = t["result"]
    assert res["chunks_removed"] > 0 and res["bytes_removed"] > 0, res
    assert res["chunks_kept"] + res["chunks_removed"] == before, res
    assert c.get(base).json["stats"]["chunks"] == res["chunks_kept"]
    _task(ctx, c.post(base + "/verify"))
    out = _cli(["snapshots", "--repo", repo["path"], "--json"]).stdout
    assert snaps[2] in out and snaps[0] not in out, out


def test_maintenance_bad_input(ctx):
    c = ctx["c"]
    repo = _repo(ctx)
    base = REPOS + "/" + repo["id"]
    tasks = len(c.get(API + "/tasks").json)
    for path, body, field in [
            ("/verify", {"sample_percent": 0}, "sample_percent"),
            ("/verify", {"sample_percent": 101}, "sample_percent"),
            ("/prune", {}, "keep_last"),
            ("/prune", {"keep_last": 0, "keep_daily": 0}, "keep_last"),
            ("/prune", {"keep_daily": -1}, "keep_daily"),
            ("/prune", {"keep_last": 1, "dry_run": "yes"}, "dry_run"),
            ("/gc", {"now": True}, "now")]:
        r = c.post(base + path, body)
        assert r.status == 400 and r.error["field"] == field, (path, r)
    r = c.post(REPOS + "/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12 +
               "/verify", {})
    assert r.status == 404, r
    assert len(c.get(API + "/tasks").json) == tasks


def test_verify_finds_a_flipped_bit(ctx):
    c = ctx["c"]
    repo = _repo(ctx, passphrase=PASS)
    img = _image(_path(ctx, "vm-c.img"), 6, b"c")
    snap = _backup_file(repo, "vm-c", img, passphrase=PASS)
    chunks = _chunk_files(repo)
    assert chunks
    victim = chunks[len(chunks) // 2]
    _flip_bit(victim)
    t = _task(ctx, c.post(REPOS + "/" + repo["id"] + "/verify", {}),
              status="failure")
    chunk_id = os.path.basename(victim)
    assert chunk_id in t["error"]["message"], t
    assert snap in t["error"]["message"], t
    bad = t["result"]["bad"]
    assert [b["chunk"] for b in bad] == [chunk_id], bad
    assert bad[0]["missing"] is False and bad[0]["snapshots"] == [snap], bad
    # A missing chunk is reported as missing.
    _flip_bit(victim)  # repaired
    _task(ctx, c.post(REPOS + "/" + repo["id"] + "/verify", {}))
    os.rename(victim, victim + ".away")
    t = _task(ctx, c.post(REPOS + "/" + repo["id"] + "/verify", {}),
              status="failure")
    assert t["result"]["bad"][0]["missing"] is True, t
    os.rename(victim + ".away", victim)


def test_encrypted_metadata_sealed_and_checked(ctx):
    """Format 2: an encrypted repository's manifests and indexes are
    sealed on disk; the daemon reads them with the stored passphrase;
    verify names a tampered index or manifest file."""
    c = ctx["c"]
    repo = _repo(ctx, passphrase=PASS)
    img = _image(_path(ctx, "vm-s.img"), 4, b"s")
    snap = _backup_file(repo, "secret-vm-name", img, passphrase=PASS)
    man = os.path.join(repo["path"], "snapshots", snap + ".json")
    idx = os.path.join(repo["path"], "indexes", snap + ".0.idx")
    for p in (man, idx):
        with open(p, "rb") as f:
            data = f.read()
        assert data[:4] == b"XBKS" and b"secret-vm-name" not in data, p
    r = c.get(SNAPS + "?repository=" + repo["id"])
    assert r.status == 200, r
    assert [(s["id"], s["name"]) for s in r.json] == [
        (snap, "secret-vm-name")], r.json
    assert c.get(REPOS + "/" + repo["id"]).json["stats"]["snapshots"] == 1
    base = REPOS + "/" + repo["id"]
    _task(ctx, c.post(base + "/verify", {}))
    for victim, rel in ((idx, "indexes/%s.0.idx" % snap),
                        (man, "snapshots/%s.json" % snap)):
        _flip_bit(victim)
        t = _task(ctx, c.post(base + "/verify", {}), status="failure")
        assert t["result"]["bad_indexes"] == [snap], t
        assert t["result"]["bad_files"] == [rel], t
        assert rel in t["error"]["message"], t
        _flip_bit(victim)  # repaired
    _task(ctx, c.post(base + "/verify", {}))
    # A tampered manifest: the snapshot is not listed, nothing breaks.
    _flip_bit(man)
    r = c.get(SNAPS + "?repository=" + repo["id"])
    assert r.status == 200 and r.json == [], r
    _flip_bit(man)


def _big_repo(ctx):
    """A repository whose verify takes a while (random data, stored raw)."""
    if "big" in ctx:
        return ctx["big"]
    repo = _repo(ctx, compression_level=0)
    path = _path(ctx, "big.img")
    with open(path, "wb") as f:
        for _ in range(384):
            f.write(os.urandom(MIB))
    _backup_file(repo, "big", path)
    os.unlink(path)
    ctx["big"] = repo
    return repo


def _wait_running(c, task_id):
    deadline = time.time() + 20
    while time.time() < deadline:
        t = c.get(API + "/tasks/" + task_id).json
        if t["status"] != "pending":
            return t
        time.sleep(0.01)
    raise AssertionError("task %s never ran" % task_id)


def test_verify_can_be_cancelled(ctx):
    c = ctx["c"]
    repo = _big_repo(ctx)
    r = c.post(REPOS + "/" + repo["id"] + "/verify", {})
    assert r.status == 202, r
    t = _wait_running(c, r.json["id"])
    assert t["status"] == "running", t
    assert c.post(API + "/tasks/" + t["id"] + "/cancel").status in (200, 202)
    t = c.wait_task(t["id"], 60)
    assert t["status"] == "cancelled", t
    _task(ctx, c.post(REPOS + "/" + repo["id"] + "/verify",
                      {"sample_percent": 5}))


def test_restart_during_verify_leaves_it_interrupted(ctx):
    import signal
    d, c = ctx["d"], ctx["c"]
    repo = _big_repo(ctx)
    enc = _repo(ctx, passphrase=PASS)
    r = c.post(REPOS + "/" + repo["id"] + "/verify", {})
    assert r.status == 202, r
    t = _wait_running(c, r.json["id"])
    assert t["status"] == "running", t
    d.stop(signal.SIGKILL)
    d.start()
    c = ctx["c"] = d.admin()
    t = c.get(API + "/tasks/" + t["id"]).json
    assert t["status"] == "interrupted", t
    assert t["error"]["code"] == "interrupted", t
    # The repository is intact; the encrypted one still opens with the
    # passphrase sealed under DATA/secret.key.
    _task(ctx, c.post(REPOS + "/" + repo["id"] + "/verify", {}), timeout=120)
    assert c.get(REPOS + "/" + enc["id"]).json["status"] == "ok"
    # A clean stop (SIGTERM) mid-verify marks it interrupted too.
    r = c.post(REPOS + "/" + repo["id"] + "/verify", {})
    t = _wait_running(c, r.json["id"])
    assert d.stop() == 0
    d.start()
    c = ctx["c"] = d.admin()
    t = c.get(API + "/tasks/" + t["id"]).json
    assert t["status"] == "interrupted", t


SNAPS = API + "/backup/snapshots"


def _env(ctx):
    """An SR and a network for restores (made once)."""
    if "sr" not in ctx:
        c = ctx["c"]
        path = os.path.join(ctx["d"].data, "srs", "main")
        r = c.post(API + "/srs", {"name": "main", "type": "file",
                                  "path": path})
        assert r.status == 201, r
        ctx["sr"], ctx["sr_path"] = r.json["id"], path
        r = c.post(API + "/networks", {"name": "lan", "bridge": "xenbr0"})
        assert r.status == 201, r
        ctx["net"] = r.json["id"]
    return ctx


def _allocated(path):
    return os.stat(path).st_blocks * 512


def _disk_file(ctx, disk):
    return os.path.join(ctx["sr_path"], disk["id"] + ".raw")


def _check_restored(path, src):
    assert _sha(path) == _sha(src), path
    assert os.path.getsize(path) == os.path.getsize(src)
    # Sparse: holes stay holes (the source is half holes).
    assert _allocated(path) < os.path.getsize(src), path
    assert _allocated(path) <= _allocated(src) + MIB, (path, src)


def test_snapshots_list_and_disk_restore(ctx):
    c = _env(ctx)["c"]
    repo = _repo(ctx)
    src = _image(_path(ctx, "disk-src.img"), 8, b"d")
    snap = _backup_file(repo, "plain-image", src)
    r = c.get(SNAPS + "?repository=" + repo["id"])
    assert r.status == 200, r
    assert [s["id"] for s in r.json] == [snap], r
    s = r.json[0]
    assert s == {"id": snap, "repository": repo["id"], "vm": None,
                 "name": "plain-image", "time": s["time"], "parent": None,
                 "job": None, "size": 8 * MIB, "protected": False,
                 "disks": [{"name": "disk0", "size": 8 * MIB}]}, s
    assert s["time"].endswith("Z"), s
    assert snap in [x["id"] for x in c.get(SNAPS).json]
    # Newest first.
    snap2 = _backup_file(repo, "plain-image", src)
    ids = [x["id"] for x in c.get(SNAPS + "?repository=" + repo["id"]).json]
    assert ids == [snap2, snap], ids
    assert c.get(SNAPS + "?vm=" + str(uuid_of(1))).json == []

    disks_before = len(c.get(API + "/disks").json)
    t = _task(ctx, c.post(SNAPS + "/" + snap + "/restore",
                          {"mode": "disk", "name": "restored-disk"}))
    d = t["result"]["disk"]
    assert d["name"] == "restored-disk" and d["sr"] == ctx["sr"], d
    assert d["size_bytes"] == 8 * MIB and d["attached"] is None, d
    assert c.get(API + "/disks/" + d["id"]).status == 200
    assert len(c.get(API + "/disks").json) == disks_before + 1
    _check_restored(_disk_file(ctx, d), src)
    assert t["bytes_total"] == 8 * MIB and t["bytes_done"] == 8 * MIB, t
    assert not [f for f in os.listdir(ctx["sr_path"])
                if f.endswith(".restore")]


def uuid_of(n):
    return "%08x-0000-4000-8000-%012x" % (n, n)


def test_restore_new_vm_from_a_job_snapshot(ctx):
    c = _env(ctx)["c"]
    repo = _repo(ctx, passphrase=PASS)
    # The source VM, as a backup job would have seen it.
    r = c.post(API + "/disks", {"name": "web01-root", "sr": ctx["sr"],
                                "size_bytes": 8 * MIB})
    assert r.status == 201, r
    r = c.post(API + "/vms", {"name": "web01", "vcpus": 2, "memory_mib": 256,
                              "boot": {"type": "hvm", "cdrom": None},
                              "disks": [{"disk": r.json["id"],
                                         "device": "xvda"}],
                              "nics": [{"network": ctx["net"]}],
                              "tags": ["prod"]})
    assert r.status == 201, r
    src_vm = r.json
    src = _image(_path(ctx, "web01.img"), 8, b"web01")
    # What a backup job writes into the (sealed) manifest, given to the
    # CLI.
    cfg = _path(ctx, "web01-config.json")
    with open(cfg, "w") as f:
        json.dump({
            "vm": src_vm["id"], "name": "web01", "vcpus": 2,
            "memory_mib": 256, "boot": {"type": "hvm", "cdrom": None},
            "disks": [{"device": "xvda", "name": "web01-root",
                       "size_bytes": 8 * MIB, "mode": "rw"}],
            "nics": [{"network": ctx["net"],
                      "mac": src_vm["nics"][0]["mac"]}],
            "tags": ["prod"]}, f)
    p = _cli(["backup-file", "--repo", repo["path"], "--name", "web01",
              "--disk-name", "xvda", "--vm-config", cfg, "--quiet", src],
             passphrase=PASS)
    snap = p.stdout.strip().split()[-1]
    r = c.get(SNAPS + "?vm=" + src_vm["id"])
    assert [s["id"] for s in r.json] == [snap], r
    assert r.json[0]["vm"] == src_vm["id"], r

    t = _task(ctx, c.post(SNAPS + "/" + snap + "/restore",
                          {"mode": "new-vm"}))
    vm = t["result"]["vm"]
    assert vm["id"] != src_vm["id"] and vm["name"] == "web01 restored", vm
    assert vm["vcpus"] == 2 and vm["memory_mib"] == 256, vm
    assert vm["tags"] == ["prod"] and vm["state"] == "halted", vm
    assert len(vm["nics"]) == 1, vm
    assert vm["nics"][0]["network"] == ctx["net"], vm
    assert vm["nics"][0]["mac"] != src_vm["nics"][0]["mac"], vm
    assert [x["device"] for x in vm["disks"]] == ["xvda"], vm
    disk = c.get(API + "/disks/" + vm["disks"][0]["disk"]).json
    assert disk["name"] == "web01-root" and disk["sr"] == ctx["sr"], disk
    assert disk["id"] != src_vm["disks"][0]["disk"]
    _check_restored(_disk_file(ctx, disk), src)
    assert c.get(API + "/vms/" + vm["id"]).json["name"] == "web01 restored"
    # A snapshot without a VM config makes a VM with defaults.
    plain = _backup_file(repo, "bare", src, passphrase=PASS)
    t = _task(ctx, c.post(SNAPS + "/" + plain + "/restore",
                          {"mode": "new-vm", "name": "from-image",
                           "sr": ctx["sr"]}))
    vm = t["result"]["vm"]
    assert vm["name"] == "from-image" and vm["nics"] == [], vm
    assert [x["device"] for x in vm["disks"]] == ["xvda"], vm


def test_restore_overwrite_needs_a_halted_vm(ctx):
    c = _env(ctx)["c"]
    repo = _repo(ctx)
    src = _image(_path(ctx, "ow.img"), 8, b"ow")
    p = _cli(["backup-file", "--repo", repo["path"], "--name", "ow",
              "--disk-name", "xvda", "--quiet", src])
    snap = p.stdout.strip().split()[-1]
    r = c.post(API + "/disks", {"name": "ow-root", "sr": ctx["sr"],
                                "size_bytes": 4 * MIB})
    disk = r.json
    r = c.post(API + "/vms", {"name": "ow", "vcpus": 1, "memory_mib": 128,
                              "boot": {"type": "pv",
                                       "kernel": "/boot/vmlinuz"},
                              "disks": [{"disk": disk["id"],
                                         "device": "xvda"}]})
    assert r.status == 201, r
    vm = r.json
    url = SNAPS + "/" + snap + "/restore"
    r = c.post(API + "/vms/" + vm["id"] + "/start")
    assert c.wait_task(r.json["id"])["status"] == "success"
    r = c.post(url, {"mode": "overwrite", "vm": vm["id"]})
    assert r.status == 409 and r.error["field"] == "vm", r
    r = c.post(API + "/vms/" + vm["id"] + "/destroy")
    assert c.wait_task(r.json["id"])["status"] == "success"
    t = _task(ctx, c.post(url, {"mode": "overwrite", "vm": vm["id"]}))
    assert t["result"]["vm"]["id"] == vm["id"], t
    assert t["target"] == {"type": "vm", "id": vm["id"]}, t
    _check_restored(_disk_file(ctx, disk), src)
    assert c.get(API + "/disks/" + disk["id"]).json["size_bytes"] == 8 * MIB
    # A VM lacking the snapshot's device is refused, nothing written.
    r = c.post(API + "/vms", {"name": "ow2", "vcpus": 1, "memory_mib": 128,
                              "boot": {"type": "hvm"}})
    r = c.post(url, {"mode": "overwrite", "vm": r.json["id"]})
    assert r.status == 409 and r.error["field"] == "vm", r


def test_restore_bad_input(ctx):
    c = _env(ctx)["c"]
    repo = _repo(ctx)
    snap = _backup_file(repo, "bad", _image(_path(ctx, "bad.img"), 2, b"z"))
    url = SNAPS + "/" + snap + "/restore"
    tasks = len(c.get(API + "/tasks").json)
    disks = len(c.get(API + "/disks").json)
    for body, field, status in [
            ({}, "mode", 400),
            ({"mode": "everything"}, "mode", 400),
            ({"mode": "overwrite"}, "vm", 400),
            ({"mode": "overwrite", "vm": uuid_of(7)}, "vm", 400),
            ({"mode": "disk", "disk": 1}, "disk", 400),
            ({"mode": "disk", "disk": -1}, "disk", 400),
            ({"mode": "disk", "sr": uuid_of(8)}, "sr", 400),
            ({"mode": "disk", "name": "a/b"}, "name", 400),
            ({"mode": "disk", "repository": uuid_of(9)}, "repository", 400),
            ({"mode": "new-vm", "vm": uuid_of(7)}, "vm", 400),
            ({"mode": "disk", "size": 1}, "size", 400)]:
        r = c.post(url, body)
        assert r.status == status and r.error["field"] == field, (body, r)
    r = c.post(SNAPS + "/" + uuid_of(10) + "/restore", {"mode": "disk"})
    assert r.status == 404, r
    r = c.post(SNAPS + "/" + uuid_of(10) + "/restore",
               {"mode": "disk", "repository": repo["id"]})
    assert r.status == 404, r
    assert c.get(SNAPS + "?vm=nope").error["field"] == "vm"
    assert c.get(SNAPS + "?repository=" + uuid_of(3)).error["field"] == \
        "repository"
    assert len(c.get(API + "/tasks").json) == tasks
    assert len(c.get(API + "/disks").json) == disks


def test_restore_finds_a_flipped_bit(ctx):
    c = _env(ctx)["c"]
    repo = _repo(ctx)
    src = _image(_path(ctx, "rot.img"), 6, b"rot")
    snap = _backup_file(repo, "rot", src)
    victim = _chunk_files(repo)[-1]
    _flip_bit(victim, 40)
    disks = len(c.get(API + "/disks").json)
    vms = len(c.get(API + "/vms").json)
    for mode in ("disk", "new-vm"):
        t = _task(ctx, c.post(SNAPS + "/" + snap + "/restore",
                              {"mode": mode}), status="failure")
        msg = t["error"]["message"]
        assert os.path.basename(victim) in msg and snap in msg, t
    assert len(c.get(API + "/disks").json) == disks
    assert len(c.get(API + "/vms").json) == vms
    assert not [f for f in os.listdir(ctx["sr_path"])
                if f.endswith(".restore")]


def test_restore_can_be_cancelled_and_leaves_nothing(ctx):
    c = _env(ctx)["c"]
    repo = _big_repo(ctx)
    snap = c.get(SNAPS + "?repository=" + repo["id"]).json[0]["id"]
    disks = len(c.get(API + "/disks").json)
    r = c.post(SNAPS + "/" + snap + "/restore",
               {"mode": "disk", "sr": ctx["sr"]})
    assert r.status == 202, r
    t = _wait_running(c, r.json["id"])
    assert c.post(API + "/tasks/" + t["id"] + "/cancel").status in (200, 202)
    t = c.wait_task(t["id"], 60)
    assert t["status"] == "cancelled", t
    assert len(c.get(API + "/disks").json) == disks
    assert not [f for f in os.listdir(ctx["sr_path"])
                if f.endswith(".restore")]


def test_repository_changes_are_published(ctx):
    c = ctx["c"]
    ws = c.websocket(API + "/events")
    try:
        assert ws.status == 101, ws.head
        repo = _repo(ctx)
        assert c.patch(REPOS + "/" + repo["id"],
                       {"name": _uniq(ctx, "pub")}).status == 200
        assert c.delete(REPOS + "/" + repo["id"]).status == 204
        seen = []
        deadline = time.time() + 10
        while len(seen) < 3 and time.time() < deadline:
            m = ws.recv_json(timeout=10)
            if m.get("type") == "backup" and m.get("id") == repo["id"]:
                assert m["kind"] == "repository", m
                seen.append(m["action"])
        assert seen == ["created", "updated", "deleted"], seen
    finally:
        ws.close()
