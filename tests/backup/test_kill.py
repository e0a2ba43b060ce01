"""SIGKILL the CLI at 20 random points during backup, and at random
points during prune and gc: after each kill, verify passes and every
completed snapshot restores byte-identical to what it backed up."""
import os
import random
import shutil
import signal
import subprocess
import time

from bkutil import BIN, MIB, chunks, jrun, make_image, run, scribble, \
    sha256, snapshots


def killed(args, delay):
    p = subprocess.Popen([BIN] + args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    return p.wait()


def check(repo, expect, out, src_sha=None):
    """verify passes; snapshots new since the last check came from the
    source whose hash is src_sha; every snapshot restores identical."""
    p = run("verify", "--repo", repo, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    for s in snapshots(repo):
        if s["id"] not in expect:
            assert src_sha, "a snapshot appeared from nowhere: %s" % s
            expect[s["id"]] = src_sha
        run("restore", "--repo", repo, s["id"], out)
        assert sha256(out) == expect[s["id"]], s


def test_kill_backup_prune_gc(tmp):
    repo, img, out = (os.path.join(tmp, n) for n in ("r", "img", "out"))
    rnd = random.Random(int(os.environ.get("XBK_KILL_SEED", "20261122")))
    make_image(img, 12, seed=9, text=0.5, rand=0.4)
    # zstd 9 makes a 16 MiB backup last long enough to be hit anywhere.
    run("init", "--repo", repo, "--compression", "9")
    expect = {}
    t0 = time.time()
    run("backup-file", "--repo", repo, "--name", "vm", img)
    check(repo, expect, out, sha256(img))
    span = max(time.time() - t0, 0.05)
    for k in range(20):
        scribble(img, k, 2, size=MIB // 2)
        src = os.path.join(tmp, "src")
        shutil.copyfile(img, src)
        killed(["backup-file", "--repo", repo, "--name", "vm",
                "--threads", "2", src], rnd.uniform(0, span * 1.2))
        check(repo, expect, out, sha256(src))
        if len(snapshots(repo)) > 4:
            run("prune", "--repo", repo, "--keep-last", "3")
    # prune and gc: make garbage and age it, then kill them part way.
    for k in range(10):
        for n in range(2):
            run("backup-file", "--repo", repo, "--name", "vm", "--quiet", img)
        check(repo, expect, out, sha256(img))
        for path in chunks(repo).values():
            os.utime(path, (1000, 1000))
        killed(["prune", "--repo", repo, "--keep-last", "1"],
               rnd.uniform(0, 0.01))
        check(repo, expect, out)
        killed(["gc", "--repo", repo], rnd.uniform(0, 0.02))
        check(repo, expect, out)
        scribble(img, 100 + k, 2, size=MIB // 2)
    # The repository still works after all that, and gc finishes.
    run("gc", "--repo", repo)
    check(repo, expect, out)
    assert jrun("verify", "--repo", repo)["ok"]
