-- ARGV[2] token. Ends the place and lets the next user in at once.
local owner = redis.call('GET', prefix .. 'tok:' .. ARGV[2])
if not owner then return 0 end
local concert = string.match(owner, '^(%d+):')
local r = room(concert)
redis.call('ZREM', r.wait, ARGV[2])
redis.call('HDEL', r.seen, ARGV[2])
redis.call('HDEL', r.joined, ARGV[2])
redis.call('ZREM', r.active, ARGV[2])
redis.call('DEL', prefix .. 'act:' .. ARGV[2])
admit(r, now_ms())
return 1
