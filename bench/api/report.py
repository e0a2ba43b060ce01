#!/usr/bin/env python3
"""bench/api/report.py WORKDIR: RESULTS.md (stdout) from run.sh's meta,
results (one wrk RESULT line per round, server and concurrency, with the
server's CPU ticks; a load line before each round), paced (the same for
the paced rounds, if any), paced-sys (the paced rounds again with the
system's TCP congestion control, when the bench used another) and rss-*
files."""
import json
import os
import statistics
import sys

TARGET_RATIO = 0.5
TARGET_P99_MS = 10.0
TARGET_RSS_MB = 50.0
SERVERS = ("xenithd", "nginx")


def kv_file(path, sep="="):
    out = {}
    with open(path) as f:
        for line in f:
            if sep in line:
                k, v = line.rstrip("\n").split(sep, 1)
                out[k.strip()] = v.strip()
    return out


def rounds(path):
    """({conns: {server: [rounds]}}, {server: the one-connection round},
    {(conns, round): 1-min load average before it})"""
    out, one, load = {}, {}, {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "load":
                d = dict(p.split("=", 1) for p in parts[1:3])
                load[(int(d["conns"]), int(d["round"]))] = parts[3]
                continue
            if parts[0] not in SERVERS:
                continue
            d = dict(p.split("=", 1) for p in parts[1:])
            conns = int(d.pop("conns"))
            rnd = d.pop("round")
            vals = {k: float(v) for k, v in d.items()}
            if rnd == "c1":
                one[parts[0]] = vals
            else:
                vals["round"] = int(rnd)
                out.setdefault(conns, {s: [] for s in SERVERS})
                out[conns][parts[0]].append(vals)
    return out, one, load


def paced_rounds(path):
    """{server: [rounds]} of the paced load, or {} when it did not run."""
    if not os.path.exists(path):
        return {}
    res, _, _ = rounds(path)
    return next(iter(res.values()), {})


def paced_medians(path, n, tck):
    """(rounds, medians) of one paced load, or ({}, {})."""
    paced = paced_rounds(path)
    if paced and any(len(paced[srv]) != n for srv in SERVERS):
        sys.exit("report: %s has %s rounds, not %d" % (
            path, {srv: len(paced[srv]) for srv in SERVERS}, n))
    pmed = {srv: {k: statistics.median(r.get(k, float("nan"))
                                       for r in paced[srv])
                  for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "p999_ms")}
            for srv in SERVERS} if paced else {}
    for srv in pmed:
        pmed[srv]["cpu"] = statistics.median(
            cpu_ms_per_req(r, tck) for r in paced[srv])
    return paced, pmed


def paced_tables(p, paced, pmed, n, tck):
    """The rounds and the medians of one paced load."""
    p("| server | round | requests/s | p50 ms | p90 ms | p99 ms | "
      "p99.9 ms | max ms | CPU ms/req | errors |")
    p("|---|---|---|---|---|---|---|---|---|---|")
    for i in range(n):
        for srv in SERVERS:
            r = paced[srv][i]
            p("| %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f | %.3f "
              "| %d |" % (srv, i + 1, r["rps"], r["p50_ms"], r["p90_ms"],
                          r["p99_ms"], r.get("p999_ms", float("nan")),
                          r["max_ms"], cpu_ms_per_req(r, tck), errors(r)))
    p()
    p("Medians of these paced rounds:")
    p()
    p("| | xenithd | nginx | xenithd / nginx |")
    p("|---|---|---|---|")
    for k, label, fmt in (("rps", "requests/s", "%.0f"),
                          ("p50_ms", "p50 latency (ms)", "%.2f"),
                          ("p90_ms", "p90 latency (ms)", "%.2f"),
                          ("p99_ms", "p99 latency (ms)", "%.2f"),
                          ("p999_ms", "p99.9 latency (ms)", "%.2f"),
                          ("cpu", "server CPU ms per request", "%.3f")):
        p("| %s | %s | %s | %.2f |" % (
            label, fmt % pmed["xenithd"][k], fmt % pmed["nginx"][k],
            pmed["xenithd"][k] / pmed["nginx"][k]
            if pmed["nginx"][k] else 0))
    p()


def mb(s):
    """A /proc status "N kB" value in MB (10^6 bytes)."""
    return float(s.split()[0]) * 1024 / 1e6


def cpu_ms_per_req(r, tck):
    if "cpu_ticks" not in r or not r["requests"]:
        return float("nan")
    return r["cpu_ticks"] * 1000.0 / tck / r["requests"]


def errors(r):
    return sum(v for k, v in r.items() if k.startswith("err_"))


