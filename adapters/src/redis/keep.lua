-- ARGV[1] token, ARGV[11] when the holder's cart lapses (epoch ms; 0: no
-- cart). While its holder holds seats an ACTIVE place lapses no earlier
-- than the cart, and its pick window runs from the cart's end (Room::keep in
-- domain/src/room). Answers when the place
-- lapses now (0: not ACTIVE; a cart does not bring an ended place back).
local now = now_ms()
local token = ARGV[1]
local score = tonumber(redis.call('ZSCORE', r.active, token))
if not score or score <= now then return 0 end
local hard, own, was, pick = slot_of(token)
if not hard then return 0 end
local kept = tonumber(ARGV[11])
if kept <= 0 then kept = nil end
-- The pick window opens again where the cart ends: at the cart's deadline
-- while it lives, now for a cart emptied now (paid or released), or where
-- a lapsed one ended; a place that held nothing keeps its window.
local ends = kept
if not ends and was then ends = math.min(was, now) end
if ends then pick = pick_window(ends) end
return put_slot(token, hard, own, kept, pick)
