-- wrk script: GET one page as a first-time visitor (no cookie), as fast as the server answers.
-- It asks for the page compressed, as every browser does (Chromium's Accept-Encoding), so the
-- app's compression is counted; the bare app ignores the header.
-- At the end it prints wrk's own figures as one JSON line starting with "BENCH " for bench/load.py.

wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
