-- ARGV[11] user, ARGV[12] fresh token (sealed by the app), ARGV[13] the
-- place's secret pre-queue draw, a fraction in [0, 1).
-- One place per user per concert: a live place is returned, and asking
-- again counts as its holder's presence (as a poll or any request). One
-- admission round per join, after the new place is in line, so a joiner
-- the policy can let in at once is ACTIVE in its first answer.
-- Answers {token, created, then the place as place() spells it}.
local user, fresh, draw = ARGV[11], ARGV[12], ARGV[13]
local now = now_ms()
local token, created = fresh, 1
local opens, pre = opening_of(unpack(redis.call('HMGET', r.policy, 'opens', 'preq')))
-- A room whose every seat is sold takes nobody new; a scheduled sale takes
-- nobody before its pre-queue.
local total, sold, held = stock(now)
local refusal = (total >= 0 and sold >= total and 'SOLD_OUT') or (now < pre and 'NOT_OPEN')
if refusal then
  local capacity, rate, paused = policy()
  return {fresh, 0, {refusal, 0, capacity, rate, paused and 1 or 0, total, sold, held, opens, pre, -1, '', -1, -1, -1}}
end
-- Most joins in a rush are first joins: claim the user's slot in one call.
if redis.call('HSETNX', r.users, user, fresh) == 0 then
  token = redis.call('HGET', r.users, user)
  if status(token, now, opens) == 'EXPIRED' then
    token = fresh
    redis.call('HSET', r.users, user, token)
  else
    created = 0
  end
end
if created == 1 then
  local score
  if now < opens then
    -- The pre-queue: behind everyone already in line (arrival numbers up to
    -- seq), ahead of every later arrival (seq + 1 on), in the order of the
    -- secret draws, which is a uniform shuffle.
    score = (tonumber(redis.call('GET', r.seq)) or 0) + tonumber(draw)
  else
    score = redis.call('INCR', r.seq)
  end
  redis.call('ZADD', r.wait, score, token)
  redis.call('HSET', r.seen, token, now)
  redis.call('HSET', r.joined, token, now)
end
local capacity, rate, paused
capacity, rate, paused, opens, pre = admit(now)
local s, position, ended = status(token, now, opens)
if created == 0 then
  if s == 'ACTIVE' then
    touch(token, now)
  elseif s == 'WAITING' or s == 'PRE_QUEUE' then
    present(token, position, rate, now)
  end
end
total, sold, held = stock(now)
local turn = s == 'ACTIVE' and turn_end(token) or -1
local full, at, gap = outflow(s, capacity)
return {token, created, {s, position, capacity, rate, paused, total, sold, held, opens, pre, turn, ended or '', full, at, gap}}
