-- wrk script: each connection is one browser signing up, over and over.
--   1. GET /signup     (a new visitor) -> keep the form's inputs (the app sets no cookie)
--   2. POST /signup    (every input of the form, as a browser sends it, with a new username each
--                       time) -> expect a redirect
--   3. GET <Location>  (following the redirect: the code page, /signup/confirm?flow=...) -> expect
--                       200: one complete sign-up
-- wrk's response() callback does not say which connection answered, so the harness runs one
-- thread per connection (-t N -c N) and this file's globals are that one browser's state.
-- Usage: wrk -t64 -c64 -d20s -s signup.lua http://127.0.0.1:PORT -- TAG
-- TAG makes usernames unique across runs: user-TAG-THREAD-N@example.com.
-- Every request asks for compression as Chromium does, so the app's compression is counted; a
-- brotli answer is decoded with the system's libbrotlidec (Debian's libbrotli1) before it is read.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
int BrotliDecoderDecompress(size_t encoded_size, const uint8_t *encoded, size_t *decoded_size, uint8_t *decoded);
]]
local clock = ffi.new("bench_timespec")
local CLOCK_MONOTONIC = 1
local brotli = ffi.load("libbrotlidec.so.1")
local DECODED_MAX = 1024 * 1024
local decoded = ffi.new("uint8_t[?]", DECODED_MAX)
local decoded_size = ffi.new("size_t[1]")

wrk.headers["Accept-Encoding"] = "gzip, deflate, br, zstd"

-- The page as the browser reads it: brotli decoded; nil for an encoding this script cannot read.
local function readable(headers, body)
  local encoding = headers["Content-Encoding"]
  if encoding == nil then
    return body
  elseif encoding ~= "br" then
    return nil
  end
  decoded_size[0] = DECODED_MAX
  if brotli.BrotliDecoderDecompress(#body, body, decoded_size, decoded) ~= 1 then
    return nil
  end
  return ffi.string(decoded, decoded_size[0])
end

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function unescape(s)
  s = s:gsub("&quot;", '"'):gsub("&#34;", '"'):gsub("&#39;", "'"):gsub("&lt;", "<"):gsub("&gt;", ">")
  return (s:gsub("&amp;", "&"))
end

-- What the person types (tests/conftest.py's SIGNUP); the username is made per sign-up.
local TYPED = {
  {"password", "Correct-Horse-9"},
  {"password_confirm", "Correct-Horse-9"},
  {"given_name", "Ann"},
  {"custom_company", "Example Ltd"},
  {"custom_seats", "3"},
  {"custom_plan", "team"},
}

-- The form body a browser would send for this page, less the username: every input with its
-- value (hidden ones such as csrf_token as the server wrote them, an untouched one empty), what
-- the person typed in place of the defaults, and the choices made in selects.
local function form_body(page)
  local typed, sent, parts = {}, {}, {}
  for _, pair in ipairs(TYPED) do
    typed[pair[1]] = pair[2]
  end
  for tag in page:gmatch("<input[^>]*>") do
    local name = tag:match(' name="([^"]*)"')
    if name and name ~= "username" and not sent[name] then
      local value = typed[name] or unescape(tag:match(' value="([^"]*)"') or "")
      parts[#parts + 1] = encode(name) .. "=" .. encode(value)
      sent[name] = true
    end
  end
  for _, pair in ipairs(TYPED) do
    if not sent[pair[1]] and page:find(' name="' .. pair[1] .. '"', 1, true) then
      parts[#parts + 1] = encode(pair[1]) .. "=" .. encode(pair[2])
    end
  end
  return table.concat(parts, "&")
end

-- Per thread (one browser). Globals, so that done() can read them through thread:get.
id = 0
tag = "run"
completed = 0
unexpected = 0 -- 2xx/3xx answers that are not the next step (e.g. a form page instead of the redirect)
latencies = {}

local step, form, location, started, n = 1, nil, nil, 0, 0

-- Main state only: every thread, to read their figures at the end.
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

init = function(args)
  tag = args[1] or tag
end

request = function()
  if step == 1 then
    started = now_ms()
    return wrk.format("GET", "/signup", {}, nil)
  elseif step == 2 then
    n = n + 1
    local user = string.format("user-%s-%d-%d@example.com", tag, id, n)
    return wrk.format("POST", "/signup", {["Content-Type"] = "application/x-www-form-urlencoded"},
      "username=" .. encode(user) .. "&" .. form)
  end
  return wrk.format("GET", location, {}, nil)
end

response = function(status, headers, body)
  if status >= 400 then -- wrk counts it (non-2xx/3xx); this browser starts over
    step = 1
    return
  end
  if step == 1 then
    local page = status == 200 and readable(headers, body)
    if page and page:find('name="csrf_token"', 1, true) then
      form = form_body(page)
      step = 2
    else
      unexpected = unexpected + 1
    end
  elseif step == 2 then
    location = headers["Location"]
    if (status == 302 or status == 303) and location then
      location = location:gsub("^https?://[^/]+", "")
      step = 3
    else
      unexpected = unexpected + 1
      step = 1
    end
  else
    if status == 200 then
      completed = completed + 1
      latencies[#latencies + 1] = now_ms() - started
    else
      unexpected = unexpected + 1
    end
    step, form = 1, nil
  end
end

done = function(summary, latency, requests)
  local total, wrong, samples = 0, 0, {}
  for _, thread in ipairs(threads) do
    total = total + thread:get("completed")
    wrong = wrong + thread:get("unexpected")
    for _, ms in ipairs(thread:get("latencies")) do
      samples[#samples + 1] = string.format("%.2f", ms)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "completed": %d, "unexpected": %d, ' ..
    '"flow_ms": [%s]}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, total, wrong, table.concat(samples, ",")))
end
