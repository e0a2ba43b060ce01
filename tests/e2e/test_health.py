"""The public health route and the one-port basics."""
from xenith_client import Daemon


def setup():
    return Daemon().start()


def teardown(d):
    d.cleanup()


def test_health_is_public_and_names_the_driver(d):
    r = d.client().get("/api/v1/health")
    assert r.status == 200, r
    assert r.json["status"] == "ok"
    assert r.json["driver"] == "test"
    assert r.json["version"]


def test_unknown_api_route_is_404_json(d):
    r = d.client().get("/api/v1/nope")
    assert r.status == 404, r
    assert r.json["error"]["code"] == "not_found"


def test_wrong_method_is_405_with_allow(d):
    r = d.client().request("PUT", "/api/v1/health")
    assert r.status == 405, r
    assert "GET" in r.header("Allow")


def test_protected_route_needs_auth(d):
    r = d.client().get("/api/v1/vms")
    assert r.status == 401, r
    assert r.json["error"]["code"] == "unauthorized"


def test_security_headers_on_every_response(d):
    for path in ("/api/v1/health", "/api/v1/nope", "/"):
        r = d.client().get(path)
        assert "default-src 'self'" in (r.header("Content-Security-Policy") or ""), path
        assert r.header("X-Frame-Options") == "DENY", path
        assert r.header("X-Content-Type-Options") == "nosniff", path
        assert r.header("Strict-Transport-Security"), path
        assert r.header("Referrer-Policy") == "no-referrer", path


def test_sigterm_stops_cleanly(d):
    d2 = Daemon().start()
    rc = d2.stop()
    log = d2.read_log()
    d2.cleanup()
    assert rc == 0, log
    assert "stopped cleanly" in log, log
