package mockserver

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// An access token never outlives its session: with --session-max shorter
// than --access-ttl, exp is the session's deadline, after login and after a
// refresh, and expires_in says so.
func TestAccessTokenCappedAtSessionMax(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.AccessTTL, c.SessionMax = time.Hour, 10*time.Minute })
	r := ts.do(t, http.MethodPost, "/login", map[string]string{"username": "alice", "password": "password123"})
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	deadline := ts.Clock.Now().Add(10 * time.Minute)
	checkExp := func(step, access string, expiresIn float64) {
		t.Helper()
		c, err := ts.tokens().checkAccess(access)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if !c.ExpiresAt.Time.Equal(deadline) {
			t.Errorf("%s: access exp = %v, want the session deadline %v", step, c.ExpiresAt.Time, deadline)
		}
		if want := deadline.Sub(ts.Clock.Now()).Seconds(); expiresIn != want {
			t.Errorf("%s: expiresIn = %v, want %v", step, expiresIn, want)
		}
	}
	checkExp("login", r.str("accessToken"), r.Body["expiresIn"].(float64))

	ts.admin(t, http.MethodPost, "/admin/clock", map[string]string{"advance": "5m"})
	r = ts.do(t, http.MethodPost, "/token", map[string]string{"token": r.str("refreshToken")})
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	checkExp("refresh", r.str("accessToken"), r.Body["expiresIn"].(float64))

	// Past the deadline the access token no longer opens /protected.
	ts.admin(t, http.MethodPost, "/admin/clock", map[string]string{"advance": "5m"})
	if got := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(r.str("accessToken"))...); got.Status != http.StatusUnauthorized {
		t.Fatalf("/protected after the session deadline: %d %s, want 401", got.Status, got.Raw)
	}
}

// A client cycling far more valid tokens than the cache holds does not
// evict a token that another client keeps using.
func TestVerifiedCacheKeepsHotToken(t *testing.T) {
	ts := newTestServer(t)
	hot, _ := ts.login(t)
	if r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(hot)...); r.Status != http.StatusOK {
		t.Fatalf("/protected: %d %s", r.Status, r.Raw)
	}
	cache := ts.tokens().verified
	now := ts.Clock.Now()
	misses := 0
	for i := range 2*verifiedCacheSize + 50 {
		// The attacker's tokens are valid and distinct, as a client that
		// logs in over and over would hold.
		raw, _, err := ts.tokens().signAccess("2", "mallory", familyRef{id: strconv.Itoa(i)}, now, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.tokens().verifyAccess(raw); err != nil {
			t.Fatalf("attacker token %d: %v", i, err)
		}
		if i%100 == 0 { // the victim keeps using its token meanwhile
			before := cache.hits.Load()
			if _, err := ts.tokens().verifyAccess(hot); err != nil {
				t.Fatal(err)
			}
			if cache.hits.Load() == before {
				misses++
			}
		}
	}
	if misses > 0 {
		t.Fatalf("the hot token missed the cache %d times while an attacker cycled %d tokens", misses, 2*verifiedCacheSize+50)
	}
	if n := len(cache.index); n > verifiedCacheSize {
		t.Fatalf("the cache holds %d entries, more than its bound %d", n, verifiedCacheSize)
	}
}

// signRawJSON signs header and payload JSON exactly as written, with the
// server's own key, so only the shape can be wrong.
func signRawJSON(tb testing.TB, s *signer, header, payload string) string {
	tb.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sig, err := s.method.Sign(input, s.sign)
	if err != nil {
		tb.Fatal(err)
	}
	return input + "." + b64(sig)
}