def main():
    w = sys.argv[1]
    meta = kv_file(os.path.join(w, "meta"))
    res, one, load = rounds(os.path.join(w, "results"))
    before = kv_file(os.path.join(w, "rss-before"), ":")
    after = kv_file(os.path.join(w, "rss-after"), ":")
    n = int(meta["rounds"])
    tck = float(meta.get("clk_tck", "100"))
    for conns in res:
        for srv in SERVERS:
            if len(res[conns][srv]) != n:
                sys.exit("report: %s -c%d has %d of %d rounds" % (
                    srv, conns, len(res[conns][srv]), n))
    med = {conns: {srv: {k: statistics.median(r[k] for r in res[conns][srv])
                         for k in ("rps", "p50_ms", "p99_ms")}
                   for srv in SERVERS} for conns in res}
    paced, pmed = paced_medians(os.path.join(w, "paced"), n, tck)
    paced_sys, pmed_sys = paced_medians(os.path.join(w, "paced-sys"), n,
                                        tck)
    for conns in res:
        for srv in SERVERS:
            med[conns][srv]["cpu"] = statistics.median(
                cpu_ms_per_req(r, tck) for r in res[conns][srv])
    hwm = mb(after["VmHWM"])
    rss = mb(after["VmRSS"])
    health = json.loads(meta["xenithd"]) if meta["xenithd"].startswith("{") \
        else {}

    def ok(b):
        return "met" if b else "**missed**"

    p = print
    p("# bench/api: GET /api/v1/vms, xenithd vs nginx")
    p()
    p("Written by `bench/api/run.sh` (do not edit this part by hand; rerun "
      "it).")
    p()
    p("- date: %s" % meta["date"])
    p("- machine: %s CPUs, %s, %.1f GiB RAM, Linux %s" % (
        meta["nproc"], meta["cpu"], int(meta["mem"]) / 1048576,
        meta["kernel"]))
    p("- xenithd %s (driver %s), libwebsockets %s; %s; %s; %s" % (
        health.get("version", "?"), health.get("driver", "?"), meta["lws"],
        meta["nginx"].replace("nginx version: ", ""), meta["wrk"],
        meta["openssl"]))
    p("- workload: %s VMs defined through the API; the body is %s bytes of "
      "JSON, identical from both servers (checked with cmp)" % (
          meta["nvms"], meta["bytes"]))
    p("- xenithd: test driver, temp data dir, default 4 handler threads and "
      "%s TLS service threads (lws contexts; default: one per CPU), "
      "`Authorization: Bearer` viewer token on every request; nginx: the "
      "JSON saved from xenithd as a static file, `worker_processes auto`, "
      "access log off" % meta.get("io_threads", "?"))
    p("- load average (1/5/15 min) before: %s, after: %s (the machine is "
      "shared with other jobs; both servers and wrk share its CPUs)" % (
          meta.get("load_before", "?"), meta.get("load_after", "?")))
    p("- TCP: congestion control %s%s (system default %s), loopback "
      "qdisc %s" % (
          meta.get("tcp_cc", "?"),
          " in a private network namespace (run.sh, as root: a copy of the "
          "system's TCP settings, its own loopback)"
          if meta.get("netns") == "1" else "", meta.get("sys_cc", "?"),
          meta.get("qdisc_lo", "?")))
    p("- both: TLS (same self-signed ECDSA P-256 certificate from "
      "DATA/tls/), HTTP/1.1 keep-alive, 127.0.0.1, same machine, same run; "
      "wrk -t%s -d%s at each of -c %s, %s rounds each interleaved "
      "(xenithd, nginx, ...); latency percentiles from wrk's Lua `done` "
      "hook; CPU = the server's user+system time over the round (nginx: "
      "master and workers) divided by its requests" % (
          meta["threads"], meta["duration"], meta["conns"], meta["rounds"]))
    p()
    p("| conns | server | round | load (1 min) | requests/s | p50 ms | "
      "p90 ms | p99 ms | max ms | CPU ms/req | errors |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    for conns in sorted(res):
        for i in range(n):
            for srv in SERVERS:
                r = res[conns][srv][i]
                p("| %d | %s | %d | %s | %.0f | %.2f | %.2f | %.2f | %.1f | "
                  "%.3f | %d |" % (
                      conns, srv, i + 1, load.get((conns, i + 1), "?"),
                      r["rps"], r["p50_ms"], r["p90_ms"], r["p99_ms"],
                      r["max_ms"], cpu_ms_per_req(r, tck), errors(r)))
    p()
    p("Medians of the rounds:")
    p()
    p("| conns | | xenithd | nginx | xenithd / nginx |")
    p("|---|---|---|---|---|")
    for conns in sorted(res):
        m = med[conns]
        for k, label, fmt in (("rps", "requests/s", "%.0f"),
                              ("p50_ms", "p50 latency (ms)", "%.2f"),
                              ("p99_ms", "p99 latency (ms)", "%.2f"),
                              ("cpu", "server CPU ms per request", "%.3f")):
            p("| %d | %s | %s | %s | %.2f |" % (
                conns, label, fmt % m["xenithd"][k], fmt % m["nginx"][k],
                m["xenithd"][k] / m["nginx"][k] if m["nginx"][k] else 0))
        p("| %d | conns / requests/s (ms, Little's law: the mean latency "
          "at this throughput) | %.2f | %.2f | |" % (
              conns, 1000.0 * conns / m["xenithd"]["rps"],
              1000.0 * conns / m["nginx"]["rps"]))
    p()
    if len(one) == 2:
        p("One connection at a time (wrk -t1 -c1 -d5s, after the rounds):")
        p()
        p("| | xenithd | nginx |")
        p("|---|---|---|")
        for k, label, fmt in (("rps", "requests/s", "%.0f"),
                              ("p50_ms", "p50 latency (ms)", "%.2f"),
                              ("p99_ms", "p99 latency (ms)", "%.2f")):
            p("| %s | %s | %s |" % (label, fmt % one["xenithd"][k],
                                    fmt % one["nginx"][k]))
        p()
    p("xenithd RSS with %s VMs: VmHWM %.1f MB, VmRSS %.1f MB after the "
      "runs (before them, after the set-up and its logins: VmHWM %.1f MB, "
      "VmRSS %.1f MB)." % (
          meta["nvms"], hwm, rss, mb(before["VmHWM"]), mb(before["VmRSS"])))
    p()
    if paced:
        rate = float(meta["paced_rate"])
        p("## Paced load: %s connections at half nginx's saturated rate" %
          meta["paced_conns"])
        p()
        p("A closed loop with think time: each of the %s connections waits "
          "about %s ms (uniform over +-50%%) after each response before "
          "its next request, so together they offer about %.0f requests/s, "
          "half the median nginx reached above with %s connections "
          "(fewer when responses are slow: the wait starts after the "
          "response). The latency is the response time of each request; "
          "the wait is not counted. This shows latency below saturation; "
          "in the saturated rows above the mean latency is connections / "
          "throughput for any server, whatever it does per request. Same "
          "rounds, interleaved (xenithd, nginx, ...), after the saturated "
          "ones." % (meta["paced_conns"], meta["paced_delay_ms"], rate,
                     meta["paced_conns"]))
        p()
        paced_tables(p, paced, pmed, n, tck)
    if paced_sys:
        p("### The same paced load with the system's congestion control "
          "(%s)" % meta["sys_cc"])
        p()
        p("The same rounds, each right after the %s one above, on new "
          "connections that use %s, this machine's default. With bbr and "
          "no fq qdisc TCP paces itself; on these mostly idle loopback "
          "connections bbr's bandwidth estimate at times falls to one "
          "segment per ~45 ms (a late ACK; ss -ti shows bw 11.7 "
          "Mbit/s), and the pacing timer then holds the rest of the next "
          "response for 50-90 ms, from either server: the p99.9 and max "
          "here (the kernel's sender waits, not the server)." % (
              meta["tcp_cc"], meta["sys_cc"]))
        p()
        paced_tables(p, paced_sys, pmed_sys, n, tck)
    p("## Targets (issue 2), per concurrency measured")
    p()
    p("| target | conns | value | |")
    p("|---|---|---|---|")
    for conns in sorted(res):
        m = med[conns]
        ratio = m["xenithd"]["rps"] / m["nginx"]["rps"]
        p("| requests/s >= %.1f x nginx | %d | %.2f x | %s |" % (
            TARGET_RATIO, conns, ratio, ok(ratio >= TARGET_RATIO)))
        p("| p99 < %.0f ms | %d | %.2f ms (nginx %.2f ms) | %s |" % (
            TARGET_P99_MS, conns, m["xenithd"]["p99_ms"],
            m["nginx"]["p99_ms"], ok(m["xenithd"]["p99_ms"] < TARGET_P99_MS)))
    if paced:
        p("| p99 < %.0f ms, paced at %.0f requests/s, TCP %s | %s | "
          "%.2f ms (nginx %.2f ms) | %s |" % (
              TARGET_P99_MS, float(meta["paced_rate"]),
              meta.get("tcp_cc", "?"), meta["paced_conns"],
              pmed["xenithd"]["p99_ms"], pmed["nginx"]["p99_ms"],
              ok(pmed["xenithd"]["p99_ms"] < TARGET_P99_MS)))
    if paced_sys:
        p("| p99 < %.0f ms, paced, TCP %s | %s | %.2f ms (nginx %.2f ms) | "
          "%s |" % (TARGET_P99_MS, meta["sys_cc"], meta["paced_conns"],
                    pmed_sys["xenithd"]["p99_ms"],
                    pmed_sys["nginx"]["p99_ms"],
                    ok(pmed_sys["xenithd"]["p99_ms"] < TARGET_P99_MS)))
    p("| RSS < %.0f MB | | %.1f MB (VmHWM) | %s |" % (
        TARGET_RSS_MB, hwm, ok(hwm < TARGET_RSS_MB)))


if __name__ == "__main__":
    main()
