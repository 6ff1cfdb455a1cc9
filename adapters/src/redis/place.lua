-- ARGV[2] token. Returns {} for a token this room never issued.
local owner = redis.call('GET', prefix .. 'tok:' .. ARGV[2])
if not owner then return {} end
local concert, user = string.match(owner, '^(%d+):(%d+)$')
local r = room(concert)
local now = now_ms()
-- The gate's hot path: an ACTIVE token needs no admission round. Waiting
-- users' polls, joins and leaves admit, and lapsed entries are read by score.
local deadline = tonumber(redis.call('ZSCORE', r.active, ARGV[2]))
if deadline and deadline > now then
  local capacity, rate, paused = policy(r)
  return {concert, user, 'ACTIVE', 0, capacity, rate, paused and 1 or 0}
end
admit(r, now)
local s, position = status(r, ARGV[2])
local capacity, rate, paused = policy(r)
return {concert, user, s, position, capacity, rate, paused and 1 or 0}
