"""gc is safe while backups run because it sweeps only chunks older than
its start and the oldest live backup's, and backups touch what they
reuse. Chunk mtimes come from the repository's file system (on NFS the
server's clock), while gc's start and a lock's start_unix come from the
clocks of the hosts that ran them. A host whose clock runs ahead of the
server's must not make gc sweep a chunk a backup touched after its
start: both times are taken as the earlier of the host's clock and the
mtime of the lock file (the repository's clock)."""
import json
import os
import shutil
import time

from bkutil import backup, chunks, jrun, make_image, run

SKEWED = "skewed-host.example"


def orphan_chunks(tmp):
    """A repository with snapshot "b" and the chunks of a removed
    snapshot "a" that nothing names any more (random data: b shares
    none of them), as a backup in flight that reuses them sees them."""
    repo, a, b = (os.path.join(tmp, n) for n in ("r", "a", "b"))
    make_image(a, 4, seed=21, text=0.0, rand=0.9)
    make_image(b, 4, seed=22, text=0.0, rand=0.9)
    run("init", "--repo", repo)
    snap_a = backup(repo, "a", a)["snapshot"]
    only_a = sorted(chunks(repo).values())
    backup(repo, "b", b)
    os.remove(os.path.join(repo, "snapshots", snap_a + ".json"))
    return repo, only_a


def test_backup_host_clock_ahead_of_the_repository(tmp):
    repo, orphans = orphan_chunks(tmp)
    assert len(orphans) >= 2, orphans
    now = time.time()
    # A live backup on a host whose clock is an hour ahead: its lock says
    # it started in an hour, but the file server wrote the lock 30 s ago.
    lock = os.path.join(repo, "locks", "backup-00000000-0000-4000-8000-00000000c10c")
    with open(lock, "w") as f:
        json.dump({"pid": 4242, "host": SKEWED, "boot_id": "x",
                   "start_unix": int(now) + 3600, "op": "backup"}, f)
    os.utime(lock, (now - 30, now - 30))
    touched, old = orphans[0], orphans[1:]
    os.utime(touched, (now - 20, now - 20))  # reused by that backup
    for p in old:
        os.utime(p, (now - 120, now - 120))  # before it started
    r = jrun("gc", "--repo", repo)
    assert os.path.exists(touched), "gc removed a chunk a live backup reused"
    assert r["chunks_removed"] == len(old), r
    assert not any(os.path.exists(p) for p in old)
    assert jrun("verify", "--repo", repo)["ok"]


def test_gc_host_clock_ahead_of_the_repository(tmp):
    faketime = shutil.which("faketime")
    assert faketime, "faketime (Debian package faketime) is needed"
    repo, orphans = orphan_chunks(tmp)
    now = time.time()
    # gc runs on a host an hour ahead; a backup that starts after gc has
    # read the locks touches a chunk 5 s after gc's start by the server's
    # clock (here: this machine's file system clock).
    touched, old = orphans[0], orphans[1:]
    os.utime(touched, (now + 5, now + 5))
    for p in old:
        os.utime(p, (now - 120, now - 120))
    # NO_FAKE_STAT: gc sees the file system's times as they are. Under
    # ASan (make test SAN=1) faketime's LD_PRELOAD comes before the ASan
    # runtime, which ASan refuses unless told the order is fine.
    asan = os.environ.get("ASAN_OPTIONS")
    env = {"NO_FAKE_STAT": "1",
           "ASAN_OPTIONS": (asan + ":" if asan else "") +
           "verify_asan_link_order=0"}
    p = run("gc", "--repo", repo, "--json", env=env,
            wrap=[faketime, "-f", "+1h"])
    r = json.loads(p.stdout)
    assert os.path.exists(touched), "gc removed a chunk touched after it began"
    assert r["chunks_removed"] == len(old), r
