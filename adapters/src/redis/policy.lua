-- ARGV[10] capacity, ARGV[11] admissions per second, ARGV[12] paused (1 or
-- 0). The controller's rate stays: the new rate is its ceiling at once.
redis.call('HSET', r.policy, 'capacity', ARGV[10], 'rate', ARGV[11], 'paused', ARGV[12])
return 1
