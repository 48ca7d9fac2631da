package mockserver

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// withPreset starts the server with a preset's policy, changed by mutate.
func withPreset(name string, mutate ...func(*Policy)) func(*Config) {
	return func(c *Config) {
		p, err := PresetPolicy(name)
		if err != nil {
			panic(err)
		}
		for _, m := range mutate {
			m(&p)
		}
		c.Policy = p
	}
}

// oauthLogin logs alice in with the password grant at /oauth/token.
func (ts *testServer) oauthLogin(tb testing.TB) (access, refresh string) {
	tb.Helper()
	r := ts.form(tb, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123", "client_id", DefaultClientID)
	if r.Status != http.StatusOK {
		tb.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	return r.str("access_token"), r.str("refresh_token")
}

func (ts *testServer) oauthRefresh(tb testing.TB, refresh string) reply {
	tb.Helper()
	return ts.form(tb, "/oauth/token", "grant_type", "refresh_token", "refresh_token", refresh, "client_id", DefaultClientID)
}

func TestPresetsAreValid(t *testing.T) {
	for _, p := range Presets() {
		if err := p.Policy.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		if p.Policy.Preset != p.Name {
			t.Errorf("%s: Policy.Preset is %q", p.Name, p.Policy.Preset)
		}
	}
	if _, err := PresetPolicy("auth1"); err == nil || !strings.Contains(err.Error(), "oidc-provider") {
		t.Errorf("unknown preset: %v", err)
	}
}

// A patch with a preset starts from the preset; its other fields override
// their part, and the full patch of a preset's policy gives it back.
func TestPolicyPatchPreset(t *testing.T) {
	name, grace := "okta", Duration(5*time.Second)
	got, err := PolicyPatch{Preset: &name, ReuseGrace: &grace}.Apply(DefaultConfig().Policy)
	if err != nil {
		t.Fatal(err)
	}
	okta, _ := PresetPolicy("okta")
	want := okta
	want.ReuseGrace = 5 * time.Second
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if back, err := got.Patch().Apply(DefaultConfig().Policy); err != nil || back != got {
		t.Errorf("full patch gives %+v, %v", back, err)
	}
	bad := "nope"
	if _, err := (PolicyPatch{Revocation: &bad}).Apply(DefaultConfig().Policy); err == nil {
		t.Error("revocation nope was accepted")
	}
}

// GracePrevious: inside the window the previous token is accepted, the
// previous-but-one is a reuse and revokes the family (Auth0's overlap).
func TestGracePreviousOnly(t *testing.T) {
	ts := newTestServer(t, withPreset("auth0", func(p *Policy) { p.ReuseGrace = 10 * time.Second }))
	_, r1 := ts.oauthLogin(t)
	r2 := ts.oauthRefresh(t, r1).str("refresh_token")
	r3 := ts.oauthRefresh(t, r2).str("refresh_token")
	if r := ts.oauthRefresh(t, r2); r.Status != http.StatusOK || r.str("refresh_token") != r3 {
		t.Fatalf("previous token in the overlap: %d %s, want 200 with the same successor", r.Status, r.Raw)
	}
	r := ts.oauthRefresh(t, r1)
	if r.Status != http.StatusForbidden || r.str("error") != "invalid_grant" || r.str("error_description") != "Unknown or invalid refresh token." {
		t.Fatalf("previous-but-one: %d %s, want Auth0's 403", r.Status, r.Raw)
	}
	if r := ts.oauthRefresh(t, r3); r.Status == http.StatusOK {
		t.Error("the family outlived the breach")
	}
}

// GraceReplays: Keycloak's Refresh Token Max Reuse.
func TestGraceReplays(t *testing.T) {
	ts := newTestServer(t, withPreset("keycloak", func(p *Policy) { p.GracePrevious, p.GraceReplays, p.ReuseDetection = true, 2, false }))
	_, r1 := ts.oauthLogin(t)
	r2 := ts.oauthRefresh(t, r1).str("refresh_token")
	for i := range 2 {
		if r := ts.oauthRefresh(t, r1); r.Status != http.StatusOK {
			t.Fatalf("replay %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := ts.oauthRefresh(t, r1)
	if r.Status != http.StatusBadRequest || r.str("error_description") != "Maximum allowed refresh token reuse exceeded" {
		t.Fatalf("third replay: %d %s", r.Status, r.Raw)
	}
	if r := ts.oauthRefresh(t, r2); r.Status != http.StatusOK {
		t.Errorf("the session did not go on: %d %s", r.Status, r.Raw)
	}
}

// Revocation of the token only (Cognito): the family goes on, the token is
// refused, and the access tokens issued up to then are refused.
func TestRevokeTokenOnly(t *testing.T) {
	ts := newTestServer(t, withPreset("cognito", func(p *Policy) { p.ReuseGrace = 0 }))
	access, r1 := ts.oauthLogin(t)
	r2 := ts.oauthRefresh(t, r1).str("refresh_token")
	if r := ts.form(t, "/oauth/revoke", "token", r1, "client_id", DefaultClientID); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	if r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(access)...); r.Status != http.StatusUnauthorized {
		t.Errorf("access token after the revocation: %d, want 401", r.Status)
	}
	if r := ts.oauthRefresh(t, r2); r.Status != http.StatusOK {
		t.Fatalf("the newest token after revoking the spent one: %d %s", r.Status, r.Raw)
	}
	_, r4 := ts.oauthLogin(t)
	ts.form(t, "/oauth/revoke", "token", r4, "client_id", DefaultClientID)
	r := ts.oauthRefresh(t, r4)
	if r.Status != http.StatusBadRequest || r.str("error_description") != "Refresh Token has been revoked" {
		t.Errorf("revoked token: %d %s", r.Status, r.Raw)
	}
	if kinds := ts.eventKinds(t); !slices.Contains(kinds, "token_revoked") || slices.Contains(kinds, "family_revoked") {
		t.Errorf("events %v, want token_revoked and no family_revoked", kinds)
	}
}

// A preset without a revocation endpoint answers 404 in JSON and names
// none in discovery; PKCE optional lets a public client leave out the
// challenge; OmitIss leaves iss out of the redirect.
func TestPresetEndpoints(t *testing.T) {
	ts := newTestServer(t, withPreset("dex"))
	r := ts.form(t, "/oauth/revoke", "token", "x", "client_id", DefaultClientID)
	if r.Status != http.StatusNotFound || r.str("error") != "not_found" {
		t.Errorf("revoke: %d %s", r.Status, r.Raw)
	}
	d := ts.do(t, http.MethodGet, "/.well-known/openid-configuration", nil)
	if _, ok := d.Body["revocation_endpoint"]; ok || d.Body["authorization_response_iss_parameter_supported"] != false {
		t.Errorf("discovery %s", d.Raw)
	}
	redirect := "http://127.0.0.1:9/callback"
	p := ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(redirect, "code_challenge", "", "code_challenge_method", "").Encode(), nil)
	loc := location(t, ts.submit(t, formOf(t, p), "username", "alice", "password", "password123", "action", "approve"))
	if loc.Query().Get("code") == "" || loc.Query().Has("iss") {
		t.Fatalf("redirect %s, want a code and no iss", loc)
	}
	tok := ts.form(t, "/oauth/token", "grant_type", "authorization_code", "code", loc.Query().Get("code"),
		"redirect_uri", redirect, "client_id", DefaultClientID)
	if tok.Status != http.StatusOK {
		t.Errorf("code without PKCE: %d %s", tok.Status, tok.Raw)
	}
}

// PKCE unsupported (--pkce unsupported): a wrong verifier is accepted.
func TestPresetPKCEUnchecked(t *testing.T) {
	ts := newTestServer(t, withPreset("permissive", func(p *Policy) { p.PKCE = PKCEUnchecked }))
	redirect := "http://127.0.0.1:9/callback"
	code := ts.authorize(t, authorizeQuery(redirect))
	tok := ts.form(t, "/oauth/token", "grant_type", "authorization_code", "code", code,
		"redirect_uri", redirect, "client_id", DefaultClientID, "code_verifier", strings.Repeat("w", 43))
	if tok.Status != http.StatusOK {
		t.Errorf("wrong verifier with pkce unsupported: %d %s", tok.Status, tok.Raw)
	}
}

// The permissive preset checks PKCE as oauth2-mock-server does: a wrong
// verifier is refused, a login without a challenge accepted.
func TestPresetPermissivePKCE(t *testing.T) {
	ts := newTestServer(t, withPreset("permissive"))
	redirect := "http://127.0.0.1:9/callback"
	code := ts.authorize(t, authorizeQuery(redirect))
	tok := ts.form(t, "/oauth/token", "grant_type", "authorization_code", "code", code,
		"redirect_uri", redirect, "client_id", DefaultClientID, "code_verifier", strings.Repeat("w", 43))
	if tok.Status != http.StatusBadRequest || tok.str("error") != "invalid_grant" {
		t.Errorf("wrong verifier at permissive: %d %s", tok.Status, tok.Raw)
	}
	p := ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(redirect, "code_challenge", "", "code_challenge_method", "").Encode(), nil)
	loc := location(t, ts.submit(t, formOf(t, p), "username", "alice", "password", "password123", "action", "approve"))
	tok = ts.form(t, "/oauth/token", "grant_type", "authorization_code", "code", loc.Query().Get("code"),
		"redirect_uri", redirect, "client_id", DefaultClientID)
	if tok.Status != http.StatusOK {
		t.Errorf("no challenge at permissive: %d %s", tok.Status, tok.Raw)
	}
}

// PUT /admin/settings with a preset sets its rules; an unknown preset or
// rule value is a 400 with the valid names, never a 5xx.
func TestAdminSettingsPreset(t *testing.T) {
	ts := newTestServer(t)
	r := ts.admin(t, http.MethodPut, "/admin/settings", map[string]any{"preset": "hydra", "reuseGrace": "2s"})
	if r.Status != http.StatusOK || r.str("preset") != "hydra" || r.str("reuseGrace") != "2s" || r.Body["reuseRevokesAccess"] != true {
		t.Fatalf("set preset: %d %s", r.Status, r.Raw)
	}
	for _, body := range []map[string]any{{"preset": "auth1"}, {"errors": "auth1"}, {"revocation": "all"}, {"pkce": "plain"}, {"graceReplays": -1}} {
		r := ts.admin(t, http.MethodPut, "/admin/settings", body)
		if r.Status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Errorf("%v: %d %s", body, r.Status, r.Raw)
		}
	}
	if ts.Policy().Preset != "hydra" {
		t.Errorf("a refused patch changed the policy: %+v", ts.Policy())
	}
}

// Revocation of a live token only (Hydra): revoking a spent token outside
// its grace is ignored (200, the newest goes on); revoking a live one, the
// current token or a spent one still inside its grace, revokes the family.
func TestRevokeLiveFamily(t *testing.T) {
	ts := newTestServer(t, withPreset("hydra"))
	_, r1 := ts.oauthLogin(t)
	r2 := ts.oauthRefresh(t, r1).str("refresh_token")
	if r := ts.form(t, "/oauth/revoke", "token", r1, "client_id", DefaultClientID); r.Status != http.StatusOK {
		t.Fatalf("revoke the spent token: %d %s", r.Status, r.Raw)
	}
	r3 := ts.oauthRefresh(t, r2)
	if r3.Status != http.StatusOK {
		t.Fatalf("the newest token after revoking the spent one: %d %s", r3.Status, r3.Raw)
	}
	ts.form(t, "/oauth/revoke", "token", r3.str("refresh_token"), "client_id", DefaultClientID)
	if r := ts.oauthRefresh(t, r3.str("refresh_token")); r.Status != http.StatusBadRequest {
		t.Errorf("the revoked current token: %d %s", r.Status, r.Raw)
	}

	graced := newTestServer(t, withPreset("hydra", func(p *Policy) { p.ReuseGrace = time.Minute }))
	_, g1 := graced.oauthLogin(t)
	g2 := graced.oauthRefresh(t, g1).str("refresh_token")
	graced.form(t, "/oauth/revoke", "token", g1, "client_id", DefaultClientID)
	if r := graced.oauthRefresh(t, g2); r.Status != http.StatusBadRequest {
		t.Errorf("the newest token after revoking a spent one inside its grace: %d %s, want the family revoked", r.Status, r.Raw)
	}
}
