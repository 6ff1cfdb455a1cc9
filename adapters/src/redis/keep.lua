-- ARGV[1] token, ARGV[10] when the holder's cart lapses (epoch ms; 0: no
-- cart). While its holder holds seats an ACTIVE place lapses no earlier
-- than the cart (Room::keep in domain/src/room). Answers when the place
-- lapses now (0: not ACTIVE; a cart does not bring an ended place back).
local now = now_ms()
local token = ARGV[1]
local score = tonumber(redis.call('ZSCORE', r.active, token))
if not score or score <= now then return 0 end
local hard, own = slot_of(token)
if not hard then return 0 end
local kept = tonumber(ARGV[10])
if kept <= 0 then kept = nil end
return put_slot(token, hard, own, kept)
