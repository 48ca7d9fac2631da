package mockserver

import (
	"net/http"
	"testing"
)

// openIntrospection is for tests that use introspection to see a token's
// state, not to test who may ask.
func openIntrospection(c *Config) { c.OpenIntrospection = true }

const introspectSecret = "app-secret-0123456789"

// introspectAs asks /oauth/introspect about tok, authenticated with
// HTTP Basic as id:secret (no client at all when id is "").
func (ts *testServer) introspectAs(tb testing.TB, id, secret, tok string) reply {
	tb.Helper()
	header := []string{"Content-Type", formType}
	if id != "" {
		header = append(header, "Authorization", "Basic "+basicAuth(id, secret))
	}
	return ts.do(tb, "POST", "/oauth/introspect", formBody("token", tok), header...)
}

// Introspection needs a client that authenticates (RFC 7662 §2.1), and a
// client learns about its own tokens only: a thief holding a stolen token
// cannot check whether it is live, nor can one client read another's.
func TestIntrospectionNeedsClientAuthentication(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Clients = []ClientConfig{{ID: "app", Secret: introspectSecret}, {ID: "other", Secret: introspectSecret}}
	})
	aliceAccess, aliceRefresh := ts.login(t) // the seed dialect: no client
	pw := ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123",
		"client_id", "app", "client_secret", introspectSecret)
	if pw.Status != http.StatusOK {
		t.Fatalf("password grant as app: %d %s", pw.Status, pw.Raw)
	}
	appAccess, appRefresh := pw.str("access_token"), pw.str("refresh_token")
	public := ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123",
		"client_id", DefaultClientID)
	if public.Status != http.StatusOK {
		t.Fatalf("password grant as the public client: %d %s", public.Status, public.Raw)
	}

	for _, tc := range []struct {
		name, id, secret, token string
		status                  int
		active                  bool
	}{
		{"no client, a seed refresh token", "", "", aliceRefresh, 401, false},
		{"no client, a seed access token", "", "", aliceAccess, 401, false},
		{"no client, app's refresh token", "", "", appRefresh, 401, false},
		{"the public client names itself", DefaultClientID, "", public.str("refresh_token"), 401, false},
		{"app with a wrong secret", "app", "wrong-secret", appRefresh, 401, false},
		{"app asks about its refresh token", "app", introspectSecret, appRefresh, 200, true},
		{"app asks about its access token", "app", introspectSecret, appAccess, 200, true},
		{"app asks about a seed token", "app", introspectSecret, aliceRefresh, 200, false},
		{"app asks about the public client's token", "app", introspectSecret, public.str("access_token"), 200, false},
		{"another client asks about app's token", "other", introspectSecret, appRefresh, 200, false},
		{"another client asks about app's access token", "other", introspectSecret, appAccess, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r reply
			if tc.id == DefaultClientID {
				r = ts.form(t, "/oauth/introspect", "token", tc.token, "client_id", DefaultClientID)
			} else {
				r = ts.introspectAs(t, tc.id, tc.secret, tc.token)
			}
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.status == 401 {
				if r.str("error") != "invalid_client" || r.Body["active"] != nil {
					t.Fatalf("a refusal must be invalid_client and describe nothing: %s", r.Raw)
				}
				return
			}
			if r.Body["active"] != tc.active {
				t.Fatalf("active = %v, want %v: %s", r.Body["active"], tc.active, r.Raw)
			}
			if !tc.active && len(r.Body) != 1 {
				t.Fatalf("an inactive answer says more than active=false: %s", r.Raw)
			}
		})
	}
}

// --open-introspection is the teaching case: any caller may introspect,
// but a client that names itself still learns only about its own tokens.
func TestOpenIntrospectionForTeaching(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.OpenIntrospection = true
		c.Clients = []ClientConfig{{ID: "app", Secret: introspectSecret}}
	})
	_, refresh := ts.login(t)
	if r := ts.introspectAs(t, "", "", refresh); r.Status != 200 || r.Body["active"] != true {
		t.Fatalf("open introspection without a client: %d %s", r.Status, r.Raw)
	}
	if r := ts.introspectAs(t, "app", introspectSecret, refresh); r.Status != 200 || r.Body["active"] != false {
		t.Fatalf("app learned about a token not issued to it: %d %s", r.Status, r.Raw)
	}
	if r := ts.introspectAs(t, "app", "wrong-secret", refresh); r.Status != 401 {
		t.Fatalf("a wrong secret is still refused: %d %s", r.Status, r.Raw)
	}
}
