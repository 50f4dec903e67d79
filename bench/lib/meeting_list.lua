-- bench/lib/meeting_list.lua — GET /wx/meeting/list?view=upcoming (the first page of 20), each
-- request with the token of a random member, from the file named by BENCH_TOKENS (one per line).
-- Lean on purpose, so that wrk's core is not the limit: every request is formatted once in
-- init(), in a random order fixed there (BENCH_REQUESTS of them, default 100,000, the tokens
-- shuffled and repeated), and request() only hands the next one out. There is no response()
-- callback (wrk then does not hand bodies to Lua): errors are socket errors and non-2xx
-- answers. The answers themselves are checked outside the timed run
-- (bench/prepare.mjs meetings: errno 0, 20 items, soonest first).
dofile(os.getenv("BENCH_LIB") .. "/summary.lua")

local reqs = {}
local pos = 0

function init(args)
   local tokens = {}
   for line in io.lines((assert(os.getenv("BENCH_TOKENS"), "BENCH_TOKENS is not set"))) do
      if #line > 0 then tokens[#tokens + 1] = line end
   end
   assert(#tokens > 0, "no tokens in BENCH_TOKENS")
   math.randomseed(12345 + (id or 0))
   local n = tonumber(os.getenv("BENCH_REQUESTS") or "100000")
   for i = 1, n do
      reqs[i] = wrk.format("GET", "/wx/meeting/list?view=upcoming&page=1&limit=20",
         { ["X-OA-Token"] = tokens[math.random(#tokens)] })
   end
end

function request()
   pos = pos + 1
   if pos > #reqs then pos = 1 end
   return reqs[pos]
end

-- BENCH_DEBUG=1: print the first answer of each thread (to look at what the server says).
if os.getenv("BENCH_DEBUG") then
   local shown = false
   function response(status, headers, body)
      if not shown then
         shown = true
         io.stderr:write("meeting_list.lua: HTTP " .. status .. " " .. string.sub(body, 1, 300) .. "\n")
      end
   end
end
