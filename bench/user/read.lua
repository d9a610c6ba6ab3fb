-- wrk: POST the body in the file BODY with the Accept header of a GraphQL-over-HTTP client.
local body
function init(args)
  local f = assert(io.open(os.getenv("BODY"), "r"))
  body = f:read("*l")
  f:close()
end
function request()
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/graphql-response+json, application/json;q=0.9",
  }, body)
end
