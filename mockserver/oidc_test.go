package mockserver

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifyIDToken checks an ID token against the server's JWKS as a relying
// party does: RS256, a kid in the JWKS, iss and aud; it returns the claims.
func (ts *testServer) verifyIDToken(tb testing.TB, raw, clientID string) jwt.MapClaims {
	tb.Helper()
	if raw == "" {
		tb.Fatal("no id_token in the answer")
	}
	keys := ts.do(tb, "GET", "/.well-known/jwks.json", nil)
	var set struct {
		Keys []struct{ Kty, Kid, Alg, Use, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(keys.Raw, &set); err != nil {
		tb.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		for _, k := range set.Keys {
			if k.Kid == tok.Header["kid"] && k.Kty == "RSA" && k.Alg == "RS256" {
				n, _ := base64.RawURLEncoding.DecodeString(k.N)
				e, _ := base64.RawURLEncoding.DecodeString(k.E)
				return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
			}
		}
		tb.Fatalf("the ID token's kid %v is not an RSA key in the JWKS %s", tok.Header["kid"], keys.Raw)
		return nil, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(ts.cfg.Issuer), jwt.WithAudience(clientID),
		jwt.WithTimeFunc(ts.Clock.Now), jwt.WithIssuedAt())
	if err != nil {
		tb.Fatalf("ID token does not verify: %v", err)
	}
	return claims
}

func withAliceClaims(c *Config) {
	c.Users = []Credentials{{Username: "alice", Password: "password123", Claims: map[string]any{
		"email": "alice@example.test", "email_verified": true, "name": "Alice Liddell", "groups": []any{"admins", "staff"}}}}
}

// TestIDTokenFromCodeGrant: scope openid gives an RS256 ID token (with
// the default HS256 access tokens) with iss, sub, aud, azp, exp, iat,
// auth_time, the nonce, at_hash and the claims of the granted scopes.
func TestIDTokenFromCodeGrant(t *testing.T) {
	ts := newTestServer(t, withAliceClaims)
	redirect := "http://127.0.0.1:9/cb"
	code := ts.authorize(t, authorizeQuery(redirect, "scope", "openid profile", "nonce", "n-0S6_WzA2Mj"))
	r := ts.form(t, "/oauth/token", "grant_type", grantAuthorizationCode, "code", code, "redirect_uri", redirect,
		"client_id", DefaultClientID, "code_verifier", testVerifier)
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Raw)
	}
	c := ts.verifyIDToken(t, r.str("id_token"), DefaultClientID)
	access := claimsOf(t, r.str("access_token"))
	now := ts.Clock.Now().Unix()
	want := map[string]any{"sub": access["sub"], "azp": DefaultClientID, "nonce": "n-0S6_WzA2Mj", "iat": float64(now),
		"auth_time": float64(now), "at_hash": atHash(r.str("access_token")), "preferred_username": "alice",
		"name": "Alice Liddell", "groups": []any{"admins", "staff"}, "sid": access["sid"]}
	for k, v := range want {
		if got, _ := json.Marshal(c[k]); string(got) != mustJSON(t, v) {
			t.Errorf("claim %s = %s, want %s", k, got, mustJSON(t, v))
		}
	}
	if _, ok := c["email"]; ok {
		t.Errorf("email was not asked for (no scope email), yet the ID token carries it: %v", c)
	}
	if exp, _ := c["exp"].(float64); exp <= float64(now) {
		t.Errorf("exp %v is not after iat %d", c["exp"], now)
	}
	if h := headerOf(t, r.str("id_token")); h["alg"] != "RS256" || h["kid"] == "" {
		t.Errorf("ID token header %v, want RS256 with a kid", h)
	}
	if headerOf(t, r.str("access_token"))["alg"] != "HS256" {
		t.Errorf("access tokens keep --alg (HS256)")
	}

	// Without openid: no ID token.
	code = ts.authorize(t, authorizeQuery(redirect, "scope", "read"))
	r = ts.form(t, "/oauth/token", "grant_type", grantAuthorizationCode, "code", code, "redirect_uri", redirect,
		"client_id", DefaultClientID, "code_verifier", testVerifier)
	if r.Status != 200 || r.str("id_token") != "" {
		t.Fatalf("scope read: %d, id_token %q", r.Status, r.str("id_token"))
	}
}

