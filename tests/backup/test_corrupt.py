"""A single-bit flip in any chunk is found by verify (non-zero exit,
naming the chunk and the snapshots) and by restore (naming the chunk
and the snapshot); a missing chunk too."""
import os
import random

from bkutil import MIB, backup, chunks, flip_bit, jrun, make_image, run

PASS = {"XENITH_BACKUP_PASSPHRASE": "pw"}


def check_every_chunk(tmp, env):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    make_image(img, 12, seed=11)
    run("init", "--repo", repo, *(["--encrypt"] if env else []), env=env)
    s1 = backup(repo, "vm", img, env=env)["snapshot"]
    s2 = backup(repo, "vm", img, env=env)["snapshot"]
    all_chunks = chunks(repo)
    assert len(all_chunks) >= 4
    for n, (cid, path) in enumerate(sorted(all_chunks.items())):
        with open(path, "rb") as f:
            good = f.read()
        flip_bit(path, seed=n)
        p = run("verify", "--repo", repo, "--json", env=env, check=False)
        assert p.returncode == 3, p.stdout
        import json
        rep = json.loads(p.stdout)
        assert [b["chunk"] for b in rep["bad_chunks"]] == [cid]
        assert sorted(rep["bad_chunks"][0]["snapshots"]) == sorted([s1, s2])
        p = run("restore", "--repo", repo, s2, out, env=env, check=False)
        assert p.returncode == 1 and cid in p.stderr and s2 in p.stderr, \
            p.stderr
        with open(path, "wb") as f:
            f.write(good)
    assert jrun("verify", "--repo", repo, env=env)["ok"]
    victim = random.Random(5).choice(sorted(all_chunks))
    os.rename(all_chunks[victim], all_chunks[victim] + ".gone")
    rep = jrun("verify", "--repo", repo, env=env, check=False)
    assert rep["bad_chunks"][0]["problem"] == "missing"
    p = run("restore", "--repo", repo, s1, out, env=env, check=False)
    assert p.returncode == 1 and victim in p.stderr


def test_bit_flip_plain(tmp):
    check_every_chunk(tmp, None)


def test_bit_flip_encrypted(tmp):
    check_every_chunk(tmp, PASS)


def test_sample_checks_a_part(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    with open(img, "wb") as f:
        f.write(random.Random(1).randbytes(64 * MIB))
    run("init", "--repo", repo, "--compression", "0")
    backup(repo, "vm", img)
    rep = jrun("verify", "--repo", repo, "--sample", "25")
    assert rep["ok"] and 4 <= rep["chunks_checked"] <= 32, rep
    assert rep["chunks_total"] == 64


def test_damaged_index_reported(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 4, seed=2)
    run("init", "--repo", repo)
    snap = backup(repo, "vm", img)["snapshot"]
    idx = os.path.join(repo, "indexes", snap + ".0.idx")
    flip_bit(idx, 3)
    p = run("verify", "--repo", repo, check=False)
    assert p.returncode == 3 and snap in p.stdout
    assert run("gc", "--repo", repo, check=False).returncode == 1
