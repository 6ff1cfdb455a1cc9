-- A cart's payment in one CALL (issue 26): the client-side transaction of
-- adapters/src/sql/payments.rs cost about 7 + 2 round trips per seat, each
-- holding the cart's row locks while it travelled. The rules are exactly
-- that transaction's, statement for statement (SQLite still runs it), and
-- the spec suite drives both against the domain's machines at every step:
--
-- 1. Every reservation, ascending (the caller sorts; two carts that share
--    one lock it in the same order and wait instead of deadlocking), goes
--    HELD -> CONFIRMED only if it is the buyer's and live. The first that
--    does not is named: 'NOT_LIVE', its id (the caller reads it to say why).
-- 2. A cart that costs something takes the buyer's row lock (holds and
--    charges take it first too), and is paid only if the balance less what
--    the buyer's other live covered holds reserve covers the total
--    (`Purse::pays`, domain/src/hold_cost.rs; this cart's lines are
--    CONFIRMED by now, so they reserve nothing): else 'POINTS'.
-- 3. Every seat is sold only by its reservation's live hold: else 'SEAT',
--    the reservation's id.
-- 4. One payment row (its reservation_id the cart's first), a line per
--    seat, one ledger entry and one outbox row, whose payload the caller
--    built with payment id 0; it is set here.
-- 5. What the buyer's cart in the concert is now: the latest deadline of
--    their live holds there (`frontrow_domain::cart::ends`), 0 for none,
--    so the caller settles the buyer's place without reading again.
--
-- p_reservations is a JSON list of ids, ascending. Answers one row:
-- outcome ('PAID', 'NOT_LIVE', 'POINTS', 'SEAT'), then for PAID the
-- payment id, the balance after, the seat versions as a comma-separated
-- list in the cart's order and the cart's end; for a refusal, the
-- reservation it names (0 for POINTS).
DROP PROCEDURE IF EXISTS frontrow_pay_cart;
CREATE PROCEDURE frontrow_pay_cart(
    IN p_user BIGINT,
    IN p_reservations TEXT,
    IN p_amount BIGINT,
    IN p_now BIGINT,
    IN p_event_id CHAR(32),
    IN p_event_type VARCHAR(64),
    IN p_event_key VARCHAR(100),
    IN p_payload MEDIUMTEXT,
    IN p_ledger_reason VARCHAR(16)
)
MODIFIES SQL DATA
pay: BEGIN
    DECLARE v_count BIGINT DEFAULT JSON_LENGTH(p_reservations);
    DECLARE v_i BIGINT DEFAULT 0;
    DECLARE v_id BIGINT;
    DECLARE v_first BIGINT;
    DECLARE v_schedule BIGINT;
    DECLARE v_seat BIGINT;
    DECLARE v_price BIGINT;
    DECLARE v_balance BIGINT;
    DECLARE v_reserved BIGINT;
    DECLARE v_payment BIGINT;
    DECLARE v_versions VARCHAR(2000) DEFAULT '';
    DECLARE v_ends BIGINT;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;

    START TRANSACTION;
    WHILE v_i < v_count DO
        SET v_id = CAST(JSON_EXTRACT(p_reservations, CONCAT('$[', v_i, ']')) AS SIGNED);
        UPDATE reservations SET status = 'CONFIRMED', updated_at_ms = p_now
         WHERE id = v_id AND user_id = p_user AND status = 'HELD' AND hold_expires_at_ms > p_now;
        IF ROW_COUNT() <> 1 THEN
            ROLLBACK;
            SELECT 'NOT_LIVE', v_id, 0, '', 0;
            LEAVE pay;
        END IF;
        SET v_i = v_i + 1;
    END WHILE;

    -- Invariant: a balance never goes below zero, decided here for the
    -- whole cart at once. A free cart spends nothing and takes no lock.
    IF p_amount > 0 THEN
        UPDATE users SET lock_seq = lock_seq + 1 WHERE id = p_user;
        SELECT balance INTO v_balance FROM users WHERE id = p_user;
        SELECT COALESCE(SUM(price), 0) INTO v_reserved FROM reservations
         WHERE user_id = p_user AND covered = 1 AND status = 'HELD' AND hold_expires_at_ms > p_now;
        IF p_amount > v_balance - v_reserved THEN
            ROLLBACK;
            SELECT 'POINTS', 0, 0, '', 0;
            LEAVE pay;
        END IF;
        UPDATE users SET balance = balance - p_amount WHERE id = p_user AND balance >= p_amount;
        IF ROW_COUNT() <> 1 THEN
            ROLLBACK;
            SELECT 'POINTS', 0, 0, '', 0;
            LEAVE pay;
        END IF;
    END IF;
    SELECT balance INTO v_balance FROM users WHERE id = p_user;

    SET v_i = 0;
    WHILE v_i < v_count DO
        SET v_id = CAST(JSON_EXTRACT(p_reservations, CONCAT('$[', v_i, ']')) AS SIGNED);
        SELECT schedule_id, seat_number INTO v_schedule, v_seat FROM reservations WHERE id = v_id;
        -- Invariant: only the live hold of this reservation becomes a sale.
        UPDATE seats SET sold = 1, held_until_ms = NULL, version = LAST_INSERT_ID(version + 1)
         WHERE schedule_id = v_schedule AND seat_number = v_seat AND reservation_id = v_id
           AND sold = 0 AND held_until_ms > p_now;
        IF ROW_COUNT() <> 1 THEN
            ROLLBACK;
            SELECT 'SEAT', v_id, 0, '', 0;
            LEAVE pay;
        END IF;
        SET v_versions = CONCAT(v_versions, IF(v_i = 0, '', ','), LAST_INSERT_ID());
        SET v_i = v_i + 1;
    END WHILE;

    SET v_first = CAST(JSON_EXTRACT(p_reservations, '$[0]') AS SIGNED);
    INSERT INTO payments (reservation_id, user_id, amount, balance_after, created_at_ms)
    VALUES (v_first, p_user, p_amount, v_balance, p_now);
    SET v_payment = LAST_INSERT_ID();

    -- Invariant: a reservation is paid at most once (the primary key of
    -- payment_lines).
    SET v_i = 0;
    WHILE v_i < v_count DO
        SET v_id = CAST(JSON_EXTRACT(p_reservations, CONCAT('$[', v_i, ']')) AS SIGNED);
        INSERT INTO payment_lines (reservation_id, payment_id, schedule_id, seat_number, amount)
        SELECT id, v_payment, schedule_id, seat_number, price FROM reservations WHERE id = v_id;
        SET v_i = v_i + 1;
    END WHILE;

    INSERT INTO point_ledger (user_id, delta, balance_after, reason, payment_id, created_at_ms)
    VALUES (p_user, -p_amount, v_balance, p_ledger_reason, v_payment, p_now);

    INSERT INTO outbox (event_id, event_type, event_key, payload, occurred_at_ms)
    VALUES (p_event_id, p_event_type, p_event_key,
            JSON_SET(p_payload, '$.data.paymentId', v_payment), p_now);

    SELECT MAX(r.hold_expires_at_ms) INTO v_ends
      FROM reservations r JOIN schedules s ON s.id = r.schedule_id
     WHERE r.user_id = p_user AND r.status = 'HELD' AND r.hold_expires_at_ms > p_now
       AND s.concert_id = (SELECT concert_id FROM schedules WHERE id = v_schedule);
    COMMIT;
    SELECT 'PAID', v_payment, v_balance, v_versions, COALESCE(v_ends, 0);
END
