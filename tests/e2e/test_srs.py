"""Storage repositories: create, list, get, forget; bad input names the
field and changes nothing; 409 for taken names and paths and for an SR
that still holds disks."""
import os
import time

from xenith_client import Daemon

SRS = "/api/v1/srs"


def setup():
    d = Daemon().start()
    ctx = {"d": d, "c": d.admin()}
    c = ctx["c"]
    # Before any SR the pool has no default; the first SR becomes it.
    ctx["default_before"] = c.get("/api/v1/pool").json["default_sr"]
    r = c.post(SRS, {"name": "local", "type": "file",
                     "path": _path(ctx, "local")})
    assert r.status == 201, r
    ctx["sr"] = r.json
    return ctx


def teardown(ctx):
    ctx["d"].cleanup()


def _path(ctx, name):
    return os.path.join(ctx["d"].data, "srs", name)


def _names(c):
    r = c.get(SRS)
    assert r.status == 200, r
    return sorted(s["name"] for s in r.json)


def test_first_sr_becomes_the_default_and_reports_usage(ctx):
    c = ctx["c"]
    sr = ctx["sr"]
    path = _path(ctx, "local")
    assert ctx["default_before"] is None
    assert len(sr["id"]) == 36 and sr["name"] == "local", sr
    assert sr["type"] == "file" and sr["path"] == path, sr
    assert os.path.isdir(path)
    assert os.stat(path).st_mode & 0o777 == 0o700
    for k in ("size_bytes", "free_bytes", "used_bytes"):
        assert isinstance(sr[k], int) and sr[k] >= 0, (k, sr)
    assert sr["size_bytes"] > 0 and sr["free_bytes"] <= sr["size_bytes"]
    assert sr["reflink"] in (True, False) and sr["disks"] == 0, sr
    assert c.get("/api/v1/pool").json["default_sr"] == sr["id"]
    r = c.get(SRS + "/" + sr["id"])
    assert r.status == 200 and r.json["id"] == sr["id"], r
    assert sr["id"] in [s["id"] for s in c.get(SRS).json]
    # Another SR does not take the default.
    r = c.post(SRS, {"name": "second", "type": "file",
                     "path": _path(ctx, "second")})
    assert r.status == 201, r
    assert c.get("/api/v1/pool").json["default_sr"] == sr["id"]


def test_bad_input_names_the_field_and_changes_nothing(ctx):
    c = ctx["c"]
    before = _names(c)
    good = {"name": "x1", "type": "file", "path": _path(ctx, "x1")}
    cases = [
        (dict(good, name=5), "name"),
        (dict(good, name="n" * 65), "name"),
        (dict(good, name="a/b"), "name"),
        (dict(good, type="nfs"), "type"),
        (dict(good, type=None), "type"),
        (dict(good, path="relative/dir"), "path"),
        (dict(good, path="/etc"), "path"),
        (dict(good, path="/"), "path"),
        (dict(good, path="/proc/sr"), "path"),
        (dict(good, path=_path(ctx, "a/../b")), "path"),
        (dict(good, path=7), "path"),
        (dict(good, extra=1), "extra"),
        ({"type": "file", "path": good["path"]}, "name"),
    ]
    for body, field in cases:
        r = c.post(SRS, body)
        assert r.status == 400, (body, r)
        assert r.json["error"]["field"] == field, (body, r)
    r = c.post(SRS, raw=b'{"name": "x1",', content_type="application/json")
    assert r.status == 400 and r.json["error"]["code"] == "bad_json", r
    assert _names(c) == before
    assert not os.path.exists(good["path"])


def test_taken_name_or_path_is_409(ctx):
    c = ctx["c"]
    sr = ctx["sr"]
    r = c.post(SRS, {"name": "local", "type": "file",
                     "path": _path(ctx, "other")})
    assert r.status == 409 and r.json["error"]["field"] == "name", r
    assert not os.path.exists(_path(ctx, "other"))
    r = c.post(SRS, {"name": "other", "type": "file",
                     "path": sr["path"] + "/"})
    assert r.status == 409 and r.json["error"]["field"] == "path", r


def test_bad_and_unknown_ids(ctx):
    c = ctx["c"]
    r = c.get(SRS + "/not-a-uuid")
    assert r.status == 400 and r.json["error"]["field"] == "id", r
    r = c.get(SRS + "/00000000-0000-4000-8000-000000000000")
    assert r.status == 404, r
    r = c.delete(SRS + "/00000000-0000-4000-8000-000000000000")
    assert r.status == 404, r


def test_sr_with_disks_cannot_be_forgotten(ctx):
    c = ctx["c"]
    path = _path(ctx, "busy")
    r = c.post(SRS, {"name": "busy", "type": "file", "path": path})
    assert r.status == 201, r
    sr_id = r.json["id"]
    r = c.post("/api/v1/disks", {"name": "d", "sr": sr_id,
                                 "size_bytes": 1 << 20})
    assert r.status == 201, r
    disk_id = r.json["id"]
    assert c.get(SRS + "/" + sr_id).json["disks"] == 1
    r = c.delete(SRS + "/" + sr_id)
    assert r.status == 409 and r.json["error"]["code"] == "conflict", r
    assert c.get(SRS + "/" + sr_id).status == 200
    assert c.delete("/api/v1/disks/" + disk_id).status == 204
    assert c.delete(SRS + "/" + sr_id).status == 204


def test_forget_keeps_the_directory(ctx):
    c = ctx["c"]
    path = _path(ctx, "gone")
    r = c.post(SRS, {"name": "gone", "type": "file", "path": path})
    assert r.status == 201, r
    sr_id = r.json["id"]
    r = c.delete(SRS + "/" + sr_id)
    assert r.status == 204, r
    assert os.path.isdir(path)
    assert c.get(SRS + "/" + sr_id).status == 404
    assert "gone" not in _names(c)


def test_changes_arrive_as_events(ctx):
    c = ctx["c"]
    ws = c.websocket("/api/v1/events")
    assert ws.status == 101, ws.head
    try:
        r = c.post(SRS, {"name": "evented", "type": "file",
                         "path": _path(ctx, "evented")})
        assert r.status == 201, r
        sr_id = r.json["id"]
        r = c.post("/api/v1/disks", {"name": "ev", "sr": sr_id,
                                     "size_bytes": 1 << 20})
        assert r.status == 201, r
        disk_id = r.json["id"]
        assert c.delete("/api/v1/disks/" + disk_id).status == 204
        assert c.delete(SRS + "/" + sr_id).status == 204
        want = [("sr", "created", sr_id), ("disk", "created", disk_id),
                ("disk", "deleted", disk_id), ("sr", "deleted", sr_id)]
        got = []
        deadline = time.time() + 10
        while len(got) < len(want) and time.time() < deadline:
            m = ws.recv_json(timeout=10)
            if m.get("type") in ("sr", "disk"):
                got.append((m["type"], m["action"], m["id"]))
        assert got == want, got
    finally:
        ws.close()
