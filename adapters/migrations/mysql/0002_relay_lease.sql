-- One row per relay: whoever holds an unexpired lease publishes the outbox.
CREATE TABLE relay_lease (
    name     VARCHAR(64) NOT NULL PRIMARY KEY,
    holder   VARCHAR(64) NOT NULL,
    until_ms BIGINT      NOT NULL
) ENGINE = InnoDB;

INSERT INTO relay_lease (name, holder, until_ms) VALUES ('outbox', '', 0);
