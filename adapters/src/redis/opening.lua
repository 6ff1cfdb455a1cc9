-- ARGV[7] opens (epoch ms; -1 clears), ARGV[8] minutes of pre-queue before it.
if tonumber(ARGV[7]) < 0 then
  redis.call('HDEL', r.policy, 'opens', 'preq')
else
  redis.call('HSET', r.policy, 'opens', ARGV[7], 'preq', ARGV[8])
end
return 1
