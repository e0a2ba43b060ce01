"""The users API against the real daemon: CRUD, bad input naming the
field with nothing changed, roles, the last admin, passwords."""
from xenith_client import Daemon

API = "/api/v1"
PW = "Pass-word-1"


def setup():
    return Daemon().start()


def teardown(d):
    d.cleanup()



def _users(a):
    r = a.get(API + "/users")
    assert r.status == 200, r
    return r.json


def _create(a, name, role="viewer", password=PW):
    r = a.post(API + "/users", {"username": name, "password": password,
                                "role": role})
    assert r.status == 201, r
    return r.json


def test_create_get_list_never_show_the_hash(d):
    a = d.admin()
    u = _create(a, "u.create-1", "operator")
    assert u["username"] == "u.create-1" and u["role"] == "operator"
    assert len(u["id"]) == 36 and u["created_at"].endswith("Z")
    r = a.get(API + "/users/" + u["id"])
    assert r.status == 200 and r.json == u, r
    names = [x["username"] for x in _users(a)]
    assert "admin" in names and "u.create-1" in names
    for x in _users(a):
        assert set(x) == {"id", "username", "role", "must_change_password",
                          "created_at", "updated_at"}, x
    assert b"scrypt" not in a.get(API + "/users").body
    assert d.client().login("u.create-1", PW).status == 200


def test_bad_input_names_the_field_and_changes_nothing(d):
    a = d.admin()
    before = _users(a)
    cases = [
        (b"{\"username\":", None, "bad_json"),
        (b"[]", None, "bad_json"),
        ({"username": "Upper", "password": PW, "role": "viewer"},
         "username", "invalid"),
        ({"username": "x" * 65, "password": PW, "role": "viewer"},
         "username", "invalid"),
        ({"username": "sp ace", "password": PW, "role": "viewer"},
         "username", "invalid"),
        ({"username": 5, "password": PW, "role": "viewer"},
         "username", "invalid"),
        ({"username": "ok", "password": "short", "role": "viewer"},
         "password", "invalid"),
        ({"username": "ok", "password": "p" * 257, "role": "viewer"},
         "password", "invalid"),
        ({"username": "ok", "password": PW, "role": "superuser"},
         "role", "invalid"),
        ({"username": "ok", "password": PW, "role": None}, "role", "invalid"),
        ({"username": "ok", "password": PW, "role": "viewer", "id": "x"},
         "id", "invalid"),
        ({"username": "admin", "password": PW, "role": "viewer"},
         "username", "exists"),
    ]
    for body, field, code in cases:
        if isinstance(body, bytes):
            r = a.post(API + "/users", raw=body)
        else:
            r = a.post(API + "/users", body)
        assert r.status in (400, 409), (body, r)
        assert r.error["code"] == code, (body, r)
        if field:
            assert r.error["field"] == field, (body, r)
    assert _users(a) == before


def test_bad_uuids_in_paths(d):
    a = d.admin()
    for method in ("GET", "PATCH", "DELETE"):
        r = a.request(method, API + "/users/not-a-uuid",
                      body={} if method == "PATCH" else None)
        assert r.status == 400 and r.error["field"] == "id", (method, r)
    r = a.post(API + "/users/../password", {"password": PW})
    assert r.status in (400, 404), r
    r = a.get(API + "/users/00000000-0000-4000-8000-000000000000")
    assert r.status == 404, r


def test_patch_role_and_flag_only(d):
    a = d.admin()
    u = _create(a, "u.patch")
    r = a.patch(API + "/users/" + u["id"], {"role": "operator",
                                            "must_change_password": True})
    assert r.status == 200, r
    assert r.json["role"] == "operator" and r.json["must_change_password"]
    for body, field in (({"username": "renamed"}, "username"),
                        ({"password": PW}, "password"),
                        ({"role": "owner"}, "role"),
                        ({"must_change_password": 1},
                         "must_change_password")):
        r = a.patch(API + "/users/" + u["id"], body)
        assert r.status == 400 and r.error["field"] == field, (body, r)
    assert a.get(API + "/users/" + u["id"]).json["role"] == "operator"


