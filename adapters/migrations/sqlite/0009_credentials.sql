-- Accounts that sign in with a name and a password, and the sessions that
-- every access token names (signing out ends one). Mirrors MySQL's.

CREATE TABLE credentials (
    user_id       INTEGER      NOT NULL PRIMARY KEY,
    -- the name in lower case (UserName::sign_in_key); SQLite compares
    -- text byte for byte by default
    name_key      VARCHAR(400) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,
    created_at_ms BIGINT       NOT NULL
);

CREATE TABLE sessions (
    -- AUTOINCREMENT: an id is never issued twice, even after deletes
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT  NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    ended_at_ms   BIGINT  NULL
);
