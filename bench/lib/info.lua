-- bench/lib/info.lua — GET /wx/auth/info, each request with a random token of the file named by
-- BENCH_TOKENS (one per line), sent in X-OA-Token. The nginx baseline runs the same script, so
-- both sides of the ratio pay the same client cost.
dofile(os.getenv("BENCH_LIB") .. "/summary.lua")

local tokens = {}

function init(args)
   for line in io.lines(os.getenv("BENCH_TOKENS")) do
      if #line > 0 then tokens[#tokens + 1] = line end
   end
   math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
   return wrk.format("GET", "/wx/auth/info", { ["X-OA-Token"] = tokens[math.random(#tokens)] })
end

function response(status, headers, body)
   bench_check(status, body)
end
