-- bench/lib/login.lua — POST /wx/auth/login_by_weixin, each request with a fresh wx.login()
-- code from the file named by BENCH_CODES (one per line, made by prepare.mjs codes). Codes are
-- single-use: wrk thread k of n takes lines k, k+n, k+2n, ... and walks them once. Should a
-- thread run out (the file was too short for the run), it starts over and counts `exhausted`:
-- those reused codes are refused (40163) and show up as errors.
dofile(os.getenv("BENCH_LIB") .. "/summary.lua")

local codes = {}
local pos = 0
exhausted = 0

function init(args)
   local n, k, i = tonumber(os.getenv("BENCH_THREADS") or "1"), id or 0, 0
   for line in io.lines(os.getenv("BENCH_CODES")) do
      if #line > 0 then
         if i % n == k then codes[#codes + 1] = line end
         i = i + 1
      end
   end
end

local headers = { ["Content-Type"] = "application/json" }

function request()
   pos = pos + 1
   if pos > #codes then
      pos = 1
      exhausted = exhausted + 1
   end
   local body = '{"code":"' .. codes[pos] .. '","userInfo":{"nickName":"bench user",' ..
      '"avatarUrl":"https://example.com/avatar/bench.png","gender":1}}'
   return wrk.format("POST", "/wx/auth/login_by_weixin", headers, body)
end

function response(status, headers, body)
   bench_check(status, body)
end
