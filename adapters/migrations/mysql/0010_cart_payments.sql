-- A cart: one payment for several seats, a line per seat.
--
-- Invariant: a reservation is paid at most once, decided by this table's
-- primary key. Two payments that share a reservation cannot both commit,
-- whatever their other lines, so no seat is ever charged twice.
--
-- `payments` keeps one row per payment; its `reservation_id` is now the
-- payment's first (lowest) reservation, which keeps its unique key true and
-- today's readers of it working.
CREATE TABLE payment_lines (
    reservation_id BIGINT NOT NULL PRIMARY KEY,
    payment_id     BIGINT NOT NULL,
    schedule_id    BIGINT NOT NULL,
    seat_number    BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    INDEX payment_lines_by_payment (payment_id, reservation_id)
) ENGINE = InnoDB;

INSERT INTO payment_lines (reservation_id, payment_id, schedule_id, seat_number, amount)
SELECT p.reservation_id, p.id, r.schedule_id, r.seat_number, p.amount
  FROM payments p JOIN reservations r ON r.id = p.reservation_id;

-- Payments, of one seat or many, are now one client-side transaction
-- (adapters/src/sql/cart.rs), the same statements on both databases: a
-- procedure would have to take the cart as a JSON list and loop over it,
-- and a second copy of the rules in SQL is one more thing to keep in step.
-- The old procedure wrote no lines, so it must not be called by anyone.
DROP PROCEDURE IF EXISTS frontrow_pay;
