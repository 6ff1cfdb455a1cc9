-- ARGV[1] token. Ends the place and lets the next user in at once.
local token = ARGV[1]
redis.call('ZREM', r.wait, token)
redis.call('ZREM', r.active, token)
redis.call('HDEL', r.seen, token)
redis.call('HDEL', r.joined, token)
redis.call('HDEL', r.deadlines, token)
admit(now_ms())
return 1
