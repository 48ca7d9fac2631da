package mockserver

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const loopbackRedirect = "http://127.0.0.1:49152/callback"

// TestPKCEFlow walks the authorization code flow as a browser and a client
// would: the page, a wrong password, the approval, the exchange (a wrong
// verifier first), refresh with rotation, then a replayed code revoking the
// session.
func TestPKCEFlow(t *testing.T) {
	ts := newTestServer(t)
	p := ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(loopbackRedirect).Encode(), nil)
	if p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("authorize page: %d %v %s", p.Status, p.Header, p.Body)
	}
	checkPageHeaders(t, p)
	for _, want := range []string{`id="client">tokenlab<`, "<code>read</code>", "<code>write</code>", loopbackRedirect} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page does not show %q:\n%s", want, p.Body)
		}
	}
	f := formOf(t, p)
	if f.Method != "post" || f.Action != "/oauth/authorize" {
		t.Fatalf("form %s %s", f.Method, f.Action)
	}
	for _, name := range []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "resource", "form_token"} {
		if _, ok := f.Fields[name]; !ok || f.Types[name] != "hidden" {
			t.Errorf("hidden field %s missing (%v)", name, f.Types)
		}
	}
	if f.Fields["redirect_uri"] != loopbackRedirect || f.Fields["scope"] != "read write" || f.Types["password"] != "password" || f.Types["username"] != "" {
		t.Errorf("fields %v types %v", f.Fields, f.Types)
	}
	if !slices.Equal(f.Buttons["action"], []string{"approve", "deny"}) {
		t.Errorf("buttons %v", f.Buttons)
	}

	wrong := ts.submit(t, f, "username", "alice", "password", "wrong-password", "action", "approve")
	if wrong.Status != 200 || wrong.Header.Get("Location") != "" || !strings.Contains(wrong.Body, `id="error"`) ||
		!strings.Contains(wrong.Body, "Wrong username or password") || formOf(t, wrong).Fields["username"] != "alice" {
		t.Fatalf("wrong password: %d %s", wrong.Status, wrong.Body)
	}
	checkPageHeaders(t, wrong)

	ok := ts.submit(t, formOf(t, wrong), "password", "password123", "action", "approve")
	checkPageHeaders(t, ok)
	loc := location(t, ok)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != loopbackRedirect {
		t.Fatalf("redirected to %s", loc)
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != "state-123" || loc.Query().Get("iss") != ts.cfg.Issuer {
		t.Fatalf("redirect query %v", loc.Query())
	}

	exchange := func(verifier string, extra ...string) reply {
		kv := append([]string{"grant_type", "authorization_code", "code", code, "redirect_uri", loopbackRedirect,
			"client_id", DefaultClientID, "code_verifier", verifier}, extra...)
		return ts.form(t, "/oauth/token", kv...)
	}
	if r := exchange(strings.Replace(testVerifier, "d", "e", 1)); r.Status != 400 || r.str("error") != "invalid_grant" ||
		!strings.Contains(r.str("error_description"), "does not match the code_challenge") {
		t.Fatalf("wrong verifier: %d %s", r.Status, r.Raw)
	}
	r := exchange(testVerifier)
	if r.Status != 200 || r.str("access_token") == "" || r.str("refresh_token") == "" || r.str("scope") != "read write" {
		t.Fatalf("exchange (the wrong verifier must not spend the code): %d %s", r.Status, r.Raw)
	}
	claims := claimsOf(t, r.str("access_token"))
	if claims["client_id"] != DefaultClientID || claims["scope"] != "read write" || claims["username"] != "alice" || claims["sub"] != "1" {
		t.Errorf("access claims %v", claims)
	}
	if p := ts.do(t, "GET", "/protected", nil, bearerHeader(r.str("access_token"))...); p.Status != 200 {
		t.Fatalf("protected: %d %s", p.Status, p.Raw)
	}
	first := r.str("refresh_token")
	rot := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", first, "client_id", DefaultClientID)
	if rot.Status != 200 || rot.str("refresh_token") == first || rot.str("scope") != "read write" {
		t.Fatalf("refresh: %d %s", rot.Status, rot.Raw)
	}
	if c := claimsOf(t, rot.str("access_token")); c["client_id"] != DefaultClientID || c["scope"] != "read write" {
		t.Errorf("refreshed access claims %v", c)
	}

	replay := exchange(testVerifier)
	if replay.Status != 400 || replay.str("error") != "invalid_grant" || !strings.Contains(replay.str("error_description"), "code_reused") {
		t.Fatalf("replayed code: %d %s", replay.Status, replay.Raw)
	}
	if r := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", rot.str("refresh_token")); r.str("error") != "invalid_grant" ||
		!strings.Contains(r.str("error_description"), "token_revoked") {
		t.Fatalf("the session of a replayed code must be revoked: %d %s", r.Status, r.Raw)
	}
	if bytes.Contains(dbBytes(t, ts), []byte(code)) {
		t.Error("the database holds the authorization code in clear")
	}
	kinds := ts.eventKinds(t)
	for _, want := range []string{"login_failed", "code_issued", "code_rejected", "code_redeemed", "login", "rotation", "code_reused", "family_revoked"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("events %v lack %s", kinds, want)
		}
	}
	events, _ := ts.DB.Events(t.Context(), 0, 1000, "")
	for _, e := range events {
		if strings.Contains(e.Reason, code) || strings.Contains(e.JTI, code) {
			t.Errorf("event %s holds the code", e.Kind)
		}
		if strings.HasPrefix(e.Kind, "code_") && len(e.Reason) < 30 {
			t.Errorf("event %s needs a why-line, has %q", e.Kind, e.Reason)
		}
	}
}

