-- ARGV[2] token. The holder of an ACTIVE place asked for something: it
-- lapses idle_ms from now (never after its hard deadline, kept in act:).
if idle_ms <= 0 then return 0 end
local token = ARGV[2]
local owner = redis.call('GET', prefix .. 'tok:' .. token)
local hard = tonumber(redis.call('GET', prefix .. 'act:' .. token))
if not owner or not hard then return 0 end
local r = room(string.match(owner, '^(%d+):'))
local now = now_ms()
local score = tonumber(redis.call('ZSCORE', r.active, token))
if not score or score <= now then return 0 end
local lapse = lapse_at(hard, now)
redis.call('ZADD', r.active, 'XX', lapse, token)
redis.call('PEXPIREAT', prefix .. 'act:' .. token, lapse)
return 1
