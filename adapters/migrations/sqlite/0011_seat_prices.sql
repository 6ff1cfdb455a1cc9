-- A price per seat: what a hold of the seat costs, read from the seat row
-- in the hold's transaction (the database decides the price). A schedule's
-- seats start at the schedule's price; a venue layout may price them by
-- tier. Existing seats take their schedule's price.
ALTER TABLE seats ADD COLUMN price BIGINT NOT NULL DEFAULT 0;
UPDATE seats SET price = (SELECT sc.price FROM schedules sc WHERE sc.id = seats.schedule_id);

-- Holds that cost something (domain/src/hold_cost.rs): a hold records
-- whether the user's points covered it. Reserved points are computed, never
-- stored: the sum of the prices of the user's live covered holds. Holds made
-- before this migration reserved nothing.
ALTER TABLE reservations ADD COLUMN covered BIGINT NOT NULL DEFAULT 0;