def test_roles_guard_the_users_api(d):
    a = d.admin()
    _create(a, "u.viewer", "viewer")
    _create(a, "u.oper", "operator")
    for name in ("u.viewer", "u.oper"):
        c = d.client()
        assert c.login(name, PW).status == 200
        assert c.get(API + "/users").status == 403
        r = c.post(API + "/users", {"username": "sneaky", "password": PW,
                                    "role": "admin"})
        assert r.status == 403, r
    assert d.client().get(API + "/users").status == 401
    assert "sneaky" not in [x["username"] for x in _users(a)]


def test_last_admin_cannot_go(d):
    a = d.admin()
    me = a.get(API + "/session").json["user"]["id"]
    r = a.patch(API + "/users/" + me, {"role": "operator"})
    assert r.status == 409 and r.error["field"] == "role", r
    r = a.delete(API + "/users/" + me)
    assert r.status == 409, r
    assert a.get(API + "/users/" + me).json["role"] == "admin"


def test_delete_ends_sessions(d):
    a = d.admin()
    u = _create(a, "u.delete")
    c = d.client()
    assert c.login("u.delete", PW).status == 200
    r = a.delete(API + "/users/" + u["id"])
    assert r.status == 204, r
    assert c.get(API + "/session").status == 401
    assert a.get(API + "/users/" + u["id"]).status == 404
    assert a.delete(API + "/users/" + u["id"]).status == 404


def test_second_admin_allows_demotion(d):
    a = d.admin()
    b = _create(a, "u.admin2", "admin")
    r = a.patch(API + "/users/" + b["id"], {"role": "viewer"})
    assert r.status == 200, r
    b2 = _create(a, "u.admin3", "admin")
    c = d.client()
    assert c.login("u.admin3", PW).status == 200
    me = a.get(API + "/session").json["user"]["id"]
    # u.admin3 demotes admin; then u.admin3 is the last admin.
    r = c.patch(API + "/users/" + me, {"role": "operator"})
    assert r.status == 200, r
    assert a.get(API + "/users").status == 403
    r = c.patch(API + "/users/" + b2["id"], {"role": "viewer"})
    assert r.status == 409, r
    # Put things back for the other tests.
    assert c.patch(API + "/users/" + me, {"role": "admin"}).status == 200
    assert a.get(API + "/users").status == 200


def test_own_password_needs_the_current_one(d):
    a = d.admin()
    u = _create(a, "u.pw")
    path = API + "/users/%s/password" % u["id"]
    c, c2 = d.client(), d.client()
    assert c.login("u.pw", PW).status == 200
    assert c2.login("u.pw", PW).status == 200
    r = c.post(path, {"password": "New-pass-123"})
    assert r.status == 400 and r.error["field"] == "current_password", r
    r = c.post(path, {"password": "New-pass-123",
                      "current_password": "Wrong-pass-1"})
    assert r.status == 403 and r.error["field"] == "current_password", r
    r = c.post(path, {"password": "tiny", "current_password": PW})
    assert r.status == 400 and r.error["field"] == "password", r
    assert d.client().login("u.pw", PW).status == 200  # unchanged so far
    r = c.post(path, {"password": "New-pass-123", "current_password": PW})
    assert r.status == 204, r
    assert c.get(API + "/session").status == 200
    assert c2.get(API + "/session").status == 401
    assert d.client().login("u.pw", PW).status == 401
    assert d.client().login("u.pw", "New-pass-123").status == 200
    # Someone else's: 403 for a viewer.
    admin_id = a.get(API + "/session").json["user"]["id"]
    r = c.post(API + "/users/%s/password" % admin_id,
               {"password": "Hijack-pass-1", "current_password": "New-pass-123"})
    assert r.status == 403, r
    assert d.client().login("admin", d.password).status == 200


def test_admin_sets_any_password_and_clears_the_flag(d):
    a = d.admin()
    u = _create(a, "u.reset")
    assert a.patch(API + "/users/" + u["id"],
                   {"must_change_password": True}).status == 200
    c = d.client()
    assert c.login("u.reset", PW).status == 200
    r = a.post(API + "/users/%s/password" % u["id"], {"password": "Reset-pw-99"})
    assert r.status == 204, r
    assert c.get(API + "/session").status == 401
    r = d.client().login("u.reset", "Reset-pw-99")
    assert r.status == 200, r
    assert r.json["user"]["must_change_password"] is False
