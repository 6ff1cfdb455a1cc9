-- A cart: one payment for several seats, a line per seat.
--
-- Invariant: a reservation is paid at most once, decided by this table's
-- primary key. Two payments that share a reservation cannot both commit,
-- whatever their other lines, so no seat is ever charged twice.
--
-- `payments` keeps one row per payment; its `reservation_id` is now the
-- payment's first (lowest) reservation, which keeps its unique index true
-- and today's readers of it working.
CREATE TABLE payment_lines (
    reservation_id BIGINT NOT NULL PRIMARY KEY,
    payment_id     BIGINT NOT NULL,
    schedule_id    BIGINT NOT NULL,
    seat_number    BIGINT NOT NULL,
    amount         BIGINT NOT NULL
);
CREATE INDEX payment_lines_by_payment ON payment_lines (payment_id, reservation_id);

INSERT INTO payment_lines (reservation_id, payment_id, schedule_id, seat_number, amount)
SELECT p.reservation_id, p.id, r.schedule_id, r.seat_number, p.amount
  FROM payments p JOIN reservations r ON r.id = p.reservation_id;
