-- Shared by the wrk scripts: each thread takes every Nth line of a file, so
-- no two requests in a run share a line (a user, a seat, a reservation).
local M = {}

function M.lines(path)
  local lines = {}
  for line in io.lines(path) do
    local fields = {}
    for field in line:gmatch("%S+") do fields[#fields + 1] = field end
    lines[#lines + 1] = fields
  end
  return lines
end

local threads = {}
local counter = 0

function M.setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function M.threads() return counter end
function M.all() return threads end

return M
