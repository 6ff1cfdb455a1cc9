-- The gate's fast path, standalone (no prelude): is this token ACTIVE now,
-- by Redis's clock? KEYS[1] the room's active set, KEYS[2] its deadlines,
-- KEYS[3] (optional) a schedule's seat-map version. ARGV[1] token, ARGV[2]
-- the time to decide at, or '' for Redis's clock (see prelude.lua).
-- Answers {the place's slot (`hard:own[:kept[:pick]]`, slot_of in prelude.lua)
-- or '' when not ACTIVE, the version or 0}.
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local lapse = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
local version = 0
if KEYS[3] then version = tonumber(redis.call('GET', KEYS[3])) or 0 end
if not lapse or lapse <= now then return {'', version} end
return {redis.call('HGET', KEYS[2], ARGV[1]) or '', version}
