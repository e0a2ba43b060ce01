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
