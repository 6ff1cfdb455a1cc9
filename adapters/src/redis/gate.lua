-- ARGV[2] token, ARGV[8] a schedule's seat-map version key. Every seat read
-- and hold needs both answers; one script makes them one round trip.
return {tonumber(redis.call('GET', ARGV[8])) or 0, place(ARGV[2])}
