-- A payment as one call: the whole transaction runs inside the server, so a
-- payment costs one round trip instead of eight (BEGIN, six statements,
-- COMMIT). The rules are the same conditional statements the SQLite path
-- runs one by one (adapters/src/sql/payments.rs), in the same lock order:
-- reservation, user, seat. Any refusal rolls everything back and names
-- itself; any error rolls back and is raised again, so a deadlock still
-- reaches the caller's retry.
--
-- The event's envelope comes from the application with paymentId 0; the
-- payment's id is set into it here, so the event format stays defined in one
-- place (adapters/src/events.rs).
--
-- Answers one row: outcome ('PAID', 'NOT_HELD', 'INSUFFICIENT_POINTS',
-- 'HOLD_EXPIRED'), payment id, balance after, seat version.
CREATE PROCEDURE frontrow_pay(
    IN p_reservation BIGINT,
    IN p_user BIGINT,
    IN p_price BIGINT,
    IN p_schedule BIGINT,
    IN p_seat BIGINT,
    IN p_now BIGINT,
    IN p_event_id CHAR(32),
    IN p_event_type VARCHAR(64),
    IN p_event_key VARCHAR(100),
    IN p_payload VARCHAR(4000)
)
MODIFIES SQL DATA
pay: BEGIN
    DECLARE v_balance BIGINT;
    DECLARE v_version BIGINT;
    DECLARE v_payment BIGINT;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    UPDATE reservations SET status = 'CONFIRMED', updated_at_ms = p_now
     WHERE id = p_reservation AND user_id = p_user AND status = 'HELD'
       AND hold_expires_at_ms > p_now;
    IF ROW_COUNT() <> 1 THEN
        ROLLBACK;
        SELECT 'NOT_HELD', 0, 0, 0;
        LEAVE pay;
    END IF;

    -- Invariant: a balance never goes below zero, decided by this statement.
    UPDATE users SET balance = LAST_INSERT_ID(balance - p_price)
     WHERE id = p_user AND balance >= p_price;
    IF ROW_COUNT() <> 1 THEN
        ROLLBACK;
        SELECT 'INSUFFICIENT_POINTS', 0, 0, 0;
        LEAVE pay;
    END IF;
    SET v_balance = LAST_INSERT_ID();

    -- Invariant: only the live hold of this reservation becomes a sale.
    UPDATE seats SET sold = 1, held_until_ms = NULL, version = LAST_INSERT_ID(version + 1)
     WHERE schedule_id = p_schedule AND seat_number = p_seat AND reservation_id = p_reservation
       AND sold = 0 AND held_until_ms > p_now;
    IF ROW_COUNT() <> 1 THEN
        ROLLBACK;
        SELECT 'HOLD_EXPIRED', 0, 0, 0;
        LEAVE pay;
    END IF;
    SET v_version = LAST_INSERT_ID();

    INSERT INTO payments (reservation_id, user_id, amount, balance_after, created_at_ms)
    VALUES (p_reservation, p_user, p_price, v_balance, p_now);
    SET v_payment = LAST_INSERT_ID();

    INSERT INTO point_ledger (user_id, delta, balance_after, reason, payment_id, created_at_ms)
    VALUES (p_user, -p_price, v_balance, 'PAYMENT', v_payment, p_now);

    INSERT INTO outbox (event_id, event_type, event_key, payload, occurred_at_ms)
    VALUES (p_event_id, p_event_type, p_event_key,
            JSON_SET(p_payload, '$.data.paymentId', v_payment), p_now);
    COMMIT;
    SELECT 'PAID', v_payment, v_balance, v_version;
END