// TestPKCELogoutAndIPv6 redeems a code sent to [::1] and ends the session
// with RFC 7009 revocation.
func TestPKCELogoutAndIPv6(t *testing.T) {
	ts := newTestServer(t)
	redirect := "http://[::1]:8123/cb?x=1"
	code := ts.authorize(t, authorizeQuery(redirect, "scope", "", "state", ""))
	r := ts.form(t, "/oauth/token", "grant_type", "authorization_code", "code", code, "redirect_uri", redirect,
		"client_id", DefaultClientID, "code_verifier", testVerifier)
	if r.Status != 200 {
		t.Fatalf("exchange: %d %s", r.Status, r.Raw)
	}
	if rv := ts.form(t, "/oauth/revoke", "token", r.str("refresh_token"), "client_id", DefaultClientID); rv.Status != 200 {
		t.Fatalf("revoke: %d %s", rv.Status, rv.Raw)
	}
	if rf := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", r.str("refresh_token")); rf.str("error") != "invalid_grant" {
		t.Fatalf("refresh after revoke: %d %s", rf.Status, rf.Raw)
	}
}

// TestAuthorizeRefusals: what must never redirect shows an error page;
// the rest redirects with an RFC 6749 §4.1.2.1 error and the state.
func TestAuthorizeRefusals(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		name  string
		query string
		msg   string
	}{
		{"unknown client", authorizeQuery(loopbackRedirect, "client_id", "nobody").Encode(), "no application is registered"},
		{"redirect to another host", authorizeQuery("https://evil.example/cb").Encode(), "is not registered"},
		{"localhost is not loopback", authorizeQuery("http://localhost:8000/cb").Encode(), "not localhost"},
		{"loopback without a port", authorizeQuery("http://127.0.0.1/cb").Encode(), "is not registered"},
		{"https loopback", authorizeQuery("https://127.0.0.1:8000/cb").Encode(), "is not registered"},
		{"loopback with a fragment", authorizeQuery("http://127.0.0.1:8000/cb#x").Encode(), "is not registered"},
		{"missing redirect", authorizeQuery("").Encode(), "redirect_uri is missing"},
		{"missing client", authorizeQuery(loopbackRedirect, "client_id", "").Encode(), "client_id is missing"},
		{"repeated parameter", authorizeQuery(loopbackRedirect).Encode() + "&redirect_uri=" + url.QueryEscape("http://127.0.0.1:1/x"), "more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ts.browser(t, "GET", "/oauth/authorize?"+tc.query, nil)
			if p.Status != 400 || p.Header.Get("Location") != "" || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.Body, `id="error"`) || !strings.Contains(p.Body, tc.msg) {
				t.Fatalf("%d %v\n%s", p.Status, p.Header, p.Body)
			}
			checkPageHeaders(t, p)
		})
	}
	for _, tc := range []struct {
		name, code, msg string
		extra           []string
	}{
		{"plain challenge", "invalid_request", "plain", []string{"code_challenge_method", "plain", "code_challenge", testVerifier}},
		{"missing method means plain", "invalid_request", "plain", []string{"code_challenge_method", ""}},
		{"missing challenge", "invalid_request", "code_challenge is missing", []string{"code_challenge", "", "code_challenge_method", ""}},
		{"short challenge", "invalid_request", "43-character", []string{"code_challenge", "abc"}},
		{"token response type", "unsupported_response_type", "only response_type=code", []string{"response_type", "token"}},
		{"missing response type", "invalid_request", "response_type is missing", []string{"response_type", ""}},
		{"bad scope", "invalid_scope", "RFC 6749", []string{"scope", `read "quoted"`}},
		{"relative resource", "invalid_target", "absolute URI", []string{"resource", "/api"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := location(t, ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(loopbackRedirect, tc.extra...).Encode(), nil))
			q := loc.Query()
			if !strings.HasPrefix(loc.String(), loopbackRedirect+"?") || q.Get("error") != tc.code ||
				!strings.Contains(q.Get("error_description"), tc.msg) || q.Get("state") != "state-123" || q.Get("code") != "" {
				t.Fatalf("redirect %s", loc)
			}
		})
	}

	f := formOf(t, ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(loopbackRedirect).Encode(), nil))
	t.Run("deny", func(t *testing.T) {
		q := location(t, ts.submit(t, f, "action", "deny")).Query()
		if q.Get("error") != "access_denied" || q.Get("state") != "state-123" || q.Get("code") != "" {
			t.Fatalf("deny: %v", q)
		}
	})
	for name, set := range map[string][]string{
		"tampered scope":         {"scope", "admin"},
		"tampered redirect":      {"redirect_uri", "http://127.0.0.1:1/steal"},
		"tampered challenge":     {"code_challenge", s256("attacker-verifier-attacker-verifier-attacker")},
		"missing form token":     {"form_token", ""},
		"forged form token":      {"form_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		"tampered to evil URI":   {"redirect_uri", "https://evil.example/cb"},
		"unknown action":         {"action", "steal"},
		"oversized username":     {"username", strings.Repeat("a", 70000)},
		"tampered client (none)": {"client_id", ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := ts.submit(t, f, append([]string{"username", "alice", "password", "password123", "action", "approve"}, set...)...)
			if p.Status < 400 || p.Status >= 500 || p.Header.Get("Location") != "" || !strings.Contains(p.Body, `id="error"`) {
				t.Fatalf("%d %v %s", p.Status, p.Header, p.Body)
			}
		})
	}
	t.Run("a form too old", func(t *testing.T) {
		ts.Clock.Advance(16 * time.Minute)
		defer ts.Clock.Advance(-16 * time.Minute)
		if p := ts.submit(t, f, "username", "alice", "password", "password123"); p.Status != 400 || !strings.Contains(p.Body, "too old") {
			t.Fatalf("%d %s", p.Status, p.Body)
		}
	})
}

