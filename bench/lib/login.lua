-- bench/lib/login.lua — POST /wx/auth/login_by_weixin, each request with a fresh wx.login()
-- code from the file named by BENCH_CODES (one per line, made by prepare.mjs codes just before
-- the run). Codes are single-use: wrk thread k of n takes lines k, k+n, k+2n, ... Every request
-- is formatted once in init() (the codes are distinct and in random order already), and
-- request() only hands the next one out. Should a thread run out (the file was too short for
-- the run), it starts over and counts `exhausted`: those reused codes are refused (40163; an
-- HTTP 200 envelope, so not in wrk's counters) and the run fails on exhausted > 0. No response()
-- callback: answers are checked outside the timed run (logins of a sample before and after).
dofile(os.getenv("BENCH_LIB") .. "/summary.lua")

local reqs = {}
local pos = 0
exhausted = 0

function init(args)
   local n, k, i = tonumber(os.getenv("BENCH_THREADS") or "1"), id or 0, 0
   local headers = { ["Content-Type"] = "application/json" }
   for line in io.lines((assert(os.getenv("BENCH_CODES"), "BENCH_CODES is not set"))) do
      if #line > 0 then
         if i % n == k then
            reqs[#reqs + 1] = wrk.format("POST", "/wx/auth/login_by_weixin", headers,
               '{"code":"' .. line .. '","userInfo":{"nickName":"bench user",' ..
               '"avatarUrl":"https://example.com/avatar/bench.png","gender":1}}')
         end
         i = i + 1
      end
   end
   assert(#reqs > 0, "no codes in BENCH_CODES")
end

function request()
   pos = pos + 1
   if pos > #reqs then
      pos = 1
      exhausted = exhausted + 1
   end
   return reqs[pos]
end
