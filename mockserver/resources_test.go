package mockserver

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func withResources(c *Config) { c.Resources = []string{"https://api.example/"} }

// TestResourceIndicators: with configured resources (tokenlab serve), a
// served resource on authorize, token and refresh becomes the access
// token's aud; an unknown one is invalid_target everywhere (RFC 8707 §2),
// and a refresh may not switch resources (§2.2).
func TestResourceIndicators(t *testing.T) {
	ts := newTestServer(t, withResources)
	redirect := "http://127.0.0.1:9/cb"

	q := authorizeQuery(redirect, "resource", "https://other.example/")
	if loc := location(t, ts.browser(t, "GET", "/oauth/authorize?"+q.Encode(), nil)); loc.Query().Get("error") != "invalid_target" {
		t.Fatalf("unknown resource at authorize: %s", loc)
	}
	password := func(resource string) reply {
		return ts.form(t, "/oauth/token", "grant_type", grantPassword, "username", "alice", "password", "password123",
			"client_id", DefaultClientID, "resource", resource)
	}
	if r := password("https://other.example/"); r.Status != 400 || r.str("error") != "invalid_target" ||
		!strings.Contains(r.str("error_description"), "https://api.example/") {
		t.Fatalf("unknown resource at the token endpoint: %d %s", r.Status, r.Raw)
	}
	if r := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID, "resource", "https://other.example/"); r.str("error") != "invalid_target" {
		t.Fatalf("unknown resource at device authorization: %d %s", r.Status, r.Raw)
	}
	// This server's own origin is always served.
	if r := password(ts.URL); r.Status != 200 {
		t.Fatalf("own origin: %d %s", r.Status, r.Raw)
	}

	code := ts.authorize(t, authorizeQuery(redirect, "resource", "https://api.example/"))
	r := ts.form(t, "/oauth/token", "grant_type", grantAuthorizationCode, "code", code, "redirect_uri", redirect,
		"client_id", DefaultClientID, "code_verifier", testVerifier, "resource", "https://api.example/")
	if aud := toStrings(claimsOf(t, r.str("access_token"))["aud"]); r.Status != 200 || !slices.Equal(aud, []string{"https://api.example/"}) {
		t.Fatalf("code grant with a served resource: %d aud %v %s", r.Status, aud, r.Raw)
	}
	refresh := func(resource string) reply {
		return ts.form(t, "/oauth/token", "grant_type", grantRefreshToken, "refresh_token", r.str("refresh_token"),
			"client_id", DefaultClientID, "resource", resource)
	}
	if rr := refresh("https://other.example/"); rr.Status != 400 || rr.str("error") != "invalid_target" {
		t.Fatalf("refresh for another resource: %d %s", rr.Status, rr.Raw)
	}
	rr := refresh("https://api.example/")
	if aud := toStrings(claimsOf(t, rr.str("access_token"))["aud"]); rr.Status != 200 || !slices.Equal(aud, []string{"https://api.example/"}) {
		t.Fatalf("refresh with the granted resource (the token refused before stays unused): %d %v %s", rr.Status, aud, rr.Raw)
	}
}

