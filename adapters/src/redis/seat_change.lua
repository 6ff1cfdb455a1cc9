-- Appends one committed seat change to its schedule's log and applies it to
-- the concert's stock, atomically. Every key comes in KEYS:
-- KEYS[1] the schedule's version counter, KEYS[2] the schedule's log (ZSET
-- scored by version), KEYS[3] the concert's stock (HASH total, sold),
-- KEYS[4] its live holds (ZSET schedule:seat -> deadline), KEYS[5] its
-- seats' versions (HASH schedule:seat -> seat version).
-- ARGV[1] the change as the log stores it, ARGV[2] schedule:seat,
-- ARGV[3] kind (A available, H held, S sold), ARGV[4] hold deadline (ms),
-- ARGV[5] seat version, ARGV[6] how many changes the log keeps.
local version
if redis.call('EXISTS', KEYS[1]) == 1 then
  version = redis.call('INCR', KEYS[1])
else
  -- A counter that does not exist (open_sale creates it): a schedule from
  -- before the log, or a Redis that lost its data. Start above any version
  -- an instance may already hold (ms * 1000), so every reader finds a gap
  -- and reloads instead of trusting a reset log.
  local t = redis.call('TIME')
  -- string.format('%d'): Lua would print a 16-digit number as 1.7e+15.
  version = tonumber(t[1]) * 1000000 + math.floor(tonumber(t[2]) / 1000) * 1000
  redis.call('SET', KEYS[1], string.format('%d', version))
end
local text = string.format('%d', version)
redis.call('ZADD', KEYS[2], text, text .. ':' .. ARGV[1])
local keep = tonumber(ARGV[6])
if version % 256 == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', version - keep))
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local seat, kind, seat_version = ARGV[2], ARGV[3], tonumber(ARGV[5])
  local known = tonumber(redis.call('HGET', KEYS[5], seat)) or -1
  if seat_version > known then
    redis.call('HSET', KEYS[5], seat, seat_version)
    if kind == 'H' then
      redis.call('ZADD', KEYS[4], ARGV[4], seat)
    else
      redis.call('ZREM', KEYS[4], seat)
      if kind == 'S' then redis.call('HINCRBY', KEYS[3], 'sold', 1) end
    end
  end
end
return version
