#!/usr/bin/env python3
"""Make fixture repositories under tests/backup/fixtures/ (run once with
the version that wrote them; test_fixture.py reads them with every later
version). Usage: XENITH_BACKUP=build/xenith-backup python3
tests/backup/make_fixture.py NAME... where NAME is a fixture to (re)make
with that binary: v1-plain and v1-encrypted were made by format-1 code,
v2-encrypted by format-2 code (plain repositories are still version 1).
The other fixtures and their entries in fixtures.json are kept."""
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bkutil import MIB, run, sha256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")


def image(path):
    r = random.Random(42)
    with open(path, "wb") as f:
        f.truncate(3 * MIB + 12345)  # a short last chunk
        f.write(b"fixture text, compresses well. " * 30000)
        f.seek(2 * MIB + 100)
        f.write(r.randbytes(64 * 1024))


KINDS = {"v1-plain": [], "v1-encrypted": ["--encrypt"],
         "v2-encrypted": ["--encrypt"]}


def main():
    names = sys.argv[1:]
    if not names or any(n not in KINDS for n in names):
        sys.exit("usage: make_fixture.py %s..." % "|".join(KINDS))
    os.makedirs(OUT, exist_ok=True)
    img = os.path.join(OUT, "image.tmp")
    image(img)
    meta = {}
    if os.path.exists(os.path.join(OUT, "fixtures.json")):
        with open(os.path.join(OUT, "fixtures.json")) as f:
            meta = json.load(f)
    meta.update({"image_sha256": sha256(img),
                 "image_size": os.path.getsize(img),
                 "passphrase": "fixture passphrase"})
    env = {"XENITH_BACKUP_PASSPHRASE": meta["passphrase"]}
    for name in names:
        extra = KINDS[name]
        repo = os.path.join(OUT, name)
        shutil.rmtree(repo, ignore_errors=True)
        run("init", "--repo", repo, *extra, env=env)
        r = json.loads(run("backup-file", "--repo", repo, "--name", "fixture",
                           img, "--json", env=env).stdout)
        meta[name] = r["snapshot"]
        os.rmdir(os.path.join(repo, "locks"))  # git keeps no empty dirs
    os.remove(img)
    with open(os.path.join(OUT, "fixtures.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