func mustJSON(tb testing.TB, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func headerOf(tb testing.TB, tok string) map[string]any {
	tb.Helper()
	head, _, _ := strings.Cut(tok, ".")
	data, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	return m
}

// TestIDTokenFromOtherGrants: the password, device and refresh grants give
// an ID token for openid; a refreshed one keeps sub and auth_time, carries
// no nonce and hashes the new access token.
func TestIDTokenFromOtherGrants(t *testing.T) {
	ts := newTestServer(t, withAliceClaims)
	r := ts.form(t, "/oauth/token", "grant_type", grantPassword, "username", "alice", "password", "password123",
		"client_id", DefaultClientID, "scope", "openid email")
	if r.Status != 200 {
		t.Fatalf("password grant: %d %s", r.Status, r.Raw)
	}
	first := ts.verifyIDToken(t, r.str("id_token"), DefaultClientID)
	if first["email"] != "alice@example.test" || first["email_verified"] != true || first["name"] != nil {
		t.Errorf("scope email gives email and email_verified, not name: %v", first)
	}

	ts.Clock.Advance(time.Minute)
	rr := ts.form(t, "/oauth/token", "grant_type", grantRefreshToken, "refresh_token", r.str("refresh_token"), "client_id", DefaultClientID)
	if rr.Status != 200 {
		t.Fatalf("refresh: %d %s", rr.Status, rr.Raw)
	}
	again := ts.verifyIDToken(t, rr.str("id_token"), DefaultClientID)
	if again["sub"] != first["sub"] || again["auth_time"] != first["auth_time"] || again["iat"] == first["iat"] ||
		again["nonce"] != nil || again["at_hash"] != atHash(rr.str("access_token")) {
		t.Errorf("refreshed ID token %v after %v", again, first)
	}

	d := ts.form(t, "/oauth/device_authorization", "client_id", DefaultClientID, "scope", "openid")
	typed := strings.ReplaceAll(d.str("user_code"), "-", "")
	if p := ts.browser(t, "POST", "/device", url.Values{"user_code": {typed}, "username": {"alice"}, "password": {"password123"},
		"action": {"approve"}}); p.Status != 200 {
		t.Fatalf("device approval: %d %s", p.Status, p.Body)
	}
	dr := ts.form(t, "/oauth/token", "grant_type", grantDeviceCode, "device_code", d.str("device_code"), "client_id", DefaultClientID)
	if dr.Status != 200 {
		t.Fatalf("device grant: %d %s", dr.Status, dr.Raw)
	}
	ts.verifyIDToken(t, dr.str("id_token"), DefaultClientID)
}

// TestUserinfo: GET and POST with a bearer token of scope openid give the
// claims; no token is 401 with a bare Bearer challenge, a bad one 401
// invalid_token, one without openid 403 insufficient_scope (RFC 6750 §3).
func TestUserinfo(t *testing.T) {
	ts := newTestServer(t, withAliceClaims)
	r := ts.form(t, "/oauth/token", "grant_type", grantPassword, "username", "alice", "password", "password123",
		"client_id", DefaultClientID, "scope", "openid profile email")
	sub := claimsOf(t, r.str("access_token"))["sub"]
	for _, method := range []string{"GET", "POST"} {
		u := ts.do(t, method, "/oauth/userinfo", nil, bearerHeader(r.str("access_token"))...)
		if u.Status != 200 || u.Body["sub"] != sub || u.str("email") != "alice@example.test" || u.str("preferred_username") != "alice" ||
			u.str("name") != "Alice Liddell" {
			t.Errorf("%s userinfo: %d %s", method, u.Status, u.Raw)
		}
	}
	none := ts.do(t, "GET", "/oauth/userinfo", nil)
	if none.Status != 401 || none.Header.Get("WWW-Authenticate") != `Bearer realm="tokenlab", resource_metadata="`+ts.URL+`/.well-known/oauth-protected-resource"` {
		t.Errorf("no token: %d %q %s", none.Status, none.Header.Get("WWW-Authenticate"), none.Raw)
	}
	bad := ts.do(t, "GET", "/oauth/userinfo", nil, bearerHeader(r.str("access_token")+"x")...)
	if bad.Status != 401 || bad.str("error") != "invalid_token" || !strings.Contains(bad.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d %q %s", bad.Status, bad.Header.Get("WWW-Authenticate"), bad.Raw)
	}
	plain := ts.form(t, "/oauth/token", "grant_type", grantPassword, "username", "alice", "password", "password123",
		"client_id", DefaultClientID, "scope", "read")
	f := ts.do(t, "GET", "/oauth/userinfo", nil, bearerHeader(plain.str("access_token"))...)
	if ch := f.Header.Get("WWW-Authenticate"); f.Status != 403 || f.str("error") != "insufficient_scope" ||
		!strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="openid"`) {
		t.Errorf("token without openid: %d %q %s", f.Status, ch, f.Raw)
	}
}

// TestEndSession: id_token_hint with a registered post_logout_redirect_uri
// and state ends the session and redirects; an unregistered URI is an
// error page and ends nothing.
func TestEndSession(t *testing.T) {
	ts := newTestServer(t)
	login := func() reply {
		return ts.form(t, "/oauth/token", "grant_type", grantPassword, "username", "alice", "password", "password123",
			"client_id", DefaultClientID, "scope", "openid")
	}
	r := login()
	evil := url.Values{"id_token_hint": {r.str("id_token")}, "post_logout_redirect_uri": {"https://evil.example/"}}
	if p := ts.browser(t, "GET", endSessionPath+"?"+evil.Encode(), nil); p.Status != 400 || !strings.Contains(p.Body, "not registered") {
		t.Fatalf("unregistered URI: %d %s", p.Status, p.Body)
	}
	if rr := ts.form(t, "/oauth/token", "grant_type", grantRefreshToken, "refresh_token", r.str("refresh_token"), "client_id", DefaultClientID); rr.Status != 200 {
		t.Fatalf("a refused logout must end nothing: %d %s", rr.Status, rr.Raw)
	}
	r = login()
	q := url.Values{"id_token_hint": {r.str("id_token")}, "client_id": {DefaultClientID},
		"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"s-42"}}
	loc := location(t, ts.browser(t, "GET", endSessionPath+"?"+q.Encode(), nil))
	if loc.Host != "127.0.0.1:9" || loc.Path != "/bye" || loc.Query().Get("state") != "s-42" {
		t.Fatalf("redirect to %s", loc)
	}
	rr := ts.form(t, "/oauth/token", "grant_type", grantRefreshToken, "refresh_token", r.str("refresh_token"), "client_id", DefaultClientID)
	if rr.Status != 400 || !strings.Contains(rr.str("error_description"), codeTokenRevoked) {
		t.Fatalf("refresh after logout: %d %s", rr.Status, rr.Raw)
	}
	// POST, no redirect: a page; a hint naming another client is refused.
	r = login()
	p := ts.browser(t, "POST", endSessionPath, url.Values{"id_token_hint": {r.str("id_token")}})
	if p.Status != 200 || !strings.Contains(p.Body, `data-result="ended"`) {
		t.Fatalf("POST logout: %d %s", p.Status, p.Body)
	}
	other := url.Values{"id_token_hint": {r.str("id_token")}, "client_id": {"someone-else"}}
	if p := ts.browser(t, "GET", endSessionPath+"?"+other.Encode(), nil); p.Status != 400 {
		t.Fatalf("client_id other than the hint's aud: %d %s", p.Status, p.Body)
	}
	forged := url.Values{"id_token_hint": {r.str("access_token")}}
	if p := ts.browser(t, "GET", endSessionPath+"?"+forged.Encode(), nil); p.Status != 400 || !strings.Contains(p.Body, "id_token_hint") {
		t.Fatalf("an access token as hint: %d %s", p.Status, p.Body)
	}
	if got := ts.eventKinds(t); !strings.Contains(strings.Join(got, " "), "logout") {
		t.Errorf("events %v lack logout", got)
	}
	_ = http.StatusOK
}
