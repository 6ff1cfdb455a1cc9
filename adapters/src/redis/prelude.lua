-- Shared by every waiting-room script: a checked copy of the room machine
-- in frontrow-domain (domain/src/room.rs, `Room`), which holds every rule;
-- the spec suite (tests/tests/spec/room.rs) compares the two step by step.
-- Redis runs each script atomically, so the room is correct with any number
-- of app instances.
-- KEYS[1..12]: the concert's room (keys.rs `room` spells them, in this
-- order); a script's own keys follow. No script builds a key name, and all of
-- a room's keys share the concert's hash tag, so on a Redis Cluster every
-- script runs on the one node that holds the sale.
-- ARGV[1] the subject (a token, or ''), ARGV[2] default capacity, ARGV[3]
-- default rate, ARGV[4] active milliseconds, ARGV[5] active idle
-- milliseconds (0: off), ARGV[6] waiting idle milliseconds (0: off),
-- ARGV[7] the time to decide at (epoch ms), or '' for Redis's own clock:
-- production always sends '' so every instance agrees on the moment; the
-- spec suite pins it to move time. ARGV[8] and ARGV[9] the stock rule
-- (StockRule: ACTIVE places per hundred AVAILABLE seats, and the spare).
-- ARGV[10] the pick window in milliseconds (0: off). A script's own
-- arguments start at ARGV[11].
local default_capacity = tonumber(ARGV[2])
local default_rate = tonumber(ARGV[3])
local active_ms = tonumber(ARGV[4])
local idle_ms = tonumber(ARGV[5])
local waiting_idle_ms = tonumber(ARGV[6])
local stock_percent = tonumber(ARGV[8])
local stock_spare = tonumber(ARGV[9])
local pick_ms = tonumber(ARGV[10])

-- The most ACTIVE places the stock warrants (StockRule::most_active): the
-- holders of the `held` seats and a share of the `available` ones; none
-- while nothing is AVAILABLE.
local function most_active(available, held)
  if available <= 0 then return 0 end
  return math.floor((available * stock_percent + 99) / 100) + stock_spare + held
end

-- The admission rate in force: the operator's (the ceiling), or the
-- controller's while it is lower (`steered` in the policy hash, steer.lua;
-- Room::admission_rate).
local function in_force(rate, steered)
  steered = tonumber(steered)
  if steered and steered < rate then return math.max(steered, 1) end
  return rate
end

-- When an ACTIVE place seen at `now` lapses: its hard deadline, or idle_ms
-- after its holder last asked for anything, whichever is first.
local function lapse_at(hard, now)
  if idle_ms > 0 then return math.min(hard, now + idle_ms) end
  return hard
end

