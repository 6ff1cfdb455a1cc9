-- Accounts that sign in with a name and a password, and the sessions that
-- every access token names (signing out ends one).

CREATE TABLE credentials (
    user_id       BIGINT         NOT NULL PRIMARY KEY,
    -- the name in lower case (UserName::sign_in_key), compared byte for
    -- byte: VARBINARY, so no collation folds two different names together
    name_key      VARBINARY(400) NOT NULL,
    -- a PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash
    password_hash VARCHAR(255)   NOT NULL,
    created_at_ms BIGINT         NOT NULL,
    UNIQUE KEY credentials_by_name (name_key)
) ENGINE = InnoDB;

CREATE TABLE sessions (
    id            BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id       BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    -- set once, by sign-out; a token of an ended session is refused
    ended_at_ms   BIGINT NULL
) ENGINE = InnoDB;
