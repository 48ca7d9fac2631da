-- The pruner finds the newest security events (reuse_detected, ...) by kind.
CREATE INDEX events_kind ON events(kind, id);
