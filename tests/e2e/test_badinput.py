"""Bad input, data-driven from the daemon's own openapi.json: for every
POST/PATCH route with a JSON body, each of these answers 4xx and changes
nothing (the GET lists of the resource, the task list, and the fixture
user's password are the same before and after):

  malformed JSON -> 400 bad_json        a JSON array -> 400
  unknown field -> 400 naming it        wrong type, per property -> 400 naming it
  a required property left out -> 400 naming it
  enum value not listed, integer out of range, string past maxLength or
  under minLength -> 400 naming the property
  body over 1 MiB -> 413                text/plain body -> 415

and for every route with {id}/{sid}, a path parameter that is not a UUID
-> 400 with field "id" (api_param_uuid), or 404.

Each faulty body is the schema's example (UUID fields filled with real
fixture ids) with exactly one fault, so the field named is the one at
fault, not a missing required one.
"""
import copy
import http.client
import json
import os

from apidoc import (body_schema, error_of, fill_path, operations, resolve,
                    with_daemon)

PASSWORD = "Badinput-pass-12345"
MIB = 1024 * 1024
WRONG = {"string": [12345, True], "integer": ["1", 1.5, True],
         "number": ["1", True], "boolean": ["true", 1],
         "array": ["x", {"a": 1}], "object": ["x", [1]]}
UUID_OF = {"sr": "sr", "default_sr": "sr", "network": "network",
           "disk": "disk", "cdrom": "disk"}
# Figures that move on their own (the host's, the filesystem's).
VOLATILE = {"free_bytes", "last_seen", "last_used", "uptime_s",
            "memory_free_bytes"}


def setup():
    return with_daemon(_setup)


def _setup(d):
    a = d.admin()
    ids, missing = {}, {}

    def create(kind, path, body):
        r = a.post(path, body)
        if r.status == 201:
            ids[kind] = r.json["id"]
        else:
            missing[kind] = "POST %s: %r" % (path, r)

    create("sr", "/api/v1/srs", {"name": "bad-sr", "type": "file",
                                 "path": os.path.join(d.data, "srs", "bad")})
    create("network", "/api/v1/networks", {"name": "badnet",
                                           "bridge": "xbrbad0"})
    create("disk", "/api/v1/disks", {"name": "bad-disk", "sr": ids.get("sr"),
                                     "size_bytes": MIB})
    create("vm", "/api/v1/vms", {"name": "bad-vm", "vcpus": 1,
                                 "memory_mib": 128, "boot": {"type": "hvm"}})
    create("user", "/api/v1/users", {"username": "bad-user",
                                     "password": PASSWORD, "role": "viewer"})
    create("backup/repositories", "/api/v1/backup/repositories",
           {"name": "bad-repo", "path": os.path.join(d.data, "bk", "bad")})
    r = a.get("/api/v1/openapi.json")
    assert r.status == 200, r
    return {"d": d, "a": a, "ids": ids, "missing": missing, "doc": r.json}


def _needs(ctx, path, schema):
    """The fixtures a route's path and example need that could not be
    made (their failed creates), so the route is reported, not run."""
    kinds = set()
    res = _res(path)
    if "{id}" in path:
        kinds.add({"vms": "vm", "disks": "disk", "users": "user",
                   "backup/repositories": res}.get(res))
    for k in (schema.get("example") or {}):
        kinds.add(UUID_OF.get(k))
    return [ctx["missing"][k] for k in sorted(kinds - {None})
            if k in ctx["missing"]]


def teardown(ctx):
    if ctx:
        ctx["d"].cleanup()


def _res(path):
    """The resource a path names: "vms", or "backup/jobs" under /backup."""
    parts = path.split("/")
    return "/".join(parts[3:5]) if parts[3] == "backup" else parts[3]


def _path_ids(ctx, path):
    """Real ids for a path's parameters, by the resource it names."""
    res = _res(path)
    kind = {"vms": "vm", "disks": "disk", "users": "user", "srs": "sr",
            "networks": "network",
            "backup/repositories": "backup/repositories"}.get(res)
    return {"id": ctx["ids"].get(kind)} if kind else {}


def _example(ctx, schema):
    """The schema's example with UUID fields given real fixture ids."""
    ex = copy.deepcopy(schema.get("example") or {})
    for k in ex:
        if k in UUID_OF:
            ex[k] = ctx["ids"][UUID_OF[k]]
    return ex


def _faults(doc, schema, base):
    """[(label, body, field)] of single-fault bodies from schema."""
    out = [("unknown field", dict(base, no_such_field=1), "no_such_field")]
    for name in schema.get("required", []):
        if name in base:
            out.append(("missing required", {k: v for k, v in base.items()
                                             if k != name}, name))
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(doc, prop)
        typ = prop.get("type")
        for v in WRONG.get(typ, []):
            out.append(("%s as %s" % (typ, type(v).__name__),
                        dict(base, **{name: v}), name))
        if typ == "string" and "enum" in prop:
            out.append(("enum", dict(base, **{name: "no-such-value"}), name))
        if typ == "integer" and "minimum" in prop:
            out.append(("below minimum",
                        dict(base, **{name: prop["minimum"] - 1}), name))
        if typ == "integer" and "maximum" in prop:
            out.append(("above maximum",
                        dict(base, **{name: prop["maximum"] + 1}), name))
        if typ == "string" and "maxLength" in prop and "enum" not in prop:
            n = prop["maxLength"] + 1
            s = "/" + "a" * (n - 1) if prop.get("pattern") == "^/" \
                else "a" * n
            out.append(("maxLength+1", dict(base, **{name: s}), name))
        if typ == "string" and prop.get("minLength", 0) > 0 and \
                "enum" not in prop and "format" not in prop:
            out.append(("minLength-1", dict(base, **{
                name: "a" * (prop["minLength"] - 1)}), name))
    return out


