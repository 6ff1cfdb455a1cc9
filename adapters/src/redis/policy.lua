-- ARGV[2] concert, ARGV[7] capacity, ARGV[8] admissions per second,
-- ARGV[9] paused (1 or 0). Written here so that only room() spells the keys.
redis.call('HSET', room(ARGV[2]).policy, 'capacity', ARGV[7], 'rate', ARGV[8], 'paused', ARGV[9])
return 1
