-- ARGV[2] token. Returns {} for a token this room never issued.
local owner = redis.call('GET', prefix .. 'tok:' .. ARGV[2])
if not owner then return {} end
local concert, user = string.match(owner, '^(%d+):(%d+)$')
local now = now_ms()
-- The gate's hot path: an ACTIVE token needs no admission round (waiting
-- users' polls, joins and leaves admit; lapsed entries are read by score),
-- so it touches only its own score and the policy.
local base = prefix .. 'q:' .. concert .. ':'
local deadline = tonumber(redis.call('ZSCORE', base .. 'active', ARGV[2]))
if deadline and deadline > now then
  local p = redis.call('HMGET', base .. 'policy', 'capacity', 'rate', 'paused')
  return {concert, user, 'ACTIVE', 0, tonumber(p[1]) or default_capacity, tonumber(p[2]) or default_rate,
    p[3] == '1' and 1 or 0}
end
local r = room(concert)
admit(r, now)
local s, position = status(r, ARGV[2])
local capacity, rate, paused = policy(r)
return {concert, user, s, position, capacity, rate, paused and 1 or 0}
