-- wrk script: one machine-readable line with throughput and latency
-- percentiles (wrk measures latency in microseconds).
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d bytes=%d rps=%.1f " ..
        "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
        "err_connect=%d err_read=%d err_write=%d err_status=%d " ..
        "err_timeout=%d\n",
        summary.requests, summary.duration, summary.bytes,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        e.connect, e.read, e.write, e.status, e.timeout))
end
