-- An instance's verdict on the write path steps the room's admission rate
-- (Room::steer and RateController::step in domain/src/room/control.rs).
-- ARGV[11] 'SLOW' or 'FINE'; ARGV[12] the period (ms), ARGV[13] the share
-- left when slow, ARGV[14] the share of the ceiling added when fine,
-- ARGV[15] the floor's share of the ceiling (percent each).
-- The policy hash keeps the controller's rate (`steered`; absent: the
-- operator's) and when it last lowered and raised it (`lowered`,
-- `raised`): each way it steps at most once per period, whichever instance
-- asks, so N instances do not step it N times. Answers the rate in force.
local now = now_ms()
local slow = ARGV[11] == 'SLOW'
local period, decrease, increase, floor_share =
  tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
local p = redis.call('HMGET', r.policy, 'rate', 'steered', 'lowered', 'raised')
local ceiling = tonumber(p[1]) or default_rate
local current = in_force(ceiling, p[2])
local last = tonumber(p[4])
if slow then last = tonumber(p[3]) end
if last and now - last < period then return current end
local next
if slow then
  local floor = math.max(math.floor((ceiling * floor_share + 99) / 100), 1)
  next = math.min(math.max(math.floor(current * decrease / 100), floor), current)
  redis.call('HSET', r.policy, 'lowered', now)
else
  next = math.min(current + math.max(math.floor(ceiling * increase / 100), 1), ceiling)
  redis.call('HSET', r.policy, 'raised', now)
end
-- At the ceiling the rate is the operator's again: a later change of
-- theirs applies at once.
if next < ceiling then
  redis.call('HSET', r.policy, 'steered', next)
else
  redis.call('HDEL', r.policy, 'steered')
end
return next
