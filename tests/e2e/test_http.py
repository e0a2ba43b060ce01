"""The public HTTPS listener (libwebsockets) and the local UNIX socket
(libmicrohttpd): TLS, keep-alive, body limits, static files, security
headers."""
import gzip
import http.client
import os
import shutil
import socket
import ssl
import stat
import tempfile
import time
import warnings

from xenith_client import Daemon, Client

SECRET = b"xenith-e2e-secret-outside-the-web-root"
APP_JS = b"// app.js of the e2e web root\n" + b"console.log('x');\n" * 200


def setup():
    top = tempfile.mkdtemp(prefix="xenith-web-")
    web = os.path.join(top, "web")
    os.makedirs(os.path.join(web, "js"))
    os.makedirs(os.path.join(web, "css"))
    with open(os.path.join(web, "index.html"), "wb") as f:
        f.write(b"<!doctype html><title>xenith e2e</title>\n")
    with open(os.path.join(web, "js", "app.js"), "wb") as f:
        f.write(APP_JS)
    with open(os.path.join(web, "js", "app.js.gz"), "wb") as f:
        f.write(gzip.compress(APP_JS))
    with open(os.path.join(web, "css", "app.css"), "wb") as f:
        f.write(b"body { margin: 0; }\n")
    with open(os.path.join(top, "secret.txt"), "wb") as f:
        f.write(SECRET + b"\n")
    os.symlink(os.path.join(top, "secret.txt"), os.path.join(web, "leak.txt"))
    os.symlink(top, os.path.join(web, "up"))
    d = Daemon(extra_args=["--web-root", web]).start()
    d.webtop = top
    return d


def teardown(d):
    d.cleanup()
    shutil.rmtree(d.webtop, ignore_errors=True)


def tls_connect(d, ctx):
    raw = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    try:
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    except Exception:
        raw.close()
        raise


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def raw_request(d, data, unix=False, until_eof=False):
    """Send bytes (or a list of pieces, each in its own TLS record a
    moment apart), return the answer: the first response, or with
    until_eof everything until the server closes or goes quiet."""
    if unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(d.data, "xenithd.sock"))
    else:
        s = tls_connect(d, client_ctx())
    s.settimeout(3)
    for piece in data if isinstance(data, list) else [data]:
        s.sendall(piece)
        if isinstance(data, list):
            time.sleep(0.05)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and not until_eof:
                head, _, body = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(body) >= int(line.split(b":")[1]):
                            s.close()
                            return out
    except (socket.timeout, ConnectionError, ssl.SSLError):
        pass
    s.close()
    return out


def status_of(answer):
    return int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/") else 0


# ---- TLS ----

def test_tls_1_1_is_refused(d):
    ctx = client_ctx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    try:
        s = tls_connect(d, ctx)
    except ssl.SSLError as e:
        # The server's alert, not a client-side refusal to offer 1.1.
        assert "ALERT_PROTOCOL_VERSION" in str(e).upper(), e
        return
    v = s.version()
    s.close()
    raise AssertionError("TLS 1.1 was accepted (%s)" % v)


def test_tls_1_2_and_1_3_are_accepted(d):
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_ctx()
        ctx.minimum_version = ctx.maximum_version = v
        s = tls_connect(d, ctx)
        assert s.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                               ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[v]
        s.close()


def test_alpn_offers_h2_and_http_1_1(d):
    # h2 when the client offers it (tests/e2e/test_http2.py drives it),
    # http/1.1 for the rest.
    for offer, want in ((["h2", "http/1.1"], "h2"),
                        (["http/1.1"], "http/1.1"),
                        (["http/1.1", "h2"], "h2")):
        ctx = client_ctx()
        ctx.set_alpn_protocols(offer)
        s = tls_connect(d, ctx)
        proto = s.selected_alpn_protocol()
        s.close()
        assert proto == want, (offer, proto)


