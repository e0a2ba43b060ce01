"""Encrypted repositories: round trip, wrong or missing passphrase
refused, passphrase file, no plaintext or plain SHA-256 ids on disk."""
import hashlib
import os

from bkutil import MIB, backup, chunks, jrun, run, sha256

PASS = {"XENITH_BACKUP_PASSPHRASE": "correct horse"}


def test_encrypted_round_trip(tmp):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    text = b"very secret guest data " * 50000
    with open(img, "wb") as f:
        f.truncate(6 * MIB)
        f.write(text)
    run("init", "--repo", repo, "--encrypt", env=PASS)
    st = jrun("stats", "--repo", repo, env=PASS)
    assert st["encrypted"] and len(st["key_fingerprint"]) == 32
    snap = backup(repo, "vm", img, env=PASS)["snapshot"]
    run("restore", "--repo", repo, snap, out, env=PASS)
    assert sha256(out) == sha256(img)
    plain_ids = {hashlib.sha256(text[i:i + MIB]).hexdigest()
                 for i in range(0, len(text), MIB)}
    for cid, path in chunks(repo).items():
        assert cid not in plain_ids
        with open(path, "rb") as f:
            assert b"secret guest" not in f.read()
    assert jrun("verify", "--repo", repo, env=PASS)["ok"]


def test_wrong_or_missing_passphrase_refused(tmp):
    repo = os.path.join(tmp, "r")
    run("init", "--repo", repo, "--encrypt", env=PASS)
    p = run("snapshots", "--repo", repo,
            env={"XENITH_BACKUP_PASSPHRASE": "wrong"}, check=False)
    assert p.returncode == 1 and "passphrase" in p.stderr
    assert run("snapshots", "--repo", repo, check=False).returncode == 1
    pf = os.path.join(tmp, "pass")
    with open(pf, "w") as f:
        f.write("correct horse\n")
    run("snapshots", "--repo", repo, "--passphrase-file", pf)
    assert run("init", "--repo", os.path.join(tmp, "r2"), "--encrypt",
               check=False).returncode == 2
