-- bench/lib/summary.lua — what every MeetOA wrk script shares: one Lua state per wrk thread is
-- registered in setup(), and done() prints one machine-readable line that bench/run.sh parses:
--   BENCH requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E socket=Y status=Z
-- errors = socket errors (connect, read, write, timeout) + non-2xx answers, wrk's own counters;
-- login.lua adds exhausted=N (times a thread ran out of codes and had to reuse them) and
-- vote_signin.lua also handed=N (requests handed to wrk by request(): sent, answered or not). No script
-- reads answers in Lua (no response() callback): bench/run.sh checks a sample of answers before
-- and after every run instead, outside the timed loop.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local extra = ""
   for _, name in ipairs({ "exhausted", "handed" }) do
      local sum = nil
      for _, t in ipairs(threads) do
         local v = t:get(name)
         if v ~= nil then sum = (sum or 0) + v end
      end
      if sum ~= nil then extra = extra .. " " .. name .. "=" .. sum end
   end
   local e = summary.errors
   local socket = e.connect + e.read + e.write + e.timeout
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "BENCH requests=%d seconds=%.3f rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d socket=%d status=%d%s\n",
      summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
      latency:percentile(99) / 1000, socket + e.status, socket, e.status, extra))
end
