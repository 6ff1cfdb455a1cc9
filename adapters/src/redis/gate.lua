-- ARGV[1] token; KEYS[13] a schedule's seat-map version (the concert's tag).
-- Every seat read and hold needs both answers; one script makes them one
-- round trip.
return {tonumber(redis.call('GET', KEYS[13])) or 0, place(ARGV[1])}
