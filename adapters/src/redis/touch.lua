-- ARGV[1] token. The holder of an ACTIVE place asked for something: it
-- lapses idle_ms from now (never after its hard deadline, kept in
-- deadlines).
if idle_ms <= 0 then return 0 end
local token = ARGV[1]
local deadlines = redis.call('HGET', r.deadlines, token)
local hard = deadlines and tonumber(string.match(deadlines, '^(%d+)'))
if not hard then return 0 end
local now = now_ms()
-- A hard deadline already past: leave the place as it is.
if hard <= now then return 0 end
local score = tonumber(redis.call('ZSCORE', r.active, token))
if not score or score <= now then return 0 end
local lapse = lapse_at(hard, now)
redis.call('ZADD', r.active, 'XX', lapse, token)
redis.call('HSET', r.deadlines, token, hard .. ':' .. lapse)
return 1
