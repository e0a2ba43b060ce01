"""restore writes OUTFILE durably: under a temp name beside it, fsynced,
renamed into place, the directory fsynced. A failed restore leaves no
partial OUTFILE (a new one is not created, an old one is left as it
was) and no temp file, and exits non-zero saying why."""
import os
import re
import shutil
import subprocess

from bkutil import BIN, backup, chunks, flip_bit, make_image, run, sha256


def _repo_with_bad_chunk(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 16, seed=21)
    run("init", "--repo", repo)
    snap = backup(repo, "vm", img)["snapshot"]
    # The last chunk: the workers have written others before they meet it.
    cid, path = sorted(chunks(repo).items())[-1]
    flip_bit(path, seed=3)
    return repo, snap, cid


def _leftovers(d):
    return [f for f in os.listdir(d) if ".restore-" in f]


def test_failed_restore_leaves_no_new_outfile(tmp):
    repo, snap, cid = _repo_with_bad_chunk(tmp)
    outdir = os.path.join(tmp, "out")
    os.mkdir(outdir)
    out = os.path.join(outdir, "disk.img")
    p = run("restore", "--repo", repo, snap, out, check=False)
    assert p.returncode == 1 and cid in p.stderr, p.stderr
    assert "restore failed" in p.stderr, p.stderr
    assert not os.path.exists(out), "a partial OUTFILE was left"
    assert _leftovers(outdir) == [], _leftovers(outdir)


def test_failed_restore_keeps_old_outfile(tmp):
    repo, snap, _ = _repo_with_bad_chunk(tmp)
    out = os.path.join(tmp, "old.img")
    with open(out, "wb") as f:
        f.write(b"the image before the restore\n" * 1000)
    before = sha256(out)
    p = run("restore", "--repo", repo, snap, out, check=False)
    assert p.returncode == 1, p.stderr
    assert sha256(out) == before, "the old OUTFILE was overwritten"
    assert _leftovers(tmp) == [], _leftovers(tmp)


def test_unwritable_outfile_is_a_clear_error(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    make_image(img, 2, seed=4)
    run("init", "--repo", repo)
    snap = backup(repo, "vm", img)["snapshot"]
    p = run("restore", "--repo", repo, snap, os.path.join(tmp, "no", "x.img"),
            check=False)
    assert p.returncode == 1, p.stderr
    assert "cannot create" in p.stderr and "No such file" in p.stderr, \
        p.stderr
    p = run("restore", "--repo", repo, snap, tmp, check=False)
    assert p.returncode == 1 and "Is a directory" in p.stderr, p.stderr


def test_restore_is_synced_renamed_and_sparse(tmp):
    repo, img = os.path.join(tmp, "r"), os.path.join(tmp, "img")
    out = os.path.join(tmp, "restored.img")
    make_image(img, 24, seed=8)
    run("init", "--repo", repo)
    snap = backup(repo, "vm", img)["snapshot"]
    with open(out, "wb") as f:
        f.write(b"old")
    os.chmod(out, 0o640)
    strace = shutil.which("strace")
    argv = [BIN, "restore", "--repo", repo, snap, out]
    env = dict(os.environ)
    if strace:
        log = os.path.join(tmp, "trace")
        argv = [strace, "-f", "-qq", "-o", log, "-e",
                "trace=openat,fsync,fdatasync,rename,renameat,renameat2"] + argv
        # LeakSanitizer (make test SAN=1) cannot run under ptrace.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       env=env)
    assert p.returncode == 0, p.stderr
    assert sha256(out) == sha256(img)
    assert os.stat(out).st_blocks * 512 < os.path.getsize(out), "not sparse"
    assert _leftovers(tmp) == []
    assert os.stat(out).st_mode & 0o7777 == 0o640, oct(os.stat(out).st_mode)
    assert strace, "strace missing: installer/deps.sh installs it"
    with open(log) as f:
        calls = [ln.split(None, 1)[1] for ln in f if " " in ln]
    fds, order = {}, []
    for c in calls:
        m = re.match(r'openat\(AT_FDCWD, "([^"]+)".*\) = (\d+)', c)
        if m:
            fds[m.group(2)] = m.group(1)
            continue
        m = re.match(r"f(?:data)?sync\((\d+)\)\s+= 0", c)
        if m:
            order.append(("fsync", fds.get(m.group(1), "?")))
            continue
        m = re.match(r'rename\w*\(.*"([^"]+)",.*"([^"]+)"', c)
        if m:
            order.append(("rename", m.group(1), m.group(2)))
    tmpname = [o[1] for o in order if o[0] == "rename" and o[2] == out]
    assert len(tmpname) == 1 and ".restored.img.restore-" in tmpname[0], order
    i = order.index(("rename", tmpname[0], out))
    assert ("fsync", tmpname[0]) in order[:i], order
    assert ("fsync", tmp) in order[i + 1:], order
