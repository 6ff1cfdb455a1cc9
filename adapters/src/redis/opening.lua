-- ARGV[8] opens (epoch ms; -1 clears), ARGV[9] minutes of pre-queue before it.
if tonumber(ARGV[8]) < 0 then
  redis.call('HDEL', r.policy, 'opens', 'preq')
else
  redis.call('HSET', r.policy, 'opens', ARGV[8], 'preq', ARGV[9])
end
return 1
