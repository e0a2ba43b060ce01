"""Helpers of the xenith-backup black-box tests: run the CLI, make
VM-like sparse images, hash files, list chunks."""
import hashlib
import json
import os
import random
import subprocess

BIN = os.path.abspath(os.environ.get("XENITH_BACKUP", "build/xenith-backup"))
MIB = 1024 * 1024


class Skip(Exception):
    """Raised by a test that cannot run here (the reason): run.py counts
    it as not run, never as passed."""


def run(*args, env=None, check=True, wrap=()):
    """Run the CLI (under the command wrap, if any); returns
    CompletedProcess (text). check: rc must be 0."""
    e = dict(os.environ)
    e.pop("XENITH_BACKUP_PASSPHRASE", None)
    if env:
        e.update(env)
    p = subprocess.run(list(wrap) + [BIN] + [str(a) for a in args], capture_output=True,
                       text=True, env=e, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (
            args, p.returncode, p.stdout, p.stderr))
    return p


def jrun(*args, **kw):
    return json.loads(run(*args, "--json", **kw).stdout)


def make_image(path, size_mib, seed, text=0.3, rand=0.3):
    """A sparse image: holes, text-like and random 1 MiB-ish regions,
    written at unaligned offsets so chunks mix kinds."""
    r = random.Random(seed)
    words = [b"kernel", b"xen", b"domain", b"block", b"the", b"of", b"log",
             b"error", b"config", b"0x1f", b"backup", b"\n"]
    with open(path, "wb") as f:
        f.truncate(size_mib * MIB)
        pos = r.randrange(0, 4096)
        while pos < size_mib * MIB - MIB:
            k = r.random()
            n = r.randrange(64 * 1024, MIB)
            if k < text:
                f.seek(pos)
                f.write(b" ".join(r.choice(words) for _ in range(n // 5))[:n])
            elif k < text + rand:
                f.seek(pos)
                f.write(r.randbytes(n))
            pos += n + r.randrange(0, 3) * r.randrange(0, MIB)


def scribble(path, seed, regions, size=MIB):
    """Overwrite regions random regions of size bytes; returns offsets."""
    r = random.Random(seed)
    total = os.path.getsize(path)
    offs = []
    with open(path, "r+b") as f:
        for _ in range(regions):
            off = r.randrange(0, total - size)
            f.seek(off)
            f.write(r.randbytes(size))
            offs.append(off)
    return offs


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(MIB)
            if not b:
                return h.hexdigest()
            h.update(b)


def chunks(repo):
    """{id: path} of every chunk file."""
    out = {}
    base = os.path.join(repo, "chunks")
    for d in os.listdir(base):
        for f in os.listdir(os.path.join(base, d)):
            if len(f) == 64:
                out[f] = os.path.join(base, d, f)
    return out


def snapshots(repo, env=None):
    return jrun("snapshots", "--repo", repo, env=env)["snapshots"]


def backup(repo, name, img, *extra, env=None):
    return jrun("backup-file", "--repo", repo, "--name", name, *extra, img,
                env=env)


def flip_bit(path, seed):
    r = random.Random(seed)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        i = r.randrange(len(data))
        data[i] ^= 1 << r.randrange(8)
        f.seek(0)
        f.write(data)


def mount_xfs(tmp, mib=320):
    """A fresh XFS (reflink) loop mount in tmp (umount it when done), or
    Skip where none can be made (not root, no loop devices)."""
    img, mnt = os.path.join(tmp, "xfs.img"), os.path.join(tmp, "mnt")
    os.makedirs(mnt)
    with open(img, "wb") as f:
        f.truncate(mib * MIB)
    try:
        subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", img], check=True,
                       capture_output=True)
        subprocess.run(["mount", "-o", "loop", img, mnt], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise Skip("no XFS loop mount (%s)" % e)
    return mnt
