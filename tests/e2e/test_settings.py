"""GET|PATCH /settings (time zone) and PUT /settings/tls (the listener's
certificate, served to new connections at once, kept across restarts,
never echoed or logged)."""
import hashlib
import os
import ssl
import subprocess
import tempfile

from xenith_client import Daemon

V1 = "/api/v1"


def setup():
    d = Daemon().start()
    return {"d": d, "c": d.admin(), "tmp": tempfile.mkdtemp(prefix="xtls-")}


def teardown(ctx):
    ctx["d"].cleanup()
    subprocess.run(["rm", "-rf", ctx["tmp"]], check=False)


def _pair(ctx, name, days=30, cn="xenith.example", encrypt=False):
    """A fresh self-signed P-256 pair made by the openssl CLI."""
    key = os.path.join(ctx["tmp"], name + ".key")
    crt = os.path.join(ctx["tmp"], name + ".crt")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey",
                    "-noout", "-out", key], check=True)
    if encrypt:
        subprocess.run(["openssl", "pkey", "-in", key, "-out", key + ".enc",
                        "-aes256", "-passout", "pass:secret-pass"],
                       check=True)
        key += ".enc"
    args = ["openssl", "req", "-x509", "-new", "-key", key, "-subj",
            "/CN=" + cn, "-addext", "subjectAltName=IP:127.0.0.1", "-out",
            crt, "-days", str(days)]
    if encrypt:
        args += ["-passin", "pass:secret-pass"]
    subprocess.run(args, check=True, capture_output=True)
    with open(crt) as f, open(key) as g:
        return f.read(), g.read()


def _served_fingerprint(d):
    return _pem_fingerprint(ssl.get_server_certificate(("127.0.0.1",
                                                        d.port)))


def _pem_fingerprint(pem):
    der = ssl.PEM_cert_to_DER_cert(pem)
    h = hashlib.sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def test_get_defaults(ctx):
    r = ctx["c"].get(V1 + "/settings")
    assert r.status == 200, r
    assert r.json["timezone"] == "UTC", r
    t = r.json["tls"]
    assert t["self_signed"] is True and t["replaceable"] is True, t
    assert "127.0.0.1" in t["san"], t
    assert t["sha256_fingerprint"] == _served_fingerprint(ctx["d"]), t


def test_timezone(ctx):
    c = ctx["c"]
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime",
                "Europe/Paris\n", "", 7):
        r = c.patch(V1 + "/settings", {"timezone": bad})
        assert r.status == 400 and r.error["field"] == "timezone", (bad, r)
    assert c.get(V1 + "/settings").json["timezone"] == "UTC"
    r = c.patch(V1 + "/settings", {"zone": "UTC"})
    assert r.status == 400 and r.error["field"] == "zone", r
    r = c.patch(V1 + "/settings", {"timezone": "Europe/Paris"})
    assert r.status == 200 and r.json["timezone"] == "Europe/Paris", r
    assert c.get(V1 + "/settings").json["timezone"] == "Europe/Paris"


def test_tls_bad_input_changes_nothing(ctx):
    c, d = ctx["c"], ctx["d"]
    before = _served_fingerprint(d)
    cert, key = _pair(ctx, "a")
    _, other_key = _pair(ctx, "b")
    _, enc_key = _pair(ctx, "e", encrypt=True)
    cases = [
        ({"certificate": "not a pem", "private_key": key}, "certificate"),
        ({"certificate": cert, "private_key": other_key}, "private_key"),
        ({"certificate": cert, "private_key": enc_key}, "private_key"),
        ({"certificate": cert, "private_key": "junk"}, "private_key"),
        ({"certificate": cert}, "private_key"),
        ({"private_key": key}, "certificate"),
        ({"certificate": 5, "private_key": key}, "certificate"),
        ({"certificate": cert, "private_key": key, "x": 1}, "x"),
    ]
    for body, field in cases:
        r = c.request("PUT", V1 + "/settings/tls", body)
        assert r.status == 400 and r.error["field"] == field, (field, r)
        assert "PRIVATE KEY" not in str(r.json), r
    assert _served_fingerprint(d) == before


def test_tls_replace_served_at_once_and_kept(ctx):
    c, d = ctx["c"], ctx["d"]
    cert, key = _pair(ctx, "new", cn="replaced.example")
    r = c.request("PUT", V1 + "/settings/tls",
                  {"certificate": cert, "private_key": key})
    assert r.status == 200, r
    want = _pem_fingerprint(cert)
    assert r.json["sha256_fingerprint"] == want, r
    assert "replaced.example" in r.json["subject"], r
    assert "PRIVATE KEY" not in str(r.json), r
    # A new connection gets the new certificate, without a restart.
    assert _served_fingerprint(d) == want
    key_path = os.path.join(d.data, "tls", "key.pem")
    assert os.stat(key_path).st_mode & 0o777 == 0o600
    # The key never reaches the log or the audit trail.
    secret_line = key.strip().splitlines()[1]
    assert secret_line not in d.read_log()
    audit = c.get(V1 + "/audit").json
    assert secret_line not in str(audit)
    assert any(a.get("target") == "tls" for a in
               (audit if isinstance(audit, list) else audit.get("items", []))
               ), audit
    d.stop()
    d.start()
    assert _served_fingerprint(d) == want
    ctx["c"] = d.admin()


def test_interrupted_replacement_is_finished_or_discarded(ctx):
    d = ctx["d"]
    tls = os.path.join(d.data, "tls")
    before = _served_fingerprint(d)
    cert, key = _pair(ctx, "half")
    # Crash after the key's rename, before the certificate's: the
    # certificate must follow at start-up.
    d.stop()
    with open(os.path.join(tls, "key.pem"), "w") as f:
        f.write(key)
    with open(os.path.join(tls, "cert.pem.new"), "w") as f:
        f.write(cert)
    d.start()
    assert _served_fingerprint(d) == _pem_fingerprint(cert)
    assert not os.path.exists(os.path.join(tls, "cert.pem.new"))
    # Crash before any rename: the old pair stands, the halves go.
    cert2, key2 = _pair(ctx, "half2")
    d.stop()
    for n, v in (("key.pem.new", key2), ("cert.pem.new", cert2)):
        with open(os.path.join(tls, n), "w") as f:
            f.write(v)
    d.start()
    assert _served_fingerprint(d) == _pem_fingerprint(cert)
    assert not os.path.exists(os.path.join(tls, "key.pem.new"))
    assert before != _pem_fingerprint(cert)
    ctx["c"] = d.admin()


def test_configured_certificate_is_not_replaceable(ctx):
    cert, key = _pair(ctx, "conf")
    cp, kp = os.path.join(ctx["tmp"], "conf.crt"), os.path.join(
        ctx["tmp"], "conf.key")
    d = Daemon(extra_args=["--tls-cert", cp, "--tls-key", kp]).start()
    try:
        c = d.admin()
        r = c.get(V1 + "/settings")
        assert r.status == 200 and r.json["tls"]["replaceable"] is False, r
        new_cert, new_key = _pair(ctx, "conf2")
        r = c.request("PUT", V1 + "/settings/tls",
                      {"certificate": new_cert, "private_key": new_key})
        assert r.status == 409, r
        assert _served_fingerprint(d) == _pem_fingerprint(cert)
    finally:
        d.cleanup()
