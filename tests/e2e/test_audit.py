"""The audit log against the real daemon: what is recorded, paging,
verification, and tampering with the database file detected."""
import os
import sqlite3

from xenith_client import Daemon

API = "/api/v1"
PW = "Pass-word-1"


def setup():
    return Daemon().start()


def teardown(d):
    d.cleanup()



def test_login_attempts_are_recorded_without_passwords(d):
    c = d.client()
    assert c.login("audit-mallory", "Guess-1-secret").status == 401
    a = d.admin()
    rows = a.get(API + "/audit?limit=5").json
    assert rows[0]["username"] == "admin" and rows[0]["status"] == 200
    assert rows[0]["path"] == "/api/v1/session"
    assert rows[1]["username"] == "audit-mallory"
    assert rows[1]["status"] == 401 and rows[1]["method"] == "POST"
    assert rows[1]["source"] == "127.0.0.1", rows[1]
    body = a.get(API + "/audit?limit=1000").body
    assert b"Guess-1-secret" not in body and d.password.encode() not in body


def test_mutations_have_target_and_status(d):
    a = d.admin()
    r = a.post(API + "/users", {"username": "audited", "password": PW,
                                "role": "viewer"})
    assert r.status == 201, r
    uid = r.json["id"]
    r = a.patch(API + "/users/" + uid, {"role": "operator"})
    assert r.status == 200, r
    r = a.post(API + "/users", {"username": "audited", "password": PW,
                                "role": "viewer"})
    assert r.status == 409, r
    a.get(API + "/users")  # reads are not recorded
    rows = a.get(API + "/audit?limit=3").json
    assert [x["status"] for x in rows] == [409, 200, 201], rows
    assert rows[1]["method"] == "PATCH" and rows[1]["target"] == uid
    assert rows[2]["target"] == uid
    assert all(x["username"] == "admin" for x in rows)
    assert all(len(x["hash"]) == 64 for x in rows)
    assert rows[0]["prev_hash"] == rows[1]["hash"]


def test_paging_and_filters(d):
    a = d.admin()
    rows = a.get(API + "/audit?limit=3").json
    assert len(rows) == 3
    seqs = [x["seq"] for x in rows]
    assert seqs == sorted(seqs, reverse=True)
    older = a.get(API + "/audit?limit=2&before=%d" % seqs[0]).json
    assert [x["seq"] for x in older] == seqs[1:3]
    mine = a.get(API + "/audit?user=admin&limit=1000").json
    assert mine and all(x["username"] == "admin" for x in mine)
    for q, field in (("limit=0", "limit"), ("limit=1001", "limit"),
                     ("limit=ten", "limit"), ("before=0", "before"),
                     ("user=Not%20A%20User", "user")):
        r = a.get(API + "/audit?" + q)
        assert r.status == 400 and r.error["field"] == field, (q, r)


def test_only_admins_read_it(d):
    a = d.admin()
    r = a.post(API + "/users", {"username": "audit-op", "password": PW,
                                "role": "operator"})
    assert r.status == 201, r
    o = d.client()
    assert o.login("audit-op", PW).status == 200
    assert o.get(API + "/audit").status == 403
    assert o.get(API + "/audit/verify").status == 403
    assert d.client().get(API + "/audit").status == 401


def test_verify_then_tamper(_d):
    d = Daemon().start()
    try:
        a = d.admin()
        for i in range(3):
            a.post(API + "/users", {"username": "t%d" % i, "password": PW,
                                    "role": "viewer"})
        r = a.get(API + "/audit/verify")
        assert r.status == 200, r
        assert r.json["ok"] is True and r.json["rows"] >= 4, r.json
        n = r.json["rows"]
        db = sqlite3.connect(os.path.join(d.data, "xenith.db"), timeout=10)
        db.execute("UPDATE audit SET status = 500 WHERE seq = 2")
        db.commit()
        db.close()
        r = a.get(API + "/audit/verify")
        assert r.status == 200, r
        assert r.json == {"ok": False, "first_bad_seq": 2, "rows": n}, r.json
    finally:
        d.cleanup()
