-- Pending codes are bounded per party, not per client: per user for
-- authorization codes, per requesting address for device codes.
ALTER TABLE device_codes ADD COLUMN requester TEXT NOT NULL DEFAULT '';
CREATE INDEX device_codes_requester ON device_codes(client_id, requester, status, expires_at);
CREATE INDEX auth_codes_user ON auth_codes(client_id, user_id, expires_at);
-- The server-wide backstops count live codes of every client.
CREATE INDEX device_codes_pending ON device_codes(status, expires_at);
CREATE INDEX auth_codes_expires ON auth_codes(expires_at);
