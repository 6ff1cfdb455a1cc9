-- A hold as one call, like a payment (0004_pay_procedure.sql): the same
-- statements the SQLite path runs one by one (adapters/src/sql/
-- reservations.rs), in the same lock order (the user's row, then the seat),
-- inside the server. Any refusal rolls back and names itself; any error
-- rolls back and is raised again, so a deadlock reaches the caller's retry.
--
-- The event's envelope comes from the application with reservationId 0 and
-- its key without the id (`p_event_key_prefix`); the reservation's id is set
-- into both here, so the event format stays defined in adapters/src/events.rs.
--
-- Answers one row: outcome ('HELD', 'NO_USER', 'LIMIT', 'TAKEN'),
-- reservation id, seat version.
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
        ROLLBACK;
        SELECT 'LIMIT', 0, 0;
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
