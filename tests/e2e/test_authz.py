"""The authorization matrix: every route of the API, read from the
daemon's own GET /api/v1/openapi.json (and checked against routes.c),
against every kind of caller:

  none      no credentials                     401 (public routes: not 401/403)
  viewer    viewer session (cookie + CSRF)     403 below x-min-role, else not 401/403
  operator  operator session                   "
  admin     admin session                      "
  expired   admin API token past expires_at    401 (public routes: not 401/403)
  vtoken    viewer API token, no CSRF header   like viewer
  badcsrf   admin session, wrong X-CSRF-Token  403 on non-GET, else like admin
  nocsrf    admin session, no X-CSRF-Token     403 on non-GET, else like admin

{id}/{sid} are random UUIDs (POST /users/{id}/password: the caller's own
id, so ownership does not hide the role check); POST/PATCH send {}.
WebSocket routes are tried as real upgrades. On failure a compact matrix
of the failing rows is printed ('!' marks a wrong cell).
"""
import time

from apidoc import (ROLE_RANK, error_of, fill_path, operations, route_table,
                    with_daemon)

MODES = ["none", "viewer", "operator", "admin", "expired", "vtoken",
         "badcsrf", "nocsrf"]
MODE_ROLE = {"viewer": "viewer", "operator": "operator", "admin": "admin",
             "vtoken": "viewer", "badcsrf": "admin", "nocsrf": "admin"}
PASSWORD = "Matrix-pass-12345"
ANY = "any"  # anything but 401/403 (and an answer at all)
NOBODY = object()  # an upgrade refusal: its status is what counts


def _rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def setup():
    return with_daemon(_setup)


def _setup(d):
    admin = d.admin()
    ctx = {"d": d, "clients": {"admin": admin}, "spare": {}, "own": {}}

    # The expiring token first, so its wait overlaps the rest of set-up.
    expires = int(time.time()) + 3
    r = admin.post("/api/v1/tokens", {"name": "expiring", "role": "admin",
                                      "expires_at": _rfc3339(expires)})
    assert r.status == 201, r
    expired = d.client()
    expired.token = r.json["token"]
    r = expired.get("/api/v1/session")
    assert r.status == 200, "the token must work before it expires: %r" % r
    ctx["clients"]["expired"] = expired

    r = admin.get("/api/v1/session")
    assert r.status == 200, r
    ctx["own"]["admin"] = r.json["user"]["id"]
    for role in ("viewer", "operator"):
        r = admin.post("/api/v1/users", {"username": "matrix-" + role,
                                         "password": PASSWORD, "role": role})
        assert r.status == 201, r
        ctx["own"][role] = r.json["id"]
        c = d.client()
        r = c.login("matrix-" + role, PASSWORD)
        assert r.status == 200, r
        ctx["clients"][role] = c
    # Spare sessions for DELETE /session, which ends the caller's session.
    for role in ("viewer", "operator", "admin"):
        c = d.client()
        r = c.login("matrix-" + role if role != "admin" else "admin",
                    PASSWORD if role != "admin" else d.password)
        assert r.status == 200, r
        ctx["spare"][role] = c

    r = ctx["clients"]["viewer"].post("/api/v1/tokens",
                                      {"name": "viewer-token",
                                       "role": "viewer"})
    assert r.status == 201, r
    vt = d.client()
    vt.token = r.json["token"]
    ctx["clients"]["vtoken"] = vt
    ctx["clients"]["none"] = d.client()
    for mode in ("badcsrf", "nocsrf"):
        c = d.client()
        c.cookie, c.csrf = admin.cookie, admin.csrf
        ctx["clients"][mode] = c
    for mode in ("vtoken", "badcsrf", "nocsrf"):
        ctx["own"][mode] = ctx["own"][MODE_ROLE[mode]]

    r = admin.get("/api/v1/openapi.json")
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").startswith("application/json"), r
    ctx["doc"] = r.json

    while time.time() < expires + 1.5:
        time.sleep(0.1)
    return ctx


def teardown(ctx):
    if ctx:
        ctx["d"].cleanup()


def expected(mode, method, min_role):
    public = min_role == "public"
    if mode in ("none", "expired"):
        return ANY if public else 401
    if mode in ("badcsrf", "nocsrf") and not public and method != "GET":
        return 403
    return 403 if ROLE_RANK[MODE_ROLE[mode]] < ROLE_RANK[min_role] else ANY


