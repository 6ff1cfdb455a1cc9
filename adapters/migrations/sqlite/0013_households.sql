-- Households (see the MySQL migration of the same number): one row per
-- (network, window start); users.household_id NULL for accounts made
-- before, or with no known address.
CREATE TABLE households (
    id              INTEGER     PRIMARY KEY AUTOINCREMENT,
    network_key     VARCHAR(64) NOT NULL,
    window_start_ms BIGINT      NOT NULL
);
CREATE UNIQUE INDEX households_by_network ON households (network_key, window_start_ms);

ALTER TABLE users ADD COLUMN household_id BIGINT NULL REFERENCES households (id);
CREATE INDEX users_by_household ON users (household_id);
