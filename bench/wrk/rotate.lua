-- Usage: wrk -s rotate.lua URL -- MODE FILE [ARG]
--   hold FILE SCHEDULE           POST /api/v1/reservations, line i holds seat i
--   contend FILE SCHEDULE SEATS  POST /api/v1/reservations, random seat of the first SEATS
--   pay FILE                     POST /api/v1/payments, one reservation per line
-- FILE lines: "userId accessToken queueToken [reservationId]".
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")

setup = common.setup

local mode, lines, arg1, arg2, next_line, step

function init(args)
  mode, arg1, arg2 = args[1], tonumber(args[3]), tonumber(args[4])
  lines = common.lines(args[2])
  next_line = id + 1
  step = 2 -- wrk -t2
  math.randomseed(id * 7919 + 17)
end

function request()
  local i = next_line
  next_line = next_line + step
  if i > #lines then i = ((i - 1) % #lines) + 1 end
  local l = lines[i]
  local headers = {
    ["Authorization"] = "Bearer " .. l[2],
    ["Content-Type"] = "application/json",
  }
  headers["X-Queue-Token"] = l[3]
  if mode == "hold" then
    return wrk.format("POST", "/api/v1/reservations", headers,
      '{"scheduleId":' .. arg1 .. ',"seatNumber":' .. i .. '}')
  elseif mode == "contend" then
    return wrk.format("POST", "/api/v1/reservations", headers,
      '{"scheduleId":' .. arg1 .. ',"seatNumber":' .. math.random(1, arg2) .. '}')
  else
    return wrk.format("POST", "/api/v1/payments", headers, '{"reservationId":' .. l[4] .. '}')
  end
end

-- Counts 201 Created per thread: for writes, only these are committed work.
created = 0

function response(status)
  if status == 201 then created = created + 1 end
end

function done()
  local total = 0
  for _, thread in ipairs(common.all()) do total = total + (thread:get("created") or 0) end
  io.write("created " .. total .. "\n")
end