def _after_upgrade(ws):
    """Stored credentials are looked up after the 101 (lws 4.1 cannot
    hold an upgrade open meanwhile): a refusal then is a close frame with
    4000 + the status before anything else. A ping tells the two apart."""
    ws.send(b"", opcode=9)
    op, data = ws.recv(timeout=10)
    code = int.from_bytes(data[:2], "big") if op == 8 and len(data) >= 2 else 0
    return code - 4000 if code in (4401, 4403) else 101


def _call(ctx, mode, method, path, op):
    if method == "DELETE" and path == "/api/v1/session" and \
            mode in ctx["spare"]:
        c = ctx["spare"][mode]
    else:
        c = ctx["clients"][mode]
    ids = {"id": ctx["own"].get(mode)} if path.endswith("/password") else {}
    url = fill_path(path, ids)
    if op.get("x-websocket"):
        ws = c.websocket(url)
        status = ws.status
        if status == 101:
            status = _after_upgrade(ws)
        ws.sock.close()
        return status, NOBODY
    kw = {}
    if mode == "badcsrf":
        kw["headers"] = {"X-CSRF-Token": "0" * 64}
    if mode == "nocsrf":
        kw["csrf"] = False
    body = {} if method in ("POST", "PATCH") else None
    r = c.request(method, url, body, **kw)
    return r.status, error_of(r).get("code")


def _matrix(ctx):
    """{(method, path): {mode: (status, error code, expected)}}, once."""
    if "matrix" in ctx:
        return ctx["matrix"]
    m = {}
    for method, path, op in operations(ctx["doc"]):
        row = {}
        for mode in MODES:
            status, code = _call(ctx, mode, method, path, op)
            row[mode] = (status, code,
                         expected(mode, method, op.get("x-min-role")))
        m[(method, path)] = row
    ctx["matrix"] = m
    return m


def _wrong(cell):
    status, code, exp = cell
    if exp == ANY:
        return status in (0, 401, 403)
    want = {401: "unauthorized", 403: "forbidden"}[exp]
    return status != exp or (code is not NOBODY and code != want)


def _check(ctx, modes):
    m = _matrix(ctx)
    bad = [(k, row) for k, row in m.items()
           if any(_wrong(row[mode]) for mode in modes)]
    if not bad:
        return
    w = max(len("%s %s" % k) for k, _ in bad)
    lines = ["%-*s %s" % (w, "route", " ".join("%-8s" % x for x in MODES))]
    for (method, path), row in bad:
        cells = []
        for mode in MODES:
            st = row[mode][0]
            cells.append("%-8s" % ("%d%s" % (st, "!" if _wrong(row[mode])
                                             else "")))
        lines.append("%-*s %s" % (w, "%s %s" % (method, path),
                                  " ".join(cells)))
    lines.append("expected: none/expired 401 (public: any), role below "
                 "x-min-role 403, non-GET with bad/no CSRF 403, else not "
                 "401/403; 401/403 with error.code unauthorized/forbidden")
    raise AssertionError("%d route(s) break the matrix in %s:\n%s" % (
        len(bad), ",".join(modes), "\n".join(lines)))


def test_openapi_lists_exactly_the_route_table(ctx):
    table = route_table()
    assert len(table) >= 58, "routes.c parsed to %d routes" % len(table)
    ops = operations(ctx["doc"])
    doc = {(m, p): (op.get("x-min-role"), bool(op.get("x-websocket")))
           for m, p, op in ops}
    tab = {(m, p): (role, ws) for m, p, role, ws in table}
    assert len(ops) == len(table), (len(ops), len(table))
    missing = sorted(set(tab) - set(doc))
    extra = sorted(set(doc) - set(tab))
    differ = sorted(k for k in tab if k in doc and doc[k] != tab[k])
    assert not (missing or extra or differ), \
        "missing %s, extra %s, role/websocket differ %s" % (
            missing, extra, [(k, doc[k], tab[k]) for k in differ])


def test_no_credentials_is_401(ctx):
    _check(ctx, ["none"])


def test_session_roles(ctx):
    _check(ctx, ["viewer", "operator", "admin"])


def test_expired_token_is_401(ctx):
    _check(ctx, ["expired"])


def test_viewer_token_needs_no_csrf(ctx):
    _check(ctx, ["vtoken"])


def test_cookie_writes_need_the_csrf_token(ctx):
    _check(ctx, ["badcsrf", "nocsrf"])


def test_every_public_route_is_in_the_issue_list(ctx):
    public = sorted((m, p) for m, p, op in operations(ctx["doc"])
                    if op.get("x-min-role") == "public")
    assert public == [("GET", "/api/v1/health"),
                      ("POST", "/api/v1/session")], public
