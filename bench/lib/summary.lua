-- bench/lib/summary.lua — what every MeetOA wrk script shares: one Lua state per wrk thread is
-- registered in setup(), each counts answers that are not {"errno":0,...} in `bad`, and done()
-- prints one machine-readable line that bench/run.sh parses:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E bad=X socket=Y status=Z
-- errors = socket errors (connect, read, write, timeout) + non-2xx answers + errno != 0;
-- login.lua adds exhausted=N (times a thread ran out of codes and had to reuse them).
-- The checker matches the envelope's first member, which MeetOA always writes first.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

bad = 0

-- Counts an HTTP 200 whose envelope is not errno 0 (non-2xx are counted by wrk itself).
function bench_check(status, body)
   if status == 200 and string.sub(body, 1, 10) ~= '{"errno":0' then
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local nbad, nexhausted, extra = 0, nil, ""
   for _, t in ipairs(threads) do
      nbad = nbad + (t:get("bad") or 0)
      local ex = t:get("exhausted")
      if ex ~= nil then nexhausted = (nexhausted or 0) + ex end
   end
   if nexhausted ~= nil then extra = " exhausted=" .. nexhausted end
   local e = summary.errors
   local socket = e.connect + e.read + e.write + e.timeout
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH requests=%d seconds=%.3f rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d bad=%d socket=%d status=%d%s\n",
      summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, socket + e.status + nbad, nbad, socket, e.status, extra))
end
