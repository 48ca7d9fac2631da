package mockserver

import (
	"github.com/golang-jwt/jwt/v5"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSeedWalk is the life of a session in the seed dialect: expiry,
// refresh with rotation, reuse detection revoking the family.
func TestSeedWalk(t *testing.T) {
	ts := newTestServer(t)
	access, refresh := ts.login(t)

	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(access)...); r.Status != 200 {
		t.Fatalf("protected with a fresh token: %d %s", r.Status, r.Raw)
	}
	if r := ts.admin(t, "POST", "/admin/clock", map[string]string{"advance": "16m"}); r.Status != 200 {
		t.Fatalf("advance clock: %d %s", r.Status, r.Raw)
	}
	r := ts.do(t, "GET", "/protected", nil, bearerHeader(access)...)
	if r.Status != 401 || r.str("error") != "token_expired" ||
		!strings.Contains(r.Header.Get("WWW-Authenticate"), `Bearer realm="tokenlab", error="invalid_token"`) {
		t.Fatalf("protected with an expired token: %d %v %s", r.Status, r.Header, r.Raw)
	}

	r = ts.do(t, "POST", "/token", map[string]string{"token": refresh})
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	access2, refresh2 := r.str("accessToken"), r.str("refreshToken")
	if access2 == "" || access2 == access || refresh2 == "" || refresh2 == refresh {
		t.Fatalf("refresh must give a new access and refresh token: %s", r.Raw)
	}
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(access2)...); r.Status != 200 {
		t.Fatalf("protected with the refreshed token: %d %s", r.Status, r.Raw)
	}

	r = ts.do(t, "POST", "/token", map[string]string{"token": refresh})
	if r.Status != 401 || r.str("error") != "token_reused" {
		t.Fatalf("replay of the used refresh token: %d %s", r.Status, r.Raw)
	}
	r = ts.do(t, "POST", "/token", map[string]string{"token": refresh2})
	if r.Status != 401 || r.str("error") != "token_revoked" {
		t.Fatalf("newest token of a revoked family: %d %s", r.Status, r.Raw)
	}
	kinds := ts.eventKinds(t)
	for _, want := range []string{"login", "access_rejected", "refresh", "rotation", "reuse_detected", "family_revoked"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("events %v lack %s", kinds, want)
		}
	}
	ev := ts.admin(t, "GET", "/admin/events?after=0", nil)
	if ev.Status != 200 || !strings.Contains(string(ev.Raw), `"kind":"reuse_detected"`) {
		t.Errorf("/admin/events: %d %s", ev.Status, ev.Raw)
	}
}

func TestOAuthWalk(t *testing.T) {
	ts := newTestServer(t, openIntrospection)
	r := ts.form(t, "/oauth/token", "grant_type", "password", "username", "alice", "password", "password123", "scope", "read")
	if r.Status != 200 || r.str("token_type") != "Bearer" || r.str("scope") != "read" {
		t.Fatalf("password grant: %d %s", r.Status, r.Raw)
	}
	access, refresh := r.str("access_token"), r.str("refresh_token")
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(access)...); r.Status != 200 {
		t.Fatalf("protected: %d %s", r.Status, r.Raw)
	}
	ts.admin(t, "POST", "/admin/clock", map[string]string{"advance": "16m"})
	if r := ts.do(t, "GET", "/protected", nil, bearerHeader(access)...); r.Status != 401 {
		t.Fatalf("protected after expiry: %d %s", r.Status, r.Raw)
	}
	r = ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", refresh)
	if r.Status != 200 || r.str("refresh_token") == refresh {
		t.Fatalf("refresh grant: %d %s", r.Status, r.Raw)
	}
	refresh2 := r.str("refresh_token")
	r = ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", refresh)
	if r.Status != 400 || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "token_reused") {
		t.Fatalf("replay: %d %s", r.Status, r.Raw)
	}
	r = ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", refresh2)
	if r.Status != 400 || r.str("error") != "invalid_grant" || !strings.Contains(r.str("error_description"), "token_revoked") {
		t.Fatalf("newest after revocation: %d %s", r.Status, r.Raw)
	}
	if r := ts.form(t, "/oauth/introspect", "token", refresh2); r.Status != 200 || r.Body["active"] != false {
		t.Fatalf("introspect revoked: %d %s", r.Status, r.Raw)
	}
}

