"""A failed command says what failed on which object and why: a full
repository names the chunk, the repository and the errno text (a tiny
tmpfs: root only, else not run); a locked one names the holder; a
source that is no image is refused by name."""
import json
import os
import socket
import subprocess
import time

from bkutil import MIB, Skip, backup, make_image, run


def test_full_repository(tmp):
    if os.geteuid() != 0:
        raise Skip("not root (no tmpfs)")
    mnt = os.path.join(tmp, "m")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % (2 * MIB),
                    "tmpfs", mnt], check=True)
    try:
        repo, img = os.path.join(mnt, "r"), os.path.join(tmp, "img")
        with open(img, "wb") as f:
            f.write(os.urandom(6 * MIB))
        run("init", "--repo", repo)
        p = run("backup-file", "--repo", repo, "--name", "vm", img,
                check=False)
        assert p.returncode == 1, p.stderr
        assert "xenith-backup: backup failed: writing chunk " in p.stderr, \
            p.stderr
        assert "in repository %s: No space left on device" % repo \
            in p.stderr, p.stderr
        p = run("backup-file", "--repo", repo, "--name", "vm", img, "--json",
                check=False)
        err = json.loads(p.stdout)["error"]
        assert err["code"] == "insufficient_storage", err
        assert "No space left on device" in err["message"], err
    finally:
        subprocess.run(["umount", mnt], check=False)


def test_locked_repository(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 2, seed=1)
    run("init", "--repo", repo)
    backup(repo, "vm", img)
    start = int(time.time()) - 30
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    with open(os.path.join(repo, "locks", "exclusive"), "w") as f:
        json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                   "boot_id": boot, "start_unix": start, "op": "prune"}, f)
    want = "repository %s is locked by pid %d on host %s since %s (prune)" % (
        repo, os.getpid(), socket.gethostname(),
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)))
    p = run("gc", "--repo", repo, check=False)
    assert p.returncode == 1 and "gc failed: " + want in p.stderr, p.stderr
    p = run("prune", "--repo", repo, "--keep-last", "1", check=False)
    assert p.returncode == 1 and "prune failed: " + want in p.stderr, p.stderr


def test_source_not_an_image(tmp):
    repo, src = os.path.join(tmp, "r"), os.path.join(tmp, "dir")
    os.mkdir(src)
    run("init", "--repo", repo)
    p = run("backup-file", "--repo", repo, "--name", "vm", src, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "backup failed: disk disk0 (%s) is not an image file or a block " \
        "device" % src in p.stderr, p.stderr
