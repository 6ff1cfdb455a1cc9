-- ARGV[11] capacity, ARGV[12] admissions per second, ARGV[13] paused (1 or
-- 0). The controller's rate stays: the new rate is its ceiling at once.
redis.call('HSET', r.policy, 'capacity', ARGV[11], 'rate', ARGV[12], 'paused', ARGV[13])
return 1