func TestLogoutAndDenylist(t *testing.T) {
	for _, denylist := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "denylist"}[denylist], func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) { c.AccessDenylist = denylist })
			access, refresh := ts.login(t)
			if r := ts.do(t, "POST", "/logout", map[string]string{"token": refresh}); r.Status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.Status, r.Raw)
			}
			if r := ts.do(t, "POST", "/token", map[string]string{"token": refresh}); r.str("error") != "token_revoked" {
				t.Fatalf("refresh after logout: %d %s", r.Status, r.Raw)
			}
			want := map[bool]int{false: 200, true: 401}[denylist]
			if r := ts.do(t, "GET", "/protected", nil, bearerHeader(access)...); r.Status != want {
				t.Fatalf("access token after logout: %d, want %d (%s)", r.Status, want, r.Raw)
			}
		})
	}
}

func TestRotationOffAndSessionMax(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Rotation = false; c.SessionMax = c.AccessTTL * 3; c.RefreshTTL = c.AccessTTL * 10 })
	_, refresh := ts.login(t)
	for i := 0; i < 2; i++ {
		ts.admin(t, "POST", "/admin/clock", map[string]string{"advance": "16m"})
		r := ts.do(t, "POST", "/token", map[string]string{"token": refresh})
		if r.Status != 200 || r.str("refreshToken") != refresh {
			t.Fatalf("refresh %d without rotation: %d %s", i, r.Status, r.Raw)
		}
	}
	ts.admin(t, "POST", "/admin/clock", map[string]string{"advance": "16m"})
	if r := ts.do(t, "POST", "/token", map[string]string{"token": refresh}); r.str("error") != "session_expired" {
		t.Fatalf("refresh past session max: %d %s", r.Status, r.Raw)
	}
}

func TestAdminSettings(t *testing.T) {
	ts := newTestServer(t)
	r := ts.admin(t, "GET", "/admin/settings", nil)
	if r.Status != 200 || r.str("accessTtl") != "15m" || r.Body["rotation"] != true {
		t.Fatalf("settings: %d %s", r.Status, r.Raw)
	}
	r = ts.admin(t, "PUT", "/admin/settings", map[string]any{"accessTtl": "1m", "rotation": false})
	if r.Status != 200 || r.str("accessTtl") != "1m" || r.Body["rotation"] != false || r.str("refreshTtl") != "7d" {
		t.Fatalf("change settings: %d %s", r.Status, r.Raw)
	}
	login := ts.do(t, "POST", "/login", map[string]string{"username": "alice", "password": "password123"})
	if login.Body["expiresIn"] != float64(60) {
		t.Fatalf("a login after the change must use the new lifetime: %s", login.Raw)
	}
	if r := ts.do(t, "POST", "/token", map[string]string{"token": login.str("refreshToken")}); r.str("refreshToken") != login.str("refreshToken") {
		t.Fatalf("with rotation off the refresh token stays: %s", r.Raw)
	}
	for _, bad := range []any{map[string]any{"accessTtl": "0s"}, map[string]any{"reuseGrace": "soon"}, map[string]any{"rotation": "yes"}} {
		if r := ts.admin(t, "PUT", "/admin/settings", bad); r.Status != 400 {
			t.Errorf("PUT %v: %d %s", bad, r.Status, r.Raw)
		}
	}
	if r := ts.do(t, "PUT", "/admin/settings", map[string]any{"rotation": true}); r.Status != 401 {
		t.Errorf("settings without the admin token: %d", r.Status)
	}
}

