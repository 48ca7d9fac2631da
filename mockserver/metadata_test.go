package mockserver

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// endpointMethods is how each advertised URL is asked: the method its
// route serves. A metadata key the test does not know fails it, so a new
// endpoint cannot be advertised untested.
var endpointMethods = map[string]string{
	"issuer":                        "",
	"authorization_endpoint":        "GET",
	"token_endpoint":                "POST",
	"userinfo_endpoint":             "GET",
	"jwks_uri":                      "GET",
	"registration_endpoint":         "POST",
	"revocation_endpoint":           "POST",
	"introspection_endpoint":        "POST",
	"device_authorization_endpoint": "POST",
	"end_session_endpoint":          "GET",
}

// TestMetadataEveryURLAnswers fetches both discovery documents (they must
// be equal), then every URL in them: each must be a route of this server
// (no 404 or 405) and answer a bare request with a JSON or page refusal or
// a document, never a 5xx.
func TestMetadataEveryURLAnswers(t *testing.T) {
	ts := newTestServer(t, withAliceClaims, func(c *Config) { c.Registration = true })
	oidc := ts.do(t, "GET", "/.well-known/openid-configuration", nil)
	oauth := ts.do(t, "GET", "/.well-known/oauth-authorization-server", nil)
	if oidc.Status != 200 || string(oidc.Raw) != string(oauth.Raw) {
		t.Fatalf("the two documents differ:\n%s\n%s", oidc.Raw, oauth.Raw)
	}
	for _, key := range []string{"userinfo_endpoint", "registration_endpoint", "end_session_endpoint", "jwks_uri"} {
		if oidc.str(key) == "" {
			t.Errorf("%s is missing", key)
		}
	}
	urls := 0
	for key, v := range oidc.Body {
		s, ok := v.(string)
		if !ok || !strings.HasPrefix(s, "http") {
			continue
		}
		method, known := endpointMethods[key]
		if !known {
			t.Errorf("%s = %s: an advertised URL this test does not know how to ask", key, s)
			continue
		}
		if method == "" {
			continue
		}
		if !strings.HasPrefix(s, ts.URL+"/") {
			t.Errorf("%s = %s is not on this server", key, s)
			continue
		}
		urls++
		var body any
		header := []string{}
		if method == "POST" {
			body, header = "", []string{"Content-Type", "application/x-www-form-urlencoded"}
			if key == "registration_endpoint" {
				body, header = "{}", []string{"Content-Type", "application/json"}
			}
		}
		r := ts.rawDo(t, method, strings.TrimPrefix(s, ts.URL), body, header...)
		if r.status == 404 || r.status == 405 || r.status >= 500 {
			t.Errorf("%s %s (%s): %d %s", method, s, key, r.status, r.body)
		}
	}
	if urls < 9 {
		t.Errorf("only %d URLs advertised", urls)
	}
}

// TestMetadataCapabilities checks the capabilities the documents claim
// against requests: S256 only, the grants, the claims of configured
// users, iss on authorization responses, and no registration endpoint when registration is off.
func TestMetadataCapabilities(t *testing.T) {
	ts := newTestServer(t, withAliceClaims, func(c *Config) { c.Registration = false })
	m := ts.do(t, "GET", "/.well-known/openid-configuration", nil)
	want := map[string][]string{
		"code_challenge_methods_supported":      {"S256"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"subject_types_supported":               {"public"},
		"response_types_supported":              {"code"},
		"token_endpoint_auth_methods_supported": {"none", "client_secret_basic", "client_secret_post"},
	}
	for k, v := range want {
		if got := stringsOf(m.Body[k]); !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if m.Body["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v", m.Body["authorization_response_iss_parameter_supported"])
	}
	if _, ok := m.Body["registration_endpoint"]; ok {
		t.Errorf("registration is off by default, yet advertised")
	}
	claims := stringsOf(m.Body["claims_supported"])
	for _, c := range []string{"sub", "iss", "nonce", "auth_time", "email", "groups", "name"} {
		if !slices.Contains(claims, c) {
			t.Errorf("claims_supported %v lacks %s", claims, c)
		}
	}
	for _, g := range stringsOf(m.Body["grant_types_supported"]) {
		if r := ts.form(t, "/oauth/token", "grant_type", g); r.str("error") == "unsupported_grant_type" {
			t.Errorf("advertised grant %s is unsupported", g)
		}
	}
	q := authorizeQuery("http://127.0.0.1:9/cb", "code_challenge_method", "plain", "code_challenge", testVerifier)
	if loc := location(t, ts.browser(t, "GET", "/oauth/authorize?"+q.Encode(), nil)); loc.Query().Get("error") != "invalid_request" {
		t.Errorf("plain is not advertised and must be refused: %s", loc)
	}
}

// TestAuthorizationResponseIss: RFC 9207's iss is on the success and on
// every error redirect of the authorization endpoint.
func TestAuthorizationResponseIss(t *testing.T) {
	ts := newTestServer(t)
	redirect := "http://127.0.0.1:9/cb"
	check := func(name string, loc *url.URL, wantError string) {
		t.Helper()
		q := loc.Query()
		if q.Get("iss") != ts.cfg.Issuer || q.Get("error") != wantError || q.Get("state") != "state-123" {
			t.Errorf("%s: %s, want iss=%s error=%q", name, loc, ts.cfg.Issuer, wantError)
		}
	}
	for _, tc := range []struct{ name, key, value, err string }{
		{"unsupported response_type", "response_type", "token", "unsupported_response_type"},
		{"no response_type", "response_type", "", "invalid_request"},
		{"bad scope", "scope", "a\"b", "invalid_scope"},
		{"bad resource", "resource", "/relative", "invalid_target"},
	} {
		q := authorizeQuery(redirect, tc.key, tc.value)
		check(tc.name, location(t, ts.browser(t, "GET", "/oauth/authorize?"+q.Encode(), nil)), tc.err)
	}
	p := ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(redirect).Encode(), nil)
	check("deny", location(t, ts.submit(t, formOf(t, p), "action", "deny")), "access_denied")
	p = ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(redirect).Encode(), nil)
	check("success", location(t, ts.submit(t, formOf(t, p), "username", "alice", "password", "password123")), "")
}

type rawReply struct {
	status int
	body   string
}

// rawDo is do for answers that may be HTML pages; body is a string.
func (ts *testServer) rawDo(tb testing.TB, method, path string, body any, header ...string) rawReply {
	tb.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, ts.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return rawReply{resp.StatusCode, string(raw)}
}
