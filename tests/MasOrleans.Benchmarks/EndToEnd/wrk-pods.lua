-- wrk script of the e2e benchmark: each request POSTs a pod with a name of its own, <prefix>1 .. <prefix><quota>;
-- once every POST has been answered the thread stops and prints "quota-done", and the benchmark sends wrk SIGINT
-- (wrk's main thread otherwise sleeps for the whole -d duration), after which done() prints one JSON line.
-- wrk -t1 -c<connections> -d<limit>s -s wrk-pods.lua http://silo -- <prefix> <quota> <cpu> <memory>
-- GET /e2e-filler fills in where wrk wants a request that must not be a pod: wrk calls request() once before sending
-- anything to check the script (wrk.c, script_verify_request), and connections ask for more after the quota. No
-- route matches it, so it is answered 404 without touching a grain, a status POST /api/v1/pods never answers; those
-- 404s are not counted. (GET /health would not do: under load it may answer 503, indistinguishable from a POST's.)

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  quota = tonumber(args[2])
  cpu = args[3]
  memory = args[4]
  primed = false
  sent = 0
  accepted = 0
  failed = 0
  statuses = ""
  json = { ["Content-Type"] = "application/json" }
end

function request()
  if not primed or sent >= quota then
    primed = true
    return wrk.format("GET", "/e2e-filler")
  end
  sent = sent + 1
  local body = string.format('{"name":"%s%d","requests":{"cpu":"%s","memory":"%s"}}', prefix, sent, cpu, memory)
  return wrk.format("POST", "/api/v1/pods", json, body)
end

function response(status, response_headers, body)
  if status == 202 then
    accepted = accepted + 1
  elseif status ~= 404 then
    failed = failed + 1
    if failed <= 20 then statuses = statuses .. status .. " " end
  end
  if accepted + failed == quota then
    wrk.thread:stop()
    io.write("quota-done\n")
    io.flush()
  end
end

function done(summary, latency, requests)
  local accepted_total, failed_total, statuses_all = 0, 0, ""
  for _, thread in ipairs(threads) do
    accepted_total = accepted_total + thread:get("accepted")
    failed_total = failed_total + thread:get("failed")
    statuses_all = statuses_all .. thread:get("statuses")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"accepted":%d,"failed":%d,"failedStatuses":"%s","requests":%d,"durationUs":%d,"socketErrors":%d,"latencyP50Us":%d,"latencyP99Us":%d}\n',
    accepted_total, failed_total, statuses_all, summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
