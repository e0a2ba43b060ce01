#!/usr/bin/env python3
"""bench/api/report.py WORKDIR: RESULTS.md (stdout) from run.sh's meta,
results (one wrk RESULT line per round and server) and rss-* files."""
import json
import os
import statistics
import sys

TARGET_RATIO = 0.5
TARGET_P99_MS = 10.0
TARGET_RSS_MB = 50.0


def kv_file(path, sep="="):
    out = {}
    with open(path) as f:
        for line in f:
            if sep in line:
                k, v = line.rstrip("\n").split(sep, 1)
                out[k.strip()] = v.strip()
    return out


def rounds(path):
    """({server: [numbered rounds]}, {server: the one-connection round})"""
    out, one = {"xenithd": [], "nginx": []}, {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0] not in out:
                continue
            d = dict(p.split("=", 1) for p in parts[1:])
            if d.pop("round") == "c1":
                one[parts[0]] = {k: float(v) for k, v in d.items()}
            else:
                out[parts[0]].append({k: float(v) for k, v in d.items()})
    return out, one


def mb(s):
    """A /proc status "N kB" value in MB (10^6 bytes)."""
    return float(s.split()[0]) * 1024 / 1e6


def main():
    w = sys.argv[1]
    meta = kv_file(os.path.join(w, "meta"))
    res, one = rounds(os.path.join(w, "results"))
    before = kv_file(os.path.join(w, "rss-before"), ":")
    after = kv_file(os.path.join(w, "rss-after"), ":")
    n = int(meta["rounds"])
    for srv in res:
        if len(res[srv]) != n:
            sys.exit("report: %s has %d of %d rounds" % (srv, len(res[srv]), n))
    med = {srv: {k: statistics.median(r[k] for r in res[srv])
                 for k in ("rps", "p50_ms", "p99_ms")} for srv in res}
    errs = {srv: sum(r[k] for r in res[srv] for k in r if k.startswith("err_"))
            for srv in res}
    ratio = med["xenithd"]["rps"] / med["nginx"]["rps"]
    hwm = mb(after["VmHWM"])
    rss = mb(after["VmRSS"])
    health = json.loads(meta["xenithd"]) if meta["xenithd"].startswith("{") \
        else {}

    def ok(b):
        return "met" if b else "**missed**"

    p = print
    p("# bench/api: GET /api/v1/vms, xenithd vs nginx")
    p()
    p("Written by `bench/api/run.sh` (do not edit by hand; rerun it).")
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
    p("- xenithd: test driver, temp data dir, `Authorization: Bearer` "
      "viewer token on every request; nginx: the JSON saved from xenithd "
      "as a static file, `worker_processes auto`, access log off")
    p("- load average (1/5/15 min) before: %s, after: %s (the machine is "
      "shared; both servers and wrk share its CPUs)" % (
          meta.get("load_before", "?"), meta.get("load_after", "?")))
    p("- both: TLS (same self-signed ECDSA P-256 certificate from "
      "DATA/tls/), HTTP/1.1 keep-alive, 127.0.0.1, same machine, same run; "
      "wrk -t%s -c%s -d%s, %s rounds interleaved (xenithd, nginx, ...); "
      "latency percentiles from wrk's Lua `done` hook" % (
          meta["threads"], meta["conns"], meta["duration"], meta["rounds"]))
    p()
    p("| server | round | requests/s | p50 ms | p90 ms | p99 ms | max ms | "
      "errors |")
    p("|---|---|---|---|---|---|---|---|")
    for i in range(n):
        for srv in ("xenithd", "nginx"):
            r = res[srv][i]
            p("| %s | %d | %.0f | %.2f | %.2f | %.2f | %.1f | %d |" % (
                srv, i + 1, r["rps"], r["p50_ms"], r["p90_ms"], r["p99_ms"],
                r["max_ms"], sum(v for k, v in r.items()
                                 if k.startswith("err_"))))
    p()
    p("Medians of the rounds:")
    p()
    p("| | xenithd | nginx |")
    p("|---|---|---|")
    for k, label, fmt in (("rps", "requests/s", "%.0f"),
                          ("p50_ms", "p50 latency (ms)", "%.2f"),
                          ("p99_ms", "p99 latency (ms)", "%.2f")):
        p("| %s | %s | %s |" % (label, fmt % med["xenithd"][k],
                                fmt % med["nginx"][k]))
    p("| socket/status errors (all rounds) | %d | %d |" % (
        errs["xenithd"], errs["nginx"]))
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
      "runs (VmRSS %.1f MB before them)." % (
          meta["nvms"], hwm, rss, mb(before["VmRSS"])))
    p()
    p("## Targets (issue 2)")
    p()
    p("| target | value | |")
    p("|---|---|---|")
    p("| requests/s >= %.1f x nginx | %.2f x | %s |" % (
        TARGET_RATIO, ratio, ok(ratio >= TARGET_RATIO)))
    p("| p99 < %.0f ms | %.2f ms | %s |" % (
        TARGET_P99_MS, med["xenithd"]["p99_ms"],
        ok(med["xenithd"]["p99_ms"] < TARGET_P99_MS)))
    p("| RSS < %.0f MB | %.1f MB (VmHWM) | %s |" % (
        TARGET_RSS_MB, hwm, ok(hwm < TARGET_RSS_MB)))


if __name__ == "__main__":
    main()
