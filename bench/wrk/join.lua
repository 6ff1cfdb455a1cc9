-- Usage: wrk -s join.lua URL -- FILE CONCERTS
-- POST /api/v1/queue/tokens as a new place every time: every line of FILE
-- ("userId accessToken ...") joins the first of CONCERTS ("id,id,..."), then
-- every line the next. Requests are assembled from pieces built once, and
-- there is no response() callback (wrk would parse every response for it),
-- so the load generator costs about what it costs for /health/live. The
-- places created are counted by the server (bench/run.sh asks the admin API).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")

setup = common.setup

local heads, tails, next_n, step

function init(args)
  local host = wrk.host .. ":" .. wrk.port
  heads, tails = {}, {}
  for i, l in ipairs(common.lines(args[1])) do
    heads[i] = "POST /api/v1/queue/tokens HTTP/1.1\r\nHost: " .. host ..
      "\r\nAuthorization: Bearer " .. l[2] .. "\r\nContent-Type: application/json\r\n"
  end
  for c in string.gmatch(args[2], "%d+") do
    local body = '{"concertId":' .. c .. '}'
    tails[#tails + 1] = "Content-Length: " .. #body .. "\r\n\r\n" .. body
  end
  next_n = id + 1
  step = 2 -- wrk -t2
end

function request()
  local n = next_n
  next_n = next_n + step
  local i = ((n - 1) % #heads) + 1
  return heads[i] .. tails[(math.floor((n - 1) / #heads) % #tails) + 1]
end