def test_certificate_is_ecdsa_p256_with_san_127_0_0_1(d):
    path = os.path.join(d.data, "tls", "cert.pem")
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    # id-ecPublicKey and prime256v1 OIDs in the SubjectPublicKeyInfo.
    assert bytes.fromhex("06072a8648ce3d0201") in der
    assert bytes.fromhex("06082a8648ce3d030107") in der
    info = ssl._ssl._test_decode_cert(path)
    sans = info.get("subjectAltName", ())
    assert ("IP Address", "127.0.0.1") in sans, sans
    assert any(k == "DNS" for k, _ in sans), sans
    key = os.path.join(d.data, "tls", "key.pem")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    # The served certificate is that file, and it verifies as its own CA.
    ctx = ssl.create_default_context(cafile=path)
    ctx.check_hostname = False
    s = tls_connect(d, ctx)
    assert s.getpeercert(binary_form=True) == der
    s.close()


# ---- HTTP ----

def test_keep_alive_serves_several_requests_on_one_connection(d):
    ctx = ssl.create_default_context(cafile=d.cafile)
    ctx.check_hostname = False
    c = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=10)
    c.connect()
    sock = c.sock
    for method, path in (("GET", "/api/v1/health"), ("HEAD", "/"),
                         ("GET", "/api/v1/nope"), ("GET", "/js/app.js"),
                         ("POST", "/api/v1/session"),
                         ("HEAD", "/api/v1/health"), ("GET", "/")):
        body = b'{"username":"admin","password":"wrong"}' \
            if method == "POST" else None
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status in (200, 401, 404), (method, path, r.status)
        assert c.sock is sock, "the connection was not kept alive"
    c.close()


def test_body_over_1_mib_is_413(d):
    body = b'{"username":"' + b"a" * (2 * 1024 * 1024) + b'"}'
    r = d.client().post("/api/v1/session", raw=body)
    assert r.status == 413, r
    assert r.json["error"]["code"] == "payload_too_large"
    # The connection and the daemon are fine afterwards.
    assert d.client().get("/api/v1/health").status == 200


def test_upload_route_is_not_capped_and_authorized_first(d):
    # A disk import is an upload route: no 1 MiB cap, and its body is
    # only stored once the caller is authorized.
    path = "/api/v1/disks/00000000-0000-4000-8000-000000000000/import"
    body = b"\0" * (3 * 1024 * 1024)
    r = d.client().post(path, raw=body, content_type="application/octet-stream")
    assert r.status == 401, r
    r = d.unix_client().post(path, raw=body,
                             content_type="application/octet-stream")
    assert r.status != 413, r
    assert d.client().get("/api/v1/health").status == 200


def test_several_cookie_headers_are_joined(d):
    c = d.admin()
    sess = b"xenith_session=" + c.cookie.encode()
    for cookies in ((b"a=1; b=2", sess), (sess, b"z=9")):
        req = b"GET /api/v1/session HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"Cookie: " + v + b"\r\n" for v in cookies) + \
            b"Connection: close\r\n\r\n"
        assert status_of(raw_request(d, req)) == 200, cookies


def test_huge_declared_body_is_413_at_once(d):
    for path in (b"/api/v1/session",
                 b"/api/v1/disks/00000000-0000-4000-8000-000000000000/import"):
        req = (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/json\r\n"
               b"Content-Length: 2000000000000\r\n\r\n" + b"x" * 10000)
        ans = raw_request(d, req)
        # An upload route authorizes first: 401 without credentials.
        assert status_of(ans) in (413, 401), ans[:200]
        if path.endswith(b"session"):
            assert status_of(ans) == 413 and b"payload_too_large" in ans


def test_text_plain_body_is_415(d):
    r = d.client().post("/api/v1/session", raw=b"username=admin",
                        content_type="text/plain")
    assert r.status == 415, r
    assert r.json["error"]["code"] == "unsupported_media_type"


