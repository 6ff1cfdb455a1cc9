-- ARGV[2] concert, ARGV[6] capacity, ARGV[7] admissions per second,
-- ARGV[8] paused (1 or 0). Written here so that only room() spells the keys.
redis.call('HSET', room(ARGV[2]).policy, 'capacity', ARGV[6], 'rate', ARGV[7], 'paused', ARGV[8])
return 1
