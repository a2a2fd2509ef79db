-- wrk script for tests/bench/run.sh: at the end of a run, print one
-- machine-readable line (latencies in microseconds) for run.sh to parse.

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d " ..
        "p99_us=%d errors_status=%d errors_socket=%d\n",
        summary.requests, summary.duration,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99),
        e.status, e.connect + e.read + e.write + e.timeout))
end

-- BENCH_UNIQUE_HEADER=Name: every request carries that header with a value
-- never sent before (a cache miss per request, e.g. X-User-Id)
local unique = os.getenv("BENCH_UNIQUE_HEADER")

if unique and unique ~= "" then
    local n = 0
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
    local prefix = string.format("b%08x-", math.random(0, 0x7fffffff))

    request = function()
        n = n + 1
        wrk.headers[unique] = prefix .. n
        return wrk.format()
    end
end

-- BENCH_METHOD=POST, BENCH_BODY=...: every request is a POST of that body
-- (the collect endpoint's scenarios; Content-Type comes with -H)
local method = os.getenv("BENCH_METHOD")

if method and method ~= "" then
    wrk.method = method
    wrk.body = os.getenv("BENCH_BODY") or ""
end
