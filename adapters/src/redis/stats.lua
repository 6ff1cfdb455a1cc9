-- ARGV[2] concert.
local r, now = room(ARGV[2]), now_ms()
local capacity, rate, paused, opens, pre = admit(r, now)
local active, waiting = counts(r, now)
local total, sold, held = stock(r, now)
return {waiting, active, capacity, rate, paused, total, sold, held, opens, pre}
