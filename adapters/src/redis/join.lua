-- ARGV[2] concert, ARGV[7] user, ARGV[8] fresh token, ARGV[9] token TTL seconds.
-- One place per user per concert: a live place is returned as it is. One
-- admission round per join, after the new place is in line, so a joiner
-- the policy can let in at once is ACTIVE in its first answer.
local concert, user, fresh, ttl = ARGV[2], ARGV[7], ARGV[8], ARGV[9]
local r = room(concert)
local now = now_ms()
local token, created = fresh, 1
-- A room whose every seat is sold takes nobody new.
local total, sold, held = stock(r, now)
if total >= 0 and sold >= total then
  local capacity, rate, paused = policy(r)
  return {fresh, 'SOLD_OUT', 0, capacity, rate, paused and 1 or 0, 0, total, sold, held}
end
-- Most joins in a rush are first joins: claim the user's slot in one call.
if redis.call('HSETNX', r.users, user, fresh) == 0 then
  token = redis.call('HGET', r.users, user)
  if status(r, token, now) == 'EXPIRED' then
    token = fresh
    redis.call('HSET', r.users, user, token)
  else
    created = 0
  end
end
if created == 1 then
  redis.call('ZADD', r.wait, redis.call('INCR', r.seq), token)
  redis.call('SET', prefix .. 'tok:' .. token, concert .. ':' .. user, 'EX', ttl)
end
local capacity, rate, paused = admit(r, now)
local s, position = status(r, token, now)
total, sold, held = stock(r, now)
return {token, s, position, capacity, rate, paused, created, total, sold, held}
