#!/usr/bin/env python3
"""bench/api/populate.py PORT PASSWORD NVMS SR_DIR OUT_JSON: log in to a
fresh xenithd as admin, create a file SR and NVMS VMs (no disks) through
the API, save GET /api/v1/vms to OUT_JSON (the exact bytes served) and
print a new viewer API token on stdout."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "e2e"))
from xenith_client import Client  # noqa: E402


def main():
    port, password, nvms, sr_dir, out = sys.argv[1:6]
    c = Client("127.0.0.1", int(port))
    r = c.login("admin", password)
    assert r.status == 200, r
    r = c.post("/api/v1/srs", {"name": "bench", "type": "file",
                               "path": sr_dir})
    assert r.status == 201, r
    for i in range(int(nvms)):
        r = c.post("/api/v1/vms", {"name": "bench-%04d" % i, "vcpus": 1,
                                   "memory_mib": 256,
                                   "boot": {"type": "hvm"}})
        assert r.status == 201, r
    r = c.post("/api/v1/tokens", {"name": "bench", "role": "viewer"})
    assert r.status == 201, r
    token = r.json["token"]
    t = Client("127.0.0.1", int(port))
    t.token = token
    r = t.get("/api/v1/vms")
    assert r.status == 200, r
    assert len(r.json) == int(nvms), len(r.json)
    with open(out, "wb") as f:
        f.write(r.body)
    print(token)


if __name__ == "__main__":
    main()
