-- bench/lib/vote_signin.lua — sign-ins (POST /wx/meeting/checkin {scene}) and ballots (POST
-- /wx/vote/cast {id, optionIds}) of the vote-signin scenario, from the file named by BENCH_OPS:
-- one request a line, "TOKEN<TAB>PATH<TAB>BODY", every line a distinct operation (one attendee's
-- sign-in at one meeting, or one attendee's ballot on one question), in a random order fixed
-- when bench/run.sh wrote the file. Every request is formatted once in init() and request()
-- hands the next one out, each exactly once: `handed` counts them (sent; answered or still in
-- flight when the run stopped), so run.sh can tell which operations may have reached the
-- server (the first `handed` lines) and check the database against them. Should the file run
-- out, the script starts over and counts `exhausted`: those repeats are refused (already signed
-- in, 813) and the run fails on exhausted > 0. No response() callback (wrk cannot see errnos in
-- HTTP 200 envelopes): run.sh counts the answers' errnos from meetoa's /metrics before and after.
dofile(os.getenv("BENCH_LIB") .. "/summary.lua")

local reqs = {}
local pos = 0
local verified = false
handed = 0
exhausted = 0

function init(args)
   local headers = { ["Content-Type"] = "application/json" }
   for line in io.lines((assert(os.getenv("BENCH_OPS"), "BENCH_OPS is not set"))) do
      local token, path, body = line:match("^([^\t]+)\t([^\t]+)\t(.+)$")
      if token then
         headers["X-OA-Token"] = token
         reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
      end
   end
   assert(#reqs > 0, "no operations in BENCH_OPS")
end

function request()
   -- wrk calls request() once on thread 0 before the run to verify the script
   -- (script_verify_request) and drops what it returns: that call hands out the first line
   -- without using it up. (A wrk that did not make that call would send line 1 twice: the
   -- repeat is refused and counted, never silent.)
   if not verified then
      verified = true
      return reqs[1]
   end
   pos = pos + 1
   handed = handed + 1
   if pos > #reqs then
      pos = 1
      exhausted = exhausted + 1
   end
   return reqs[pos]
end
