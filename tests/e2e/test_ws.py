"""WebSockets on the public port: the upgrade is authorized like the REST
API (401/403 before any upgrade), echo of small to 1 MiB messages, and
live events. Tests marked NEEDS AUTH log in as admin and need the auth
layer (branch `auth`)."""
import os
import time

from xenith_client import Daemon

WS_PATHS = ("/api/v1/events", "/api/v1/echo",
            "/api/v1/vms/00000000-0000-4000-8000-000000000000/console")


def setup():
    return Daemon().start()


def teardown(d):
    d.cleanup()


def read_body(ws):
    """The JSON body of a refused upgrade (Content-Length bytes)."""
    length = 0
    for line in ws.head.split("\r\n"):
        if line.lower().startswith("content-length:"):
            length = int(line.split(":")[1])
    return ws._read(length) if length else b""


def test_upgrade_without_auth_is_401_not_upgraded(d):
    for path in WS_PATHS:
        ws = d.client().websocket(path)
        try:
            assert ws.status == 401, (path, ws.head)
            assert "upgrade: websocket" not in ws.head.lower(), ws.head
            assert b'"unauthorized"' in read_body(ws), path
        finally:
            ws.close()


def test_upgrade_of_a_plain_route_is_refused(d):
    ws = d.client().websocket("/api/v1/health")
    assert ws.status == 400, ws.head
    ws.close()
    ws = d.client().websocket("/index.html")
    assert ws.status == 404, ws.head
    ws.close()


def test_daemon_answers_after_refused_upgrades(d):
    for _ in range(20):
        d.client().websocket("/api/v1/echo").close()
    assert d.client().get("/api/v1/health").status == 200


# ---- NEEDS AUTH: these log in as admin ----

def test_echo_text_and_binary_up_to_1_mib(d):
    c = d.admin()
    ws = c.websocket("/api/v1/echo")
    assert ws.status == 101, ws.head
    try:
        for n in (32, 4096, 65536, 1 << 20):
            data = os.urandom(n)
            ws.send(data)
            op, got = ws.recv(timeout=30)
            assert op == 2 and got == data, n
            text = ("x%d" % n) * (n // 8)
            ws.send(text)
            op, got = ws.recv(timeout=30)
            assert op == 1 and got.decode() == text, n
    finally:
        ws.close()


def test_echo_reassembles_fragments(d):
    c = d.admin()
    ws = c.websocket("/api/v1/echo")
    assert ws.status == 101, ws.head
    try:
        # text in three frames: opcode 1 without FIN, 0 without FIN, 0+FIN.
        parts = [b"first-", b"second-", b"third"]
        for i, p in enumerate(parts):
            op = 1 if i == 0 else 0
            fin = 0x80 if i == len(parts) - 1 else 0
            mask = os.urandom(4)
            hdr = bytes([fin | op, 0x80 | len(p)]) + mask
            ws.sock.sendall(hdr + bytes(b ^ mask[j % 4] for j, b in enumerate(p)))
        op, got = ws.recv()
        assert op == 1 and got == b"".join(parts), got
    finally:
        ws.close()


def test_cookie_websocket_needs_same_origin(d):
    c = d.admin()
    ws = c.websocket("/api/v1/echo", headers={"Origin": "https://evil.example"})
    assert ws.status == 403, ws.head
    ws.close()
    ws = c.websocket("/api/v1/echo")
    assert ws.status == 101, ws.head
    ws.close()


def test_events_arrive(d):
    c = d.admin()
    ws = c.websocket("/api/v1/events")
    assert ws.status == 101, ws.head
    try:
        # Any task publishes events: create a VM and start it.
        r = c.post("/api/v1/vms", {"name": "ws-events", "vcpus": 1,
                                   "memory_mib": 64})
        assert r.status == 201, r
        r = c.post("/api/v1/vms/%s/start" % r.json["id"])
        assert r.status == 202, r
        deadline = time.time() + 10
        while time.time() < deadline:
            msg = ws.recv_json(timeout=10)
            if msg.get("type") == "task":
                assert msg["id"] == r.json["id"]
                return
        raise AssertionError("no task event")
    finally:
        ws.close()


def test_plain_get_of_a_websocket_route_is_426(d):
    r = d.admin().get("/api/v1/echo")
    assert r.status == 426, r
    assert r.json["error"]["code"] == "upgrade_required"
