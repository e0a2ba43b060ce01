"""prune keeps what the retention says (and protected snapshots); gc
removes exactly the chunks no snapshot names, and stale temp files."""
import json
import os
import time

from bkutil import MIB, backup, chunks, jrun, make_image, run, scribble, \
    sha256, snapshots


def set_time(repo, snap, t):
    """Rewrite a manifest's time (test only: the engine stamps now)."""
    path = os.path.join(repo, "snapshots", snap + ".json")
    with open(path) as f:
        m = json.load(f)
    m["time_unix"] = t
    m["time_ms"] = t * 1000
    m["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    with open(path, "w") as f:
        json.dump(m, f)


def test_prune_keep_last_and_protected(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 4, seed=4)
    run("init", "--repo", repo)
    a = [backup(repo, "a", img)["snapshot"] for _ in range(4)]
    prot = backup(repo, "b", img, "--protect")["snapshot"]
    b = [backup(repo, "b", img)["snapshot"] for _ in range(3)]
    dry = jrun("prune", "--repo", repo, "--keep-last", "2", "--dry-run")
    assert sorted(dry["removed"]) == sorted(a[:2] + b[:1])
    assert len(snapshots(repo)) == 8
    r = jrun("prune", "--repo", repo, "--keep-last", "2")
    assert sorted(r["removed"]) == sorted(a[:2] + b[:1])
    left = {s["id"] for s in snapshots(repo)}
    assert left == set(a[2:] + b[1:] + [prot])
    assert not [f for f in os.listdir(os.path.join(repo, "indexes"))
                if f[:36] not in left]


def test_prune_daily_monthly(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 2, seed=5)
    run("init", "--repo", repo)
    day = 86400
    base = 1767225600  # 2026-01-01T00:00:00Z
    times = [base + d * day + h * 3600 for d in range(0, 40, 3)
             for h in (1, 13)]
    ids = []
    for t in times:
        s = backup(repo, "vm", img)["snapshot"]
        set_time(repo, s, t)
        ids.append(s)
    jrun("prune", "--repo", repo, "--keep-daily", "3", "--keep-monthly",
         "2")
    left = {s["id"] for s in snapshots(repo)}
    # The newest of each of the 3 newest days, and of each of 2 months.
    newest_days = [ids[-1], ids[-3], ids[-5]]
    jan_last = max((t, i) for t, i in zip(times, ids)
                   if time.gmtime(t).tm_mon == 1)[1]
    assert left == set(newest_days) | {jan_last}, (left, newest_days)


def test_gc_removes_only_unreferenced(tmp):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    make_image(img, 16, seed=6, text=0.1, rand=0.8)
    run("init", "--repo", repo)
    first = backup(repo, "vm", img)["snapshot"]
    c1 = set(chunks(repo))
    scribble(img, 3, 4, size=MIB // 2)
    second = backup(repo, "vm", img)["snapshot"]
    c2 = set(chunks(repo))
    # A stale temp file from a killed writer, old enough to go.
    tmpf = os.path.join(repo, "chunks", "00", ".tmp-deadbeef")
    os.makedirs(os.path.dirname(tmpf), exist_ok=True)
    open(tmpf, "w").close()
    os.utime(tmpf, (1, 1))
    r = jrun("gc", "--repo", repo)
    assert r["chunks_removed"] == 0 and set(chunks(repo)) == c2
    assert not os.path.exists(tmpf)
    jrun("prune", "--repo", repo, "--keep-last", "1")
    # Chunks written seconds ago are young: gc keeps them until they age.
    for path in chunks(repo).values():
        os.utime(path, (1, 1))
    r = jrun("gc", "--repo", repo)
    only_first = c1 - c2_referenced(repo, second, c2, c1)
    assert set(chunks(repo)) == c2 - only_first
    assert r["chunks_removed"] == len(only_first) > 0
    assert jrun("verify", "--repo", repo)["ok"]
    run("restore", "--repo", repo, second, out)
    assert sha256(out) == sha256(img)
    assert first not in {s["id"] for s in snapshots(repo)}


def c2_referenced(repo, snap, c2, c1):
    """Chunks of c1 the second snapshot still names (they must stay)."""
    with open(os.path.join(repo, "indexes", snap + ".0.idx"), "rb") as f:
        data = f.read()
    n = int.from_bytes(data[24:32], "little")
    ids = {data[32 + 32 * i:64 + 32 * i].hex() for i in range(n)}
    return c1 & ids


def test_gc_keeps_young_chunks_of_running_backup(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 4, seed=8)
    run("init", "--repo", repo)
    snap = backup(repo, "vm", img)["snapshot"]
    n = len(chunks(repo))
    # The snapshot is gone but its chunks are younger than gc's cutoff
    # when a live backup (this process) registered before them.
    os.remove(os.path.join(repo, "snapshots", snap + ".json"))
    lock = os.path.join(repo, "locks", "backup-test")
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    with open(lock, "w") as f:
        json.dump({"pid": os.getpid(), "host": os.uname().nodename,
                   "boot_id": boot, "start_unix": 1, "op": "backup"}, f)
    for path in chunks(repo).values():
        os.utime(path, (100, 100))
    assert jrun("gc", "--repo", repo)["chunks_removed"] == 0
    assert len(chunks(repo)) == n
    # A lock of a dead process is stale: gc sweeps, and leaves the lock,
    # the mark of a run whose chunks the next backup checks.
    with open(lock, "w") as f:
        json.dump({"pid": 999999999, "host": os.uname().nodename,
                   "boot_id": boot, "start_unix": 1, "op": "backup"}, f)
    assert jrun("gc", "--repo", repo)["chunks_removed"] == n
    assert os.path.exists(lock)
    r = backup(repo, "vm", img)
    assert r["interrupted_checked"] == 0 and r["chunks_new"] == n, r
    assert not os.path.exists(lock)
