"""Out of file descriptors, the public listener must neither spin nor
flood the log: accept() fails with EMFILE and leaves the connection
queued, so a listener that only logs and returns is woken again at once,
forever. xenithd closes such connections unanswered (a spare descriptor
makes room for the accept), logs at most once per 10 s, and serves again
as soon as descriptors are free."""
import os
import socket
import subprocess
import time

from xenith_client import Daemon

EXTRA_FDS = 3  # descriptors left to the daemon under the lowered limit
CONNS = 40


def setup():
    d = Daemon(extra_args=["--io-threads", "2"]).start()
    return {"d": d}


def teardown(ctx):
    ctx["d"].cleanup()


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prlimit(pid, n):
    subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%s" % n],
                   check=True)


def test_out_of_descriptors_no_spin_no_flood_then_recovers(ctx):
    d = ctx["d"]
    pid = d.proc.pid
    with open("/proc/%d/limits" % pid) as f:
        line = [x for x in f if x.startswith("Max open files")][0]
    old = "%s:%s" % tuple(line.split()[3:5])
    used = len(os.listdir("/proc/%d/fd" % pid))
    prlimit(pid, "%d:%s" % (used + EXTRA_FDS, line.split()[4]))
    socks = []
    try:
        for _ in range(CONNS):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            socks.append(s)
        time.sleep(0.5)  # let the service threads take what they can
        c0 = cpu_s(pid)
        time.sleep(2.0)
        spent = cpu_s(pid) - c0
        assert spent < 0.5, "daemon spun: %.2f s CPU in 2 s" % spent
        # The connections over the limit were closed unanswered.
        closed = 0
        for s in socks:
            s.settimeout(0.2)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
        assert closed >= CONNS - 2 * EXTRA_FDS, closed
        log = d.read_log()
        n = log.count("http: accept:")
        assert 1 <= n <= 2, "accept failures logged %d times" % n
        assert "Too many open files" in log, log[-1000:]
    finally:
        for s in socks:
            s.close()
        prlimit(pid, old)
    time.sleep(0.3)
    r = d.client().get("/api/v1/health")
    assert r.status == 200, r
