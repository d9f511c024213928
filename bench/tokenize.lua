-- wrk script for bench/run: POSTs valid tokenize payloads with Basic auth, rotating the common
-- test cards of /work/shared/VAULT-API.md, and prints one machine-readable summary line.
--
--   wrk -t2 -c64 -d10s -s bench/tokenize.lua http://127.0.0.1:PORT -- key=value ...
--
-- Arguments (after `--`):
--   mode=tokenizer   POST /api/v1/payment_methods/tokenize with the service's payload (default)
--   mode=vault       POST /v1/payment_methods.json with the vault's payload (the simulator
--                    directly, or nginx proxying to it)
--   auth=BASE64      the Basic credentials (base64 of user:password)
--   rate=N           pace to N requests/s over all threads (0 = as fast as possible): each
--                    thread hands out send slots 1/(N/threads) s apart, so the rate holds as
--                    long as enough connections are free (an open-loop schedule, not wrk2's
--                    coordinated-omission correction)
--   classify=1       count every reply by status and error `code` (parsed from the body), and
--                    by phase when phase_s is given; costs wrk time, so only for paced runs
--   start_ms=T phase_s=S   with classify: phase = floor((now - T) / S) mod 2
--                    (0 = vault healthy, 1 = vault failing), for the soak's flapping vault
--
-- Output: one line `BENCH_RESULT key=value ...` (requests, duration_us, rps, p50_us, p99_us,
-- p999_us, max_us, non2xx: wrk's count of replies with status >= 400, socket errors by kind)
-- and, with classify=1, one `BENCH_STATUS phase status code count` line per kind of reply.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
  int clock_gettime(int clk_id, bench_timespec_t *tp);
]]
local timespec = ffi.new("bench_timespec_t")
local function clock_ms(clock_id)
  ffi.C.clock_gettime(clock_id, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end
local CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1

-- number, cvv (4 digits for amex)
local cards = {
  {"4111111111111111", "123"}, {"4242424242424242", "123"}, {"4012888888881881", "123"},
  {"4222222222222", "123"}, {"5555555555554444", "123"}, {"5105105105105100", "123"},
  {"2223003122003222", "123"}, {"378282246310005", "1234"}, {"371449635398431", "1234"},
  {"6011111111111117", "123"}, {"6011000990139424", "123"}, {"3530111333300000", "123"},
  {"3566002020360505", "123"}, {"30569309025904", "123"}, {"38520000023237", "123"},
  {"6200000000000005", "123"},
}

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("id", thread_count)
  table.insert(threads, thread)
end

local requests = {}
local next_request = 0
local interval_ms = 0
local next_slot = 0
local classify = false
local start_ms, phase_ms = 0, 0
counts = {}

local function body_for(mode, number, cvv)
  if mode == "vault" then
    return '{"payment_method":{"credit_card":{"first_name":"Ada","last_name":"Lovelace",' ..
           '"number":"' .. number .. '","verification_value":"' .. cvv ..
           '","month":"12","year":"2031"},"email":"ada@example.com","retained":true}}'
  end
  return '{"payment_method":{"card_number":"' .. number .. '","month":"12","year":"2031",' ..
         '"first_name":"Ada","last_name":"Lovelace","cvv":"' .. cvv ..
         '","email":"ada@example.com"}}'
end

function init(args)
  local opts = {mode = "tokenizer", auth = "", rate = "0", classify = "0", start_ms = "0",
                phase_s = "0", threads = "2"}
  for _, arg in ipairs(args) do
    local k, v = arg:match("^([%w_]+)=(.*)$")
    if k == nil or opts[k] == nil then error("tokenize.lua: unknown argument " .. arg) end
    opts[k] = v
  end
  local path = opts.mode == "vault" and "/v1/payment_methods.json"
                                     or "/api/v1/payment_methods/tokenize"
  local headers = {["Content-Type"] = "application/json"}
  if opts.auth ~= "" then headers["Authorization"] = "Basic " .. opts.auth end
  -- Threads start at different cards so that they do not send the same card at once.
  local offset = (id or 1) * 7
  for i = 1, #cards do
    local card = cards[(i + offset - 1) % #cards + 1]
    requests[i] = wrk.format("POST", path, headers, body_for(opts.mode, card[1], card[2]))
  end
  local rate = tonumber(opts.rate)
  if rate > 0 then
    interval_ms = 1000 * tonumber(opts.threads) / rate
    next_slot = clock_ms(CLOCK_MONOTONIC)
    delay = function()
      local now = clock_ms(CLOCK_MONOTONIC)
      if next_slot < now then next_slot = now end
      local wait = next_slot - now
      next_slot = next_slot + interval_ms
      return math.floor(wait)
    end
  end
  if opts.classify == "1" then
    classify = true
    start_ms = tonumber(opts.start_ms)
    phase_ms = tonumber(opts.phase_s) * 1000
    response = function(status, headers, body)
      local phase = 0
      if phase_ms > 0 then
        phase = math.floor((clock_ms(CLOCK_REALTIME) - start_ms) / phase_ms) % 2
      end
      local code = "-"
      if status >= 300 and body ~= nil then
        code = body:match('"code"%s*:%s*"([%w_]+)"') or "?"
      end
      local key = phase .. " " .. status .. " " .. code
      counts[key] = (counts[key] or 0) + 1
    end
  end
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function done(summary, latency, _)
  local e = summary.errors
  print(string.format(
      "BENCH_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d p999_us=%d " ..
      "max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
      e.status, e.connect, e.read, e.write, e.timeout))
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    if c ~= nil then
      for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
    end
  end
  for k, v in pairs(total) do print("BENCH_STATUS " .. k .. " " .. v) end
end
