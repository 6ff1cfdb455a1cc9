-- Shared by every waiting-room script. Mirrors AdmissionPolicy::admissions in
-- frontrow-domain exactly; Redis runs each script atomically, so admission is
-- correct with any number of app instances.
-- ARGV[1] key prefix, ARGV[3] default capacity, ARGV[4] default rate,
-- ARGV[5] active milliseconds, ARGV[6] active idle milliseconds (0: off).
local prefix = ARGV[1]
local default_capacity = tonumber(ARGV[3])
local default_rate = tonumber(ARGV[4])
local active_ms = tonumber(ARGV[5])
local idle_ms = tonumber(ARGV[6])

-- When an ACTIVE place seen at `now` lapses: its hard deadline, or idle_ms
-- after its holder last asked for anything, whichever is first.
local function lapse_at(hard, now)
  if idle_ms > 0 then return math.min(hard, now + idle_ms) end
  return hard
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function room(concert)
  local base = prefix .. 'q:' .. concert .. ':'
  -- The policy hash also holds the admission bucket (fields milli and ts),
  -- so an admission round reads both in one call.
  -- stock (HASH total, sold), holds (ZSET schedule:seat -> hold deadline)
  -- and seats (HASH schedule:seat -> seat version) follow the seat changes
  -- (seat_change.lua; waiting_room.rs spells them too).
  return {
    wait = base .. 'wait', active = base .. 'active', policy = base .. 'policy',
    seq = base .. 'seq', users = base .. 'users', stock = base .. 'stock',
    holds = base .. 'holds',
  }
end

-- What is left to sell: total, sold and live holds; total is -1 for a room
-- that was never told its concert's seats. Mirrors queue::Stock. Read once
-- per script: every script works on one room and changes no seat.
local stock_read
local function stock(r, now)
  if not stock_read then
    local s = redis.call('HMGET', r.stock, 'total', 'sold')
    local total = tonumber(s[1])
    if not total then
      stock_read = {-1, 0, 0}
    else
      stock_read = {total, tonumber(s[2]) or 0, redis.call('ZCOUNT', r.holds, '(' .. now, '+inf')}
    end
  end
  return stock_read[1], stock_read[2], stock_read[3]
end

local function policy(r)
  local p = redis.call('HMGET', r.policy, 'capacity', 'rate', 'paused')
  return tonumber(p[1]) or default_capacity, tonumber(p[2]) or default_rate, p[3] == '1'
end

-- Drops lapsed ACTIVE places; returns how many are ACTIVE and WAITING.
local function counts(r, now)
  redis.call('ZREMRANGEBYSCORE', r.active, '-inf', now)
  return redis.call('ZCARD', r.active), redis.call('ZCARD', r.wait)
end

-- Admits from the head of the line as far as the policy allows; returns the
-- policy as {capacity, rate, paused (1 or 0)}. In a rush most calls find the
-- bucket without a whole admission and stop after one read; only a call
-- that may admit counts the sets. O(log n) per admitted or lapsed user.
-- Every redis.call costs about 1.5 us of Redis CPU on top of the command
-- itself, so these scripts keep their calls few.
local function admit(r, now)
  local p = redis.call('HMGET', r.policy, 'capacity', 'rate', 'paused', 'milli', 'ts', 'admitted')
  local capacity, rate = tonumber(p[1]) or default_capacity, tonumber(p[2]) or default_rate
  if p[3] == '1' then return capacity, rate, 1 end
  local milli, ts = tonumber(p[4]), tonumber(p[5])
  if milli == nil or ts == nil then milli, ts = rate * 1000, now end
  local elapsed = math.max(now - ts, 0)
  milli = math.min(milli + elapsed * rate, rate * 1000)
  local tokens = math.floor(milli / 1000)
  if tokens < 1 then return capacity, rate, 0 end
  local active, waiting = counts(r, now)
  local n = math.min(math.max(capacity - active, 0), waiting, tokens)
  if n > 0 then
    -- Nobody is let in to a sale with nothing AVAILABLE (AdmissionPolicy's
    -- `sellable`); the bucket keeps refilling, as while paused.
    local total, sold, held = stock(r, now)
    if total >= 0 and total - sold - held <= 0 then n = 0 end
  end
  if n > 0 then
    local popped = redis.call('ZPOPMIN', r.wait, n)
    local hard = now + active_ms
    local lapse = lapse_at(hard, now)
    for i = 1, #popped, 2 do
      redis.call('ZADD', r.active, lapse, popped[i])
      -- Mirrors the ACTIVE entry for the plain-GET fast path (waiting_room.rs)
      -- as `hard:lapse` (touch.lua needs the hard deadline, the app reads
      -- the lapse to touch only when due); it lapses with the entry's score
      -- and leave.lua deletes it.
      redis.call('SET', prefix .. 'act:' .. popped[i], hard .. ':' .. lapse, 'PX', lapse - now)
    end
    -- Refill is linear and capped, so an unwritten bucket recomputes to the
    -- same value later: write it only when tokens were spent.
    -- `admitted` counts every admission for the operator's console.
    redis.call('HSET', r.policy, 'milli', milli - n * 1000, 'ts', now, 'admitted', (tonumber(p[6]) or 0) + n)
  end
  return capacity, rate, 0
end

-- WAITING with its 1-based position, ACTIVE, or EXPIRED. An ACTIVE entry
-- past its deadline is EXPIRED even before an admission round removes it.
local function status(r, token, now)
  local rank = redis.call('ZRANK', r.wait, token)
  if rank then return 'WAITING', rank + 1 end
  local deadline = tonumber(redis.call('ZSCORE', r.active, token))
  if deadline and deadline > now then return 'ACTIVE', 0 end
  return 'EXPIRED', 0
end

-- A token's place: {concert, user, status, position, capacity, rate, paused,
-- total, sold, held}, or {} for a token this room never issued.
local function place(token)
  local owner = redis.call('GET', prefix .. 'tok:' .. token)
  if not owner then return {} end
  local concert, user = string.match(owner, '^(%d+):(%d+)$')
  local now = now_ms()
  -- The gate's hot path: an ACTIVE token needs no admission round (waiting
  -- users' polls, joins and leaves admit; lapsed entries are read by score),
  -- so it touches only its own score and the policy.
  local base = prefix .. 'q:' .. concert .. ':'
  local deadline = tonumber(redis.call('ZSCORE', base .. 'active', token))
  local r = room(concert)
  if deadline and deadline > now then
    local p = redis.call('HMGET', r.policy, 'capacity', 'rate', 'paused')
    local total, sold, held = stock(r, now)
    return {concert, user, 'ACTIVE', 0, tonumber(p[1]) or default_capacity, tonumber(p[2]) or default_rate,
      p[3] == '1' and 1 or 0, total, sold, held}
  end
  local capacity, rate, paused = admit(r, now)
  local s, position = status(r, token, now)
  local total, sold, held = stock(r, now)
  return {concert, user, s, position, capacity, rate, paused, total, sold, held}
end
