-- Vendor presets (issue 16): a refresh token revoked on its own (RFC 7009
-- at Cognito and zitadel revokes the token, not the session), how often a
-- spent token was replayed inside its grace (Keycloak's Refresh Token Max
-- Reuse), and, per family, when its access tokens were revoked without
-- the family (a token-only revocation that kills access tokens too).
ALTER TABLE refresh_tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE refresh_tokens ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
ALTER TABLE families ADD COLUMN access_revoked_at INTEGER;