def test_malformed_requests_are_refused(d):
    # lws 4.1 parses the request line itself and refuses what it cannot
    # parse before xenithd sees it; xenithd maps its bare 403 to a JSON
    # 400 with the security headers.
    for req in (b"GARBAGE\r\n\r\n",
                b"\x00\x01\x02\r\n\r\n",
                b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET nopath HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /api/v1/echo HTTP/1.1\r\nHost: x\r\n"
                b"Connection: Upgrade\r\nUpgrade: nonsense\r\n\r\n"):
        ans = raw_request(d, req, until_eof=True)
        assert status_of(ans) == 400, (req, ans[:200])
        assert b'"code":"invalid"' in ans, (req, ans)
        assert b"x-content-type-options: nosniff" in ans.lower(), ans
    assert d.client().get("/api/v1/health").status == 200


def test_nul_in_a_request_line_is_400(d):
    # lws 4.1 alone hangs up on a decoded NUL; nul_guard.c makes it the
    # same JSON 400 as any bad escape: in the path, in the query, with
    # the "%00" split across TLS records, and on a kept-alive connection.
    for req in (b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /api/v1/health%00x HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /api/v1/vms?name=a%00 HTTP/1.1\r\nHost: x\r\n\r\n",
                [b"GET /api/v1/health%", b"00 HTTP/1.1\r\nHost: x\r\n\r\n"],
                [b"GET /api/v1/health%0", b"0 HTTP/1.1\r\nHost: x\r\n\r\n"]):
        ans = raw_request(d, req, until_eof=True)
        assert status_of(ans) == 400, (req, ans[:200])
        assert b'"code":"invalid"' in ans, (req, ans)
    # Headers are not request lines: a "%00" there reaches xenithd as
    # sent (lws keeps it; a Referer may well carry one).
    ans = raw_request(d, b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
                      b"Referer: https://x/a%00b\r\n\r\n")
    assert status_of(ans) == 200, ans[:200]
    # The second request on a connection is guarded too.
    s = tls_connect(d, client_ctx())
    s.settimeout(3)
    try:
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b'"status":"ok"' not in first:
            chunk = s.recv(65536)
            assert chunk, first
            first += chunk
        assert status_of(first) == 200, first[:200]
        s.sendall(b"GET /a%00 HTTP/1.1\r\nHost: x\r\n\r\n")
        second = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                second += chunk
        except (socket.timeout, ConnectionError, ssl.SSLError):
            pass
        assert status_of(second) == 400, second[:200]
    finally:
        s.close()
    assert d.client().get("/api/v1/health").status == 200


def test_chunked_request_body_is_refused_and_never_smuggled(d):
    body = b'{"username":"a","password":"b"}'
    smuggled = b"GET /api/v1/nope-smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    req = (b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
           b"Content-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" +
           b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n" + smuggled)
    ans = raw_request(d, req, until_eof=True)
    assert status_of(ans) == 400, ans[:200]
    # Refused for its framing, not handled with an empty body.
    assert b'"field":"Transfer-Encoding"' in ans, ans
    assert b"nope-smuggled" not in ans
    assert ans.count(b"HTTP/1.1 ") == 1, ans


def test_bad_request_line_on_the_unix_socket_is_400(d):
    st = status_of(raw_request(d, b"GET /x\r\n\r\n", unix=True))
    assert st == 400, st
    for path in (b"/a%00b", b"/api/v1/health%00x", b"/%zz", b"/%4"):
        ans = raw_request(d, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                          unix=True)
        assert status_of(ans) == 400, (path, ans[:100])
    # libmicrohttpd hangs up on a line that is not HTTP at all.
    st = status_of(raw_request(d, b"GARBAGE\r\n\r\n", unix=True))
    assert st == 0 or st == 400, st
    assert d.unix_client().get("/api/v1/health").status == 200


def test_unix_socket_answers_health(d):
    sock = os.path.join(d.data, "xenithd.sock")
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660
    r = d.unix_client().get("/api/v1/health")
    assert r.status == 200, r
    assert r.json["status"] == "ok"
    assert r.header("X-Frame-Options") == "DENY"


