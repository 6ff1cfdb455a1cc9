-- GCRA for one limit and one subject: a checked copy of
-- frontrow_domain::rate::decide (the spec suite compares them step by step).
-- KEYS[1]: the subject's TAT (ms), expiring when the budget is full again.
-- ARGV: now (ms), interval (ms), period (ms), take (1) or peek (0).
-- Returns {1, remaining, reset_ms} or {0, retry_after_ms}.
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  tat = math.max(tonumber(stored), now)
end
local after = tat + interval
local ahead = after - now
if ahead > period then
  return {0, ahead - period}
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], after, 'PX', ahead)
end
return {1, math.floor((period - ahead) / interval), ahead}
