package mockserver

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func (ts *testServer) registerClient(tb testing.TB, body string) reply {
	tb.Helper()
	return ts.do(tb, "POST", registerPath, body, "Content-Type", "application/json")
}

// TestRegisterPublicClient: a public client with a loopback redirect URI
// registers (unknown metadata ignored), logs in with PKCE, and is listed
// at /admin/clients; a server started again on the same database still
// knows it, though it is not in the configuration.
func TestRegisterPublicClient(t *testing.T) {
	ts := newTestServer(t)
	r := ts.registerClient(t, `{"redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none",
		"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"client_name":"MCP Inspector","logo_uri":"https://x.example/l.png"}`)
	id := r.str("client_id")
	if r.Status != 201 || !strings.HasPrefix(id, "dyn-") || r.str("client_secret") != "" || r.str("token_endpoint_auth_method") != "none" {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	redirect := "http://127.0.0.1:33418/callback"
	code := ts.authorize(t, authorizeQuery(redirect, "client_id", id))
	tok := ts.form(t, "/oauth/token", "grant_type", grantAuthorizationCode, "code", code, "redirect_uri", redirect,
		"client_id", id, "code_verifier", testVerifier)
	if tok.Status != 200 || claimsOf(t, tok.str("access_token"))["client_id"] != id {
		t.Fatalf("token as the registered client: %d %s", tok.Status, tok.Raw)
	}
	if p := ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery("http://127.0.0.1:9/other", "client_id", id).Encode(), nil); p.Status != 400 {
		t.Fatalf("a redirect URI the client did not register: %d", p.Status)
	}
	// RFC 8252 §7.3: the registered loopback URI on another port.
	if p := ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery("http://127.0.0.1:40001/callback", "client_id", id).Encode(), nil); p.Status != 200 {
		t.Fatalf("the registered loopback URI on another port: %d %s", p.Status, p.Body)
	}
	if p := ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery("http://[::1]:33418/callback", "client_id", id).Encode(), nil); p.Status != 400 {
		t.Fatalf("another loopback host is another URI: %d", p.Status)
	}
	list := ts.admin(t, "GET", "/admin/clients", nil)
	if !strings.Contains(string(list.Raw), `"id":"`+id+`"`) || !strings.Contains(string(list.Raw), `"source":"registered"`) ||
		!strings.Contains(string(list.Raw), `"name":"MCP Inspector"`) {
		t.Fatalf("/admin/clients: %s", list.Raw)
	}

	// A restart: the same database, the configuration without the client.
	again, err := New(t.Context(), ts.DB, ts.Clock, ts.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	hs := httptest.NewServer(again)
	t.Cleanup(hs.Close)
	if c, err := ts.DB.ClientByID(t.Context(), id); err != nil || c.RegisteredAt.IsZero() {
		t.Fatalf("after a restart the registered client is gone: %v", err)
	}
}

// TestRegisterConfidentialClient: without token_endpoint_auth_method the
// client is confidential (RFC 7591 §2's client_secret_basic); its secret
// is answered once, stored only as a hash, and authenticates it.
func TestRegisterConfidentialClient(t *testing.T) {
	ts := newTestServer(t)
	r := ts.registerClient(t, `{"grant_types":["client_credentials"],"client_name":"nightly"}`)
	id, secret := r.str("client_id"), r.str("client_secret")
	if r.Status != 201 || secret == "" || r.str("token_endpoint_auth_method") != "client_secret_basic" || r.Body["client_secret_expires_at"] != float64(0) {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	c, err := ts.DB.ClientByID(t.Context(), id)
	if err != nil || c.Public() || strings.Contains(string(c.SecretHash), secret) {
		t.Fatalf("stored client %+v: %v", c, err)
	}
	ok := ts.do(t, "POST", "/oauth/token", "grant_type=client_credentials", "Content-Type", formType, "Authorization", "Basic "+basicAuth(id, secret))
	if ok.Status != 200 {
		t.Fatalf("client credentials with the registered secret: %d %s", ok.Status, ok.Raw)
	}
	bad := ts.do(t, "POST", "/oauth/token", "grant_type=client_credentials", "Content-Type", formType, "Authorization", "Basic "+basicAuth(id, secret+"x"))
	if bad.Status != 401 {
		t.Fatalf("a wrong secret: %d %s", bad.Status, bad.Raw)
	}
}

// TestRegisterRefusals: RFC 7591 §3.2.2's errors for bad metadata, the
// cap, the per-address rate, and registration switched off.
func TestRegisterRefusals(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.RegistrationMax, c.RegistrationPerMinute = 2, 1000 })
	for _, tc := range []struct{ name, body, code string }{
		{"http not loopback", `{"redirect_uris":["http://app.example/cb"],"token_endpoint_auth_method":"none"}`, "invalid_redirect_uri"},
		{"localhost", `{"redirect_uris":["http://localhost:3000/cb"],"token_endpoint_auth_method":"none"}`, "invalid_redirect_uri"},
		{"fragment", `{"redirect_uris":["https://app.example/cb#x"]}`, "invalid_redirect_uri"},
		{"code without redirect", `{"token_endpoint_auth_method":"none"}`, "invalid_redirect_uri"},
		{"public client credentials", `{"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}`, "invalid_client_metadata"},
		{"implicit", `{"redirect_uris":["https://app.example/cb"],"response_types":["token"]}`, "invalid_client_metadata"},
		{"unknown auth method", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, "invalid_client_metadata"},
		{"wrong type", `{"redirect_uris":"https://app.example/cb"}`, "invalid_client_metadata"},
		{"not JSON", `redirect_uris=x`, "invalid_client_metadata"},
	} {
		if r := ts.registerClient(t, tc.body); r.Status != 400 || r.str("error") != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.Status, r.Raw, tc.code)
		}
	}
	good := `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none"}`
	for i := 0; i < 2; i++ {
		if r := ts.registerClient(t, good); r.Status != 201 {
			t.Fatalf("registration %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if r := ts.registerClient(t, good); r.Status != 403 || !strings.Contains(r.str("error_description"), "maximum") {
		t.Fatalf("over the cap: %d %s", r.Status, r.Raw)
	}

	rated := newTestServer(t, func(c *Config) { c.RegistrationPerMinute = 3 })
	for i := 0; i < 3; i++ {
		if r := rated.registerClient(t, good); r.Status != 201 {
			t.Fatalf("registration %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if r := rated.registerClient(t, good); r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(r.str("error_description"), "registrations a minute") {
		t.Fatalf("over the rate: %d %s", r.Status, r.Raw)
	}

	off := newTestServer(t, func(c *Config) { c.Registration = false })
	if r := off.registerClient(t, good); r.Status != 404 {
		t.Fatalf("registration off: %d %s", r.Status, r.Raw)
	}
	if m := off.do(t, "GET", "/.well-known/openid-configuration", nil); m.Body["registration_endpoint"] != nil {
		t.Fatalf("registration off, yet advertised: %s", m.Raw)
	}
}
