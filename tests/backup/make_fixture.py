#!/usr/bin/env python3
"""Make the format-v1 fixture repositories under tests/backup/fixtures/
(run once with the version that wrote them; test_fixture.py reads them
with every later version). Usage: XENITH_BACKUP=build/xenith-backup
python3 tests/backup/make_fixture.py"""
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


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    img = os.path.join(OUT, "image.tmp")
    image(img)
    meta = {"image_sha256": sha256(img), "image_size": os.path.getsize(img),
            "passphrase": "fixture passphrase"}
    env = {"XENITH_BACKUP_PASSPHRASE": meta["passphrase"]}
    for name, extra in (("v1-plain", []), ("v1-encrypted", ["--encrypt"])):
        repo = os.path.join(OUT, name)
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
