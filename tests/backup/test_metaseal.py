"""Sealed metadata (format version 2): in encrypted repositories the
snapshot manifests and disk indexes are AES-256-GCM sealed; nothing of
the VM's names, config or chunk ids is readable on disk; a flipped bit
or a file put under another's name is reported naming the file; a v1
encrypted repository keeps working as v1."""
import json
import os
import shutil

from bkutil import MIB, backup, flip_bit, jrun, run, sha256

PASS = {"XENITH_BACKUP_PASSPHRASE": "correct horse"}
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def image(path, seed):
    with open(path, "wb") as f:
        f.truncate(3 * MIB)
        f.write(("guest %d text data " % seed).encode() * 40000)


def two_snapshots(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    run("init", "--repo", repo, "--encrypt", env=PASS)
    image(img, 1)
    a = backup(repo, "secret-vm-name", img, env=PASS)["snapshot"]
    image(img, 2)
    b = backup(repo, "secret-vm-name", img, env=PASS)["snapshot"]
    return repo, img, a, b


def test_sealed_round_trip_and_nothing_readable(tmp):
    repo, img, a, b = two_snapshots(tmp)
    with open(os.path.join(repo, "config")) as f:
        assert json.load(f)["version"] == 2
    snaps = jrun("snapshots", "--repo", repo, env=PASS)["snapshots"]
    assert [s["id"] for s in snaps] == [a, b]
    assert all(s["name"] == "secret-vm-name" for s in snaps)
    out = os.path.join(tmp, "out")
    run("restore", "--repo", repo, b, out, env=PASS)
    assert sha256(out) == sha256(img)
    assert jrun("verify", "--repo", repo, env=PASS)["ok"]
    ids = set()
    for d in ("chunks/" + x for x in os.listdir(os.path.join(repo, "chunks"))):
        ids.update(os.listdir(os.path.join(repo, d)))
    for d in ("snapshots", "indexes"):
        for n in os.listdir(os.path.join(repo, d)):
            with open(os.path.join(repo, d, n), "rb") as f:
                data = f.read()
            assert data[:4] == b"XBKS", n
            assert b"secret-vm-name" not in data and b"XBKIDX" not in data
            for cid in ids:  # no chunk id, hex or raw
                assert cid.encode() not in data
                assert bytes.fromhex(cid) not in data
            # File names: the random snapshot uuid (and a disk number).
            assert n.split(".")[0] in (a, b), n


def test_tampered_manifest_reported(tmp):
    repo, img, a, b = two_snapshots(tmp)
    man = os.path.join(repo, "snapshots", a + ".json")
    flip_bit(man, 7)
    p = run("snapshots", "--repo", repo, "--json", env=PASS)
    assert [s["id"] for s in json.loads(p.stdout)["snapshots"]] == [b]
    assert "snapshots/%s.json" % a in p.stderr
    assert "authenticated" in p.stderr
    v = jrun("verify", "--repo", repo, env=PASS, check=False)
    assert not v["ok"]
    assert v["damaged_snapshots"] == [a]
    assert v["damaged_files"] == ["snapshots/%s.json" % a]
    p = run("restore", "--repo", repo, a, os.path.join(tmp, "o"), env=PASS,
            check=False)
    assert p.returncode == 1 and a in p.stderr
    # gc refuses to sweep on a damaged manifest rather than lose chunks.
    p = run("gc", "--repo", repo, env=PASS, check=False)
    assert p.returncode == 1 and "nothing removed" in p.stderr
    # The other snapshot is unharmed.
    run("restore", "--repo", repo, b, os.path.join(tmp, "o"), env=PASS)
    assert sha256(os.path.join(tmp, "o")) == sha256(img)


def test_tampered_index_reported(tmp):
    repo, img, a, b = two_snapshots(tmp)
    idx = os.path.join(repo, "indexes", b + ".0.idx")
    flip_bit(idx, 3)
    v = jrun("verify", "--repo", repo, env=PASS, check=False)
    assert not v["ok"] and v["damaged_snapshots"] == [b]
    assert v["damaged_files"] == ["indexes/%s.0.idx" % b]
    p = run("verify", "--repo", repo, env=PASS, check=False)
    assert p.returncode == 3 and "indexes/%s.0.idx" % b in p.stdout
    p = run("restore", "--repo", repo, b, os.path.join(tmp, "o"), env=PASS,
            check=False)
    assert p.returncode == 1 and b + ".0.idx" in p.stderr


def test_swapped_index_reported(tmp):
    repo, img, a, b = two_snapshots(tmp)
    ia = os.path.join(repo, "indexes", a + ".0.idx")
    ib = os.path.join(repo, "indexes", b + ".0.idx")
    shutil.copyfile(ia, ib)  # b's index replaced by a's
    v = jrun("verify", "--repo", repo, env=PASS, check=False)
    assert not v["ok"] and v["damaged_snapshots"] == [b]
    assert v["damaged_files"] == ["indexes/%s.0.idx" % b]
    p = run("restore", "--repo", repo, b, os.path.join(tmp, "o"), env=PASS,
            check=False)
    assert p.returncode == 1 and b + ".0.idx" in p.stderr
    # A manifest put under another snapshot's name fails too.
    ma = os.path.join(repo, "snapshots", a + ".json")
    mb = os.path.join(repo, "snapshots", b + ".json")
    shutil.copyfile(ma, mb)
    v = jrun("verify", "--repo", repo, env=PASS, check=False)
    assert v["damaged_snapshots"] == [b], v


def test_wrong_passphrase_names_it(tmp):
    repo, img, a, b = two_snapshots(tmp)
    for cmd in (["snapshots"], ["stats"], ["verify"], ["gc"],
                ["prune", "--keep-last", "1"],
                ["restore", a, os.path.join(tmp, "o")]):
        p = run(*cmd, "--repo", repo, check=False,
                env={"XENITH_BACKUP_PASSPHRASE": "wrong"})
        assert p.returncode == 1 and "wrong passphrase" in p.stderr, cmd
        p = run(*cmd, "--repo", repo, check=False)
        assert p.returncode == 1, cmd
        assert "needs its passphrase" in p.stderr, (cmd, p.stderr)
    # prune and gc with the key work on sealed metadata.
    assert jrun("prune", "--repo", repo, "--keep-last", "1",
                env=PASS)["removed"] == [a]
    jrun("gc", "--repo", repo, env=PASS)
    assert not os.path.exists(os.path.join(repo, "indexes", a + ".0.idx"))
    assert jrun("verify", "--repo", repo, env=PASS)["ok"]


def test_v1_encrypted_stays_v1(tmp):
    repo = os.path.join(tmp, "r")
    shutil.copytree(os.path.join(FIX, "v1-encrypted"), repo)
    img = os.path.join(tmp, "img")
    image(img, 3)
    snap = backup(repo, "new", img, env=PASS | {
        "XENITH_BACKUP_PASSPHRASE": "fixture passphrase"})["snapshot"]
    with open(os.path.join(repo, "config")) as f:
        assert json.load(f)["version"] == 1
    # Written the v1 way, so a v1 reader still reads the repository.
    with open(os.path.join(repo, "snapshots", snap + ".json")) as f:
        assert json.load(f)["version"] == 1


def test_v2_plain_config_refused(tmp):
    repo = os.path.join(tmp, "r")
    run("init", "--repo", repo)
    cfgp = os.path.join(repo, "config")
    with open(cfgp) as f:
        cfg = json.load(f)
    assert cfg["version"] == 1  # plain repositories stay version 1
    cfg["version"] = 2
    with open(cfgp, "w") as f:
        json.dump(cfg, f)
    assert run("snapshots", "--repo", repo, check=False).returncode == 1


def test_plaintext_manifest_refused_in_v2(tmp):
    """No downgrade: a forged plaintext manifest in a version-2
    repository is damaged, not read."""
    repo, img, a, b = two_snapshots(tmp)
    fid = json.load(open(os.path.join(FIX, "fixtures.json")))["v1-encrypted"]
    with open(os.path.join(FIX, "v1-encrypted", "snapshots",
                           fid + ".json")) as f:
        m = json.load(f)
    m.update({"id": b, "version": 2, "name": "forged"})
    with open(os.path.join(repo, "snapshots", b + ".json"), "w") as f:
        json.dump(m, f)
    p = run("snapshots", "--repo", repo, "--json", env=PASS)
    assert [s["id"] for s in json.loads(p.stdout)["snapshots"]] == [a]
    assert "not a sealed object" in p.stderr, p.stderr
    v = jrun("verify", "--repo", repo, env=PASS, check=False)
    assert v["damaged_files"] == ["snapshots/%s.json" % b], v
