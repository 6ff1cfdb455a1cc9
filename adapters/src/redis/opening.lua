-- ARGV[10] opens (epoch ms; -1 clears), ARGV[11] minutes of pre-queue before it.
if tonumber(ARGV[10]) < 0 then
  redis.call('HDEL', r.policy, 'opens', 'preq')
else
  redis.call('HSET', r.policy, 'opens', ARGV[10], 'preq', ARGV[11])
end
return 1
