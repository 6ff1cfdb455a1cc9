-- A concert is created unlisted and listed only once its waiting room has
-- been told its seats and its scheduled opening: until then no buyer finds
-- it or joins its room, so a room never opens before its sale (see
-- frontrow_application::sales). Concerts that exist already are listed.
ALTER TABLE concerts ADD COLUMN listed BIGINT NOT NULL DEFAULT 1;
-- The operator's Idempotency-Key for the create: a retry finds the concert
-- it made instead of making a second one. NULL: created without a key.
ALTER TABLE concerts ADD COLUMN create_key VARCHAR(100) NULL;
CREATE UNIQUE INDEX concerts_create_key ON concerts (create_key);
