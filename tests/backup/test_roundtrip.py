"""Backup and restore of sparse VM-like images: byte-identical, sparse,
incremental writes only new chunks, automatic and explicit parents."""
import os

from bkutil import (MIB, backup, chunks, jrun, make_image, run, scribble,
                    sha256, snapshots)


def test_restore_byte_identical_and_sparse(tmp):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    make_image(img, 40, seed=1)
    run("init", "--repo", repo)
    p = run("backup-file", "--repo", repo, "--name", "vm1", img)
    snap = p.stdout.strip()
    assert len(snap) == 36, p.stdout
    r = jrun("verify", "--repo", repo)
    assert r["ok"] and r["chunks_checked"] > 0
    run("restore", "--repo", repo, snap[:8], out)
    assert sha256(out) == sha256(img)
    assert os.path.getsize(out) == os.path.getsize(img)
    # Zero chunks are holes in the restored file.
    assert os.stat(out).st_blocks * 512 < os.path.getsize(out)


def test_incremental_writes_only_new_chunks(tmp):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    make_image(img, 32, seed=2, text=0.2, rand=0.6)
    run("init", "--repo", repo)
    full = backup(repo, "vm", img)
    assert full["chunks_new"] > 0 and not full["changemap"]
    before = set(chunks(repo))
    same = backup(repo, "vm", img)
    assert same["chunks_new"] == 0 and set(chunks(repo)) == before
    offs = scribble(img, 7, 3, size=MIB // 4)
    touched = {o // MIB for o in offs} | {(o + MIB // 4 - 1) // MIB
                                          for o in offs}
    inc = backup(repo, "vm", img)
    assert inc["chunks_new"] == len(touched), (inc, touched)
    assert len(set(chunks(repo)) - before) == len(touched)
    snaps = snapshots(repo)
    assert [s["parent"] for s in snaps] == [None, full["snapshot"],
                                            same["snapshot"]]
    run("restore", "--repo", repo, inc["snapshot"], out)
    assert sha256(out) == sha256(img)


def test_explicit_and_no_parent(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 8, seed=3)
    run("init", "--repo", repo, "--compression", "3")
    a = backup(repo, "a", img)
    b = backup(repo, "b", img, "--parent", a["snapshot"])
    c = backup(repo, "a", img, "--no-parent")
    by_id = {s["id"]: s for s in snapshots(repo)}
    assert by_id[b["snapshot"]]["parent"] == a["snapshot"]
    assert by_id[c["snapshot"]]["parent"] is None
    assert run("backup-file", "--repo", repo, "--name", "x", "--parent",
               "ffffffff", img, check=False).returncode != 0


def test_usage_errors(tmp):
    repo = os.path.join(tmp, "r")
    assert run("stats", "--repo", repo, check=False).returncode == 1
    run("init", "--repo", repo)
    assert run("init", "--repo", repo, check=False).returncode == 1
    assert run("frobnicate", "--repo", repo, check=False).returncode == 2
    assert run("backup-file", "--repo", repo, "/nonexistent", "--name", "x",
               check=False).returncode == 1
    assert run("prune", "--repo", repo, check=False).returncode == 2
    assert run("verify", "--repo", repo, "--sample", "0",
               check=False).returncode == 2
    st = jrun("stats", "--repo", repo)
    assert st["snapshots"] == 0 and st["chunks"] == 0
