-- ARGV[2] concert, ARGV[8] capacity, ARGV[9] admissions per second,
-- ARGV[10] paused (1 or 0). Written here so that only room() spells the keys.
redis.call('HSET', room(ARGV[2]).policy, 'capacity', ARGV[8], 'rate', ARGV[9], 'paused', ARGV[10])
return 1
