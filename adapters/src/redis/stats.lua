-- ARGV[2] concert.
local capacity, rate, paused, active, waiting = admit(room(ARGV[2]), now_ms())
return {waiting, active, capacity, rate, paused}
