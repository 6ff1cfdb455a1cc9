-- Every UPDATE of a seat row bumps its version, so seat changes logged out
-- of commit order are applied in the right order by every instance.
ALTER TABLE seats ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
