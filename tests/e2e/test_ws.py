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


def test_token_websocket_needs_no_origin(d):
    a = d.admin()
    r = a.post("/api/v1/tokens", {"name": "ws", "role": "viewer"})
    assert r.status == 201, r
    t = d.client()
    t.token = r.json["token"]
    ws = t.websocket("/api/v1/echo", headers={"Origin": "https://elsewhere"})
    try:
        assert ws.status == 101, ws.head
        ws.send("via token")
        assert ws.recv() == (1, b"via token")
    finally:
        ws.close()
    # A token is looked up on a worker after the 101 (lws 4.1 cannot hold
    # an upgrade open meanwhile): an unknown one is closed with 4401 and
    # the reason before any message flows.
    t.token = "xnt_" + "0" * 64
    ws = t.websocket("/api/v1/echo")
    try:
        assert ws.status == 101, ws.head
        ws.send("never echoed")
        op, payload = ws.recv(timeout=10)
        assert op == 8, (op, payload)
        assert int.from_bytes(payload[:2], "big") == 4401, payload
        assert b"log in or send an API token" in payload[2:], payload
    finally:
        ws.close()


def test_console_of_an_unknown_vm_closes_with_a_reason(d):
    c = d.admin()
    ws = c.websocket(WS_PATHS[2])
    try:
        assert ws.status == 101, ws.head
        op, payload = ws.recv(timeout=10)
        assert op == 8, (op, payload)
        code = int.from_bytes(payload[:2], "big")
        assert code in (1000, 1008, 1011), code
        assert b"console" in payload[2:], payload
    finally:
        ws.close()


def test_many_echo_clients_at_once(d):
    c = d.admin()
    socks = [c.websocket("/api/v1/echo") for _ in range(20)]
    try:
        for i, ws in enumerate(socks):
            assert ws.status == 101, ws.head
            ws.send(b"%d" % i * 1000)
        for i, ws in enumerate(socks):
            assert ws.recv() == (2, b"%d" % i * 1000)
    finally:
        for ws in socks:
            ws.close()
    assert c.get("/api/v1/health").status == 200


def test_events_arrive(d):
    c = d.admin()
    subs = [c.websocket("/api/v1/events") for _ in range(3)]
    try:
        for ws in subs:
            assert ws.status == 101, ws.head
        # A change that publishes: the pool's description.
        desc = "ws-events-" + os.urandom(4).hex()
        r = c.patch("/api/v1/pool", {"description": desc})
        assert r.status == 200, r
        for ws in subs:
            deadline = time.time() + 10
            while True:
                assert time.time() < deadline, "no pool event"
                msg = ws.recv_json(timeout=10)
                if msg.get("type") == "pool" and \
                        msg.get("data", {}).get("description") == desc:
                    assert msg["action"] == "updated"
                    assert msg["id"] == r.json["id"]
                    break
    finally:
        for ws in subs:
            ws.close()
    # The closed subscribers are gone from the bus: more events are fine.
    for i in range(3):
        assert c.patch("/api/v1/pool", {"description": "after %d" % i}).status == 200
    assert c.get("/api/v1/health").status == 200


def test_console_of_a_running_vm(d):
    # NEEDS the VM handlers and the test driver's console (other branches).
    c = d.admin()
    r = c.post("/api/v1/vms", {"name": "ws-console", "vcpus": 1,
                               "memory_mib": 64})
    assert r.status == 201, r
    vm = r.json["id"]
    r = c.post("/api/v1/vms/%s/start" % vm)
    assert r.status == 202, r
    assert c.wait_task(r.json["id"])["status"] == "success"
    ws = c.websocket("/api/v1/vms/%s/console" % vm)
    try:
        assert ws.status == 101, ws.head
        op, data = ws.recv(timeout=10)
        assert op == 2 and data, (op, data)
        # The test guest echoes each input line as "# <line>".
        ws.send(b"hello xenith\n")
        seen = b""
        deadline = time.time() + 10
        while b"# hello xenith" not in seen:
            assert time.time() < deadline, seen[-300:]
            op, data = ws.recv(timeout=10)
            assert op == 2, (op, data)
            seen += data
    finally:
        ws.close()


def test_plain_get_of_a_websocket_route_is_426(d):
    r = d.admin().get("/api/v1/echo")
    assert r.status == 426, r
    assert r.json["error"]["code"] == "upgrade_required"
