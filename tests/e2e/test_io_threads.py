"""The public listener runs several lws contexts on one port, each with
its own service thread (named xenithd-io0, xenithd-io1, ...) and its own
SO_REUSEPORT socket. Every context must serve: connections land on all
of them (each service thread does TLS handshakes, seen in its CPU time
in /proc), an event reaches the subscribers on each, consoles work on
each, a certificate upload reaches every context's SSL_CTX, and a port
someone already listens on still fails start-up."""
import hashlib
import os
import socket
import ssl
import subprocess
import tempfile
import time

from xenith_client import Daemon

V1 = "/api/v1"
IO_THREADS = 2
CONNS = 20


def setup():
    d = Daemon(extra_args=["--io-threads", str(IO_THREADS)]).start()
    return {"d": d, "c": d.admin(), "tmp": tempfile.mkdtemp(prefix="xio-")}


def teardown(ctx):
    ctx["d"].cleanup()
    subprocess.run(["rm", "-rf", ctx["tmp"]], check=False)


def io_cpu(d):
    """{thread name: CPU time in ns} of the daemon's service threads."""
    out = {}
    task = "/proc/%d/task" % d.proc.pid
    for tid in os.listdir(task):
        try:
            with open(os.path.join(task, tid, "comm")) as f:
                name = f.read().strip()
            with open(os.path.join(task, tid, "schedstat")) as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue
        if name.startswith("xenithd-io"):
            out[name] = ns
    return out


def assert_all_served(before, after):
    """Each service thread did a real share of the work in between (a
    TLS handshake costs far more than an idle wake-up)."""
    assert len(after) == IO_THREADS, after
    assert sorted(after) == sorted(before), (before, after)
    delta = {k: after[k] - before[k] for k in after}
    total = sum(delta.values())
    assert total > 0, delta
    for name, ns in delta.items():
        assert ns >= total * 0.05, (name, delta)


def fingerprint(pem):
    h = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def new_pair(ctx, name):
    key = os.path.join(ctx["tmp"], name + ".key")
    crt = os.path.join(ctx["tmp"], name + ".crt")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey",
                    "-noout", "-out", key], check=True)
    subprocess.run(["openssl", "req", "-x509", "-new", "-key", key, "-subj",
                    "/CN=" + name, "-addext", "subjectAltName=IP:127.0.0.1",
                    "-out", crt, "-days", "30"], check=True,
                   capture_output=True)
    with open(crt) as f, open(key) as g:
        return f.read(), g.read()


def test_one_service_thread_per_context(ctx):
    names = sorted(io_cpu(ctx["d"]))
    assert names == ["xenithd-io%d" % i for i in range(IO_THREADS)], names


def test_an_event_reaches_subscribers_on_every_context(ctx):
    d, c = ctx["d"], ctx["c"]
    before = io_cpu(d)
    subs = [c.websocket(V1 + "/events") for _ in range(CONNS)]
    try:
        for ws in subs:
            assert ws.status == 101, ws.head
        assert_all_served(before, io_cpu(d))
        desc = "io-threads-" + os.urandom(4).hex()
        r = c.patch(V1 + "/pool", {"description": desc})
        assert r.status == 200, r
        for i, ws in enumerate(subs):
            deadline = time.time() + 10
            while True:
                assert time.time() < deadline, "subscriber %d: no event" % i
                msg = ws.recv_json(timeout=10)
                if msg.get("type") == "pool" and \
                        msg.get("data", {}).get("description") == desc:
                    break
    finally:
        for ws in subs:
            ws.close()


def running_vm(c, name):
    r = c.post(V1 + "/vms", {"name": name, "vcpus": 1, "memory_mib": 64})
    assert r.status == 201, r
    vm = r.json["id"]
    r = c.post(V1 + "/vms/%s/start" % vm)
    assert r.status == 202, r
    assert c.wait_task(r.json["id"])["status"] == "success"
    return vm


def test_consoles_on_every_context(ctx):
    d, c = ctx["d"], ctx["c"]
    # Two VMs: the test driver allows 8 consoles of one at a time.
    vms = [running_vm(c, "io-console-%d" % i) for i in range(2)]
    before = io_cpu(d)
    socks = [c.websocket(V1 + "/vms/%s/console" % vm)
             for vm in vms for _ in range(8)]
    try:
        for ws in socks:
            assert ws.status == 101, ws.head
        assert_all_served(before, io_cpu(d))
        for i, ws in enumerate(socks):
            line = ("hello %d" % i).encode()
            ws.send(line + b"\n")
            seen = b""
            deadline = time.time() + 10
            while b"# " + line not in seen:
                assert time.time() < deadline, (i, seen[-300:])
                op, data = ws.recv(timeout=10)
                assert op == 2, (op, data)
                seen += data
    finally:
        for ws in socks:
            ws.close()


def test_certificate_upload_reaches_every_context(ctx):
    d, c = ctx["d"], ctx["c"]
    for name in ("first.example", "second.example"):
        cert, key = new_pair(ctx, name)
        r = c.request("PUT", V1 + "/settings/tls",
                      {"certificate": cert, "private_key": key})
        assert r.status == 200, r
        want = fingerprint(cert)
        before = io_cpu(d)
        for i in range(CONNS):
            got = fingerprint(ssl.get_server_certificate(("127.0.0.1",
                                                          d.port)))
            assert got == want, (name, i)
        # The new connections were spread over every context.
        assert_all_served(before, io_cpu(d))
    ctx["c"] = d.admin()


def expect_start_fails(ctx, port):
    other = Daemon(data=os.path.join(ctx["tmp"], "other-%d" % port))
    os.makedirs(other.data)
    other.port = port
    other.start(wait=False)
    try:
        rc = other.proc.wait(timeout=20)
    finally:
        other.stop()
    assert rc != 0, rc
    log = other.read_log()
    assert "cannot listen on 127.0.0.1:%d" % port in log, log
    assert "Address already in use" in log, log


def test_port_in_use_fails_start_up(ctx):
    # Another xenithd.
    expect_start_fails(ctx, ctx["d"].port)
    # Another program, even one that allows SO_REUSEPORT sharing.
    for reuseport in (0, 1):
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, reuseport)
            s.bind(("127.0.0.1", 0))
            s.listen()
            expect_start_fails(ctx, s.getsockname()[1])
        finally:
            s.close()
    # The daemon that holds the port serves on.
    assert ctx["c"].get(V1 + "/health").status == 200
