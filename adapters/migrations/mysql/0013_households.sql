-- Households (domain/src/household.rs): an account belongs to the
-- household of the network it signed up from and the window it signed up
-- in; all accounts of one household share a seat limit per schedule.
-- One row per (network, window start), found or made in the sign-up's
-- transaction. Accounts made before this migration, or with no known
-- address, have no household (NULL): only their own limit applies.
CREATE TABLE households (
    id              BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    network_key     VARCHAR(64) NOT NULL,
    window_start_ms BIGINT      NOT NULL,
    UNIQUE KEY households_by_network (network_key, window_start_ms)
) ENGINE = InnoDB;

-- The household's count walks its users by this index, then each user's
-- reservations of the schedule by reservations_by_user.
ALTER TABLE users ADD COLUMN household_id BIGINT NULL,
    ADD INDEX users_by_household (household_id);

-- frontrow_hold again (0011_seat_prices_and_group_holds.sql says the rest),
-- with the household's limit beside the user's: p_household_limit (0: off)
-- seats of the schedule for every account of the user's household
-- together, decided under the household's row lock after the user's; a
-- refusal answers 'HOUSEHOLD', after 'LIMIT' and before 'COVER', and, like
-- them, names a taken seat first.
DROP PROCEDURE IF EXISTS frontrow_hold;
CREATE PROCEDURE frontrow_hold(
    IN p_user BIGINT,
    IN p_schedule BIGINT,
    IN p_concert BIGINT,
    IN p_seats TEXT,
    IN p_now BIGINT,
    IN p_until BIGINT,
    IN p_uncovered_until BIGINT,
    IN p_limit BIGINT,
    IN p_household_limit BIGINT,
    IN p_event_ids TEXT,
    IN p_event_type VARCHAR(64),
    IN p_event_key_prefix VARCHAR(100),
    IN p_payloads MEDIUMTEXT
)
MODIFIES SQL DATA
hold: BEGIN
    DECLARE v_count BIGINT DEFAULT JSON_LENGTH(p_seats);
    DECLARE v_i BIGINT DEFAULT 0;
    DECLARE v_seat BIGINT;
    DECLARE v_price BIGINT;
    DECLARE v_total BIGINT DEFAULT 0;
    DECLARE v_taken BIGINT;
    DECLARE v_free BIGINT DEFAULT 0;
    DECLARE v_balance BIGINT;
    DECLARE v_reserved BIGINT;
    DECLARE v_uncovered BIGINT;
    DECLARE v_covered BIGINT DEFAULT 1;
    DECLARE v_until BIGINT;
    DECLARE v_refusal VARCHAR(9) DEFAULT NULL;
    DECLARE v_household BIGINT DEFAULT NULL;
    DECLARE v_household_taken BIGINT;
    DECLARE v_reservation BIGINT;
    DECLARE v_version BIGINT;
    DECLARE v_ids VARCHAR(2000) DEFAULT '';
    DECLARE v_versions VARCHAR(2000) DEFAULT '';
    DECLARE v_prices VARCHAR(2000) DEFAULT '';
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    -- The user's row lock first: one user's holds, charges and payments run
    -- one at a time, so the reads below see every earlier one.
    UPDATE users SET lock_seq = lock_seq + 1 WHERE id = p_user;
    IF ROW_COUNT() <> 1 THEN
        ROLLBACK;
        SELECT 'NO_USER', '', '', '', 0;
        LEAVE hold;
    END IF;
    -- The household's row lock next (domain/src/household.rs), when the
    -- rule is on and the user has one: two accounts of one household
    -- holding at once take it one after the other. Both reads lock, and
    -- come before the first plain read: InnoDB's snapshot is taken at the
    -- first plain read, so taken after the lock, the count below sees
    -- every hold of the household committed before it. Always after the
    -- user's lock (charges and payments take only that one): one order,
    -- no deadlock.
    IF p_household_limit > 0 THEN
        SELECT household_id INTO v_household FROM users WHERE id = p_user FOR UPDATE;
        IF v_household IS NOT NULL THEN
            SELECT id INTO v_household FROM households WHERE id = v_household FOR UPDATE;
        END IF;
    END IF;

    SELECT COUNT(*) INTO v_taken FROM reservations
     WHERE user_id = p_user AND schedule_id = p_schedule
       AND (status = 'CONFIRMED' OR (status = 'HELD' AND hold_expires_at_ms > p_now));
    IF v_taken + v_count > p_limit THEN
        SET v_refusal = 'LIMIT';
    END IF;

    IF v_refusal IS NULL AND v_household IS NOT NULL THEN
        -- Invariant: a household's accounts hold or own at most
        -- p_household_limit seats of the schedule, decided here under its
        -- row lock (users_by_household, then reservations_by_user).
        SELECT COUNT(*) INTO v_household_taken FROM users u
          JOIN reservations r ON r.user_id = u.id
         WHERE u.household_id = v_household AND r.schedule_id = p_schedule
           AND (r.status = 'CONFIRMED' OR (r.status = 'HELD' AND r.hold_expires_at_ms > p_now));
        IF v_household_taken + v_count > p_household_limit THEN
            SET v_refusal = 'HOUSEHOLD';
        END IF;
    END IF;

    IF v_refusal IS NULL THEN
        -- The group's price, from its seat rows (prices do not change once
        -- a schedule is written, so a plain read is exact).
        WHILE v_i < v_count DO
            SET v_seat = CAST(JSON_EXTRACT(p_seats, CONCAT('$[', v_i, ']')) AS SIGNED);
            SET v_price = NULL;
            SELECT price INTO v_price FROM seats
             WHERE schedule_id = p_schedule AND seat_number = v_seat;
            IF v_price IS NULL THEN
                ROLLBACK;
                SELECT 'NO_SEAT', '', '', '', 0;
                LEAVE hold;
            END IF;
            SET v_total = v_total + v_price;
            SET v_i = v_i + 1;
        END WHILE;
        SELECT balance INTO v_balance FROM users WHERE id = p_user;
        SELECT COALESCE(SUM(price), 0) INTO v_reserved FROM reservations
         WHERE user_id = p_user AND covered = 1 AND status = 'HELD' AND hold_expires_at_ms > p_now;
        IF v_total > v_balance - v_reserved THEN
            SELECT COUNT(*) INTO v_uncovered FROM reservations r
              JOIN schedules s ON s.id = r.schedule_id
             WHERE r.user_id = p_user AND r.covered = 0 AND s.concert_id = p_concert;
            IF v_count = 1 AND v_uncovered = 0 THEN
                SET v_covered = 0;
            ELSE
                SET v_refusal = 'COVER';
            END IF;
        END IF;
    END IF;
    IF v_refusal IS NOT NULL THEN
        -- The seats first: a seat that is taken is TAKEN whatever the limit
        -- or the points, as a cached seat map and SQLite answer it.
        SET v_i = 0;
        WHILE v_i < v_count DO
            SET v_seat = CAST(JSON_EXTRACT(p_seats, CONCAT('$[', v_i, ']')) AS SIGNED);
            SELECT v_free + COUNT(*) INTO v_free FROM seats
             WHERE schedule_id = p_schedule AND seat_number = v_seat AND sold = 0
               AND (held_until_ms IS NULL OR held_until_ms <= p_now);
            SET v_i = v_i + 1;
        END WHILE;
        ROLLBACK;
        IF v_free < v_count THEN
            SELECT 'TAKEN', '', '', '', 0;
        ELSE
            SELECT v_refusal, '', '', '', 0;
        END IF;
        LEAVE hold;
    END IF;

    SET v_until = IF(v_covered = 1, p_until, p_uncovered_until);
    SET v_i = 0;
    WHILE v_i < v_count DO
        SET v_seat = CAST(JSON_EXTRACT(p_seats, CONCAT('$[', v_i, ']')) AS SIGNED);
        SELECT price INTO v_price FROM seats
         WHERE schedule_id = p_schedule AND seat_number = v_seat;

        INSERT INTO reservations (user_id, schedule_id, seat_number, price, status, hold_expires_at_ms,
                                  created_at_ms, updated_at_ms, covered)
        VALUES (p_user, p_schedule, v_seat, v_price, 'HELD', v_until, p_now, p_now, v_covered);
        SET v_reservation = LAST_INSERT_ID();

        -- Invariant: a seat has at most one live hold or sale; this
        -- statement alone decides it.
        UPDATE seats SET reservation_id = v_reservation, held_until_ms = v_until,
                         version = LAST_INSERT_ID(version + 1)
         WHERE schedule_id = p_schedule AND seat_number = v_seat AND sold = 0
           AND (held_until_ms IS NULL OR held_until_ms <= p_now);
        IF ROW_COUNT() <> 1 THEN
            ROLLBACK;
            SELECT 'TAKEN', '', '', '', 0;
            LEAVE hold;
        END IF;
        SET v_version = LAST_INSERT_ID();

        INSERT INTO outbox (event_id, event_type, event_key, payload, occurred_at_ms)
        VALUES (JSON_UNQUOTE(JSON_EXTRACT(p_event_ids, CONCAT('$[', v_i, ']'))), p_event_type,
                CONCAT(p_event_key_prefix, v_reservation),
                JSON_SET(JSON_EXTRACT(p_payloads, CONCAT('$[', v_i, ']')),
                         '$.data.reservationId', v_reservation,
                         '$.data.holdExpiresAt', v_until),
                p_now);

        SET v_ids = CONCAT(v_ids, IF(v_i = 0, '', ','), v_reservation);
        SET v_versions = CONCAT(v_versions, IF(v_i = 0, '', ','), v_version);
        SET v_prices = CONCAT(v_prices, IF(v_i = 0, '', ','), v_price);
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT 'HELD', v_ids, v_versions, v_prices, v_covered;
END
