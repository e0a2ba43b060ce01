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
    # The repository is intact and still known with its passphrase.
    _task(ctx, c.post(REPOS + "/" + repo["id"] + "/verify", {}), timeout=120)
    # A clean stop (SIGTERM) mid-verify marks it interrupted too.
    r = c.post(REPOS + "/" + repo["id"] + "/verify", {})
    t = _wait_running(c, r.json["id"])
    assert d.stop() == 0
    d.start()
    c = ctx["c"] = d.admin()
    t = c.get(API + "/tasks/" + t["id"]).json
    assert t["status"] == "interrupted", t
