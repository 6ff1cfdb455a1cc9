-- ARGV[2] concert.
local r, now = room(ARGV[2]), now_ms()
local capacity, rate, paused = admit(r, now)
local active, waiting = counts(r, now)
local total, sold, held = stock(r, now)
local admitted = tonumber(redis.call('HGET', r.policy, 'admitted')) or 0
return {waiting, active, capacity, rate, paused, total, sold, held, admitted}
