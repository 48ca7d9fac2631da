package mockserver

import (
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// highSTwin returns the other valid spelling of an ES256 token: s' = n − s.
func highSTwin(t *testing.T, token string) string {
	t.Helper()
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %v", err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(p256Order, s)
	s.FillBytes(sig[32:])
	return token[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// TestES256HighSReplayIsReuse (token rule 6): the high-s twin of a spent
// refresh token names the same token, so replaying it revokes the family.
// Before the rule it was an unknown token and the family lived on.
func TestES256HighSReplayIsReuse(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Alg = "ES256" })
	access, refresh := ts.login(t)
	if highS(refresh) || highS(access) {
		t.Fatal("the server must sign only low-s ECDSA signatures")
	}
	twin := highSTwin(t, refresh)

	// Unspent: the twin is refused and changes nothing.
	if r := ts.do(t, http.MethodPost, "/token", map[string]string{"token": twin}); r.Status != 401 || r.str("error") != "invalid_token" {
		t.Fatalf("high-s twin of a live token: %d %s", r.Status, r.Raw)
	}
	// The original is still good: spend it.
	r := ts.do(t, http.MethodPost, "/token", map[string]string{"token": refresh})
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	// Spent: the twin is a reuse.
	if r := ts.do(t, http.MethodPost, "/token", map[string]string{"token": twin}); r.Status != 401 || r.str("error") != "token_reused" {
		t.Fatalf("high-s twin of a spent token: %d %s", r.Status, r.Raw)
	}
	sessions, err := allSessions(t.Context(), ts.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].Family.RevokeReason != "reuse_detected" {
		t.Fatalf("the family must be revoked for reuse, got %+v", sessions)
	}
	if got := ts.do(t, http.MethodPost, "/token", map[string]string{"token": r.str("refreshToken")}); got.str("error") != "token_revoked" {
		t.Fatalf("the successor after the reuse: %d %s", got.Status, got.Raw)
	}
	var kinds []string
	for _, k := range ts.eventKinds(t) {
		if k == auth.EventReuseDetected {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		t.Fatalf("want one reuse_detected event, got %v", ts.eventKinds(t))
	}
}

// TestES256HighSAccessTokenRefused: the second spelling of a valid access
// token is refused at verification.
func TestES256HighSAccessTokenRefused(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Alg = "ES256" })
	access, _ := ts.login(t)
	if r := ts.do(t, http.MethodGet, "/protected", nil, "Authorization", "Bearer "+access); r.Status != 200 {
		t.Fatalf("the token itself: %d %s", r.Status, r.Raw)
	}
	if r := ts.do(t, http.MethodGet, "/protected", nil, "Authorization", "Bearer "+highSTwin(t, access)); r.Status != 401 {
		t.Fatalf("its high-s twin: %d %s", r.Status, r.Raw)
	}
}

// TestES256SigningIsDeterministicAndLowS: the same claims give the same
// token (RFC 6979), in the low-s form, and it verifies.
func TestES256SigningIsDeterministicAndLowS(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Alg = "ES256" })
	now := ts.Clock.Now()
	for i := range 50 {
		jti := "jti-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		a, _, err := ts.tokens().signRefreshAs(jti, 1, "fam", now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := ts.tokens().signRefreshAs(jti, 1, "fam", now, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a != b || highS(a) {
			t.Fatalf("signing twice gave %q and %q (high-s: %v)", a, b, highS(a))
		}
		if _, err := ts.tokens().verifyRefresh(a); err != nil {
			t.Fatalf("the token does not verify: %v", err)
		}
	}
}