// TestCodeExchangeRefusals covers the token endpoint's side of a code.
func TestCodeExchangeRefusals(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Clients = []ClientConfig{{ID: "app", Secret: "app-secret-0123456789"}} })
	exchange := func(code string, kv ...string) reply {
		base := map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": loopbackRedirect,
			"client_id": DefaultClientID, "code_verifier": testVerifier}
		for i := 0; i+1 < len(kv); i += 2 {
			base[kv[i]] = kv[i+1]
		}
		var flat []string
		for k, v := range base {
			if v != "" {
				flat = append(flat, k, v)
			}
		}
		return ts.form(t, "/oauth/token", flat...)
	}
	for _, tc := range []struct {
		name string
		kv   []string
		msg  string
	}{
		{"other redirect", []string{"redirect_uri", "http://127.0.0.1:49153/callback"}, "redirect_uri differs"},
		{"no verifier", []string{"code_verifier", ""}, "code_verifier is missing"},
		{"malformed verifier", []string{"code_verifier", "short"}, "43 to 128"},
		{"other resource", []string{"resource", "https://api.example/"}, "resource differs"},
		{"unknown code", []string{"code", "not-a-code"}, "unknown to this server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := ts.authorize(t, authorizeQuery(loopbackRedirect))
			r := exchange(code, tc.kv...)
			if r.Status != 400 || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), tc.msg) {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	t.Run("another client", func(t *testing.T) {
		code := ts.authorize(t, authorizeQuery(loopbackRedirect))
		r := exchange(code, "client_id", "app", "client_secret", "app-secret-0123456789")
		if r.Status != 400 || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "another client") {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("no client", func(t *testing.T) {
		code := ts.authorize(t, authorizeQuery(loopbackRedirect))
		if r := exchange(code, "client_id", ""); r.Status != 401 || r.str("error") != "invalid_client" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("expired", func(t *testing.T) {
		code := ts.authorize(t, authorizeQuery(loopbackRedirect))
		ts.Clock.Advance(61 * time.Second)
		r := exchange(code)
		if r.Status != 400 || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "code_expired") {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("a confidential client without PKCE, authenticated", func(t *testing.T) {
		code := ts.authorize(t, authorizeQuery(loopbackRedirect, "client_id", "app", "code_challenge", "", "code_challenge_method", ""))
		if r := exchange(code, "client_id", "app", "code_verifier", ""); r.Status != 401 || r.str("error") != "invalid_client" {
			t.Fatalf("without the secret: %d %s", r.Status, r.Raw)
		}
		r := exchange(code, "client_id", "app", "client_secret", "app-secret-0123456789", "code_verifier", "")
		if r.Status != 200 || claimsOf(t, r.str("access_token"))["client_id"] != "app" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		// Its refresh token needs the client's secret too (RFC 6749 §6).
		if rf := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", r.str("refresh_token")); rf.Status != 401 || rf.str("error") != "invalid_client" {
			t.Fatalf("refresh without the secret: %d %s", rf.Status, rf.Raw)
		}
		if rf := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", r.str("refresh_token"), "client_id", DefaultClientID); rf.str("error") != "invalid_grant" {
			t.Fatalf("refresh as another client: %d %s", rf.Status, rf.Raw)
		}
		rf := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", r.str("refresh_token"),
			"client_id", "app", "client_secret", "app-secret-0123456789")
		if rf.Status != 200 {
			t.Fatalf("refresh with the secret: %d %s", rf.Status, rf.Raw)
		}
		// Revocation (RFC 7009 §2.1) also needs the client's secret.
		if rv := ts.form(t, "/oauth/revoke", "token", rf.str("refresh_token")); rv.Status != 401 || rv.str("error") != "invalid_client" {
			t.Fatalf("revoke without the secret: %d %s", rv.Status, rv.Raw)
		}
		if rv := ts.form(t, "/oauth/revoke", "token", rf.str("refresh_token"), "client_id", "app", "client_secret", "wrong"); rv.Status != 401 {
			t.Fatalf("revoke with a wrong secret: %d %s", rv.Status, rv.Raw)
		}
		if rv := ts.form(t, "/oauth/revoke", "token", rf.str("refresh_token"), "client_id", "app", "client_secret", "app-secret-0123456789"); rv.Status != 200 {
			t.Fatalf("revoke with the secret: %d %s", rv.Status, rv.Raw)
		}
		if again := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", rf.str("refresh_token"),
			"client_id", "app", "client_secret", "app-secret-0123456789"); !strings.Contains(again.str("error_description"), "token_revoked") {
			t.Fatalf("refresh after revoke: %d %s", again.Status, again.Raw)
		}
	})
}

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// TestDeviceFlow: authorize, pending, slow_down, approval on /device (the
// code typed in lower case without the dash), tokens once.
func TestDeviceFlow(t *testing.T) {
	ts := newTestServer(t)
	d := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID, "scope", "read")
	if d.Status != 200 || d.str("device_code") == "" || !userCodeShape.MatchString(d.str("user_code")) ||
		d.str("verification_uri") != ts.URL+"/device" || d.str("verification_uri_complete") != ts.URL+"/device?user_code="+d.str("user_code") ||
		d.Body["expires_in"] != float64(600) || d.Body["interval"] != float64(5) {
		t.Fatalf("device authorization: %d %s", d.Status, d.Raw)
	}
	poll := func() reply {
		return ts.form(t, "/oauth/token", "grant_type", grantDeviceCode, "device_code", d.str("device_code"), "client_id", DefaultClientID)
	}
	if r := poll(); r.Status != 400 || r.str("error") != "authorization_pending" {
		t.Fatalf("first poll: %d %s", r.Status, r.Raw)
	}
	if r := poll(); r.Status != 400 || r.str("error") != "slow_down" || !strings.Contains(r.str("error_description"), "10s") {
		t.Fatalf("poll at once: %d %s", r.Status, r.Raw)
	}
	ts.Clock.Advance(5 * time.Second)
	if r := poll(); r.str("error") != "slow_down" || !strings.Contains(r.str("error_description"), "15s") {
		t.Fatalf("the interval is 10s now; 5s later: %d %s", r.Status, r.Raw)
	}
	ts.Clock.Advance(15 * time.Second)
	if r := poll(); r.str("error") != "authorization_pending" {
		t.Fatalf("poll after the grown interval: %d %s", r.Status, r.Raw)
	}

	typed := strings.ToLower(strings.ReplaceAll(d.str("user_code"), "-", ""))
	p := ts.browser(t, "GET", "/device?user_code="+typed, nil)
	checkPageHeaders(t, p)
	if p.Status != 200 || !strings.Contains(p.Body, `id="client">tokenlab<`) || !strings.Contains(p.Body, "<code>read</code>") {
		t.Fatalf("device page: %d %s", p.Status, p.Body)
	}
	f := formOf(t, p)
	if f.Method != "post" || f.Action != "/device" || f.Fields["user_code"] != d.str("user_code") || f.Types["password"] != "password" ||
		!slices.Equal(f.Buttons["action"], []string{"approve", "deny"}) {
		t.Fatalf("device form %+v", f)
	}
	wrong := ts.browser(t, "POST", "/device", url.Values{"user_code": {typed}, "username": {"alice"}, "password": {"nope-nope"}, "action": {"approve"}})
	if wrong.Status != 200 || !strings.Contains(wrong.Body, "Wrong username or password") {
		t.Fatalf("wrong password: %d %s", wrong.Status, wrong.Body)
	}
	okp := ts.browser(t, "POST", "/device", url.Values{"user_code": {typed}, "username": {"alice"}, "password": {"password123"}, "action": {"approve"}})
	if okp.Status != 200 || !strings.Contains(okp.Body, `data-result="approved"`) {
		t.Fatalf("approve: %d %s", okp.Status, okp.Body)
	}
	ts.Clock.Advance(15 * time.Second)
	r := poll()
	if r.Status != 200 || r.str("refresh_token") == "" || r.str("scope") != "read" {
		t.Fatalf("poll after approval: %d %s", r.Status, r.Raw)
	}
	if c := claimsOf(t, r.str("access_token")); c["client_id"] != DefaultClientID || c["username"] != "alice" {
		t.Errorf("claims %v", c)
	}
	ts.Clock.Advance(15 * time.Second)
	if r := poll(); r.Status != 400 || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "already redeemed") {
		t.Fatalf("second redeem: %d %s", r.Status, r.Raw)
	}
	if r := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", r.str("refresh_token"), "client_id", DefaultClientID); r.Status != 200 {
		t.Fatalf("refresh of a device session: %d %s", r.Status, r.Raw)
	}
	if bytes.Contains(dbBytes(t, ts), []byte(d.str("device_code"))) {
		t.Error("the database holds the device code in clear")
	}
	kinds := ts.eventKinds(t)
	for _, want := range []string{"device_code_issued", "device_slow_down", "login_failed", "device_approved", "login"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("events %v lack %s", kinds, want)
		}
	}
	if again := ts.browser(t, "POST", "/device", url.Values{"user_code": {typed}, "username": {"alice"}, "password": {"password123"}}); !strings.Contains(again.Body, "no device login waits") {
		t.Fatalf("a used user code: %d %s", again.Status, again.Body)
	}
}

