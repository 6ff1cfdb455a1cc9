-- Answers {waiting, active, capacity, rate, paused, total, sold, held,
-- opens, pre-queue start, lapsed, how long the head of the line has waited
-- (ms; 0 when nobody waits), admitted (every admission so far), the rate in
-- force}; `rate` is the operator's, the ceiling.
local now = now_ms()
local capacity, rate, paused, opens, pre, ceiling = admit(now)
local active, waiting = counts(now)
local total, sold, held = stock(now)
local counters = redis.call('HMGET', r.policy, 'lapsed', 'admitted')
local lapsed, admitted = tonumber(counters[1]) or 0, tonumber(counters[2]) or 0
local oldest = 0
local head = redis.call('ZRANGE', r.wait, 0, 0)
if head[1] then
  local joined = tonumber(redis.call('HGET', r.joined, head[1]))
  if joined then oldest = math.max(now - joined, 0) end
end
return {waiting, active, capacity, ceiling, paused, total, sold, held, opens, pre, lapsed, oldest, admitted, rate}