-- When a pick window opened at `from` (an admission, or a cart's end)
-- ends; nil while the rule is off (RoomSettings::pick_window).
local function pick_window(from)
  if pick_ms > 0 then return from + pick_ms end
  return nil
end

-- When the turn ends: `own`, or the pick window if that ends first
-- (Slot::turn).
local function turn_of(own, pick)
  if pick and pick < own then return pick end
  return own
end

-- An ACTIVE place's slot as deadlines keeps it (slot_of below):
-- `hard:own`, then `:kept`, then `:pick` (`hard:own::pick` with no cart).
local function slot_value(hard, own, kept, pick)
  local value = hard .. ':' .. own
  if kept or pick then value = value .. ':' .. (kept or '') end
  if pick then value = value .. ':' .. pick end
  return value
end

local pinned_now = tonumber(ARGV[7])
local function now_ms()
  if pinned_now then return pinned_now end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The policy hash also holds the admission bucket (fields milli and ts), so
-- an admission round reads both in one call. stock, holds and seats follow
-- the seat changes (seat_change.lua). seen and joined serve the lapse of
-- absent waiters and the age of the line. deadlines holds each ACTIVE
-- place's slot (slot_of below; touch.lua needs the hard deadline).
local r = {
  wait = KEYS[1], active = KEYS[2], policy = KEYS[3], seq = KEYS[4], users = KEYS[5],
  stock = KEYS[6], holds = KEYS[7], seats = KEYS[8], seen = KEYS[9], joined = KEYS[10],
  deadlines = KEYS[11], ended = KEYS[12],
}

-- Why ended places ended (Ending in domain/src/room/view.rs), read with
-- EXPIRED. Bounded: past MAX_ENDED the record starts over, and a reason
-- forgotten that way reads as a plain EXPIRED.
local MAX_ENDED = 100000
local function record_ending(tokens, why)
  if #tokens == 0 then return end
  if redis.call('HLEN', r.ended) + #tokens > MAX_ENDED then redis.call('DEL', r.ended) end
  local args = {}
  for i, token in ipairs(tokens) do
    args[2 * i - 1] = token
    args[2 * i] = why
  end
  redis.call('HSET', r.ended, unpack(args))
end

-- What is left to sell: total, sold and live holds; total is -1 for a room
-- that was never told its concert's seats. Mirrors queue::Stock. Read once
-- per script: every script works on one room and changes no seat.
local stock_read
local function stock(now)
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

-- The policy admission runs under: capacity, the rate in force, paused.
local function policy()
  local p = redis.call('HMGET', r.policy, 'capacity', 'rate', 'paused', 'steered')
  return tonumber(p[1]) or default_capacity, in_force(tonumber(p[2]) or default_rate, p[4]), p[3] == '1'
end

-- `k` ACTIVE slots were freed at `now`: the room's outflow (Room::moved in
-- domain/src/room): the policy hash keeps when the line last moved out
-- (`moved`) and the smoothed gap between frees (`gap`, as
-- gap = floor((3 * gap + latest) / 4)).
local function moved(k, now)
  if k <= 0 then return end
  local m = redis.call('HMGET', r.policy, 'moved', 'gap')
  local at, gap = tonumber(m[1]), tonumber(m[2])
  for _ = 1, k do
    if at then
      local latest = math.max(now - at, 0)
      if gap then gap = math.floor((3 * gap + latest) / 4) else gap = latest end
    end
    at = now
  end
  if gap then
    redis.call('HSET', r.policy, 'moved', at, 'gap', gap)
  else
    redis.call('HSET', r.policy, 'moved', at)
  end
end

-- Most lapsed ACTIVE places one call drops; the next call goes on.
local MAX_DROPPED = 2000

