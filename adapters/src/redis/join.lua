-- ARGV[2] concert, ARGV[6] user, ARGV[7] fresh token, ARGV[8] token TTL seconds.
-- One place per user per concert: a live place is returned as it is.
local concert, user, fresh, ttl = ARGV[2], ARGV[6], ARGV[7], ARGV[8]
local r = room(concert)
local now = now_ms()
admit(r, now)
local token = redis.call('HGET', r.users, user)
local created = 0
if token then
  local s = status(r, token)
  if s == 'EXPIRED' then token = nil end
end
if not token then
  token = fresh
  created = 1
  redis.call('ZADD', r.wait, redis.call('INCR', r.seq), token)
  redis.call('HSET', r.users, user, token)
  redis.call('SET', prefix .. 'tok:' .. token, concert .. ':' .. user, 'EX', ttl)
  admit(r, now)
end
local s, position = status(r, token)
local capacity, rate, paused = policy(r)
return {token, s, position, capacity, rate, paused and 1 or 0, created}
