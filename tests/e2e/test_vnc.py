"""GET /api/v1/vms/{id}/vnc: an HVM guest's graphical console as RFB over
a binary WebSocket (the test driver's in-process RFB server behind it).
The handshake xenith answers itself (security None), ServerInit, Raw
framebuffer updates in two pixel formats, input reaching the guest, and
every refusal before the upgrade: no credentials, viewer, foreign Origin,
unknown, halted and PV VMs."""
import json

from rfbws import RfbClient, RfbError, colours, pixel
from vmfixture import V1, VmEnv, expect_error

FB_W, FB_H = 320, 200


def setup():
    env = VmEnv()
    env.hvm = env.vm(name="hvm-vnc", boot={"type": "hvm", "cdrom": None})
    env.action(env.hvm["id"], "start")
    env.pv = env.vm(name="pv-vnc")
    env.action(env.pv["id"], "start")
    return env


def teardown(env):
    env.cleanup()


def vnc_path(vm_id):
    return "%s/vms/%s/vnc" % (V1, vm_id)


def open_rfb(env, vm_id, client=None, headers=None):
    ws = (client or env.c).websocket(vnc_path(vm_id), headers=headers)
    assert ws.status == 101, ws.head
    return ws, RfbClient(ws)


def refusal(ws):
    """(status, error object) of an upgrade answered with JSON."""
    length = 0
    for line in ws.head.split("\r\n"):
        if line.lower().startswith("content-length:"):
            length = int(line.split(":")[1])
    body = ws._read(length) if length else b"{}"
    ws.close()
    return ws.status, json.loads(body).get("error", {})


def test_handshake_serverinit_and_a_raw_update(env):
    ws, rfb = open_rfb(env, env.hvm["id"],
                       headers={"Sec-WebSocket-Protocol": "binary"})
    try:
        assert "sec-websocket-protocol: binary" in ws.head.lower(), ws.head
        w, h, name = rfb.handshake()
        assert (w, h) == (FB_W, FB_H), (w, h)
        assert name == "hvm-vnc", name
        rfb.set_pixel_format(32)
        rfb.set_encodings([0])
        rfb.request()
        fb, rects = rfb.read_update()
        assert rects == [(0, 0, FB_W, FB_H)], rects
        # colour bars on top: white on the left, black on the right
        assert pixel(fb, FB_W, 2, 5) == (255, 255, 255)
        assert pixel(fb, FB_W, FB_W - 3, 5) == (0, 0, 0)
        assert pixel(fb, FB_W, 60, 5) == (255, 255, 0)
        assert len(colours(fb)) > 50, len(colours(fb))
        # a part of the screen only
        rfb.request(x=300, y=190, w=50, h=50)
        _, rects = rfb.read_update()
        assert rects == [(300, 190, 20, 10)], rects
    finally:
        ws.close()


def test_16_bit_pixels_and_input_changes_the_screen(env):
    ws, rfb = open_rfb(env, env.hvm["id"])
    try:
        rfb.handshake()
        rfb.set_pixel_format(16)
        rfb.set_encodings([0])
        rfb.request()
        before, _ = rfb.read_update()
        assert len(colours(before)) > 20
        assert pixel(before, FB_W, 2, 5) == (255, 255, 255)
        # An incremental request waits for a change; a key press is one.
        rfb.request(incremental=True)
        for ch in "Q7":
            rfb.key(ord(ch), down=True)
            rfb.key(ord(ch), down=False)
        after, _ = rfb.read_update(bytearray(before))
        assert after != before
    finally:
        ws.close()


def test_two_viewers_at_once(env):
    a, ra = open_rfb(env, env.hvm["id"])
    b, rb = open_rfb(env, env.hvm["id"])
    try:
        for rfb in (ra, rb):
            assert rfb.handshake()[:2] == (FB_W, FB_H)
            rfb.set_pixel_format(32)
            rfb.request()
        fa, _ = ra.read_update()
        fb, _ = rb.read_update()
        assert fa == fb
    finally:
        a.close()
        b.close()