func TestDeviceRefusals(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Clients = []ClientConfig{{ID: "app", Secret: "app-secret-0123456789"}} })
	start := func() reply {
		d := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID)
		if d.Status != 200 {
			t.Fatalf("device authorization: %d %s", d.Status, d.Raw)
		}
		return d
	}
	poll := func(d reply, client ...string) reply {
		kv := append([]string{"grant_type", grantDeviceCode, "device_code", d.str("device_code")}, client...)
		if len(client) == 0 {
			kv = append(kv, "client_id", DefaultClientID)
		}
		return ts.form(t, "/oauth/token", kv...)
	}
	t.Run("denied", func(t *testing.T) {
		d := start()
		p := ts.browser(t, "POST", "/device", url.Values{"user_code": {d.str("user_code")}, "username": {"alice"}, "password": {"password123"}, "action": {"deny"}})
		if !strings.Contains(p.Body, `data-result="denied"`) {
			t.Fatalf("deny page: %d %s", p.Status, p.Body)
		}
		if r := poll(d); r.Status != 400 || r.str("error") != "access_denied" {
			t.Fatalf("poll after deny: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("expired", func(t *testing.T) {
		d := start()
		ts.Clock.Advance(10*time.Minute + time.Second)
		for i := 0; i < 2; i++ {
			if r := poll(d); r.Status != 400 || r.str("error") != "expired_token" {
				t.Fatalf("poll %d after expiry: %d %s", i, r.Status, r.Raw)
			}
		}
		p := ts.browser(t, "GET", "/device?user_code="+d.str("user_code"), nil)
		if !strings.Contains(p.Body, "no device login waits") {
			t.Fatalf("page of an expired code: %s", p.Body)
		}
		if !slices.Contains(ts.eventKinds(t), "device_expired") {
			t.Fatal("no device_expired event")
		}
	})
	t.Run("another client's device code", func(t *testing.T) {
		d := start()
		if r := poll(d, "client_id", "app", "client_secret", "app-secret-0123456789"); r.str("error") != "invalid_grant" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("unknown device code", func(t *testing.T) {
		if r := poll(reply{Body: map[string]any{"device_code": "nope"}}); r.str("error") != "invalid_grant" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("no client", func(t *testing.T) {
		if r := ts.form(t, "/oauth/device_authorization", "scope", "read"); r.Status != 401 || r.str("error") != "invalid_client" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
	})
	t.Run("bad user codes on the page", func(t *testing.T) {
		for _, code := range []string{"AEIO-UAEI", "BCDF", "BCDF-GHJK-LMNP", "12345678", "", "bcdf ghjk"} {
			p := ts.browser(t, "POST", "/device", url.Values{"user_code": {code}, "username": {"alice"}, "password": {"password123"}})
			if p.Status != 200 || !strings.Contains(p.Body, `id="error"`) {
				t.Errorf("code %q: %d %s", code, p.Status, p.Body)
			}
		}
	})
	t.Run("pending codes per client and address are capped", func(t *testing.T) {
		ts := newTestServer(t)
		for i := 0; i < maxPendingDevicesPerAddress; i++ {
			if r := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID); r.Status != 200 {
				t.Fatalf("code %d: %d %s", i, r.Status, r.Raw)
			}
		}
		r := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID)
		if r.Status != http.StatusTooManyRequests || r.str("error") != "slow_down" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("beyond the cap: %d %s", r.Status, r.Raw)
		}
		ts.Clock.Advance(11 * time.Minute)
		if r := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID); r.Status != 200 {
			t.Fatalf("after the pending codes expired: %d %s", r.Status, r.Raw)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	const secret = "app-secret-0123456789"
	ts := newTestServer(t, func(c *Config) {
		c.Clients = []ClientConfig{{ID: "app", Secret: secret, Scopes: []string{"read", "write"}}}
	})
	basic := []string{"Content-Type", formType, "Authorization", "Basic " + basicAuth("app", secret)}
	for name, r := range map[string]reply{
		"basic": ts.do(t, "POST", "/oauth/token", formBody("grant_type", "client_credentials", "scope", "read"), basic...),
		"post":  ts.form(t, "/oauth/token", "grant_type", "client_credentials", "client_id", "app", "client_secret", secret, "scope", "read"),
	} {
		t.Run(name, func(t *testing.T) {
			if r.Status != 200 || r.str("access_token") == "" || r.Body["refresh_token"] != nil || r.str("scope") != "read" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			c := claimsOf(t, r.str("access_token"))
			if c["sub"] != "app" || c["client_id"] != "app" || c["scope"] != "read" || c["username"] != nil || c["sid"] != nil {
				t.Errorf("claims %v", c)
			}
			if p := ts.do(t, "GET", "/protected", nil, bearerHeader(r.str("access_token"))...); p.Status != 200 {
				t.Errorf("protected: %d %s", p.Status, p.Raw)
			}
		})
	}
	if !slices.Contains(ts.eventKinds(t), "client_credentials_issued") {
		t.Error("no client_credentials_issued event")
	}
	for _, tc := range []struct {
		name   string
		body   string
		header []string
		status int
		code   string
	}{
		{"wrong secret (basic)", formBody("grant_type", "client_credentials"), []string{"Authorization", "Basic " + basicAuth("app", "wrong")}, 401, "invalid_client"},
		{"wrong secret (post)", formBody("grant_type", "client_credentials", "client_id", "app", "client_secret", "wrong"), nil, 401, "invalid_client"},
		{"no secret", formBody("grant_type", "client_credentials", "client_id", "app"), nil, 401, "invalid_client"},
		{"no client", formBody("grant_type", "client_credentials"), nil, 401, "invalid_client"},
		{"unknown client", formBody("grant_type", "client_credentials", "client_id", "ghost", "client_secret", "x"), nil, 401, "invalid_client"},
		{"public client", formBody("grant_type", "client_credentials", "client_id", DefaultClientID), nil, 400, "unauthorized_client"},
		{"public client with a secret", formBody("grant_type", "client_credentials", "client_id", DefaultClientID, "client_secret", "x"), nil, 401, "invalid_client"},
		{"two ways at once", formBody("grant_type", "client_credentials", "client_secret", secret), []string{"Authorization", "Basic " + basicAuth("app", secret)}, 400, "invalid_request"},
		{"scope not allowed", formBody("grant_type", "client_credentials", "scope", "admin"), []string{"Authorization", "Basic " + basicAuth("app", secret)}, 400, "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, "POST", "/oauth/token", tc.body, append([]string{"Content-Type", formType}, tc.header...)...)
			if r.Status != tc.status || r.str("error") != tc.code {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if tc.status == 401 && r.Header.Get("WWW-Authenticate") != `Basic realm="tokenlab"` {
				t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if !slices.Contains(ts.eventKinds(t), "client_auth_failed") {
		t.Error("no client_auth_failed event")
	}
	// The secret is stored as a hash only.
	raw := dbBytes(t, ts)
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the database holds the client secret in clear")
	}
}

// dbBytes reads the test server's database file and its WAL.
func dbBytes(t *testing.T, ts *testServer) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(ts.dbPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestPasswordGrantClients(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123", "client_id", DefaultClientID); r.Status != 200 ||
		claimsOf(t, r.str("access_token"))["client_id"] != DefaultClientID {
		t.Fatalf("password grant as tokenlab: %d %s", r.Status, r.Raw)
	}
	if r := ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123", "client_id", "cli"); r.Status != 401 || r.str("error") != "invalid_client" {
		t.Fatalf("password grant as an unknown client: %d %s", r.Status, r.Raw)
	}
	if r := ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123"); r.Status != 200 || claimsOf(t, r.str("access_token"))["client_id"] != nil {
		t.Fatalf("password grant without a client: %d %s", r.Status, r.Raw)
	}
}

func TestResourceAudience(t *testing.T) {
	ts := newTestServer(t, openIntrospection)
	login := func(resource string) reply {
		return ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123", "resource", resource)
	}
	foreign := login("https://api.example/")
	if foreign.Status != 200 {
		t.Fatalf("%d %s", foreign.Status, foreign.Raw)
	}
	if aud := claimsOf(t, foreign.str("access_token"))["aud"]; !slices.Equal(toStrings(aud), []string{"https://api.example/"}) {
		t.Fatalf("aud %v", aud)
	}
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(foreign.str("access_token"))...); r.Status != 401 || !strings.Contains(r.str("message"), "another audience") {
		t.Fatalf("a token for another API at /protected: %d %s", r.Status, r.Raw)
	}
	if r := ts.form(t, "/oauth/introspect", "token", foreign.str("access_token")); r.Body["active"] != true {
		t.Fatalf("introspection of a token for another API: %s", r.Raw)
	}
	if r := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", foreign.str("refresh_token")); !slices.Equal(toStrings(claimsOf(t, r.str("access_token"))["aud"]), []string{"https://api.example/"}) {
		t.Fatalf("a refresh keeps the resource: %s", r.Raw)
	}
	own := login(ts.URL + "/protected")
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(own.str("access_token"))...); r.Status != 200 {
		t.Fatalf("a token for this server's own origin: %d %s", r.Status, r.Raw)
	}
	if r := login("not a uri"); r.Status != 400 || r.str("error") != "invalid_target" {
		t.Fatalf("bad resource: %d %s", r.Status, r.Raw)
	}
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func TestDiscoveryLoginFlows(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(t, "GET", "/.well-known/oauth-authorization-server", nil)
	if r.str("authorization_endpoint") != ts.cfg.Issuer+"/oauth/authorize" || r.str("device_authorization_endpoint") != ts.cfg.Issuer+"/oauth/device_authorization" {
		t.Fatalf("%s", r.Raw)
	}
	for key, want := range map[string][]string{
		"grant_types_supported":                 {grantAuthorizationCode, grantDeviceCode, grantClientCredentials, grantRefreshToken, grantPassword},
		"response_types_supported":              {"code"},
		"code_challenge_methods_supported":      {"S256"},
		"token_endpoint_auth_methods_supported": {"none", "client_secret_basic", "client_secret_post"},
	} {
		if got := toStrings(r.Body[key]); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}

func TestClientRegistry(t *testing.T) {
	t.Run("a client dropped from the configuration stops working", func(t *testing.T) {
		ts := newTestServer(t, func(c *Config) { c.Clients = []ClientConfig{{ID: "app", Secret: "app-secret-0123456789"}} })
		cfg := ts.cfg
		cfg.Clients = nil
		if _, err := New(t.Context(), ts.DB, ts.Clock, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.DB.ClientByID(t.Context(), "app"); err == nil {
			t.Fatal("app is still registered")
		}
	})
	for name, c := range map[string]ClientConfig{
		"the built-in id":            {ID: DefaultClientID, Secret: "x"},
		"an unknown grant":           {ID: "a", Secret: "x", GrantTypes: []string{"implicit"}},
		"client credentials, public": {ID: "a", GrantTypes: []string{"client_credentials"}},
		"a relative redirect":        {ID: "a", Secret: "x", RedirectURIs: []string{"/cb"}},
		"a space in the id":          {ID: "a b", Secret: "x"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.AdminToken, cfg.Clients = testAdminToken, []ClientConfig{c}
			if err := cfg.validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestParseClientFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s"), []byte("from-a-file\n"), 0o600)
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
	yamlFile := "- id: app\n  secret_file: s\n  grant_types: [client_credentials]\n  scopes: [read]\n- id: web\n  secret: web-secret\n  redirect_uris: [\"https://app.example/cb\", loopback]\n"
	jsonFile := `[{"id": "app", "secret_file": "s", "grant_types": ["client_credentials"], "scopes": ["read"]}, {"id": "web", "secret": "web-secret", "redirect_uris": ["https://app.example/cb", "loopback"]}]`
	for name, data := range map[string]string{"yaml": yamlFile, "json": jsonFile} {
		t.Run(name, func(t *testing.T) {
			cs, err := ParseClientFile([]byte(data), read)
			if err != nil || len(cs) != 2 || cs[0].Secret != "from-a-file" || cs[1].RedirectURIs[1] != "loopback" {
				t.Fatalf("%+v %v", cs, err)
			}
		})
	}
	for name, data := range map[string]string{
		"unknown field":       "- id: app\n  secret: x\n  colour: blue\n",
		"both secrets":        "- id: app\n  secret: x\n  secret_file: s\n",
		"missing secret file": "- id: app\n  secret_file: nope\n",
		"not a list":          "id: app\n",
		"no id":               "- secret: x\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseClientFile([]byte(data), read); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestUserCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c := newUserCode()
		if !userCodeShape.MatchString(formatUserCode(c)) {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 195 {
		t.Fatalf("only %d distinct codes of 200", len(seen))
	}
	for in, want := range map[string]string{"bcdf-ghjk": "BCDFGHJK", "BCDFGHJK": "BCDFGHJK", " bCdF-gHjK ": "BCDFGHJK", "bcdfghjk": "BCDFGHJK"} {
		if got, err := normalizeUserCode(in); err != nil || got != want {
			t.Errorf("normalizeUserCode(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "BCDF-GHJ", "BCD-FGHJK", "AEIO-UBCD", "BCDF--GHJK", "BCDFGHJKL", "ßCDF-GHJK"} {
		if _, err := normalizeUserCode(bad); err == nil {
			t.Errorf("normalizeUserCode(%q) accepted", bad)
		}
	}
}

// TestClientAuthEventEscapes: a client_id full of terminal escapes never
// reaches the event log (which the TUI prints): an unknown id is left out.
func TestClientAuthEventEscapes(t *testing.T) {
	ts := newTestServer(t)
	r := ts.form(t, "/oauth/token", "grant_type", "client_credentials", "client_id", "evil\x1b[2J\x07", "client_secret", "x")
	if r.Status != 401 || strings.Contains(string(r.Raw), "\x1b") {
		t.Fatalf("%d %q", r.Status, r.Raw)
	}
	events, _ := ts.DB.Events(t.Context(), 0, 100, "")
	found := false
	for _, e := range events {
		if e.Kind == "client_auth_failed" {
			found = true
			if strings.ContainsAny(e.Reason, "\x1b\x07") || strings.Contains(e.Reason, "evil") || !strings.Contains(e.Reason, "unknown client") {
				t.Errorf("reason %q", e.Reason)
			}
		}
	}
	if !found {
		t.Fatal("no client_auth_failed event")
	}
}

// TestConcurrentRedemptions: one code or one approved device code
// redeemed by many at once gives exactly one set of tokens. (For the code,
// the others count as replays, so that one session is then revoked.)
func TestConcurrentRedemptions(t *testing.T) {
	ts := newTestServer(t)
	const n = 12
	race := func(kv ...string) (ok int, refresh string) {
		results := make(chan reply, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() { defer wg.Done(); results <- ts.form(t, "/oauth/token", kv...) }()
		}
		wg.Wait()
		close(results)
		for r := range results {
			switch {
			case r.Status == 200:
				ok++
				refresh = r.str("refresh_token")
			case r.str("error") != "invalid_grant":
				t.Errorf("a loser got %d %s", r.Status, r.Raw)
			}
		}
		return ok, refresh
	}
	code := ts.authorize(t, authorizeQuery(loopbackRedirect))
	ok, refresh := race("grant_type", "authorization_code", "code", code, "redirect_uri", loopbackRedirect, "client_id", DefaultClientID, "code_verifier", testVerifier)
	if ok != 1 {
		t.Fatalf("%d of %d exchanges of one code succeeded", ok, n)
	}
	if r := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", refresh); !strings.Contains(r.str("error_description"), "token_revoked") {
		t.Fatalf("the racing replays must revoke the session: %d %s", r.Status, r.Raw)
	}

	d := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID)
	ts.browser(t, "POST", "/device", url.Values{"user_code": {d.str("user_code")}, "username": {"alice"}, "password": {"password123"}})
	if ok, _ := race("grant_type", grantDeviceCode, "device_code", d.str("device_code"), "client_id", DefaultClientID); ok != 1 {
		t.Fatalf("%d of %d polls of one approved device code got tokens", ok, n)
	}
}

// TestEmbeddedClients: the embedded server (TUI, scenarios) has the public
// client tokenlab and takes confidential clients from its options.
func TestEmbeddedClients(t *testing.T) {
	e, err := StartEmbedded(t.Context(), EmbeddedOptions{Configure: func(c *Config) { c.BcryptCost = 4 },
		Clients: []ClientConfig{{ID: "svc", Secret: "svc-secret-0123"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	post := func(form url.Values) int {
		resp, err := http.PostForm(e.URL+"/oauth/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {"svc-secret-0123"}}); got != 200 {
		t.Fatalf("client credentials on the embedded server: %d", got)
	}
	resp, err := http.PostForm(e.URL+"/oauth/device_authorization", url.Values{"client_id": {DefaultClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("device authorization for tokenlab on the embedded server: %d", resp.StatusCode)
	}
}
