-- wrk: POST JSON bodies read from the file in BODIES (one body per line), round-robin per connection.
local bodies = {}
local counter = 0

function init(args)
  local f = assert(io.open(os.getenv("BODIES"), "r"))
  for line in f:lines() do bodies[#bodies + 1] = line end
  f:close()
end

function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