func TestStartEmbedded(t *testing.T) {
	e, err := StartEmbedded(t.Context(), EmbeddedOptions{Configure: func(c *Config) { c.BcryptCost = 4 }})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if e.Clock.Mode() != ClockFrozen {
		t.Errorf("clock mode %s", e.Clock.Mode())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(e.URL + "/healthz"); err == nil {
		t.Fatal("the server still answers after Close")
	}
}

func TestDurationRoundTrip(t *testing.T) {
	for _, in := range []string{"15m", "7d", "1d1h", "1m30s", "1h30m", "250ms", "2d3h4m5s", "2s500ms", "1ms500us", "250us", "1ns", "7d1ns"} {
		d, err := ParseDuration(in)
		if err != nil {
			t.Fatalf("ParseDuration(%q): %v", in, err)
		}
		if back := FormatDuration(d); back != in {
			t.Errorf("FormatDuration(ParseDuration(%q)) = %q", in, back)
		}
	}
	for in, want := range map[string]time.Duration{"2.5 hrs": 150 * time.Minute, "10 days": 240 * time.Hour, "0": 0, "-5m": -5 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// A bare number has no unit: 15 ms (the ms package) or 15 s
	// (jsonwebtoken)? Refused, with the units to use.
	for _, bare := range []string{"15", "1500", "-5", " 2.5 "} {
		if _, err := ParseDuration(bare); err == nil || !strings.Contains(err.Error(), "needs a unit") {
			t.Errorf("ParseDuration(%q) = %v, want it refused for want of a unit", bare, err)
		}
	}
	for _, bad := range []string{"", "soon", "5 parsecs", "1d-1h", "d", ".m"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) must fail", bad)
		}
	}
}

func TestReviewFixes(t *testing.T) {
	t.Run("a token without iat is introspected, not a 500", func(t *testing.T) {
		ts := newTestServer(t, openIntrospection)
		now := ts.Clock.Now()
		c := AccessClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: ts.tokens().issuer, Subject: "1", ID: "no-iat",
			Audience: jwt.ClaimStrings{ts.tokens().audience}, ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
			NotBefore: jwt.NewNumericDate(now)}, Username: "alice"}
		raw, err := sign(ts.tokens().access, typAccess, c)
		if err != nil {
			t.Fatal(err)
		}
		r := ts.form(t, "/oauth/introspect", "token", raw)
		if r.Status != 200 || r.Body["active"] != true || r.Body["iat"] != nil {
			t.Fatalf("introspect: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("reuse with detection off is logged and the session stays", func(t *testing.T) {
		ts := newTestServer(t, func(c *Config) { c.ReuseDetection = false })
		_, refresh := ts.login(t)
		next := ts.do(t, "POST", "/token", map[string]string{"token": refresh})
		r := ts.do(t, "POST", "/token", map[string]string{"token": refresh})
		if r.str("error") != "token_reused" || !strings.Contains(r.str("message"), "session stays") {
			t.Fatalf("replay: %d %s", r.Status, r.Raw)
		}
		if !slices.Contains(ts.eventKinds(t), "refresh_rejected") || slices.Contains(ts.eventKinds(t), "family_revoked") {
			t.Fatalf("events: %v", ts.eventKinds(t))
		}
		if r := ts.do(t, "POST", "/token", map[string]string{"token": next.str("refreshToken")}); r.Status != 200 {
			t.Fatalf("the newest token must still work: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("a changed --user password replaces the stored one", func(t *testing.T) {
		ts := newTestServer(t)
		cfg := ts.cfg
		cfg.Users = []Credentials{{Username: "alice", Password: "a-new-password"}}
		if _, err := New(t.Context(), ts.DB, ts.Clock, cfg); err != nil {
			t.Fatal(err)
		}
		if r := ts.do(t, "POST", "/login", map[string]string{"username": "alice", "password": "a-new-password"}); r.Status != 200 {
			t.Fatalf("login with the new password: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("lifetimes beyond ten years are refused", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.AdminToken, cfg.RefreshTTL = testAdminToken, 11*365*24*time.Hour
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "limited") {
			t.Fatalf("validate: %v", err)
		}
	})
}
