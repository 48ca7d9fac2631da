-- OpenID Connect: the nonce of the authorization request, echoed in the
-- ID token that the code's redemption returns (OIDC Core §3.1.2.1).
ALTER TABLE auth_codes ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
