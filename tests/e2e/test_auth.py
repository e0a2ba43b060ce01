"""Log-in, sessions, CSRF, rate limits, expiry, the first admin and the
local socket, against the real daemon."""
import os
import signal
import stat
import subprocess
import threading
import time

from xenith_client import Daemon, Skip, XENITHD

API = "/api/v1"


def setup():
    return Daemon().start()


def teardown(d):
    d.cleanup()



def test_login_sets_a_safe_cookie_and_answers_the_user(d):
    c = d.client()
    r = c.login("admin", d.password)
    assert r.status == 200, r
    cookie = r.header("Set-Cookie")
    assert cookie.startswith("xenith_session="), cookie
    for attr in ("Path=/", "HttpOnly", "Secure", "SameSite=Strict"):
        assert attr in cookie, cookie
    assert len(c.cookie) == 64, c.cookie
    body = r.json
    assert body["user"]["username"] == "admin"
    assert body["user"]["role"] == "admin"
    assert body["user"]["must_change_password"] is False
    assert len(body["user"]["id"]) == 36
    assert body["csrf_token"] and body["csrf_token"] != c.cookie
    r = c.get(API + "/session")
    assert r.status == 200, r
    assert r.json["csrf_token"] == body["csrf_token"]
    assert r.header("Cache-Control") == "no-store"


def test_wrong_password_and_unknown_user_look_the_same(d):
    c = d.client()
    r1 = c.login("admin", "not-the-password")
    r2 = c.login("no-such-user", "not-the-password")
    assert r1.status == 401 and r2.status == 401, (r1, r2)
    assert r1.error["message"] == r2.error["message"]
    assert r1.header("Set-Cookie") is None
    assert c.get(API + "/session").status == 401


def _vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_logins_hash_one_password_at_a_time(_d):
    # Each scrypt takes 32 MiB: 8 logins at once on 4 handler threads
    # would raise the peak RSS by 96 MiB or more; one at a time, by none.
    d = Daemon().start()
    try:
        with open("/proc/%d/maps" % d.proc.pid) as f:
            if "libasan" in f.read():
                raise Skip("ASan's quarantine keeps freed memory resident; "
                           "the plain build's run measures this")
        assert d.client().login("warm-up", "wrong-password").status == 401
        before = _vm_hwm_kib(d.proc.pid)
        answers = []

        def guess(i):
            answers.append(d.client().login("guess-%d" % i, "wrong-pass"))
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [a.status for a in answers] == [401] * 8, answers
        grew = _vm_hwm_kib(d.proc.pid) - before
        assert grew < 16 * 1024, "peak RSS grew by %d KiB" % grew
    finally:
        d.cleanup()


def test_login_bad_input_names_the_field(d):
    c = d.client()
    r = c.post(API + "/session", raw=b"{\"username\":")
    assert r.status == 400 and r.error["code"] == "bad_json", r
    r = c.post(API + "/session", {"username": ["admin"], "password": "x"})
    assert r.status == 400 and r.error["field"] == "username", r
    r = c.post(API + "/session", {"username": "admin", "password": 12345678})
    assert r.status == 400 and r.error["field"] == "password", r
    r = c.post(API + "/session", {"username": "admin", "password": "x",
                                  "remember": True})
    assert r.status == 400 and r.error["field"] == "remember", r
    r = c.post(API + "/session", {"username": "a" * 65, "password": "x"})
    assert r.status == 400 and r.error["field"] == "username", r
    r = c.post(API + "/session", raw=b"username=admin",
               content_type="application/x-www-form-urlencoded")
    assert r.status == 415, r


def test_csrf_is_required_on_cookie_writes(d):
    c = d.admin()
    r = c.delete(API + "/session", csrf=False)
    assert r.status == 403 and r.error["field"] == "X-CSRF-Token", r
    r = c.delete(API + "/session", headers={"X-CSRF-Token": "0" * 64})
    assert r.status == 403, r
    assert c.get(API + "/session").status == 200
    r = c.delete(API + "/session")
    assert r.status == 204, r
    assert "Max-Age=0" in r.header("Set-Cookie")
    assert c.get(API + "/session").status == 401


def test_made_up_cookies_and_tokens_are_refused(d):
    c = d.client()
    for hdr in ({"Cookie": "xenith_session=" + "a" * 64},
                {"Cookie": "xenith_session="},
                {"Authorization": "Bearer xnt_" + "0" * 64},
                {"Authorization": "Basic YWRtaW46eA=="}):
        r = c.get(API + "/session", headers=hdr)
        assert r.status == 401, (hdr, r)


def test_rate_limit_per_username(d):
    c = d.client()
    for _ in range(5):
        assert c.login("ratelimited", "wrong-password").status == 401
    r = c.login("ratelimited", "wrong-password")
    assert r.status == 429, r
    assert r.error["code"] == "too_many_requests"
    assert 0 < int(r.header("Retry-After")) <= 300
    # Other users from the same address still get in.
    assert d.client().login("admin", d.password).status == 200


def test_rate_limit_per_address(_d):
    d = Daemon().start()
    try:
        c = d.client()
        for i in range(20):
            assert c.login("guess%d" % i, "wrong-password").status == 401
        r = c.login("admin", d.password)
        assert r.status == 429, r
        assert r.header("Retry-After")
    finally:
        d.cleanup()


