"""API tokens against the real daemon: shown once, stored hashed, own
only, role caps, expiry, no CSRF needed."""
import datetime
import os
import sqlite3
import time

from xenith_client import Daemon

API = "/api/v1"
PW = "Pass-word-1"


def setup():
    return Daemon().start()


def teardown(d):
    d.cleanup()



def _bearer(d, token):
    c = d.client()
    c.token = token
    return c


def _rfc3339(seconds_from_now):
    t = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_create_use_revoke(d):
    a = d.admin()
    r = a.post(API + "/tokens", {"name": "ci runner", "role": "operator"})
    assert r.status == 201, r
    tok = r.json
    assert tok["token"].startswith("xnt_") and len(tok["token"]) == 68
    assert tok["role"] == "operator" and tok["expires_at"] is None
    assert len(tok["id"]) == 36
    t = _bearer(d, tok["token"])
    r = t.get(API + "/session")
    assert r.status == 200 and r.json["via"] == "token", r
    assert r.json["user"]["role"] == "operator"
    assert t.get(API + "/users").status == 403
    # No CSRF token needed with a Bearer token (400 from the body).
    r = t.post(API + "/tokens", {"name": "x"})
    assert r.status == 400 and r.error["field"] == "role", r
    # Listed without the secret.
    lst = a.get(API + "/tokens").json
    assert tok["id"] in [x["id"] for x in lst]
    assert tok["token"][4:].encode() not in a.get(API + "/tokens").body
    for x in lst:
        assert "token" not in x and "secret_hash" not in x
    # Stored only hashed.
    db = sqlite3.connect(os.path.join(d.data, "xenith.db"))
    rows = db.execute("SELECT secret_hash FROM tokens").fetchall()
    db.close()
    assert all(tok["token"] not in row[0] for row in rows)
    r = a.delete(API + "/tokens/" + tok["id"])
    assert r.status == 204, r
    assert t.get(API + "/session").status == 401
    assert a.delete(API + "/tokens/" + tok["id"]).status == 404


def test_bad_input_names_the_field(d):
    a = d.admin()
    before = a.get(API + "/tokens").json
    for body, field in (
            ({"name": "n", "role": "viewer", "expires_at": "next week"},
             "expires_at"),
            ({"name": "n", "role": "viewer",
              "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
            ({"name": "n", "role": "viewer", "expires_at": 1893456000},
             "expires_at"),
            ({"name": "n", "role": "king"}, "role"),
            ({"name": 3, "role": "viewer"}, "name"),
            ({"name": "n" * 65, "role": "viewer"}, "name"),
            ({"name": "", "role": "viewer"}, "name"),
            ({"name": "n", "role": "viewer", "token": "xnt_mine"}, "token")):
        r = a.post(API + "/tokens", body)
        assert r.status == 400 and r.error["field"] == field, (body, r)
    r = a.post(API + "/tokens", raw=b"{not json")
    assert r.status == 400 and r.error["code"] == "bad_json", r
    r = a.delete(API + "/tokens/123")
    assert r.status == 400 and r.error["field"] == "id", r
    assert a.get(API + "/tokens").json == before


def test_roles_are_capped(d):
    a = d.admin()
    r = a.post(API + "/users", {"username": "t.viewer", "password": PW,
                                "role": "viewer"})
    assert r.status == 201, r
    v = d.client()
    assert v.login("t.viewer", PW).status == 200
    r = v.post(API + "/tokens", {"name": "up", "role": "admin"})
    assert r.status == 403 and r.error["field"] == "role", r
    r = v.post(API + "/tokens", {"name": "ok", "role": "viewer"})
    assert r.status == 201, r
    # A token cannot mint a stronger one.
    r = a.post(API + "/tokens", {"name": "op", "role": "operator"})
    op = _bearer(d, r.json["token"])
    r = op.post(API + "/tokens", {"name": "up", "role": "admin"})
    assert r.status == 403, r
    r = op.post(API + "/tokens", {"name": "same", "role": "operator"})
    assert r.status == 201, r


def test_own_tokens_only(d):
    a = d.admin()
    r = a.post(API + "/users", {"username": "t.other", "password": PW,
                                "role": "operator"})
    assert r.status == 201, r
    o = d.client()
    assert o.login("t.other", PW).status == 200
    mine = a.post(API + "/tokens", {"name": "admins", "role": "viewer"}).json
    assert mine["id"] not in [x["id"] for x in o.get(API + "/tokens").json]
    r = o.delete(API + "/tokens/" + mine["id"])
    assert r.status == 404, r
    assert _bearer(d, mine["token"]).get(API + "/session").status == 200


def test_expired_token_is_refused(d):
    a = d.admin()
    r = a.post(API + "/tokens", {"name": "short-lived", "role": "viewer",
                                 "expires_at": _rfc3339(2)})
    assert r.status == 201, r
    assert r.json["expires_at"].endswith("Z")
    t = _bearer(d, r.json["token"])
    assert t.get(API + "/session").status == 200
    time.sleep(3.1)
    r = t.get(API + "/session")
    assert r.status == 401, r


def test_metrics_with_a_token(d):
    a = d.admin()
    r = a.post(API + "/tokens", {"name": "prometheus", "role": "viewer"})
    t = _bearer(d, r.json["token"])
    r = t.get(API + "/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    for line in ("xenith_up 1", "# TYPE xenith_users gauge",
                 'xenith_tasks{status="success"}'):
        assert line in text, text
    assert d.client().get(API + "/metrics").status == 401
