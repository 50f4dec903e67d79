-- bench/lib/info.lua — GET /wx/auth/info (or the path in BENCH_PATH: /wx/auth/verify for the
-- verify scenario), each request with a random token of the file named by BENCH_TOKENS (one per
-- line), sent in X-OA-Token. The nginx baselines run the same script, so both sides of the ratio
-- get the same client. Lean, so that wrk's core is not the limit: every
-- request is formatted once in init(), in a random order fixed there (BENCH_REQUESTS of them,
-- default 100,000, seeded per thread), and request() only hands the next one out. There is no
-- response() callback: wrk counts socket errors and non-2xx answers itself, and the answers are
-- checked outside the timed run (bench/prepare.mjs info, before and after every run).
dofile(os.getenv("BENCH_LIB") .. "/summary.lua")

local reqs = {}
local pos = 0

function init(args)
   local tokens = {}
   for line in io.lines((assert(os.getenv("BENCH_TOKENS"), "BENCH_TOKENS is not set"))) do
      if #line > 0 then tokens[#tokens + 1] = line end
   end
   assert(#tokens > 0, "no tokens in BENCH_TOKENS")
   math.randomseed(4242 + (id or 0))
   local path = os.getenv("BENCH_PATH") or "/wx/auth/info"
   for i = 1, tonumber(os.getenv("BENCH_REQUESTS") or "100000") do
      reqs[i] = wrk.format("GET", path, { ["X-OA-Token"] = tokens[math.random(#tokens)] })
   end
end

function request()
   pos = pos + 1
   if pos > #reqs then pos = 1 end
   return reqs[pos]
end
