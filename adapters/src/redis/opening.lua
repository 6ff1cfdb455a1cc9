-- ARGV[11] opens (epoch ms; -1 clears), ARGV[12] minutes of pre-queue before it.
if tonumber(ARGV[11]) < 0 then
  redis.call('HDEL', r.policy, 'opens', 'preq')
else
  redis.call('HSET', r.policy, 'opens', ARGV[11], 'preq', ARGV[12])
end
return 1