def test_rate_limit_survives_a_restart(_d):
    # The failure counts are in the database: a restart (even a crash)
    # does not give a guesser a fresh set of tries.
    d = Daemon().start()
    d2 = None
    try:
        c = d.client()
        for _ in range(5):
            assert c.login("admin", "wrong-password").status == 401
        assert c.login("admin", d.password).status == 429
        d.stop(signal.SIGKILL)
        d2 = Daemon(data=d.data).start()
        r = d2.client().login("admin", d2.password)
        assert r.status == 429, r
        assert 0 < int(r.header("Retry-After")) <= 300
        # The address's own count came back too (5 of 20 used).
        c2 = d2.client()
        for i in range(15):
            assert c2.login("guess%d" % i, "wrong-password").status == 401
        assert c2.login("other", "wrong-password").status == 429
    finally:
        if d2:
            d2.stop()
        d.cleanup()


def test_idle_sessions_expire(_d):
    d = Daemon(extra_args=["--session-idle", "3"]).start()
    try:
        c = d.admin()
        assert c.get(API + "/session").status == 200
        time.sleep(4.2)
        assert c.get(API + "/session").status == 401
    finally:
        d.cleanup()


def test_absolute_session_expiry(_d):
    # Timed from the login, not from the test's own sleeps: a loaded CI
    # machine once took more than the whole lifetime between them.
    d = Daemon(extra_args=["--session-max", "4"]).start()
    try:
        t0 = time.monotonic()  # the session is made after this...
        c = d.admin()
        t1 = time.monotonic()  # ...and before this
        used = 0
        while time.monotonic() - t0 < 2.5:
            assert c.get(API + "/session").status == 200
            used += 1
            time.sleep(0.4)
        assert used >= 2, "the machine is too slow to keep the session busy"
        time.sleep(max(0.0, t1 + 4.6 - time.monotonic()))
        assert c.get(API + "/session").status == 401
    finally:
        d.cleanup()


def _start_without_password_file(d):
    args = [XENITHD, "--listen", "127.0.0.1:%d" % d.port, "--data", d.data,
            "--hv", "test:///default"]
    d.logf = open(d.log, "ab")
    d.proc = subprocess.Popen(args, stdout=d.logf, stderr=d.logf)
    d.wait_ready()


def test_first_start_prints_a_random_password_once(_d):
    d = Daemon()
    try:
        _start_without_password_file(d)
        path = os.path.join(d.data, "initial-admin-password")
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        with open(path) as f:
            pw = f.read().strip()
        assert len(pw) == 20, pw
        log = d.read_log()
        assert log.count("first admin password: " + pw) == 1, log
        assert log.count(pw) == 1, log
        r = d.client().login("admin", pw)
        assert r.status == 200, r
        assert r.json["user"]["must_change_password"] is True
        d.stop()
        # Second start: no new password, nothing printed.
        _start_without_password_file(d)
        assert d.read_log().count("first admin password") == 1
        assert d.client().login("admin", pw).status == 200
    finally:
        d.cleanup()


def test_short_password_file_refuses_to_start(_d):
    d = Daemon(password="Ab3$x")
    try:
        try:
            d.start()
            started = True
        except RuntimeError:
            started = False
        assert not started
        assert "8 to 256" in d.read_log(), d.read_log()
        assert "Ab3$x" not in d.read_log()
    finally:
        d.cleanup()


def test_local_socket_peer_credentials(_d):
    uid = os.getuid()
    d = Daemon(extra_args=["--local-user", "%d:alice" % (uid or 4242)]).start()
    try:
        u = d.unix_client()
        if uid == 0:
            r = u.get(API + "/session")
            assert r.status == 200, r
            assert r.json["user"]["username"] == "root"
            assert r.json["user"]["role"] == "admin"
            assert u.get(API + "/users").status == 200
            return
        # Mapped to alice, who does not exist yet: 403.
        assert u.get(API + "/session").status == 403
        a = d.admin()
        r = a.post(API + "/users", {"username": "alice",
                                    "password": "Alice-pass-1",
                                    "role": "operator"})
        assert r.status == 201, r
        r = u.get(API + "/session")
        assert r.status == 200, r
        assert r.json["user"]["username"] == "alice"
        assert r.json["user"]["role"] == "operator"
        assert u.get(API + "/users").status == 403
    finally:
        d.cleanup()


def _status_as_uid(d, uid, path):
    """GET path on the local socket from a child running as uid: the
    HTTP status, or 0 when the socket cannot even be reached."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(uid)
            os.setuid(uid)
            try:
                code = {403: 3, 200: 2}.get(d.unix_client().get(path).status, 1)
            except PermissionError:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return {0: 0, 2: 200, 3: 403}.get(os.WEXITSTATUS(status), -1)


def test_local_socket_refuses_unmapped_users(_d):
    d = Daemon().start()
    try:
        if os.getuid() == 0:
            # The socket is 0660 in a 0700 data dir: an unmapped uid
            # does not reach it, or is refused if it does.
            assert _status_as_uid(d, 65534, API + "/session") in (0, 403)
        else:
            r = d.unix_client().get(API + "/session")
            assert r.status == 403, r
    finally:
        d.cleanup()