def _lists(ctx, path):
    """What a failed request on path must leave as it was."""
    a = ctx["a"]
    res = _res(path)
    paths = ["/api/v1/tasks", "/api/v1/" + res]
    if res == "session":
        paths[1] = "/api/v1/users"
    if "/snapshots" in path and res == "vms":
        paths.append("/api/v1/vms/%s/snapshots" % ctx["ids"]["vm"])
    out = {}
    for p in paths:
        r = a.get(p)
        out[p] = (r.status, _strip(r.json))
    return out


def _strip(v):
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def _body_routes(ctx):
    return [(m, p, op, body_schema(ctx["doc"], op))
            for m, p, op in operations(ctx["doc"])
            if m in ("POST", "PATCH") and body_schema(ctx["doc"], op)]


def _run(ctx, cases_of):
    """cases_of(method, path, op, schema) -> [(label, send, check)];
    send() gives a Response, check(r) an error string or None."""
    fails = []
    for method, path, op, schema in _body_routes(ctx):
        need = _needs(ctx, path, schema)
        if need:
            fails.append("%s %s: no fixture: %s" % (method, path,
                                                    "; ".join(need)))
            continue
        url = fill_path(path, _path_ids(ctx, path))
        before = _lists(ctx, path)
        for label, send, check in cases_of(method, path, op, schema):
            try:
                r = send(method, url)
            except (OSError, ValueError, http.client.HTTPException) as e:
                fails.append("%s %s [%s]: no answer: %r" % (
                    method, path, label, e))
                ctx["a"].close()
                continue
            why = check(r)
            if why:
                fails.append("%s %s [%s]: %s -> %r" % (
                    method, path, label, why, r))
        after = _lists(ctx, path)
        if after != before:
            fails.append("%s %s: state changed: %s" % (
                method, path, [p for p in before if before[p] != after[p]]))
    assert not fails, "%d failure(s):\n%s" % (len(fails), "\n".join(fails))


def _want(status, field=None, code=None):
    def check(r):
        err = error_of(r)
        if r.status != status:
            return "status %d, want %d" % (r.status, status)
        if code and err.get("code") != code:
            return "code %r, want %r" % (err.get("code"), code)
        if field and err.get("field") != field:
            return "field %r, want %r" % (err.get("field"), field)
        return None
    return check


def _raw(ctx, data, ct="application/json"):
    return lambda m, u: ctx["a"].request(m, u, raw=data, content_type=ct)


def test_malformed_json_is_400_bad_json(ctx):
    _run(ctx, lambda m, p, op, s: [
        ("truncated", _raw(ctx, b'{"name": '), _want(400, code="bad_json")),
        ("trailing comma", _raw(ctx, b'{"a": 1,}'),
         _want(400, code="bad_json")),
        ("not UTF-8", _raw(ctx, b'{"name": "\xff\xfe"}'), _want(400))])


def test_array_instead_of_object_is_400(ctx):
    _run(ctx, lambda m, p, op, s: [
        ("array", _raw(ctx, b"[]"), _want(400)),
        ("array of example", _raw(ctx, b"[" + json.dumps(
            _example(ctx, s)).encode() + b"]"), _want(400)),
        ("string", _raw(ctx, b'"x"'), _want(400))])


def test_each_bad_field_is_400_naming_it(ctx):
    doc = ctx["doc"]

    def cases(m, p, op, s):
        base = _example(ctx, s)
        assert base or not s.get("required"), \
            "%s %s: the schema needs an example" % (m, p)
        return [(label, (lambda b: lambda mm, u: ctx["a"].request(
            mm, u, b))(body), _want(400, field=field))
            for label, body, field in _faults(doc, s, base)]
    _run(ctx, cases)


def test_body_over_1mib_is_413(ctx):
    big = b'{"name": "' + b"a" * (MIB + 16) + b'"}'
    _run(ctx, lambda m, p, op, s: [("1 MiB + 28", _raw(ctx, big),
                                    _want(413))])


def test_text_plain_is_415(ctx):
    def cases(m, p, op, s):
        data = json.dumps(_example(ctx, s)).encode()
        return [("text/plain", _raw(ctx, data, "text/plain"), _want(415)),
                ("no type", _raw(ctx, data, None), _want(415))]
    _run(ctx, cases)


def test_password_survives_bad_requests(ctx):
    assert "user" in ctx["ids"], ctx["missing"].get("user")
    r = ctx["d"].client().login("bad-user", PASSWORD)
    assert r.status == 200, r


def test_bad_uuid_in_path_is_400_id_or_404(ctx):
    fails = []
    for m, p, op in operations(ctx["doc"]):
        if "{" not in p or op.get("x-websocket"):
            continue
        s = body_schema(ctx["doc"], op)
        body = _example(ctx, s) if s else ({} if m in ("POST", "PATCH")
                                           else None)
        for bad in ("not-a-uuid", "1234", "%s-extra" % ("0" * 36)):
            url = fill_path(p, {"id": bad, "sid": bad})
            r = ctx["a"].request(m, url, body)
            err = error_of(r)
            ok = (r.status == 400 and err.get("field") == "id") or \
                r.status == 404
            if not ok:
                fails.append("%s %s: %r" % (m, url, r))
    assert not fails, "%d failure(s):\n%s" % (len(fails), "\n".join(fails))
