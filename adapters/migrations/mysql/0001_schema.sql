-- frontrow schema for MySQL 8 / MariaDB 10.11. Times are epoch milliseconds
-- (BIGINT) so the same queries run unchanged on SQLite.

CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name          VARCHAR(400) NOT NULL,
    balance       BIGINT       NOT NULL DEFAULT 0,
    -- bumped to take this user's row lock: serialises one user's holds
    lock_seq      BIGINT       NOT NULL DEFAULT 0,
    created_at_ms BIGINT       NOT NULL
) ENGINE = InnoDB;

CREATE TABLE point_ledger (
    id            BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id       BIGINT      NOT NULL,
    delta         BIGINT      NOT NULL,
    balance_after BIGINT      NOT NULL,
    reason        VARCHAR(16) NOT NULL,
    payment_id    BIGINT      NULL,
    created_at_ms BIGINT      NOT NULL,
    INDEX ledger_by_user (user_id, id)
) ENGINE = InnoDB;

CREATE TABLE idempotency_keys (
    user_id          BIGINT       NOT NULL,
    scope            VARCHAR(16)  NOT NULL,
    idem_key         VARCHAR(100) NOT NULL,
    request_amount   BIGINT       NOT NULL,
    response_balance BIGINT       NULL,
    created_at_ms    BIGINT       NOT NULL,
    PRIMARY KEY (user_id, scope, idem_key)
) ENGINE = InnoDB;

CREATE TABLE concerts (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    title         VARCHAR(800) NOT NULL,
    created_at_ms BIGINT       NOT NULL
) ENGINE = InnoDB;

CREATE TABLE schedules (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    concert_id   BIGINT NOT NULL,
    starts_at_ms BIGINT NOT NULL,
    seat_count   BIGINT NOT NULL,
    price        BIGINT NOT NULL,
    INDEX schedules_by_concert (concert_id, starts_at_ms)
) ENGINE = InnoDB;

CREATE TABLE seats (
    schedule_id    BIGINT NOT NULL,
    seat_number    BIGINT NOT NULL,
    reservation_id BIGINT NULL,
    held_until_ms  BIGINT NULL,
    sold           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (schedule_id, seat_number)
) ENGINE = InnoDB;

CREATE TABLE reservations (
    id                 BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id            BIGINT      NOT NULL,
    schedule_id        BIGINT      NOT NULL,
    seat_number        BIGINT      NOT NULL,
    price              BIGINT      NOT NULL,
    status             VARCHAR(16) NOT NULL,
    hold_expires_at_ms BIGINT      NOT NULL,
    created_at_ms      BIGINT      NOT NULL,
    updated_at_ms      BIGINT      NOT NULL,
    INDEX reservations_by_user (user_id, schedule_id, status),
    INDEX reservations_due (status, hold_expires_at_ms)
) ENGINE = InnoDB;

CREATE TABLE payments (
    id             BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    reservation_id BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    amount         BIGINT NOT NULL,
    balance_after  BIGINT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    -- one payment per reservation: paying twice charges once
    UNIQUE KEY payments_one_per_reservation (reservation_id)
) ENGINE = InnoDB;

CREATE TABLE outbox (
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id        CHAR(32)     NOT NULL,
    event_type      VARCHAR(64)  NOT NULL,
    event_key       VARCHAR(100) NOT NULL,
    payload         VARCHAR(4000) NOT NULL, -- TEXT would decode as BLOB through sqlx Any
    occurred_at_ms  BIGINT       NOT NULL,
    published_at_ms BIGINT       NULL,
    UNIQUE KEY outbox_event_id (event_id),
    INDEX outbox_unpublished (published_at_ms, id)
) ENGINE = InnoDB;
