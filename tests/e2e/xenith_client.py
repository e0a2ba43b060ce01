"""Client helpers for xenith's black-box tests: start the real xenithd,
talk HTTPS, the local UNIX socket and WebSocket. Standard library only, so
the same code drives xenithd inside Xen's dom0 (tests/xen)."""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XENITHD = os.environ.get("XENITHD", os.path.join(ROOT, "build", "xenithd"))


class Skip(Exception):
    """Raised by a test that cannot run here (e.g. needs root): run.py
    reports it as NOT RUN, never as passed."""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def error(self):
        """The {"code","message","field"} of an error answer, or {}."""
        j = self.json if self.body else None
        return j.get("error", {}) if isinstance(j, dict) else {}

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Client:
    """One user agent: keeps the session cookie and CSRF token."""

    def __init__(self, host="127.0.0.1", port=8443, cafile=None, unix=None):
        self.host, self.port, self.unix = host, port, unix
        self.cafile = cafile
        self.cookie = None
        self.csrf = None
        self.token = None
        self.conn = None

    def _connect(self):
        if self.unix:
            c = http.client.HTTPConnection("localhost", timeout=30)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(self.unix)
            c.sock = s
            return c
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.check_hostname = False
        if not self.cafile:
            ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(self.host, self.port, context=ctx, timeout=30)

    def request(self, method, path, body=None, headers=None, raw=None,
                csrf=True, auth=True, content_type="application/json"):
        h = dict(headers or {})
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type and "Content-Type" not in h:
            h["Content-Type"] = content_type
        if auth and self.cookie:
            h.setdefault("Cookie", "xenith_session=" + self.cookie)
        if auth and self.token:
            h.setdefault("Authorization", "Bearer " + self.token)
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h.setdefault("X-CSRF-Token", self.csrf)
        for attempt in range(2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                out = Response(r.status, r.getheaders(), r.read())
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return out
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password):
        r = self.post("/api/v1/session", {"username": username, "password": password})
        if r.status == 200:
            for k, v in r.headers:
                if k.lower() == "set-cookie" and v.startswith("xenith_session="):
                    self.cookie = v.split(";")[0].split("=", 1)[1]
            self.csrf = r.json["csrf_token"]
        return r

    def wait_task(self, task_id, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            t = self.get("/api/v1/tasks/" + task_id).json
            if t["status"] not in ("pending", "running"):
                return t
            time.sleep(0.05)
        raise AssertionError("task %s did not finish" % task_id)

    # -- WebSocket (RFC 6455, client side, minimal) --
    def websocket(self, path, headers=None):
        return WebSocket(self, path, headers)


class WebSocket:
    def __init__(self, client, path, headers=None):
        c = client
        raw = socket.create_connection((c.host, c.port), timeout=30)
        ctx = ssl.create_default_context(cafile=c.cafile)
        ctx.check_hostname = False
        if not c.cafile:
            ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        self.sock = ctx.wrap_socket(raw, server_hostname=c.host)
        key = base64.b64encode(os.urandom(16)).decode()
        h = {"Host": "%s:%d" % (c.host, c.port), "Upgrade": "websocket",
             "Connection": "Upgrade", "Sec-WebSocket-Key": key,
             "Sec-WebSocket-Version": "13",
             "Origin": "https://%s:%d" % (c.host, c.port)}
        if c.cookie:
            h["Cookie"] = "xenith_session=" + c.cookie
        if c.token:
            h["Authorization"] = "Bearer " + c.token
        h.update(headers or {})
        req = "GET %s HTTP/1.1\r\n" % path + "".join(
            "%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        self.sock.sendall(req.encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            resp += chunk
        head, _, self.buf = resp.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1]) if head else 0
        self.head = head.decode(errors="replace")

    def send(self, data, opcode=None):
        if isinstance(data, str):
            data, op = data.encode(), 1
        else:
            op = 2
        if opcode is not None:
            op = opcode
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | op, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data)) if n < 4096 \
            else _mask_fast(data, mask)
        self.sock.sendall(hdr + mask + masked)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=10):
        """One whole message: (opcode, payload bytes)."""
        self.sock.settimeout(timeout)
        payload, first_op = b"", None
        while True:
            b1, b2 = self._read(2)
            op, fin = b1 & 0x0F, b1 & 0x80
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            data = self._read(n)
            if op == 9:  # ping
                self.send(data, opcode=10)
                continue
            if op == 8:
                return 8, data
            if first_op is None:
                first_op = op
            payload += data
            if fin:
                return first_op, payload

    def recv_json(self, timeout=10):
        op, data = self.recv(timeout)
        if op == 8:
            raise ConnectionError("websocket closed")
        return json.loads(data)

    def close(self):
        try:
            self.send(b"", opcode=8)
        except OSError:
            pass
        self.sock.close()


def _mask_fast(data, mask):
    m = int.from_bytes(mask * (len(data) // 4 + 1), "big") >> (
        8 * (4 - len(data) % 4) if len(data) % 4 else 0)
    k = (mask * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(len(data), "big")


class Daemon:
    """A real xenithd on 127.0.0.1 with a temp data dir and the test driver."""

    def __init__(self, extra_args=None, data=None, password="Admin-pass-1234"):
        self.port = free_port()
        self.own_data = data is None
        self.data = data or tempfile.mkdtemp(prefix="xenith-e2e-")
        self.password = password
        self.extra = extra_args or []
        self.proc = None
        self.log = os.path.join(self.data, "xenithd.log")

    def start(self, wait=True):
        pwfile = os.path.join(self.data, "pw.txt")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        os.chmod(pwfile, 0o600)
        args = [XENITHD, "--listen", "127.0.0.1:%d" % self.port,
                "--data", self.data, "--hv", "test:///default",
                "--admin-password-file", pwfile] + self.extra
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=self.logf)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("xenithd exited %d:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                r = self.client().get("/api/v1/health")
                if r.status == 200:
                    return
            except (OSError, ssl.SSLError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise RuntimeError("xenithd not ready:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def cafile(self):
        p = os.path.join(self.data, "tls", "cert.pem")
        return p if os.path.exists(p) else None

    def client(self):
        return Client("127.0.0.1", self.port, cafile=self.cafile)

    def admin(self):
        c = self.client()
        r = c.login("admin", self.password)
        assert r.status == 200, r
        return c

    def unix_client(self):
        return Client(unix=os.path.join(self.data, "xenithd.sock"))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def cleanup(self):
        self.stop()
        if self.own_data:
            shutil.rmtree(self.data, ignore_errors=True)