// Shapes golang-jwt accepts but the server must refuse, each signed with
// the server's own key, against /protected and the refresh endpoints.
func TestLenientShapesRefused(t *testing.T) {
	ts := newTestServer(t)
	now := ts.Clock.Now().Unix()
	_, refresh := ts.login(t)
	rc, err := ts.tokens().verifyRefresh(refresh)
	if err != nil {
		t.Fatal(err)
	}
	accessHeader := fmt.Sprintf(`{"alg":"HS256","typ":"at+jwt","kid":%q}`, ts.tokens().access.kid)
	refreshHeader := fmt.Sprintf(`{"alg":"HS256","typ":"rt+jwt","kid":%q}`, ts.tokens().refresh.kid)
	accessClaims := func(exp, iat string, extra string) string {
		return fmt.Sprintf(`{"iss":%q,"sub":"1","aud":[%q],"exp":%s,"iat":%s,"nbf":%d,"jti":"j1","username":"alice"%s}`,
			ts.cfg.Issuer, ts.cfg.Audience, exp, iat, now, extra)
	}
	refreshClaims := func(exp, iat string, extra string) string {
		return fmt.Sprintf(`{"iss":%q,"sub":"1","exp":%s,"iat":%s,"jti":%q,"fid":%q%s}`,
			ts.cfg.Issuer, exp, iat, rc.ID, rc.FamilyID, extra)
	}
	exp, iat := strconv.FormatInt(now+600, 10), strconv.FormatInt(now, 10)
	withHeader := func(h, field string) string { return strings.TrimSuffix(h, "}") + "," + field + "}" }
	cases := []struct {
		name            string
		header, payload func() (string, string) // access, refresh
	}{
		{"crit header", func() (string, string) {
			return withHeader(accessHeader, `"crit":["exp"]`), withHeader(refreshHeader, `"crit":["exp"]`)
		}, nil},
		{"b64 false", func() (string, string) {
			return withHeader(accessHeader, `"b64":false`), withHeader(refreshHeader, `"b64":false`)
		}, nil},
		{"duplicate header member", func() (string, string) {
			// The same value twice: only the duplicate itself is wrong.
			return withHeader(accessHeader, `"typ":"at+jwt"`), withHeader(refreshHeader, `"typ":"rt+jwt"`)
		}, nil},
		{"exp as a string", nil, func() (string, string) {
			return accessClaims(strconv.Quote(exp), iat, ""), refreshClaims(strconv.Quote(exp), iat, "")
		}},
		{"iat in the future", nil, func() (string, string) {
			future := strconv.FormatInt(now+int64(iatLeeway.Seconds())+60, 10)
			return accessClaims(exp, future, ""), refreshClaims(exp, future, "")
		}},
		{"duplicate claim", nil, func() (string, string) {
			return accessClaims(exp, iat, `,"username":"root"`), refreshClaims(exp, iat, `,"fid":"other-family"`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ah, rh := accessHeader, refreshHeader
			ap, rp := accessClaims(exp, iat, ""), refreshClaims(exp, iat, "")
			if tc.header != nil {
				ah, rh = tc.header()
			}
			if tc.payload != nil {
				ap, rp = tc.payload()
			}
			access := signRawJSON(t, ts.tokens().access, ah, ap)
			r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(access)...)
			if r.Status != http.StatusUnauthorized || r.str("error") != codeInvalidToken {
				t.Errorf("/protected: %d %s, want 401 invalid_token", r.Status, r.Raw)
			}
			rt := signRawJSON(t, ts.tokens().refresh, rh, rp)
			r = ts.do(t, http.MethodPost, "/token", map[string]string{"token": rt})
			if r.Status != http.StatusUnauthorized && r.Status != http.StatusBadRequest || r.str("error") != codeInvalidToken {
				t.Errorf("/token: %d %s, want invalid_token", r.Status, r.Raw)
			}
			o := ts.form(t, "/oauth/token", "grant_type", "refresh_token", "refresh_token", rt)
			if o.Status != http.StatusBadRequest || o.str("error") != "invalid_grant" {
				t.Errorf("/oauth/token: %d %s, want 400 invalid_grant", o.Status, o.Raw)
			}
		})
	}
	// The control: the same construction with nothing wrong verifies, so
	// each refusal above is for its shape alone.
	t.Run("control", func(t *testing.T) {
		access := signRawJSON(t, ts.tokens().access, accessHeader, accessClaims(exp, iat, ""))
		if r := ts.do(t, http.MethodGet, "/protected", nil, bearerHeader(access)...); r.Status != http.StatusOK {
			t.Errorf("/protected with a well-formed token: %d %s", r.Status, r.Raw)
		}
		if _, err := ts.tokens().checkAccess(signRawJSON(t, ts.tokens().access, accessHeader,
			accessClaims(exp, strconv.FormatInt(now+30, 10), ""))); err != nil {
			t.Errorf("an iat 30 s ahead (inside the leeway) was refused: %v", err)
		}
	})
}
