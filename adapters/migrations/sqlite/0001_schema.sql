-- frontrow schema for SQLite (the embedded default). It mirrors the MySQL
-- schema, so every query runs unchanged on both.

CREATE TABLE users (
    id            INTEGER      PRIMARY KEY AUTOINCREMENT,
    name          VARCHAR(400) NOT NULL,
    balance       BIGINT       NOT NULL DEFAULT 0,
    -- bumped to take this user's row lock: serialises one user's holds
    lock_seq      BIGINT       NOT NULL DEFAULT 0,
    created_at_ms BIGINT       NOT NULL
);

CREATE TABLE point_ledger (
    id            INTEGER     PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT      NOT NULL,
    delta         BIGINT      NOT NULL,
    balance_after BIGINT      NOT NULL,
    reason        VARCHAR(16) NOT NULL,
    payment_id    BIGINT      NULL,
    created_at_ms BIGINT      NOT NULL
);

CREATE TABLE idempotency_keys (
    user_id          BIGINT       NOT NULL,
    scope            VARCHAR(16)  NOT NULL,
    idem_key         VARCHAR(100) NOT NULL,
    request_amount   BIGINT       NOT NULL,
    response_balance BIGINT       NULL,
    created_at_ms    BIGINT       NOT NULL,
    PRIMARY KEY (user_id, scope, idem_key)
);

CREATE TABLE concerts (
    id            INTEGER      PRIMARY KEY AUTOINCREMENT,
    title         VARCHAR(800) NOT NULL,
    created_at_ms BIGINT       NOT NULL
);

CREATE TABLE schedules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    concert_id   BIGINT NOT NULL,
    starts_at_ms BIGINT NOT NULL,
    seat_count   BIGINT NOT NULL,
    price        BIGINT NOT NULL
);

CREATE TABLE seats (
    schedule_id    BIGINT NOT NULL,
    seat_number    BIGINT NOT NULL,
    reservation_id BIGINT NULL,
    held_until_ms  BIGINT NULL,
    sold           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (schedule_id, seat_number)
);

CREATE TABLE reservations (
    id                 INTEGER     PRIMARY KEY AUTOINCREMENT,
    user_id            BIGINT      NOT NULL,
    schedule_id        BIGINT      NOT NULL,
    seat_number        BIGINT      NOT NULL,
    price              BIGINT      NOT NULL,
    status             VARCHAR(16) NOT NULL,
    hold_expires_at_ms BIGINT      NOT NULL,
    created_at_ms      BIGINT      NOT NULL,
    updated_at_ms      BIGINT      NOT NULL
);

CREATE TABLE payments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    reservation_id BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    balance_after  BIGINT NOT NULL,
    created_at_ms  BIGINT NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER      PRIMARY KEY AUTOINCREMENT,
    event_id        CHAR(32)     NOT NULL,
    event_type      VARCHAR(64)  NOT NULL,
    event_key       VARCHAR(100) NOT NULL,
    payload         TEXT         NOT NULL,
    occurred_at_ms  BIGINT       NOT NULL,
    published_at_ms BIGINT       NULL
);

CREATE INDEX ledger_by_user ON point_ledger (user_id, id);
CREATE INDEX schedules_by_concert ON schedules (concert_id, starts_at_ms);
CREATE INDEX reservations_by_user ON reservations (user_id, schedule_id, status);
CREATE INDEX reservations_due ON reservations (status, hold_expires_at_ms);
-- one payment per reservation: paying twice charges once
CREATE UNIQUE INDEX payments_one_per_reservation ON payments (reservation_id);
CREATE UNIQUE INDEX outbox_event_id ON outbox (event_id);
CREATE INDEX outbox_unpublished ON outbox (published_at_ms, id);
