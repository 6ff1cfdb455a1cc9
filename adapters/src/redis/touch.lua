-- ARGV[1] token. The holder of an ACTIVE place asked for something (see
-- touch() in prelude.lua). Answers when the place lapses now (0: not
-- ACTIVE), which the instance remembers to skip touches not yet due.
return touch(ARGV[1], now_ms())