def test_unix_socket_413(d):
    body = b'{"x":"' + b"a" * (2 * 1024 * 1024) + b'"}'
    r = d.unix_client().post("/api/v1/session", raw=body)
    assert r.status == 413, r


# ---- static files ----

def test_root_serves_index_html(d):
    r = d.client().get("/")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/html")
    assert b"xenith e2e" in r.body
    assert r.header("Cache-Control") == "no-cache"


def test_mime_types(d):
    c = d.client()
    r = c.get("/js/app.js")
    assert r.status == 200 and r.body == APP_JS, r
    assert r.header("Content-Type").startswith("text/javascript")
    r = c.get("/css/app.css")
    assert r.header("Content-Type").startswith("text/css"), r.headers


def test_client_routes_and_missing_files(d):
    c = d.client()
    r = c.get("/vms/42/console")
    assert r.status == 200 and b"xenith e2e" in r.body, r
    r = c.get("/nope.png")
    assert r.status == 404, r
    assert r.json["error"]["code"] == "not_found"
    r = c.post("/", {"a": 1})
    assert r.status == 405, r


def test_path_traversal_never_leaks(d):
    paths = ["/../secret.txt", "/%2e%2e/secret.txt", "/js/../../secret.txt",
             "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/leak.txt",
             "/up/secret.txt", "/js/%2e%2e/%2e%2e/secret.txt",
             "/../../../../etc/passwd", "/js/../../etc/passwd"]
    for unix in (False, True):
        for p in paths:
            ans = raw_request(d, b"GET " + p.encode() +
                              b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                              unix=unix)
            assert SECRET not in ans, (unix, p)
            assert b"root:x:0:0" not in ans, (unix, p)
            st = status_of(ans)
            assert st in (0, 200, 400, 403, 404), (unix, p, st)
            if st == 200:  # only ever the app's index.html
                assert b"xenith e2e" in ans, (unix, p)


def test_etag_and_if_none_match(d):
    c = d.client()
    r = c.get("/js/app.js")
    etag = r.header("ETag")
    assert etag and etag.startswith('"'), r.headers
    r2 = c.get("/js/app.js", headers={"If-None-Match": etag})
    assert r2.status == 304, r2
    assert r2.body == b""
    r3 = c.get("/js/app.js", headers={"If-None-Match": '"other"'})
    assert r3.status == 200


def test_gzip_twin_is_served_when_accepted(d):
    c = d.client()
    r = c.get("/js/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.status == 200, r
    assert r.header("Content-Encoding") == "gzip", r.headers
    assert "Accept-Encoding" in (r.header("Vary") or "")
    assert gzip.decompress(r.body) == APP_JS
    r = c.get("/js/app.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert r.header("Content-Encoding") is None and r.body == APP_JS
    r = c.get("/js/app.js", headers={"Accept-Encoding": "identity"})
    assert r.header("Content-Encoding") is None and r.body == APP_JS
    assert "Accept-Encoding" in (r.header("Vary") or "")
    # HEAD: the headers of GET, no body.
    r = c.request("HEAD", "/js/app.js")
    assert r.status == 200 and r.body == b"", r
    assert int(r.header("Content-Length")) == len(APP_JS)


def test_security_headers_on_static_and_api(d):
    for client in (d.client(), d.unix_client()):
        for path in ("/", "/js/app.js", "/nope.png", "/api/v1/health",
                     "/api/v1/vms"):
            r = client.get(path)
            assert "script-src 'self'" in (r.header("Content-Security-Policy") or ""), path
            assert r.header("X-Frame-Options") == "DENY", path
            assert r.header("X-Content-Type-Options") == "nosniff", path
            assert r.header("Strict-Transport-Security"), path
            assert r.header("Referrer-Policy") == "no-referrer", path


def test_connection_closed_while_request_runs(d):
    # Close many connections right after sending a request: the daemon
    # must drop the orphaned answers (no crash, no leak under ASan).
    for _ in range(30):
        s = tls_connect(d, client_ctx())
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.close()
    assert d.client().get("/api/v1/health").status == 200
