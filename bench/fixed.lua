-- wrk script: the same request over and over (the floor's GET, or POST /api/v1/assess with one set of answers).
-- args: <method> [<json body file>]

function init(args)
  local body, headers = nil, {}
  if args[2] then
    local file = assert(io.open(args[2], "r"))
    body = file:read("*a")
    file:close()
    headers["Content-Type"] = "application/json"
  end
  fixed = wrk.format(args[1], nil, headers, body)
end

function request()
  return fixed
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"non_2xx\": %d, \"socket_errors\": %d, " ..
    "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"mean_us\": %.1f, \"turns_sent\": 0, \"exhausted\": 0}\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
