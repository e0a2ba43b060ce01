"""The API contract as data for the e2e tests: the operations of
docs/openapi.json (as the daemon serves it) and the route table parsed
from server/api/routes.c, so a test can walk every route."""
import os
import re
import uuid

from xenith_client import ROOT, Daemon

ROLE_RANK = {"public": 0, "viewer": 1, "operator": 2, "admin": 3}
_ROLE_OF = {"PUB": "public", "VIEW": "viewer", "OPER": "operator",
            "ADM": "admin"}
_METHODS = ("get", "post", "put", "patch", "delete")


def route_table():
    """[(METHOD, path, min_role, websocket)] from server/api/routes.c."""
    with open(os.path.join(ROOT, "server", "api", "routes.c")) as f:
        src = f.read()
    out = []
    for m in re.finditer(r'\{\s*"([A-Z]+)",\s*V1\s*"([^"]*)",\s*\w+,\s*'
                         r'(PUB|VIEW|OPER|ADM),\s*([^,]+),', src):
        method, path, role, flags = m.groups()
        out.append((method, "/api/v1" + path, _ROLE_OF[role],
                    "ROUTE_WEBSOCKET" in flags))
    return out


def operations(doc):
    """[(METHOD, path, operation object)] of every operation in doc."""
    out = []
    for path, item in sorted(doc["paths"].items()):
        for m in _METHODS:
            if m in item:
                out.append((m.upper(), path, item[m]))
    return out


def resolve(doc, schema):
    """Follow a local $ref ("#/components/schemas/X")."""
    while isinstance(schema, dict) and "$ref" in schema:
        node = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def body_schema(doc, op):
    """The application/json request body schema of op (resolved), or
    None when op takes no JSON body."""
    rb = op.get("requestBody")
    if not rb or "application/json" not in rb.get("content", {}):
        return None
    return resolve(doc, rb["content"]["application/json"]["schema"])


def fill_path(path, ids=None):
    """path with {id}/{sid} replaced by ids[name], else a random UUID."""
    ids = ids or {}
    return re.sub(r"\{(\w+)\}",
                  lambda m: ids.get(m.group(1)) or str(uuid.uuid4()), path)


def error_of(r):
    """The {"code","message","field"} of an error answer, else {}."""
    try:
        j = r.json
    except ValueError:
        return {}
    e = j.get("error") if isinstance(j, dict) else None
    return e if isinstance(e, dict) else {}


def with_daemon(prepare):
    """Start a Daemon and return prepare(daemon); stop it if that fails
    (a module's setup() then owns it through the context)."""
    d = Daemon().start()
    try:
        return prepare(d)
    except Exception:
        d.cleanup()
        raise
