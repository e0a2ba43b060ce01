"""The `xenith` CLI over the local socket: lists, a power action waited
for as a task, errors in words with a non-zero exit, raw API calls, and
the socket closed to an unprivileged user."""
import json
import os
import subprocess

from xenith_client import XENITHD, Daemon

CLI = os.path.join(os.path.dirname(os.path.abspath(XENITHD)), "xenith")


def setup():
    d = Daemon(extra_args=["--demo"]).start()
    return {"d": d, "sock": os.path.join(d.data, "xenithd.sock")}


def teardown(ctx):
    ctx["d"].cleanup()


def run(ctx, *args, user=None):
    cmd = [CLI, "--socket", ctx["sock"]] + list(args)
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", "nogroup", "--clear-groups"
               ] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_vm_list_and_power(ctx):
    rc, out, err = run(ctx, "vm", "list")
    assert rc == 0, err
    assert "demo-1" in out and "running" in out, out
    rc, out, err = run(ctx, "vm", "start", "demo-2")
    assert rc == 0 and "vm.start: success" in out, (rc, out, err)
    rc, out, _ = run(ctx, "--json", "vm", "show", "demo-2")
    assert rc == 0 and json.loads(out)["state"] == "running", out
    # A second start is refused by the API, in words, exit 1.
    rc, out, err = run(ctx, "vm", "start", "demo-2")
    assert rc == 1 and "vm is running" in err and "409" in err, (rc, err)
    rc, _, err = run(ctx, "vm", "shutdown", "no-such-vm")
    assert rc == 1 and "no VM matches" in err, err


def test_lists_and_raw_api(ctx):
    rc, out, err = run(ctx, "networks")
    assert rc == 0 and "xenbr0" in out, (out, err)
    rc, out, err = run(ctx, "--json", "tasks")
    assert rc == 0 and isinstance(json.loads(out), list), (out, err)
    rc, out, err = run(ctx, "api", "GET", "/host")
    assert rc == 0 and json.loads(out)["driver"] == "test", out
    rc, out, err = run(ctx, "api", "POST", "/vms", '{"name": "x/y"}')
    assert rc == 1 and json.loads(out)["error"]["field"] == "name", out
    rc, _, err = run(ctx, "api", "POST", "/vms", "{not json")
    assert rc == 2 and "not JSON" in err, err


def test_unprivileged_user_is_refused(ctx):
    rc, out, err = run(ctx, "vm", "list", user="nobody")
    assert rc == 1 and out == "", (rc, out)
    assert "Permission denied" in err, err


def test_daemon_not_running(ctx):
    p = subprocess.run([CLI, "--socket", "/nonexistent/xenithd.sock", "vm"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "is xenithd running" in p.stderr, p.stderr
