-- wrk script: one machine-readable line with throughput and latency
-- percentiles (wrk measures latency in microseconds, from sending a
-- request to its response: the wait before it is not counted).
--
-- DELAY_MS=n in the environment paces the load: each connection waits
-- n ms on average (uniform between n/2 and 3n/2, so the connections do
-- not move in step) after each response before its next request.
local mean = tonumber(os.getenv("DELAY_MS") or "")
if mean and mean > 0 then
    local lo, hi = math.floor(mean / 2), math.ceil(mean * 3 / 2)
    init = function(args)
        math.randomseed(os.time() + math.floor(os.clock() * 1e6))
    end
    delay = function()
        return math.random(lo, hi)
    end
end

done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d bytes=%d rps=%.1f " ..
        "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f " ..
        "err_connect=%d err_read=%d err_write=%d err_status=%d " ..
        "err_timeout=%d\n",
        summary.requests, summary.duration, summary.bytes,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
        latency.max / 1000,
        e.connect, e.read, e.write, e.status, e.timeout))
end
