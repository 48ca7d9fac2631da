-- Users log in with a password kept only as a bcrypt hash.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Generated secrets and signing keys, so tokens survive a restart.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- A family is one login session: every refresh token rotated from one login.
CREATE TABLE families (
    id            TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id),
    client_id     TEXT    NOT NULL DEFAULT '',
    scope         TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT    NOT NULL DEFAULT ''
);

-- Only a SHA-256 of each refresh token is kept, never the token itself.
-- Lookups go by jti (the token's claim) and then compare the hash, so the
-- hash needs no index of its own.
CREATE TABLE refresh_tokens (
    jti        TEXT    PRIMARY KEY,
    family_id  TEXT    NOT NULL REFERENCES families(id),
    token_hash BLOB    NOT NULL,
    parent_jti TEXT    NOT NULL DEFAULT '',
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY, -- rowid: events are never deleted, so IDs only grow
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    username  TEXT    NOT NULL DEFAULT '',
    family_id TEXT    NOT NULL DEFAULT '',
    jti       TEXT    NOT NULL DEFAULT '',
    reason    TEXT    NOT NULL DEFAULT ''
);
