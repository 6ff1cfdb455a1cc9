-- ARGV[1] token, ARGV[11] why ('PAID' or 'LEFT'). Ends the place, records
-- why for its holder's next status, and lets the next user in at once.
local token = ARGV[1]
local was_active = redis.call('ZREM', r.active, token)
local removed = redis.call('ZREM', r.wait, token) + was_active
local now = now_ms()
moved(was_active, now)
redis.call('HDEL', r.seen, token)
redis.call('HDEL', r.joined, token)
redis.call('HDEL', r.deadlines, token)
if removed > 0 then record_ending({token}, ARGV[11]) end
admit(now)
return 1
