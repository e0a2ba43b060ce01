"""Disks: create, list, get, grow, rename, delete; bad input; the
import/export round trip of a 20 MiB image with holes (byte-identical,
holes kept in the SR); a disk attached to a VM cannot be deleted."""
import hashlib
import os

from xenith_client import Daemon

DISKS = "/api/v1/disks"
MIB = 1 << 20


def setup():
    d = Daemon().start()
    c = d.admin()
    path = os.path.join(d.data, "srs", "main")
    r = c.post("/api/v1/srs", {"name": "main", "type": "file", "path": path})
    assert r.status == 201, r
    return {"d": d, "c": c, "sr": r.json}


def teardown(ctx):
    ctx["d"].cleanup()


def _create(ctx, name, size):
    r = ctx["c"].post(DISKS, {"name": name, "sr": ctx["sr"]["id"],
                              "size_bytes": size})
    assert r.status == 201, r
    return r.json


def _image(ctx, disk):
    return os.path.join(ctx["sr"]["path"], disk["id"] + ".raw")


def test_create_get_list_grow_delete(ctx):
    c = ctx["c"]
    d = _create(ctx, "root disk", 8 * MIB)
    assert len(d["id"]) == 36 and d["name"] == "root disk", d
    assert d["sr"] == ctx["sr"]["id"] and d["format"] == "raw", d
    assert d["size_bytes"] == 8 * MIB and d["attached"] is None, d
    assert d["snapshot_of"] is None and isinstance(d["used_bytes"], int), d
    assert os.path.getsize(_image(ctx, d)) == 8 * MIB
    r = c.get(DISKS + "/" + d["id"])
    assert r.status == 200 and r.json["name"] == "root disk", r
    assert d["id"] in [x["id"] for x in c.get(DISKS).json]
    r = c.get(DISKS + "?sr=" + ctx["sr"]["id"])
    assert r.status == 200 and d["id"] in [x["id"] for x in r.json], r
    r = c.get(DISKS + "?sr=00000000-0000-4000-8000-000000000000")
    assert r.status == 200 and r.json == [], r
    r = c.get(DISKS + "?sr=junk")
    assert r.status == 400 and r.json["error"]["field"] == "sr", r

    r = c.patch(DISKS + "/" + d["id"], {"size_bytes": 4 * MIB})
    assert r.status == 400 and r.json["error"]["field"] == "size_bytes", r
    r = c.patch(DISKS + "/" + d["id"], {"name": "grown",
                                        "size_bytes": 16 * MIB})
    assert r.status == 200, r
    assert r.json["name"] == "grown" and r.json["size_bytes"] == 16 * MIB
    assert os.path.getsize(_image(ctx, d)) == 16 * MIB

    r = c.delete(DISKS + "/" + d["id"])
    assert r.status == 204, r
    assert not os.path.exists(_image(ctx, d))
    assert c.get(DISKS + "/" + d["id"]).status == 404
    assert c.delete(DISKS + "/" + d["id"]).status == 404


def test_bad_input_names_the_field_and_changes_nothing(ctx):
    c = ctx["c"]
    before = sorted(x["id"] for x in c.get(DISKS).json)
    files = sorted(os.listdir(ctx["sr"]["path"]))
    good = {"name": "x", "sr": ctx["sr"]["id"], "size_bytes": MIB}
    cases = [
        (dict(good, size_bytes=MIB - 512), "size_bytes"),
        (dict(good, size_bytes=MIB + 1), "size_bytes"),
        (dict(good, size_bytes=(64 << 40) + 512), "size_bytes"),
        (dict(good, size_bytes="1048576"), "size_bytes"),
        (dict(good, sr="00000000-0000-4000-8000-000000000000"), "sr"),
        (dict(good, sr="nope"), "sr"),
        (dict(good, sr=1), "sr"),
        (dict(good, name="n" * 65), "name"),
        (dict(good, name=""), "name"),
        (dict(good, format="qcow2"), "format"),
        ({"sr": good["sr"], "size_bytes": MIB}, "name"),
    ]
    for body, field in cases:
        r = c.post(DISKS, body)
        assert r.status == 400, (body, r)
        assert r.json["error"]["field"] == field, (body, r)
    r = c.post(DISKS, raw=b"{nope", content_type="application/json")
    assert r.status == 400 and r.json["error"]["code"] == "bad_json", r
    d = _create(ctx, "p", MIB)
    for body, field in (({"size_bytes": 3}, "size_bytes"),
                        ({"name": 3}, "name"), ({"sr": "x"}, "sr")):
        r = c.patch(DISKS + "/" + d["id"], body)
        assert r.status == 400 and r.json["error"]["field"] == field, r
    assert c.get(DISKS + "/" + d["id"]).json["name"] == "p"
    assert c.get(DISKS + "/bad-id").json["error"]["field"] == "id"
    assert c.delete(DISKS + "/" + d["id"]).status == 204
    assert sorted(x["id"] for x in c.get(DISKS).json) == before
    assert sorted(os.listdir(ctx["sr"]["path"])) == files


