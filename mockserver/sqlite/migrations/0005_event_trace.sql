-- Events carry the trace of the request that caused them (the scenario
-- runner's Tokenlab-Trace header), so that a scenario on a shared server
-- can read its own events only.
ALTER TABLE events ADD COLUMN trace TEXT NOT NULL DEFAULT '';
CREATE INDEX events_trace ON events(trace, id) WHERE trace <> '';
