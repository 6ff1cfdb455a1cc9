-- frontrow_hold again (0006_hold_procedure.sql), with one change: a buyer
-- at the seat limit who asks for a seat that is taken is told TAKEN, not
-- LIMIT. The seat comes first, then the limit, on every path: SQLite's
-- statements (adapters/src/sql/reservations.rs) and the application's
-- cached seat map, which turns a taken seat away before any store is asked,
-- already answered so; this procedure alone answered LIMIT (found by the
-- stores' spec, tests/tests/spec). The seat is read only on the way to a
-- refusal, so a granted hold costs what it did.
--
-- Answers one row: outcome ('HELD', 'NO_USER', 'LIMIT', 'TAKEN'),
-- reservation id, seat version.
DROP PROCEDURE IF EXISTS frontrow_hold;
CREATE PROCEDURE frontrow_hold(
    IN p_user BIGINT,
    IN p_schedule BIGINT,
    IN p_seat BIGINT,
    IN p_price BIGINT,
    IN p_now BIGINT,
    IN p_until BIGINT,
    IN p_limit BIGINT,
    IN p_event_id CHAR(32),
    IN p_event_type VARCHAR(64),
    IN p_event_key_prefix VARCHAR(100),
    IN p_payload VARCHAR(4000)
)
MODIFIES SQL DATA
hold: BEGIN
    DECLARE v_taken BIGINT;
    DECLARE v_reservation BIGINT;
    DECLARE v_version BIGINT;
    DECLARE v_free BIGINT;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    -- The user's row lock first: one user's holds run one at a time, so the
    -- count below sees every earlier one.
    UPDATE users SET lock_seq = lock_seq + 1 WHERE id = p_user;
    IF ROW_COUNT() <> 1 THEN
        ROLLBACK;
        SELECT 'NO_USER', 0, 0;
        LEAVE hold;
    END IF;

    SELECT COUNT(*) INTO v_taken FROM reservations
     WHERE user_id = p_user AND schedule_id = p_schedule
       AND (status = 'CONFIRMED' OR (status = 'HELD' AND hold_expires_at_ms > p_now));
    IF v_taken >= p_limit THEN
        -- The seat first, then the limit: a seat that is taken is TAKEN
        -- whatever the limit, as a cached seat map and SQLite answer it.
        SELECT COUNT(*) INTO v_free FROM seats
         WHERE schedule_id = p_schedule AND seat_number = p_seat AND sold = 0
           AND (held_until_ms IS NULL OR held_until_ms <= p_now);
        ROLLBACK;
        IF v_free = 0 THEN
            SELECT 'TAKEN', 0, 0;
        ELSE
            SELECT 'LIMIT', 0, 0;
        END IF;
        LEAVE hold;
    END IF;

    INSERT INTO reservations (user_id, schedule_id, seat_number, price, status, hold_expires_at_ms,
                              created_at_ms, updated_at_ms)
    VALUES (p_user, p_schedule, p_seat, p_price, 'HELD', p_until, p_now, p_now);
    SET v_reservation = LAST_INSERT_ID();

    -- Invariant: a seat has at most one live hold or sale; this statement
    -- alone decides it.
    UPDATE seats SET reservation_id = v_reservation, held_until_ms = p_until,
                     version = LAST_INSERT_ID(version + 1)
     WHERE schedule_id = p_schedule AND seat_number = p_seat AND sold = 0
       AND (held_until_ms IS NULL OR held_until_ms <= p_now);
    IF ROW_COUNT() <> 1 THEN
        ROLLBACK;
        SELECT 'TAKEN', 0, 0;
        LEAVE hold;
    END IF;
    SET v_version = LAST_INSERT_ID();

    INSERT INTO outbox (event_id, event_type, event_key, payload, occurred_at_ms)
    VALUES (p_event_id, p_event_type, CONCAT(p_event_key_prefix, v_reservation),
            JSON_SET(p_payload, '$.data.reservationId', v_reservation), p_now);
    COMMIT;
    SELECT 'HELD', v_reservation, v_version;
END