// TestProtectedResourceMetadata: RFC 9728's document names this server
// as the API's authorization server, every 401 of the API points at it,
// and a token without the configured API scope gets 403 insufficient_scope.
func TestProtectedResourceMetadata(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.APIScope = "api:read" })
	m := ts.do(t, "GET", "/.well-known/oauth-protected-resource", nil)
	if m.Status != 200 || m.str("resource") != ts.URL || !slices.Equal(stringsOf(m.Body["authorization_servers"]), []string{ts.URL}) ||
		!slices.Contains(stringsOf(m.Body["scopes_supported"]), "api:read") || !slices.Equal(stringsOf(m.Body["bearer_methods_supported"]), []string{"header"}) {
		t.Fatalf("metadata: %d %s", m.Status, m.Raw)
	}
	meta := `resource_metadata="` + ts.URL + `/.well-known/oauth-protected-resource"`
	for _, path := range []string{"/protected", "/me", "/oauth/userinfo"} {
		for _, h := range [][]string{nil, bearerHeader("not.a.token")} {
			r := ts.do(t, "GET", path, nil, h...)
			if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), meta) {
				t.Errorf("%s %v: %d %q", path, h, r.Status, r.Header.Get("WWW-Authenticate"))
			}
		}
	}
	login := func(scope string) string {
		return ts.form(t, "/oauth/token", "grant_type", grantPassword, "username", "alice", "password", "password123",
			"client_id", DefaultClientID, "scope", scope).str("access_token")
	}
	r := ts.do(t, "GET", "/protected", nil, bearerHeader(login("read"))...)
	if ch := r.Header.Get("WWW-Authenticate"); r.Status != 403 || r.str("error") != "insufficient_scope" ||
		!strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="api:read"`) || !strings.Contains(ch, meta) {
		t.Fatalf("token without the API scope: %d %q %s", r.Status, ch, r.Raw)
	}
	if r := ts.do(t, "GET", "/me", nil, bearerHeader(login("api:read"))...); r.Status != 200 {
		t.Fatalf("token with the API scope: %d %s", r.Status, r.Raw)
	}
}

// TestClientLifetimesAndAccessClaims: a client's own lifetimes replace
// the policy's for its tokens only, and the claims named by
// AccessTokenClaims ride in access tokens.
func TestClientLifetimesAndAccessClaims(t *testing.T) {
	ts := newTestServer(t, withAliceClaims, func(c *Config) {
		c.Clients = []ClientConfig{{ID: "short", Secret: "short-secret-0123456789abcdef", AccessTTL: Duration(time.Minute), RefreshTTL: Duration(time.Hour)}}
		c.AccessTokenClaims = []string{"groups"}
	})
	now := ts.Clock.Now().Unix()
	short := ts.do(t, "POST", "/oauth/token", "grant_type=password&username=alice&password=password123", "Content-Type", formType,
		"Authorization", "Basic "+basicAuth("short", "short-secret-0123456789abcdef"))
	ac := claimsOf(t, short.str("access_token"))
	if short.Status != 200 || ac["exp"] != float64(now+60) || claimsOf(t, short.str("refresh_token"))["exp"] != float64(now+3600) {
		t.Fatalf("client lifetimes: %d %v %s", short.Status, ac, short.Raw)
	}
	if groups := toStrings(ac["groups"]); !slices.Equal(groups, []string{"admins", "staff"}) || ac["email"] != nil {
		t.Fatalf("access token claims %v: want groups only", ac)
	}
	def := ts.form(t, "/oauth/token", "grant_type", grantPassword, "username", "alice", "password", "password123", "client_id", DefaultClientID)
	if claimsOf(t, def.str("access_token"))["exp"] != float64(now+15*60) {
		t.Fatalf("the policy's lifetime for other clients: %v", claimsOf(t, def.str("access_token")))
	}
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(short.str("access_token"))...); r.Status != 200 {
		t.Fatalf("a token with extra claims verifies: %d %s", r.Status, r.Raw)
	}
}

// TestClientFileLifetimes: a --client-file takes access_ttl and
// refresh_ttl too, in either duration form.
func TestClientFileLifetimes(t *testing.T) {
	clients, err := ParseClientFile([]byte("- id: web\n  secret: web-secret-0123456789abcdef\n  access_ttl: 5m\n  refresh_ttl: 1d\n"), nil)
	if err != nil || len(clients) != 1 || clients[0].AccessTTL != Duration(5*time.Minute) || clients[0].RefreshTTL != Duration(24*time.Hour) {
		t.Fatalf("%+v %v", clients, err)
	}
	if _, err := ParseClientFile([]byte("- id: web\n  access_ttl: soon\n"), nil); err == nil {
		t.Fatal("a bad access_ttl was accepted")
	}
	if _, err := ParseClientFile([]byte("- id: web\n  access_ttl: -5m\n"), nil); err == nil {
		t.Fatal("a negative access_ttl was accepted")
	}
}
