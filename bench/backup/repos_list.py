#!/usr/bin/env python3
"""GET /api/v1/backup/repositories with 3 encrypted repositories (one
snapshot each, made with build/xenith-backup): the median and mean time
of ROUNDS calls after one warm-up call. Before the repository cache
every call derived each repository's key (scrypt). Usage:
  XENITHD=build/xenithd python3 bench/backup/repos_list.py [ROUNDS]"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "e2e"))
from xenith_client import Daemon  # noqa: E402

PASS = "bench-passphrase-1"
CLI = os.path.join(os.path.dirname(os.environ.get("XENITHD",
                                                  "build/xenithd")),
                   "xenith-backup")


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    d = Daemon().start()
    try:
        c = d.admin()
        img = os.path.join(d.data, "img")
        with open(img, "wb") as f:
            f.write(os.urandom(4 << 20))
        for i in range(3):
            path = os.path.join(d.data, "repo%d" % i)
            r = c.post("/api/v1/backup/repositories",
                       {"name": "r%d" % i, "path": path, "passphrase": PASS})
            assert r.status == 201, r
            subprocess.run([CLI, "backup-file", "--repo", path, "--name",
                            "vm", img], check=True, capture_output=True,
                           env=dict(os.environ,
                                    XENITH_BACKUP_PASSPHRASE=PASS))
        r = c.get("/api/v1/backup/repositories")
        assert r.status == 200 and all(x["status"] == "ok" for x in r.json)
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            r = c.get("/api/v1/backup/repositories")
            times.append(time.perf_counter() - t0)
            assert r.status == 200 and r.json[0]["stats"]["snapshots"] == 1
        print("GET /backup/repositories, 3 encrypted: median %.1f ms, "
              "mean %.1f ms, max %.1f ms (%d calls)"
              % (1e3 * statistics.median(times), 1e3 * statistics.mean(times),
                 1e3 * max(times), rounds))
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
