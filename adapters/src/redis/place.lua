-- ARGV[2] token. Returns {} for a token this room never issued.
local owner = redis.call('GET', prefix .. 'tok:' .. ARGV[2])
if not owner then return {} end
local concert, user = string.match(owner, '^(%d+):(%d+)$')
local r = room(concert)
admit(r, now_ms())
local s, position = status(r, ARGV[2])
local capacity, rate, paused = policy(r)
return {concert, user, s, position, capacity, rate, paused and 1 or 0}
