-- ARGV[8] capacity, ARGV[9] admissions per second, ARGV[10] paused (1 or 0).
redis.call('HSET', r.policy, 'capacity', ARGV[8], 'rate', ARGV[9], 'paused', ARGV[10])
return 1
