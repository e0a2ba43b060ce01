"""The public listener's service thread never blocks: a slow console open
(the test driver's console_delay_ms, as libxl's can take seconds), WebSocket
authorization, uploads and file streaming run on workers, so other
requests keep being answered meanwhile."""
import threading
import time

from xenith_client import Daemon

DELAY_MS = 1500


def setup():
    return Daemon(extra_args=[
        "--hv", "test:///default?console_delay_ms=%d" % DELAY_MS]).start()


def teardown(d):
    d.cleanup()


def running_vm(c, name):
    r = c.post("/api/v1/vms", {"name": name, "vcpus": 1, "memory_mib": 64})
    assert r.status == 201, r
    vm = r.json["id"]
    r = c.post("/api/v1/vms/%s/start" % vm)
    assert r.status == 202, r
    assert c.wait_task(r.json["id"])["status"] == "success"
    return vm


def health_times(d, seconds):
    """Latencies (s) of GET /health on a fresh connection each, for a while."""
    times = []
    end = time.time() + seconds
    while time.time() < end:
        cl = d.client()
        cl.get("/api/v1/health")  # TLS handshake outside the timing
        t0 = time.perf_counter()
        r = cl.get("/api/v1/health")
        times.append(time.perf_counter() - t0)
        assert r.status == 200, r
        cl.close()
    return times


def test_health_answers_while_consoles_open_slowly(d):
    c = d.admin()
    vm = running_vm(c, "slow-console")
    t0 = time.time()
    socks = [c.websocket("/api/v1/vms/%s/console" % vm) for _ in range(3)]
    try:
        for ws in socks:
            assert ws.status == 101, ws.head
        # The upgrades were answered at once; the opens are still going.
        assert time.time() - t0 < DELAY_MS / 1000 / 2, time.time() - t0
        times = health_times(d, DELAY_MS / 1000 * 0.6)
        assert len(times) >= 3, times
        assert max(times) < 0.1, times
        for ws in socks:
            op, data = ws.recv(timeout=10)
            assert op == 2 and data, (op, data)
        # The console really was slow to open.
        assert time.time() - t0 >= DELAY_MS / 1000 * 0.9, time.time() - t0
    finally:
        for ws in socks:
            ws.close()


def test_echo_works_while_a_console_opens(d):
    c = d.admin()
    vm = running_vm(c, "slow-console-2")
    con = c.websocket("/api/v1/vms/%s/console" % vm)
    t0 = time.perf_counter()
    echo = c.websocket("/api/v1/echo")
    try:
        assert con.status == 101 and echo.status == 101
        echo.send(b"x" * 4096)
        assert echo.recv() == (2, b"x" * 4096)
        # Upgrade and round trip while the console is still opening.
        assert time.perf_counter() - t0 < 0.1, time.perf_counter() - t0
    finally:
        con.close()
        echo.close()


def test_upload_spools_whole_while_health_answers(d):
    # A 64 MiB disk import goes to its spool file through workers, with
    # lws_rx_flow_control back-pressure; it arrives whole, and /health
    # keeps answering meanwhile. (The spool is on a fast disk here, so
    # this checks the hand-over, not a slow write.)
    c = d.admin()
    r = c.get("/api/v1/srs")
    assert r.status == 200, r
    srs = r.json if isinstance(r.json, list) else r.json.get("items", [])
    if not srs:
        r = c.post("/api/v1/srs", {"name": "resp-sr", "type": "file",
                                   "path": d.data + "/sr-resp"})
        assert r.status == 201, r
        sr = r.json["id"]
    else:
        sr = srs[0]["id"]
    size = 64 * 1024 * 1024
    r = c.post("/api/v1/disks", {"name": "resp-disk", "sr": sr,
                                 "size_bytes": size})
    assert r.status == 201, r
    disk = r.json["id"]
    result = {}

    def upload():
        up = d.admin()
        result["r"] = up.post("/api/v1/disks/%s/import" % disk,
                              raw=b"\1" * size,
                              content_type="application/octet-stream")

    th = threading.Thread(target=upload)
    th.start()
    times = []
    while th.is_alive() and len(times) < 200:
        times += health_times(d, 0.05)
    th.join(120)
    assert result["r"].status in (200, 202), result["r"]
    times.sort()
    assert times and times[len(times) // 2] < 0.05, times[-5:]
    # The bytes arrived whole: export them back.
    r = c.get("/api/v1/disks/%s/export" % disk)
    assert r.status == 200, r
    assert len(r.body) == size and r.body == b"\1" * size