def _image_with_holes(size):
    """size bytes: data islands between holes (all-zero stretches)."""
    buf = bytearray(size)
    buf[0:MIB] = os.urandom(MIB)
    buf[7 * MIB:7 * MIB + 300000] = os.urandom(300000)
    buf[size - 4096:size] = b"\xab" * 4096
    return bytes(buf)


def test_import_export_round_trip_keeps_bytes_and_holes(ctx):
    c = ctx["c"]
    size = 20 * MIB
    d = _create(ctx, "imported", size)
    data = _image_with_holes(size)
    r = c.post(DISKS + "/" + d["id"] + "/import", raw=data,
               content_type="application/octet-stream")
    assert r.status == 200, r
    st = os.stat(_image(ctx, d))
    assert st.st_size == size
    # About 1.3 MiB of data (+ the last 4 KiB): the holes stayed holes.
    assert st.st_blocks * 512 < 3 * MIB, st.st_blocks
    assert r.json["used_bytes"] == st.st_blocks * 512, r
    r = c.get(DISKS + "/" + d["id"] + "/export")
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/octet-stream"
    assert 'filename="imported.raw"' in r.header("Content-Disposition")
    assert len(r.body) == size
    assert hashlib.sha256(r.body).hexdigest() == \
        hashlib.sha256(data).hexdigest()
    # Importing the export again keeps the holes too.
    r = c.post(DISKS + "/" + d["id"] + "/import", raw=r.body,
               content_type="application/octet-stream")
    assert r.status == 200, r
    assert os.stat(_image(ctx, d)).st_blocks * 512 < 3 * MIB


def test_import_larger_than_the_disk_is_refused(ctx):
    c = ctx["c"]
    d = _create(ctx, "small", MIB)
    before = open(_image(ctx, d), "rb").read()
    r = c.post(DISKS + "/" + d["id"] + "/import", raw=b"\x01" * (MIB + 512),
               content_type="application/octet-stream")
    assert r.status in (400, 413), r
    assert r.json["error"]["field"] == "size_bytes", r
    assert open(_image(ctx, d), "rb").read() == before


def test_attached_disk_cannot_be_deleted(ctx):
    c = ctx["c"]
    d = _create(ctx, "vmdisk", 8 * MIB)
    r = c.post("/api/v1/vms", {
        "name": "holder", "vcpus": 1, "memory_mib": 128,
        "boot": {"type": "pv", "kernel": "/boot/vmlinuz"},
        "disks": [{"disk": d["id"], "device": "xvda", "mode": "rw"}]})
    if r.status == 501:
        print("*** NOT TESTED: POST /vms answers 501, so the attached-disk "
              "409 cannot be reached yet ***")
        return
    assert r.status == 201, r
    vm = r.json
    got = c.get(DISKS + "/" + d["id"]).json
    assert got["attached"] == {"vm": vm["id"], "device": "xvda"}, got
    r = c.delete(DISKS + "/" + d["id"])
    assert r.status == 409 and r.json["error"]["code"] == "conflict", r
    assert c.get(DISKS + "/" + d["id"]).status == 200
    assert os.path.exists(_image(ctx, d))

    # While the VM runs: no import; growing works (seen after a reboot).
    r = c.post("/api/v1/vms/%s/start" % vm["id"])
    assert r.status == 202, r
    assert c.wait_task(r.json["id"])["status"] == "success"
    r = c.post(DISKS + "/" + d["id"] + "/import", raw=b"x" * 4096,
               content_type="application/octet-stream")
    assert r.status == 409, r
    r = c.patch(DISKS + "/" + d["id"], {"size_bytes": 16 * MIB})
    assert r.status == 200 and r.json["size_bytes"] == 16 * MIB, r
    assert "note" in r.json, r
    r = c.post("/api/v1/vms/%s/destroy" % vm["id"])
    assert r.status == 202, r
    assert c.wait_task(r.json["id"])["status"] == "success"

    assert c.delete("/api/v1/vms/" + vm["id"]).status in (200, 202, 204)
    assert c.delete(DISKS + "/" + d["id"]).status == 204
