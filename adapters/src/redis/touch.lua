-- ARGV[2] token. The holder of an ACTIVE place asked for something: it
-- lapses idle_ms from now (never after its hard deadline, kept in act:).
if idle_ms <= 0 then return 0 end
local token = ARGV[2]
local owner = redis.call('GET', prefix .. 'tok:' .. token)
local active = redis.call('GET', prefix .. 'act:' .. token)
local hard = active and tonumber(string.match(active, '^(%d+)'))
if not owner or not hard then return 0 end
local r = room(string.match(owner, '^(%d+):'))
local now = now_ms()
-- A hard deadline already past (or a value from before `hard:lapse`):
-- leave the place as it is.
if hard <= now then return 0 end
local score = tonumber(redis.call('ZSCORE', r.active, token))
if not score or score <= now then return 0 end
local lapse = lapse_at(hard, now)
redis.call('ZADD', r.active, 'XX', lapse, token)
redis.call('SET', prefix .. 'act:' .. token, hard .. ':' .. lapse, 'PXAT', lapse)
return 1
