-- RFC 7591 dynamic registration: a registered client has registered_at
-- and its client_name; the configuration's sync at start-up leaves such
-- clients alone (configured clients have NULL).
ALTER TABLE clients ADD COLUMN registered_at INTEGER;
ALTER TABLE clients ADD COLUMN client_name TEXT NOT NULL DEFAULT '';