-- Drops lapsed ACTIVE places (counting them); returns how many are ACTIVE
-- and WAITING.
local function counts(now)
  local gone = redis.call('ZRANGEBYSCORE', r.active, '-inf', now, 'LIMIT', 0, MAX_DROPPED)
  if #gone > 0 then
    redis.call('ZREM', r.active, unpack(gone))
    redis.call('HDEL', r.deadlines, unpack(gone))
    redis.call('HINCRBY', r.policy, 'lapsed', #gone)
    moved(#gone, now)
    record_ending(gone, 'TURN_ENDED')
  end
  return redis.call('ZCARD', r.active), redis.call('ZCARD', r.wait)
end

-- A waiting place whose holder has not asked for its status for
-- waiting_idle_ms is absent: it loses its place when the line reaches it.
local function absent(token, now)
  if waiting_idle_ms <= 0 then return false end
  local seen = tonumber(redis.call('HGET', r.seen, token))
  return seen ~= nil and seen < now - waiting_idle_ms
end

-- Most waiting places that one admission round may find absent and skip,
-- to bound a script's run time; the next round goes on.
local MAX_SKIPPED = 1000

-- Admits from the head of the line as far as the policy in force and the
-- stock allow; returns the policy as {capacity, rate in force, paused (1 or
-- 0)}. In a rush most calls find the
-- bucket without a whole admission and stop after one read; only a call
-- that may admit counts the sets. O(log n) per admitted or lapsed user.
-- Every redis.call costs about 1.5 us of Redis CPU on top of the command
-- itself, so these scripts keep their calls few.
-- A scheduled sale's opening, from the policy hash fields `opens` (epoch
-- ms) and `preq` (minutes of pre-queue before it): opens and the start of
-- the pre-queue, or -1, -1 for a room that is open.
local function opening_of(opens, preq)
  opens = tonumber(opens)
  if not opens then return -1, -1 end
  return opens, opens - (tonumber(preq) or 0) * 60000
end

-- Also returns the opening (opens, pre-queue start; -1, -1 when none) and
-- the operator's rate (the ceiling).
-- Before the opening nobody is admitted and the bucket is not touched, so
-- admission starts at the opening with a full second's worth.
local function admit(now)
  local p = redis.call('HMGET', r.policy, 'capacity', 'rate', 'paused', 'milli', 'ts', 'opens', 'preq', 'admitted', 'steered')
  local capacity, ceiling = tonumber(p[1]) or default_capacity, tonumber(p[2]) or default_rate
  local rate = in_force(ceiling, p[9])
  local opens, pre = opening_of(p[6], p[7])
  if now < opens then return capacity, rate, p[3] == '1' and 1 or 0, opens, pre, ceiling end
  if p[3] == '1' then return capacity, rate, 1, opens, pre, ceiling end
  local milli, ts = tonumber(p[4]), tonumber(p[5])
  if milli == nil or ts == nil then milli, ts = rate * 1000, now end
  local elapsed = math.max(now - ts, 0)
  milli = math.min(milli + elapsed * rate, rate * 1000)
  local tokens = math.floor(milli / 1000)
  if tokens < 1 then return capacity, rate, 0, opens, pre, ceiling end
  local active, waiting = counts(now)
  local n = math.min(math.max(capacity - active, 0), waiting, tokens)
  if n > 0 then
    -- No more ACTIVE places than the AVAILABLE seats warrant, so nobody
    -- with nothing AVAILABLE (AdmissionPolicy's `most_active`); the bucket
    -- keeps refilling, as while paused.
    local total, sold, held = stock(now)
    if total >= 0 then n = math.min(n, math.max(most_active(total - sold - held, held) - active, 0)) end
  end
  if n > 0 then
    local hard = now + active_ms
    local own = lapse_at(hard, now)
    local pick = pick_window(now)
    local lapse = turn_of(own, pick)
    local slot = slot_value(hard, own, nil, pick)
    local admitted, skipped, lapsed = 0, 0, {}
    while admitted < n and skipped < MAX_SKIPPED do
      local popped = redis.call('ZPOPMIN', r.wait, n - admitted)
      if #popped == 0 then break end
      for i = 1, #popped, 2 do
        local token = popped[i]
        if absent(token, now) then
          -- Skipped, not admitted: a later status says EXPIRED (LAPSED).
          skipped = skipped + 1
          lapsed[skipped] = token
        else
          admitted = admitted + 1
          redis.call('ZADD', r.active, lapse, token)
          -- touch.lua needs the hard deadline; the app reads the lapse (in
          -- active.lua's answer) to touch only when due.
          redis.call('HSET', r.deadlines, token, slot)
        end
        redis.call('HDEL', r.seen, token)
        redis.call('HDEL', r.joined, token)
      end
    end
    if skipped > 0 then
      redis.call('HINCRBY', r.policy, 'lapsed', skipped)
      record_ending(lapsed, 'LAPSED')
    end
    -- Refill is linear and capped, so an unwritten bucket recomputes to the
    -- same value later: write it only when tokens were spent.
    -- `admitted` counts every admission for the operator's console.
    if admitted > 0 then
      redis.call('HSET', r.policy, 'milli', milli - admitted * 1000, 'ts', now,
        'admitted', (tonumber(p[8]) or 0) + admitted)
      -- The line starts moving: the first admission.
      redis.call('HSETNX', r.policy, 'moved', now)
    end
  end
  return capacity, rate, 0, opens, pre, ceiling
end

-- WAITING with its 1-based position (PRE_QUEUE, with none, before the
-- opening), ACTIVE, or EXPIRED with why it ended ('' when not known). An ACTIVE entry past its deadline is
-- EXPIRED even before an admission round removes it.
local function status(token, now, opens)
  local rank = redis.call('ZRANK', r.wait, token)
  if rank and now < opens then return 'PRE_QUEUE', 0 end
  if rank then return 'WAITING', rank + 1 end
  local deadline = tonumber(redis.call('ZSCORE', r.active, token))
  if deadline and deadline > now then return 'ACTIVE', 0 end
  -- An ACTIVE place past its lapse that no round has dropped yet ended
  -- with its turn.
  if deadline then return 'EXPIRED', 0, 'TURN_ENDED' end
  return 'EXPIRED', 0, redis.call('HGET', r.ended, token) or ''
end

-- A waiting holder asked for its status: it is present. Written only near
-- the front (within what two idle times admit at the current rate) and at
-- most every quarter of the idle time, so a long line's polls are reads: a
-- holder far back is asked to poll more often than the line moves through
-- that horizon (RoomSettings::longest_refresh_seconds), so it is seen in it
-- well before the front. PRE_QUEUE places (position 0) are near the front.
local function present(token, position, rate, now)
  if waiting_idle_ms <= 0 or position > 2 * rate * waiting_idle_ms / 1000 then return end
  local seen = tonumber(redis.call('HGET', r.seen, token))
  if seen == nil or seen < now - math.floor(waiting_idle_ms / 4) then
    redis.call('HSET', r.seen, token, now)
  end
end

-- An ACTIVE place's slot in deadlines: `hard:own`, then `:kept` while its
-- holder holds seats, then `:pick` while the pick window rule is on (with
-- kept empty when nothing is held: `hard:own::pick`) (Slot in
-- domain/src/room/parts.rs): the turn's hard deadline, when the turn
-- lapses now, when the cart does, and when the pick window ends. The
-- active set scores each place by when it lapses: its turn (the pick
-- window, if that ends first), or its cart if that lasts longer.
local function slot_of(token)
  local value = redis.call('HGET', r.deadlines, token)
  if not value then return nil end
  local hard, own, kept, pick = string.match(value, '^(%d+):(%d+):?(%d*):?(%d*)$')
  return tonumber(hard), tonumber(own), tonumber(kept), tonumber(pick)
end

local function put_slot(token, hard, own, kept, pick)
  local lapse = turn_of(own, pick)
  if kept and kept > lapse then lapse = kept end
  redis.call('ZADD', r.active, 'XX', lapse, token)
  redis.call('HSET', r.deadlines, token, slot_value(hard, own, kept, pick))
  return lapse
end

-- The holder of an ACTIVE place asked for something: its turn lapses
-- idle_ms from now, never after its hard deadline. Written only when the
-- turn would lapse within three quarters of the idle time, so a busy
-- buyer's requests are not all writes. Returns when the turn lapses now
-- (0: not ACTIVE).
local function touch(token, now)
  local score = tonumber(redis.call('ZSCORE', r.active, token))
  if not score or score <= now then return 0 end
  local hard, own, kept, pick = slot_of(token)
  if not hard then return 0 end
  if idle_ms <= 0 or hard <= now or own > now + math.floor(idle_ms * 3 / 4) then return own end
  own = lapse_at(hard, now)
  put_slot(token, hard, own, kept, pick)
  return own
end

-- When the ACTIVE place of `token` lapses for its turn, the pick window
-- included (-1 when unknown).
local function turn_end(token)
  local _, own, _, pick = slot_of(token)
  if not own then return -1 end
  return turn_of(own, pick)
end

-- A WAITING place's view of the outflow: full (1/0), moved, gap (-1 when
-- unknown); -1, -1, -1 for any other status.
local function outflow(s, capacity)
  if s ~= 'WAITING' then return -1, -1, -1 end
  local m = redis.call('HMGET', r.policy, 'moved', 'gap')
  local full = redis.call('ZCARD', r.active) >= capacity and 1 or 0
  return full, tonumber(m[1]) or -1, tonumber(m[2]) or -1
end

-- A token's place: {status, position, capacity, rate, paused, total, sold,
-- held, opens, pre-queue start, when an ACTIVE place's turn lapses (-1),
-- why an EXPIRED place ended ('' when not known), and for a WAITING place
-- the outflow: full (1 or 0; -1 when not WAITING), moved (-1), gap (-1)}. The token names its concert and holder
-- (the app checked its seal), so a token this room no longer has is EXPIRED.
local function place(token)
  local now = now_ms()
  -- The gate's hot path: an ACTIVE token needs no admission round (waiting
  -- users' polls, joins and leaves admit; lapsed entries are read by score),
  -- so it touches only its own score and the policy.
  local deadline = tonumber(redis.call('ZSCORE', r.active, token))
  if deadline and deadline > now then
    local capacity, rate, paused = policy()
    local total, sold, held = stock(now)
    return {'ACTIVE', 0, capacity, rate, paused and 1 or 0, total, sold, held, -1, -1,
      turn_end(token), '', -1, -1, -1}
  end
  local capacity, rate, paused, opens, pre = admit(now)
  local s, position, ended = status(token, now, opens)
  if s ~= 'ACTIVE' and s ~= 'EXPIRED' then present(token, position, rate, now) end
  local total, sold, held = stock(now)
  local turn = s == 'ACTIVE' and turn_end(token) or -1
  local full, at, gap = outflow(s, capacity)
  return {s, position, capacity, rate, paused, total, sold, held, opens, pre, turn, ended or '', full, at, gap}
end

