"""Locks of a host that died while sharing the repository (NFS) look live
to every other host: prune and gc refuse, and gc sweeps nothing newer
than the dead backup. `unlock --host H` (the operator says H runs
nothing here any more) removes H's exclusive lock, and H's backup locks
only after checking the chunks their runs may have left, as the next
backup does for a stale lock of this host. Live locks of this host are
never removed, and naming this host is refused."""
import json
import os
import socket
import time

from bkutil import backup, chunks, jrun, make_image, run, sha256

DEAD = "dead-host.example"


def put_lock(repo, name, host, pid, op, when):
    path = os.path.join(repo, "locks", name)
    with open(path, "w") as f:
        json.dump({"pid": pid, "host": host, "boot_id": "x",
                   "start_unix": int(when), "op": op}, f)
    os.utime(path, (when, when))
    return path


def test_foreign_exclusive_lock_is_removed_only_when_named(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 2, seed=3)
    run("init", "--repo", repo)
    backup(repo, "vm", img)
    lock = put_lock(repo, "exclusive", DEAD, 4242, "gc", time.time() - 60)
    p = run("gc", "--repo", repo, check=False)
    assert p.returncode == 1 and "on host %s" % DEAD in p.stderr, p.stderr
    # Without --host the lock is live: it stays, and unlock says who holds it.
    p = run("unlock", "--repo", repo, check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "unlock failed: repository %s is locked by pid 4242 on host %s" % (
        repo, DEAD) in p.stderr, p.stderr
    assert os.path.exists(lock)
    r = jrun("unlock", "--repo", repo, "--host", DEAD)
    assert r["exclusive_removed"] is True, r
    assert r["backup_locks_removed"] == 0, r
    assert not os.path.exists(lock)
    run("gc", "--repo", repo)
    run("prune", "--repo", repo, "--keep-last", "1")
    # Nothing left: a second unlock removes nothing and succeeds.
    r = jrun("unlock", "--repo", repo, "--host", DEAD)
    assert r == {"backup_locks_removed": 0, "chunks_checked": 0,
                 "chunks_removed": 0, "exclusive_removed": False}, r


def test_foreign_backup_lock_is_removed_after_its_chunks_are_checked(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 3, seed=4)
    run("init", "--repo", repo)
    backup(repo, "vm", img)
    before = chunks(repo)
    lock = put_lock(repo, "backup-00000000-0000-4000-8000-0000000f0e19",
                    DEAD, 4242, "backup", time.time() - 5)
    # What a power loss on the dead host may leave: a chunk's name with
    # its data lost (here zeros of the right size), created after its lock.
    bad_id = "ab" * 32
    bad = os.path.join(repo, "chunks", "ab", bad_id)
    os.makedirs(os.path.dirname(bad), exist_ok=True)
    with open(bad, "wb") as f:
        f.write(bytes(4096))
    good_sums = {i: sha256(p) for i, p in before.items()}
    p = run("unlock", "--repo", repo, check=False)
    assert p.returncode == 1 and "on host %s" % DEAD in p.stderr, p.stderr
    assert os.path.exists(lock) and os.path.exists(bad)
    r = jrun("unlock", "--repo", repo, "--host", DEAD)
    assert r["backup_locks_removed"] == 1, r
    assert r["chunks_removed"] == 1 and r["chunks_checked"] >= 1, r
    assert not os.path.exists(lock) and not os.path.exists(bad)
    # The good chunks were not touched, and the repository checks out.
    assert {i: sha256(p) for i, p in chunks(repo).items()} == good_sums
    run("verify", "--repo", repo)
    assert [f for f in os.listdir(os.path.join(repo, "locks"))
            if not f.startswith(".")] == []


def test_live_local_locks_stay_and_this_host_cannot_be_named(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 2, seed=5)
    run("init", "--repo", repo)
    backup(repo, "vm", img)
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    path = os.path.join(repo, "locks", "exclusive")
    with open(path, "w") as f:
        json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                   "boot_id": boot, "start_unix": int(time.time()),
                   "op": "prune"}, f)
    p = run("unlock", "--repo", repo, "--host", DEAD, check=False)
    assert p.returncode == 1 and "locked by pid %d" % os.getpid() \
        in p.stderr, p.stderr
    assert os.path.exists(path)
    p = run("unlock", "--repo", repo, "--host", socket.gethostname(),
            "--json", check=False)
    assert p.returncode == 1, p.stderr
    err = json.loads(p.stdout)["error"]
    assert err["code"] == "invalid" and "is this host" in err["message"], err
    assert os.path.exists(path)
    # Once its process is gone, plain unlock removes it.
    os.remove(path)
    put_lock(repo, "exclusive", socket.gethostname(), 999999999, "gc",
             time.time())
    r = jrun("unlock", "--repo", repo)
    assert r["exclusive_removed"] is True, r
