-- wrk script: every request is one real answer turn (a valid step, so a database write, never a 409).
-- args: <turns file> <number of wrk threads>. Each line of the file is "conversation<TAB>path<TAB>json body",
-- ordered step by step across many conversations, so a conversation's next answer is sent only after hundreds
-- of other requests, long after its previous answer was applied. Each wrk thread takes its own conversations.
-- When a thread runs out of prepared turns it stops instead of sending invalid ones.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests = {}
local position = 0
local verified = false
exhausted = 0

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  for line in io.lines(file) do
    local conversation, path, body = line:match("^(%d+)\t([^\t]+)\t(.*)$")
    if tonumber(conversation) % nthreads == tid then
      requests[#requests + 1] = wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
    end
  end
  turns = #requests
end

function request()
  -- wrk calls request() once on thread 0 before the run to check the script: do not use up a turn for that.
  if tid == 0 and not verified then
    verified = true
    return requests[1]
  end
  position = position + 1
  if position > #requests then
    exhausted = 1
    wrk.thread:stop()
    return requests[#requests]
  end
  sent = position
  return requests[position]
end

function done(summary, latency, requests)
  local sent, out = 0, 0
  for _, thread in ipairs(threads) do
    sent = sent + (thread:get("sent") or 0)
    out = out + (thread:get("exhausted") or 0)
  end
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"non_2xx\": %d, \"socket_errors\": %d, " ..
    "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"mean_us\": %.1f, \"turns_sent\": %d, \"exhausted\": %d}\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, sent, out))
end
