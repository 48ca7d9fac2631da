-- Events carry the OAuth client whose session (or request) caused them, so
-- that a scenario putting an app under test can count the events of the
-- app's client: the app's own requests carry no Tokenlab-Trace header.
ALTER TABLE events ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
CREATE INDEX events_client ON events(client_id, id) WHERE client_id <> '';
