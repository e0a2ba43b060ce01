"""A power loss between a chunk's rename and the backup's final syncfs
may keep the chunk's name with its data lost (an empty file, or the
right size of zeros). The run's lock survives as the mark of a backup
that did not finish; the next backup checks the chunks changed since,
removes the damaged ones and writes them again, so it never reuses
them. Also: a normal run leaves no lock, and a run after kill -9 checks
and removes the dead run's lock."""
import json
import os
import signal
import subprocess
import time

from bkutil import BIN, MIB, backup, chunks, jrun, make_image, run, \
    scribble, sha256

BOOT_ID = "/proc/sys/kernel/random/boot_id"


def backup_locks(repo):
    return sorted(f for f in os.listdir(os.path.join(repo, "locks"))
                  if f.startswith("backup-"))


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def mark_dead_run(repo, when):
    """The lock a backup that died at power loss leaves: this host and
    boot (the worst case: a dead pid), created at time when."""
    path = os.path.join(repo, "locks",
                        "backup-00000000-0000-4000-8000-00000000dead")
    with open(BOOT_ID) as f:
        boot = f.read().strip()
    with open(path, "w") as f:
        json.dump({"pid": dead_pid(), "host": os.uname().nodename,
                   "boot_id": boot, "start_unix": int(when),
                   "op": "backup"}, f)
    os.utime(path, (when, when))
    return path


def forget_snapshots(repo):
    """The dead run committed nothing: no manifest, no index."""
    for d in ("snapshots", "indexes"):
        for f in os.listdir(os.path.join(repo, d)):
            os.remove(os.path.join(repo, d, f))


def r_ids(repo, snap):
    """Chunk ids (hex) the index of disk 0 of snap names."""
    with open(os.path.join(repo, "indexes", snap + ".0.idx"), "rb") as f:
        data = f.read()
    n = int.from_bytes(data[24:32], "little")
    return {data[32 + 32 * i:64 + 32 * i].hex() for i in range(n)}


def power_loss(tmp, env=None):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    make_image(img, 24, seed=21)
    run("init", "--repo", repo, *(["--encrypt"] if env else []), env=env)
    old = backup(repo, "vm", img, env=env)
    assert backup_locks(repo) == []  # a normal run leaves no mark
    # The run that died: it rewrote part of the image, its new chunks
    # got their names, the power went before its sync.
    time.sleep(0.05)
    t0 = time.time()
    time.sleep(0.05)
    scribble(img, 5, 4)
    first = set(chunks(repo))
    backup(repo, "vm", img, env=env)
    new = sorted(set(chunks(repo)) - first)
    assert len(new) >= 2, new
    forget_snapshots(repo)
    mark = mark_dead_run(repo, t0)
    paths = chunks(repo)
    with open(paths[new[0]], "wb"):
        pass  # its name kept, size 0
    size = os.path.getsize(paths[new[1]])
    with open(paths[new[1]], "wb") as f:
        f.write(bytes(size))  # the right size, all zeros
    p = run("backup-file", "--repo", repo, "--name", "vm", "--json", img,
            env=env)
    r = json.loads(p.stdout)
    assert r["interrupted_removed"] == 2, r
    assert r["chunks_new"] == 2, r
    # Only chunks changed since the mark were read: those the dead run
    # wrote or reused (touched), not the ones only the old image had.
    # (Sealed indexes of encrypted repositories are not read here.)
    if not env:
        touched = len(paths) - len(first - r_ids(repo, r["snapshot"]))
        assert r["interrupted_checked"] == touched, (r, touched, len(paths))
    assert len(new) <= r["interrupted_checked"] < len(paths), r
    assert "2 removed" in p.stderr, p.stderr
    assert not os.path.exists(mark)
    assert backup_locks(repo) == []
    v = jrun("verify", "--repo", repo, env=env)
    assert v["ok"], v
    run("restore", "--repo", repo, r["snapshot"], out, env=env)
    assert sha256(out) == sha256(img)
    assert old["snapshot"] != r["snapshot"]


def test_power_loss_damaged_chunks_rewritten(tmp):
    power_loss(tmp)


def test_power_loss_encrypted(tmp):
    power_loss(tmp, {"XENITH_BACKUP_PASSPHRASE": "correct horse"})


def test_mark_newer_than_chunks_checks_nothing(tmp):
    """The check goes by time: chunks older than the mark are trusted."""
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 8, seed=22)
    run("init", "--repo", repo)
    backup(repo, "vm", img)
    mark = mark_dead_run(repo, time.time() + 3600)
    r = backup(repo, "vm", img)
    assert r["interrupted_checked"] == 0 and r["interrupted_removed"] == 0
    assert not os.path.exists(mark)


def test_kill_then_backup_checks_and_clears(tmp):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    make_image(img, 24, seed=23, text=0.5, rand=0.4)
    run("init", "--repo", repo, "--compression", "9")
    t0 = time.time()
    backup(repo, "vm", img)
    delay = (time.time() - t0) / 2
    # Kill runs part way until one dies holding its lock.
    for k in range(8):
        scribble(img, 7 + k, 6, size=MIB // 2)
        p = subprocess.Popen([BIN, "backup-file", "--repo", repo, "--name",
                              "vm", "--quiet", img],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if backup_locks(repo):
            break
        delay /= 2
    assert len(backup_locks(repo)) == 1
    r = backup(repo, "vm", img)
    # The page cache kept the killed run's chunks: all sound, and the
    # dead run's lock is gone once they are synced.
    assert r["interrupted_removed"] == 0, r
    assert backup_locks(repo) == []
    assert jrun("verify", "--repo", repo)["ok"]
    run("restore", "--repo", repo, r["snapshot"], out)
    assert sha256(out) == sha256(img)
