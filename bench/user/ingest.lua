-- wrk: recordExecutionEvents of PER MESSAGE events with unique ids (PREFIX + a counter), round-robin over the
-- execution ids in the file IDS; every response checked (200 and no "errors"), the counts printed at the end.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
local ids = {}
local counter = 0
local per = 1
local prefix = ""
ok = 0
bad = 0
function init(args)
  local f = assert(io.open(os.getenv("IDS"), "r"))
  for line in f:lines() do ids[#ids + 1] = line end
  f:close()
  per = tonumber(os.getenv("PER"))
  prefix = os.getenv("PREFIX")
end
local query = "mutation($id: ID!, $e: [ExecutionEventInput!]!) { recordExecutionEvents(executionId: $id, events: $e) { execution { id } } }"
function request()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  local events = {}
  for i = 1, per do
    events[i] = '{"message":{"messageId":"' .. prefix .. "-" .. counter .. "-" .. i .. '","status":"INITIATED"}}'
  end
  local body = '{"query":"' .. query .. '","variables":{"id":"' .. id .. '","e":[' .. table.concat(events, ",") .. "]}}"
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors"', 1, true) then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("CHECKED ok=%d bad=%d\n", t:get("ok"), t:get("bad")))
  end
end
