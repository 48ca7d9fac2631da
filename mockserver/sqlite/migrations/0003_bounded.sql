-- Identical rejections within a second share one row: count says how many.
ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;

-- /admin/sessions pages by (created_at, id); retention finds ended families.
CREATE INDEX families_created ON families(created_at, id);
CREATE INDEX families_expires ON families(expires_at);
