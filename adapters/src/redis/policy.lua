-- ARGV[7] capacity, ARGV[8] admissions per second, ARGV[9] paused (1 or 0).
redis.call('HSET', r.policy, 'capacity', ARGV[7], 'rate', ARGV[8], 'paused', ARGV[9])
return 1
