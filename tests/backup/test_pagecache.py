"""A backup drops the chunk files it made durable from the page cache
(in dom0 they would push out the VMs' disk files), and a restore from
such a repository (cold: it prefetches the chunk files ahead of its
workers) is still byte-identical. On an XFS loop mount: the page cache
of a tmpfs /tmp cannot be dropped. Not run where none can be made."""
import os
import random
import subprocess

from bkutil import MIB, backup, chunks, mount_xfs, run, sha256


def resident(paths):
    """Bytes of paths in the page cache (fincore)."""
    p = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw",
                        "--output", "RES"] + paths, capture_output=True,
                       text=True, check=True)
    return sum(int(x) for x in p.stdout.split())


def test_backup_drops_its_chunks_from_the_page_cache(tmp):
    mnt = mount_xfs(tmp)
    try:
        repo, img = os.path.join(mnt, "r"), os.path.join(tmp, "img")
        out = os.path.join(mnt, "out")
        # Incompressible, so past the 32 MiB at which the flusher syncs
        # and drops; the rest goes after the snapshot's own sync.
        with open(img, "wb") as f:
            f.write(random.Random(5).randbytes(96 * MIB))
        run("init", "--repo", repo)
        snap = backup(repo, "vm", img)["snapshot"]
        files = list(chunks(repo).values())
        total = sum(os.path.getsize(p) for p in files)
        cached = resident(files)
        assert len(files) == 96 and cached <= 0.05 * total, (cached, total)
        run("restore", "--repo", repo, snap, out)
        assert sha256(out) == sha256(img)
    finally:
        subprocess.run(["umount", mnt], check=False)