def test_not_an_rfb_client_is_closed(env):
    ws, rfb = open_rfb(env, env.hvm["id"])
    try:
        assert rfb.read(12) == b"RFB 003.008\n"
        rfb.write(b"GET / HTTP/1.1\r\n")
        op, data = ws.recv(timeout=10)
        assert op == 8, (op, data)
        assert int.from_bytes(data[:2], "big") == 1008, data
        assert b"RFB" in data[2:], data
    finally:
        ws.close()


def test_refused_without_auth_for_viewers_and_foreign_origins(env):
    status, err = refusal(env.d.client().websocket(vnc_path(env.hvm["id"])))
    assert status == 401 and err["code"] == "unauthorized", (status, err)
    r = env.c.post(V1 + "/users", {"username": "vnc-viewer",
                                   "password": "Viewer-pass-12345",
                                   "role": "viewer"})
    assert r.status == 201, r
    v = env.d.client()
    assert v.login("vnc-viewer", "Viewer-pass-12345").status == 200
    status, err = refusal(v.websocket(vnc_path(env.hvm["id"])))
    assert status == 403 and err["code"] == "forbidden", (status, err)
    status, err = refusal(env.c.websocket(
        vnc_path(env.hvm["id"]), headers={"Origin": "https://evil.example"}))
    assert status == 403 and err["field"] == "Origin", (status, err)


def test_refused_for_pv_halted_and_unknown_vms(env):
    status, err = refusal(env.c.websocket(vnc_path(env.pv["id"])))
    assert status == 409 and err["field"] == "boot", (status, err)
    assert "HVM" in err["message"], err
    halted = env.vm(name="hvm-off", boot={"type": "hvm", "cdrom": None})
    status, err = refusal(env.c.websocket(vnc_path(halted["id"])))
    assert status == 409 and err["field"] == "state", (status, err)
    assert "halted" in err["message"], err
    status, err = refusal(env.c.websocket(
        vnc_path("00000000-0000-4000-8000-000000000000")))
    assert status == 404 and err["code"] == "not_found", (status, err)
    status, err = refusal(env.c.websocket(vnc_path("not-a-uuid")))
    assert status in (400, 404), (status, err)


def test_plain_get_is_426(env):
    r = env.c.get(vnc_path(env.hvm["id"]))
    assert r.status == 426, r
    expect_error(r, 426)


def test_hvm_serial_console_on_the_console_endpoint(env):
    ws = env.c.websocket("%s/vms/%s/console" % (V1, env.hvm["id"]))
    try:
        assert ws.status == 101, ws.head
        seen = b""
        while b"login:" not in seen:
            op, data = ws.recv(timeout=10)
            assert op == 2, (op, data)
            seen += data
        assert b"Booting kernel on Xen (HVM)" in seen, seen
        assert b"ttyS0" in seen, seen
    finally:
        ws.close()


def test_paused_vm_still_shows_its_screen(env):
    vm = env.vm(name="hvm-paused", boot={"type": "hvm", "cdrom": None})
    env.action(vm["id"], "start")
    env.action(vm["id"], "pause")
    ws, rfb = open_rfb(env, vm["id"])
    try:
        assert rfb.handshake()[2] == "hvm-paused"
        rfb.set_pixel_format(32)
        rfb.request()
        fb, _ = rfb.read_update()
        assert len(colours(fb)) > 50
    finally:
        ws.close()


def test_destroying_the_vm_closes_the_console(env):
    vm = env.vm(name="hvm-gone", boot={"type": "hvm", "cdrom": None})
    env.action(vm["id"], "start")
    ws, rfb = open_rfb(env, vm["id"])
    try:
        rfb.handshake()
        env.action(vm["id"], "destroy")
        try:
            rfb.set_pixel_format(32)
            rfb.request()
            rfb.read_update()
            raise AssertionError("an update from a destroyed VM")
        except (RfbError, ConnectionError) as e:
            assert "closed" in str(e), e
    finally:
        ws.close()
    status, err = refusal(env.c.websocket(vnc_path(vm["id"])))
    assert status == 409 and err["field"] == "state", (status, err)


def test_the_daemon_answers_after_many_vnc_sessions(env):
    for _ in range(10):
        ws, rfb = open_rfb(env, env.hvm["id"])
        rfb.handshake()
        ws.close()
    r = env.c.get(V1 + "/health")
    assert r.status == 200, r
