"""Repositories written by format version 1 stay readable: the fixtures
were made once by tests/backup/make_fixture.py and are committed."""
import json
import os
import shutil

from bkutil import jrun, run, sha256

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def meta():
    with open(os.path.join(FIX, "fixtures.json")) as f:
        return json.load(f)


def read_fixture(tmp, name):
    m = meta()
    env = {"XENITH_BACKUP_PASSPHRASE": m["passphrase"]}
    repo = os.path.join(tmp, name)
    shutil.copytree(os.path.join(FIX, name), repo)  # never touch the fixture
    snaps = jrun("snapshots", "--repo", repo, env=env)["snapshots"]
    assert [s["id"] for s in snaps] == [m[name]]
    assert jrun("verify", "--repo", repo, env=env)["ok"]
    out = os.path.join(tmp, "out")
    run("restore", "--repo", repo, m[name], out, env=env)
    assert os.path.getsize(out) == m["image_size"]
    assert sha256(out) == m["image_sha256"]
    # And it takes new backups.
    jrun("backup-file", "--repo", repo, "--name", "new", out, env=env)
    assert jrun("verify", "--repo", repo, env=env)["ok"]


def test_v1_plain_readable(tmp):
    read_fixture(tmp, "v1-plain")


def test_v1_encrypted_readable(tmp):
    read_fixture(tmp, "v1-encrypted")


def test_unknown_version_refused(tmp):
    repo = os.path.join(tmp, "r")
    shutil.copytree(os.path.join(FIX, "v1-plain"), repo)
    with open(os.path.join(repo, "config")) as f:
        cfg = json.load(f)
    cfg["version"] = 99
    with open(os.path.join(repo, "config"), "w") as f:
        json.dump(cfg, f)
    p = run("snapshots", "--repo", repo, check=False)
    assert p.returncode == 1 and "version 99" in p.stderr


def test_v2_encrypted_readable(tmp):
    read_fixture(tmp, "v2-encrypted")
    with open(os.path.join(FIX, "v2-encrypted", "snapshots",
                           meta()["v2-encrypted"] + ".json"), "rb") as f:
        assert f.read(4) == b"XBKS"  # sealed
