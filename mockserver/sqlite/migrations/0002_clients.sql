-- The client registry. A confidential client's secret is kept only as a
-- bcrypt hash (of its SHA-256, so any length works); a public client has
-- none. Lists are stored space-separated (grant types, scopes) or
-- newline-separated (redirect URIs); "loopback" in redirect_uris allows any
-- http://127.0.0.1:PORT/... or http://[::1]:PORT/... (RFC 8252 §7.3).
CREATE TABLE clients (
    id            TEXT    PRIMARY KEY,
    secret_hash   BLOB,
    grant_types   TEXT    NOT NULL,
    redirect_uris TEXT    NOT NULL DEFAULT '',
    scopes        TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

-- Authorization codes, kept as a SHA-256 only. id is a random name for
-- events. A redeemed code keeps used_at and the family it started, so a
-- second use can revoke that family (RFC 6749 §4.1.2).
CREATE TABLE auth_codes (
    code_hash    BLOB    PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    client_id    TEXT    NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    redirect_uri TEXT    NOT NULL,
    challenge    TEXT    NOT NULL DEFAULT '',
    user_id      INTEGER NOT NULL REFERENCES users(id),
    scope        TEXT    NOT NULL DEFAULT '',
    resource     TEXT    NOT NULL DEFAULT '',
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    family_id    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX auth_codes_client ON auth_codes(client_id, expires_at);

-- Device codes (RFC 8628): the device_code as a SHA-256, the user_code as
-- its 8 letters without the dash. status: pending, approved, denied,
-- redeemed, expired.
CREATE TABLE device_codes (
    code_hash   BLOB    PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    user_code   TEXT    NOT NULL UNIQUE,
    client_id   TEXT    NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL DEFAULT '',
    resource    TEXT    NOT NULL DEFAULT '',
    interval_s  INTEGER NOT NULL,
    last_poll   INTEGER,
    status      TEXT    NOT NULL DEFAULT 'pending',
    user_id     INTEGER REFERENCES users(id),
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    family_id   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX device_codes_client ON device_codes(client_id, status, expires_at);

-- RFC 8707: the resource a session's access tokens are for (their aud).
ALTER TABLE families ADD COLUMN resource TEXT NOT NULL DEFAULT '';
