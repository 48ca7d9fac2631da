package mockserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// hostileAccessClaims are valid access-token claims for alice at the
// server's current time; a case changes one thing.
func hostileAccessClaims(ts *testServer) AccessClaims {
	now := ts.Clock.Now()
	return AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    ts.cfg.Issuer,
			Subject:   "1",
			Audience:  jwt.ClaimStrings{ts.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        "forged-access-jti",
		},
		Username: "alice",
	}
}

// hostileRefreshClaims are valid refresh-token claims for a family the
// database may or may not know.
func hostileRefreshClaims(ts *testServer, familyID string) RefreshClaims {
	now := ts.Clock.Now()
	return RefreshClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    ts.cfg.Issuer,
			Subject:   "1",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        "forged-refresh-jti",
		},
		FamilyID: familyID,
	}
}

// forgeAccess signs claims with the server's own access key, as only the
// server could.
func (ts *testServer) forgeAccess(tb testing.TB, c jwt.Claims) string {
	tb.Helper()
	tok, err := sign(ts.tokens().access, typAccess, c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// forgeRefresh signs claims with the server's own refresh key.
func (ts *testServer) forgeRefresh(tb testing.TB, c jwt.Claims) string {
	tb.Helper()
	tok, err := sign(ts.tokens().refresh, typRefresh, c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// hostileSign signs claims with any method, key and header fields.
func hostileSign(tb testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.Claims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// withPayloadByte replaces the first old in the decoded payload of tok with
// new (of the same length) and re-encodes it, keeping the signature.
func withPayloadByte(tb testing.TB, tok, old, new string) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !strings.Contains(string(payload), old) || len(old) != len(new) {
		tb.Fatalf("payload %s lacks %q (%v)", payload, old, err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), old, new, 1)))
	return strings.Join(parts, ".")
}

func formBody(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// hostileCase is one hostile request and the refusal it must get.
type hostileCase struct {
	name   string
	method string
	path   string
	body   any      // string or []byte sent raw; anything else as JSON
	header []string // pairs
	status int
	code   string            // the error field
	msg    string            // a substring of message or error_description
	want   map[string]string // header substrings
}

const formType = "application/x-www-form-urlencoded"

// sqlUsername is registered before the table runs, so its cases meet a
// real row.
const sqlUsername = `"; DROP TABLE users; --`

// hostileCases returns the table for ts; the algorithm-confusion cases
// exist only for a server with an asymmetric algorithm.
func hostileCases(t *testing.T, ts *testServer) []hostileCase {
	t.Helper()
	access, refresh := ts.login(t)
	ac := hostileAccessClaims(ts)
	kid := ts.tokens().access.kid
	tenMB := strings.Repeat("A", 10<<20)
	long := strings.Repeat("é", 10000)
	js := "application/json"
	adminChallenge := map[string]string{"WWW-Authenticate": `Bearer realm="tokenlab-admin"`}
	tokenChallenge := map[string]string{"WWW-Authenticate": `error="invalid_token"`}

	tokenCase := func(name, tok string, code, msg string) hostileCase {
		return hostileCase{name: name, method: "GET", path: "/protected", header: bearerHeader(tok),
			status: 401, code: code, msg: msg, want: tokenChallenge}
	}
	changed := func(f func(*AccessClaims)) string {
		c := ac
		f(&c)
		return ts.forgeAccess(t, c)
	}
	parts := strings.Split(access, ".")

	cases := []hostileCase{
		// Bodies of the seed dialect.
		{name: "malformed JSON", method: "POST", path: "/login", body: `{"username":"alice",}`, header: []string{"Content-Type", js},
			status: 400, code: "invalid_request", msg: "malformed JSON at byte"},
		{name: "truncated JSON", method: "POST", path: "/login", body: `{"username":"alice","password":"pass`, header: []string{"Content-Type", js},
			status: 400, code: "invalid_request", msg: "ends too early"},
		{name: "JSON array instead of object", method: "POST", path: "/login", body: `[{"username":"alice","password":"password123"}]`, header: []string{"Content-Type", js},
			status: 400, code: "invalid_request", msg: "must be a JSON object, not array"},
		{name: "JSON string instead of object", method: "POST", path: "/register", body: `"alice"`, header: []string{"Content-Type", js},
			status: 400, code: "invalid_request", msg: "must be a JSON object, not string"},
		{name: "two objects in one body", method: "POST", path: "/login", body: `{"username":"alice","password":"password123"}{"username":"bob"}`, header: []string{"Content-Type", js},
			status: 400, code: "invalid_request", msg: "exactly one JSON object"},
		{name: "object then garbage", method: "POST", path: "/token", body: `{"token":"x"} ]`, header: []string{"Content-Type", js},
			status: 400, code: "invalid_request", msg: "exactly one JSON object"},
		{name: "text/plain with a JSON body", method: "POST", path: "/login", body: `{"username":"alice","password":"password123"}`, header: []string{"Content-Type", "text/plain"},
			status: 415, code: "unsupported_media_type", msg: `not "text/plain"`},
		{name: "no content type with a JSON body", method: "POST", path: "/register", body: `{"username":"bob","password":"password123"}`,
			status: 415, code: "unsupported_media_type", msg: `send the body as application/json, not ""`},
		{name: "form body to /login", method: "POST", path: "/login", body: formBody("username", "alice", "password", "password123"), header: []string{"Content-Type", formType},
			status: 415, code: "unsupported_media_type", msg: "x-www-form-urlencoded"},
		{name: "10 MB body to /login", method: "POST", path: "/login", body: `{"username":"` + tenMB + `"}`, header: []string{"Content-Type", js},
			status: 413, code: "request_too_large", msg: "larger than 65536 bytes"},
		{name: "10 MB body to /oauth/token", method: "POST", path: "/oauth/token", body: "grant_type=password&username=" + tenMB, header: []string{"Content-Type", formType},
			status: 413, code: "invalid_request", msg: "larger than 65536 bytes"},
		{name: "missing fields", method: "POST", path: "/login", body: map[string]any{},
			status: 400, code: "invalid_request", msg: "username is required"},
		{name: "missing password", method: "POST", path: "/register", body: map[string]any{"username": "bob"},
			status: 400, code: "invalid_request", msg: "password is required"},
		{name: "empty body to /login", method: "POST", path: "/login",
			status: 400, code: "invalid_request", msg: "username is required"},
		{name: "mistyped username", method: "POST", path: "/login", body: map[string]any{"username": 5, "password": "password123"},
			status: 400, code: "invalid_request", msg: `field "username" must be a string, not number`},
		{name: "mistyped password", method: "POST", path: "/register", body: map[string]any{"username": "bob", "password": true},
			status: 400, code: "invalid_request", msg: `field "password" must be a string, not bool`},
		{name: "mistyped token", method: "POST", path: "/token", body: map[string]any{"token": []string{refresh}},
			status: 400, code: "invalid_request", msg: `field "token" must be a string, not array`},
		{name: "unknown field", method: "POST", path: "/login", body: map[string]any{"username": "alice", "password": "password123", "admin": true},
			status: 400, code: "invalid_request", msg: `unknown field "admin"`},
		{name: "no refresh token at all", method: "POST", path: "/token", body: map[string]any{},
			status: 400, code: "invalid_request", msg: "send the refresh token"},

		// Usernames.
		{name: "SQL tautology at /login", method: "POST", path: "/login", body: map[string]string{"username": "' OR 1=1 --", "password": "password123"},
			status: 401, code: "invalid_credentials", msg: "wrong username or password"},
		{name: "SQL comment after a real name at /login", method: "POST", path: "/login", body: map[string]string{"username": "alice' --", "password": "x"},
			status: 401, code: "invalid_credentials", msg: "wrong username or password"},
		{name: "SQL DROP TABLE at /login", method: "POST", path: "/login", body: map[string]string{"username": sqlUsername, "password": "' OR ''='"},
			status: 401, code: "invalid_credentials", msg: "wrong username or password"},
		{name: "SQL DROP TABLE at /register is stored as a name", method: "POST", path: "/register", body: map[string]string{"username": sqlUsername, "password": "password123"},
			status: 409, code: "username_taken", msg: `the username "\"; DROP TABLE users; --" is taken`},
		{name: "SQL tautology at /register with a short password", method: "POST", path: "/register", body: map[string]string{"username": "' OR 1=1 --", "password": "x"},
			status: 400, code: "invalid_request", msg: "at least 8 bytes"},
		{name: "10000-rune username at /login", method: "POST", path: "/login", body: map[string]string{"username": long, "password": "password123"},
			status: 400, code: "invalid_request", msg: "at most 64 characters, not 10000"},
		{name: "10000-rune username at /register", method: "POST", path: "/register", body: map[string]string{"username": long, "password": "password123"},
			status: 400, code: "invalid_request", msg: "at most 64 characters, not 10000"},
		{name: "NUL in username", method: "POST", path: "/login", body: map[string]string{"username": "ali\x00ce", "password": "password123"},
			status: 400, code: "invalid_request", msg: "control characters"},
		{name: "escape sequence in username", method: "POST", path: "/register", body: map[string]string{"username": "bob\x1b[2J", "password": "password123"},
			status: 400, code: "invalid_request", msg: "control characters"},
		{name: "surrounding spaces in username", method: "POST", path: "/register", body: map[string]string{"username": " alice", "password": "password123"},
			status: 400, code: "invalid_request", msg: "surrounding spaces"},
		{name: "password beyond bcrypt's 72 bytes", method: "POST", path: "/register", body: map[string]string{"username": "bob", "password": strings.Repeat("p", 73)},
			status: 400, code: "invalid_request", msg: "at most 72 bytes"},

		// Access tokens at /protected.
		{name: "no token", method: "GET", path: "/protected",
			status: 401, code: "missing_token", msg: "send an access token", want: map[string]string{"WWW-Authenticate": `Bearer realm="tokenlab", resource_metadata="` + ts.URL + `/.well-known/oauth-protected-resource"`}},
		{name: "Basic instead of Bearer", method: "GET", path: "/me", header: []string{"Authorization", "Basic " + access},
			status: 401, code: "missing_token", msg: "send an access token"},
		tokenCase("not a JWT", "not-a-jwt", codeInvalidToken, "the token is malformed"),
		tokenCase("alg none", hostileSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"typ": typAccess, "kid": kid}, ac),
			codeInvalidToken, `signed with "none"`),
		tokenCase("refresh token as access token", refresh, codeInvalidToken, `of type "rt+jwt" where "at+jwt"`),
		tokenCase("typ JWT", hostileSign(t, ts.tokens().access.method, ts.tokens().access.sign, map[string]any{"typ": "JWT", "kid": kid}, ac),
			codeInvalidToken, `of type "JWT" where "at+jwt"`),
		tokenCase("expired", changed(func(c *AccessClaims) {
			c.ExpiresAt = jwt.NewNumericDate(ts.Clock.Now().Add(-time.Second))
		}), codeTokenExpired, "the token has expired"),
		tokenCase("not yet valid", changed(func(c *AccessClaims) {
			c.NotBefore = jwt.NewNumericDate(ts.Clock.Now().Add(time.Hour))
		}), codeInvalidToken, "not valid yet"),
		tokenCase("no exp", changed(func(c *AccessClaims) { c.ExpiresAt = nil }), codeInvalidToken, "lacks the exp claim"),
		tokenCase("wrong iss", changed(func(c *AccessClaims) { c.Issuer = "https://evil.example" }), codeInvalidToken, "another issuer"),
		tokenCase("wrong aud", changed(func(c *AccessClaims) { c.Audience = jwt.ClaimStrings{"someone-else"} }), codeInvalidToken, "another audience"),
		tokenCase("changed payload byte", withPayloadByte(t, access, `"alice"`, `"alicf"`), codeInvalidToken, "signature does not match"),
		tokenCase("stripped signature", parts[0]+"."+parts[1]+".", codeInvalidToken, "signature does not match"),
		tokenCase("signature segment removed", parts[0]+"."+parts[1], codeInvalidToken, "the token is malformed"),
		tokenCase("unknown kid", hostileSign(t, ts.tokens().access.method, ts.tokens().access.sign, map[string]any{"typ": typAccess, "kid": "k-0000000000000000"}, ac),
			codeInvalidToken, "signed with a key this server does not use"),
		tokenCase("signed with the refresh key", hostileSign(t, ts.tokens().refresh.method, ts.tokens().refresh.sign, map[string]any{"typ": typAccess, "kid": kid}, ac),
			codeInvalidToken, "signature does not match"),

		// Refresh tokens at /token.
		{name: "access token as refresh token", method: "POST", path: "/token", body: map[string]string{"token": access},
			status: 401, code: codeInvalidToken, msg: `of type "at+jwt" where "rt+jwt"`},
		{name: "refresh token unknown to the database", method: "POST", path: "/token", body: map[string]string{"token": ts.forgeRefresh(t, hostileRefreshClaims(ts, "no-such-family"))},
			status: 401, code: codeInvalidToken, msg: "unknown to this server"},
		{name: "refresh token without fid", method: "POST", path: "/token", body: map[string]string{"token": ts.forgeRefresh(t, hostileRefreshClaims(ts, ""))},
			status: 401, code: codeInvalidToken, msg: "lacks a jti, fid or sub"},
		{name: "refresh token in a garbage cookie", method: "POST", path: "/logout", header: []string{"Cookie", "RefreshToken=garbage"},
			status: 401, code: codeInvalidToken, msg: "the token is malformed"},

		// Admin.
		{name: "admin events with a bad after", method: "GET", path: "/admin/events?after=abc", header: bearerHeader(testAdminToken),
			status: 400, code: "invalid_request", msg: "after must be a whole number from 0"},
		{name: "admin events with a negative after", method: "GET", path: "/admin/events?after=-1", header: bearerHeader(testAdminToken),
			status: 400, code: "invalid_request", msg: "after must be a whole number from 0"},
		{name: "admin events with limit 0", method: "GET", path: "/admin/events?limit=0", header: bearerHeader(testAdminToken),
			status: 400, code: "invalid_request", msg: "limit must be a whole number from 1 to 5000"},
		{name: "admin events with a huge limit", method: "GET", path: "/admin/events?limit=99999999999999999999", header: bearerHeader(testAdminToken),
			status: 400, code: "invalid_request", msg: "limit must be a whole number from 1 to 5000"},
		{name: "admin sessions with a bad limit", method: "GET", path: "/admin/sessions?limit=1e3", header: bearerHeader(testAdminToken),
			status: 400, code: "invalid_request", msg: "limit must be a whole number from 1 to 500"},
		{name: "clock with both advance and set", method: "POST", path: "/admin/clock", header: bearerHeader(testAdminToken),
			body: map[string]string{"advance": "16m", "set": "2026-01-02T15:04:05Z"}, status: 400, code: "invalid_request", msg: "send exactly one of"},
		{name: "clock with neither advance nor set", method: "POST", path: "/admin/clock", header: bearerHeader(testAdminToken),
			body: map[string]string{}, status: 400, code: "invalid_request", msg: "send exactly one of"},
		{name: "clock with a bad duration", method: "POST", path: "/admin/clock", header: bearerHeader(testAdminToken),
			body: map[string]string{"advance": "soon"}, status: 400, code: "invalid_request", msg: `advance: invalid duration "soon"`},
		{name: "clock with an overflowing duration", method: "POST", path: "/admin/clock", header: bearerHeader(testAdminToken),
			body: map[string]string{"advance": "1000 years"}, status: 400, code: "invalid_request", msg: `invalid duration "1000 years"`},
		{name: "clock with a bad time", method: "POST", path: "/admin/clock", header: bearerHeader(testAdminToken),
			body: map[string]string{"set": "yesterday"}, status: 400, code: "invalid_request", msg: `"yesterday" is not an RFC 3339 time`},
		{name: "clock with a numeric advance", method: "POST", path: "/admin/clock", header: bearerHeader(testAdminToken),
			body: map[string]any{"advance": 960}, status: 400, code: "invalid_request", msg: `field "advance" must be a string`},

		// OAuth 2.0.
		{name: "JSON body to /oauth/token", method: "POST", path: "/oauth/token", body: map[string]string{"grant_type": "password", "username": "alice", "password": "password123"},
			status: 400, code: "invalid_request", msg: `x-www-form-urlencoded, not "application/json"`},
		{name: "missing grant_type", method: "POST", path: "/oauth/token", body: formBody("username", "alice", "password", "password123"), header: []string{"Content-Type", formType},
			status: 400, code: "invalid_request", msg: "grant_type is required"},
		{name: "unsupported grant_type", method: "POST", path: "/oauth/token", body: formBody("grant_type", "implicit"), header: []string{"Content-Type", formType},
			status: 400, code: "unsupported_grant_type", msg: `grant_type "implicit" is not supported`},
		{name: "long unsupported grant_type is cut short", method: "POST", path: "/oauth/token", body: formBody("grant_type", strings.Repeat("x", 5000)), header: []string{"Content-Type", formType},
			status: 400, code: "unsupported_grant_type", msg: strings.Repeat("x", 40) + `…" is not supported`},
		{name: "repeated parameter", method: "POST", path: "/oauth/token", body: "grant_type=password&grant_type=refresh_token&username=alice&password=password123", header: []string{"Content-Type", formType},
			status: 400, code: "invalid_request", msg: `parameter "grant_type" appears more than once`},
		{name: "missing refresh_token", method: "POST", path: "/oauth/token", body: formBody("grant_type", "refresh_token"), header: []string{"Content-Type", formType},
			status: 400, code: "invalid_request", msg: "needs refresh_token"},
		{name: "password grant without password", method: "POST", path: "/oauth/token", body: formBody("grant_type", "password", "username", "alice"), header: []string{"Content-Type", formType},
			status: 400, code: "invalid_request", msg: "needs username and password"},
		{name: "password grant with a wrong password", method: "POST", path: "/oauth/token", body: formBody("grant_type", "password", "username", "alice", "password", "wrong-password"), header: []string{"Content-Type", formType},
			status: 400, code: "invalid_grant", msg: "wrong username or password"},
		{name: "access token as refresh_token grant", method: "POST", path: "/oauth/token", body: formBody("grant_type", "refresh_token", "refresh_token", access), header: []string{"Content-Type", formType},
			status: 400, code: "invalid_grant", msg: `where "rt+jwt"`},
		{name: "Basic auth garbage", method: "POST", path: "/oauth/token", body: formBody("grant_type", "refresh_token", "refresh_token", "junk"),
			header: []string{"Content-Type", formType, "Authorization", "Basic %%%not-base64%%%"}, status: 401, code: "invalid_client", msg: "not HTTP Basic",
			want: map[string]string{"WWW-Authenticate": `Basic realm="tokenlab"`}},
		{name: "Basic auth without a colon", method: "POST", path: "/oauth/token", body: formBody("grant_type", "password", "username", "alice", "password", "wrong-password"),
			header: []string{"Content-Type", formType, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon"))}, status: 401, code: "invalid_client", msg: "not HTTP Basic"},
		{name: "malformed percent escape", method: "POST", path: "/oauth/token", body: "grant_type=%zz", header: []string{"Content-Type", formType},
			status: 400, code: "invalid_request", msg: "the form body is malformed"},
		{name: "semicolon separator", method: "POST", path: "/oauth/introspect", body: "token=a;token=b", header: []string{"Content-Type", formType},
			status: 400, code: "invalid_request", msg: "the form body is malformed"},
		{name: "revoke without token", method: "POST", path: "/oauth/revoke", body: formBody("token_type_hint", "refresh_token"), header: []string{"Content-Type", formType},
			status: 400, code: "invalid_request", msg: "token is required"},
		{name: "introspect with a JSON body", method: "POST", path: "/oauth/introspect", body: map[string]string{"token": access},
			status: 400, code: "invalid_request", msg: "x-www-form-urlencoded"},

		// Login flows at the JSON endpoints.
		{name: "JSON body to device authorization", method: "POST", path: "/oauth/device_authorization", body: map[string]string{"client_id": "tokenlab"},
			status: 400, code: "invalid_request", msg: "x-www-form-urlencoded"},
		{name: "device authorization for an unknown client", method: "POST", path: "/oauth/device_authorization", body: formBody("client_id", "ghost"),
			header: []string{"Content-Type", formType}, status: 401, code: "invalid_client", msg: "no client is registered", want: map[string]string{"WWW-Authenticate": "Basic"}},
		{name: "device authorization without a client", method: "POST", path: "/oauth/device_authorization", body: formBody("scope", "read"),
			header: []string{"Content-Type", formType}, status: 401, code: "invalid_client", msg: "needs client_id"},
		{name: "device authorization with a control character in scope", method: "POST", path: "/oauth/device_authorization", body: formBody("client_id", "tokenlab", "scope", "read\x1b[2J"),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_scope", msg: "RFC 6749"},
		{name: "device authorization with a fragment resource", method: "POST", path: "/oauth/device_authorization", body: formBody("client_id", "tokenlab", "resource", "https://api.example/#x"),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_target", msg: "absolute URI"},
		{name: "10 MB body to device authorization", method: "POST", path: "/oauth/device_authorization", body: "client_id=" + tenMB, header: []string{"Content-Type", formType},
			status: 413, code: "invalid_request", msg: "larger than 65536 bytes"},
		{name: "device grant without device_code", method: "POST", path: "/oauth/token", body: formBody("grant_type", grantDeviceCode, "client_id", "tokenlab"),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_request", msg: "needs device_code"},
		{name: "device grant with a garbage device_code", method: "POST", path: "/oauth/token", body: formBody("grant_type", grantDeviceCode, "client_id", "tokenlab", "device_code", long),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_grant", msg: "unknown to this server"},
		{name: "code grant without code", method: "POST", path: "/oauth/token", body: formBody("grant_type", "authorization_code", "client_id", "tokenlab", "redirect_uri", "http://127.0.0.1:1/"),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_request", msg: "needs code"},
		{name: "code grant without redirect_uri", method: "POST", path: "/oauth/token", body: formBody("grant_type", "authorization_code", "client_id", "tokenlab", "code", "x"),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_request", msg: "needs the redirect_uri"},
		{name: "code grant with a garbage code", method: "POST", path: "/oauth/token", body: formBody("grant_type", "authorization_code", "client_id", "tokenlab", "code", "' OR 1=1 --", "redirect_uri", "x"),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_grant", msg: "unknown to this server"},
		{name: "client_secret without client_id", method: "POST", path: "/oauth/token", body: formBody("grant_type", "client_credentials", "client_secret", "x"),
			header: []string{"Content-Type", formType}, status: 400, code: "invalid_request", msg: "client_secret without client_id"},
		{name: "Basic with an empty id", method: "POST", path: "/oauth/token", body: formBody("grant_type", "client_credentials"),
			header: []string{"Content-Type", formType, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(":secret"))}, status: 401, code: "invalid_client", msg: "not HTTP Basic"},
		{name: "Basic with a bad percent escape", method: "POST", path: "/oauth/token", body: formBody("grant_type", "client_credentials"),
			header: []string{"Content-Type", formType, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("a%zz:b"))}, status: 401, code: "invalid_client", msg: "not HTTP Basic"},

		// OpenID Connect and registration (oidc.go, register.go).
		{name: "userinfo with Basic", method: "GET", path: "/oauth/userinfo", header: []string{"Authorization", "Basic " + access},
			status: 401, code: "invalid_request", msg: "send an access token", want: map[string]string{"WWW-Authenticate": "resource_metadata="}},
		{name: "userinfo with a refresh token", method: "POST", path: "/oauth/userinfo", header: []string{"Authorization", "Bearer " + refresh},
			status: 401, code: "invalid_token", msg: "of type", want: map[string]string{"WWW-Authenticate": `error="invalid_token"`}},
		{name: "userinfo without openid", method: "GET", path: "/oauth/userinfo", header: []string{"Authorization", "Bearer " + access},
			status: 403, code: "insufficient_scope", msg: "scope openid", want: map[string]string{"WWW-Authenticate": `scope="openid"`}},
		{name: "registration as a form", method: "POST", path: "/oauth/register", body: "redirect_uris=https://x.example/", header: []string{"Content-Type", formType},
			status: 415, code: "invalid_client_metadata", msg: "application/json"},
		{name: "10 MB registration", method: "POST", path: "/oauth/register", body: `{"client_name":"` + tenMB + `"}`, header: []string{"Content-Type", "application/json"},
			status: 413, code: "request_too_large", msg: "larger than 65536 bytes"},
		{name: "registration with a javascript redirect", method: "POST", path: "/oauth/register", body: `{"redirect_uris":["javascript:alert(1)"]}`,
			header: []string{"Content-Type", "application/json"}, status: 400, code: "invalid_redirect_uri", msg: "must be https"},
		{name: "registration of a list", method: "POST", path: "/oauth/register", body: `[{}]`, header: []string{"Content-Type", "application/json"},
			status: 400, code: "invalid_client_metadata", msg: "one JSON object"},
		{name: "registration of a public client_credentials client", method: "POST", path: "/oauth/register",
			body: `{"token_endpoint_auth_method":"none","grant_types":["client_credentials"]}`, header: []string{"Content-Type", "application/json"},
			status: 400, code: "invalid_client_metadata", msg: "needs a confidential client"},
		{name: "registration with port 0", method: "POST", path: "/oauth/register", body: `{"redirect_uris":["http://127.0.0.1:0/cb"]}`,
			header: []string{"Content-Type", "application/json"}, status: 400, code: "invalid_redirect_uri", msg: "with a port"},
		{name: "registration with a user in the redirect", method: "POST", path: "/oauth/register", body: `{"redirect_uris":["https://me@evil.example/"]}`,
			header: []string{"Content-Type", "application/json"}, status: 400, code: "invalid_redirect_uri", msg: "must be https"},
		{name: "registration with a numeric client_name", method: "POST", path: "/oauth/register", body: `{"client_name":7}`,
			header: []string{"Content-Type", "application/json"}, status: 400, code: "invalid_client_metadata", msg: "right types"},
		{name: "admin events with a bad trace", method: "GET", path: "/admin/events?client=tokenlab&trace=a%20b", header: bearerHeader(testAdminToken),
			status: 400, code: "invalid_request", msg: "trace must be"},
		{name: "admin client with a javascript redirect", method: "POST", path: "/admin/clients", body: map[string]any{"id": "x", "redirect_uris": []string{"javascript:alert(1)"}},
			header: bearerHeader(testAdminToken), status: 400, code: "invalid_request", msg: "absolute URI"},
		{name: "admin client replacing the built-in one", method: "POST", path: "/admin/clients", body: map[string]any{"id": "tokenlab"},
			header: bearerHeader(testAdminToken), status: 400, code: "invalid_request", msg: "built-in public client"},
		{name: "DELETE the built-in client", method: "DELETE", path: "/admin/clients/tokenlab", header: bearerHeader(testAdminToken),
			status: 400, code: "invalid_request", msg: "cannot be removed"},
		{name: "revoke an unknown client", method: "POST", path: "/admin/clients/nobody/revoke", header: bearerHeader(testAdminToken),
			status: 404, code: "not_found", msg: "no client"},

		// Routing.
		{name: "unknown route", method: "GET", path: "/nope", status: 404, code: "not_found", msg: "no such route: /nope"},
		{name: "unknown OAuth route", method: "GET", path: "/oauth/userinfo2", status: 404, code: "not_found", msg: "no such route: /oauth/userinfo2"},
		{name: "trailing slash", method: "POST", path: "/login/", body: map[string]string{"username": "alice", "password": "password123"},
			status: 404, code: "not_found", msg: "no such route: /login/"},
		{name: "DELETE /login", method: "DELETE", path: "/login", status: 405, code: "method_not_allowed", msg: "/login does not accept DELETE",
			want: map[string]string{"Allow": "POST"}},
		{name: "GET /oauth/token", method: "GET", path: "/oauth/token?grant_type=password&username=alice&password=password123",
			status: 405, code: "method_not_allowed", msg: "use POST", want: map[string]string{"Allow": "POST"}},
		{name: "PUT /admin/clock", method: "PUT", path: "/admin/clock", body: map[string]string{"advance": "1h"}, header: bearerHeader(testAdminToken),
			status: 405, code: "method_not_allowed", msg: "use GET or POST", want: map[string]string{"Allow": "GET, POST"}},
		{name: "POST /.well-known/jwks.json", method: "POST", path: "/.well-known/jwks.json",
			status: 405, code: "method_not_allowed", msg: "does not accept POST", want: map[string]string{"Allow": "GET"}},
	}

	// Every admin route, without and with a wrong admin token.
	for _, route := range []struct{ method, path string }{
		{"GET", "/admin/clock"}, {"POST", "/admin/clock"}, {"GET", "/admin/events"}, {"GET", "/admin/sessions"},
		{"GET", "/admin/clients"}, {"POST", "/admin/clients"}, {"DELETE", "/admin/clients/web"}, {"POST", "/admin/clients/web/revoke"},
		{"GET", "/admin/events?client=tokenlab&trace=x"},
	} {
		var body any
		if route.method == "POST" {
			body = map[string]string{"advance": "1h"}
		}
		for _, auth := range []struct{ name, value string }{
			{"no admin token", ""},
			{"wrong admin token", "Bearer " + testAdminToken + "x"},
			{"an access token as admin token", "Bearer " + access},
			{"the admin token as Basic", "Basic " + testAdminToken},
		} {
			var header []string
			if auth.value != "" {
				header = []string{"Authorization", auth.value}
			}
			cases = append(cases, hostileCase{name: auth.name + " at " + route.method + " " + route.path,
				method: route.method, path: route.path, body: body, header: header,
				status: 401, code: "admin_token_required", msg: "admin routes need Authorization: Bearer", want: adminChallenge})
		}
	}

	// Algorithm confusion: an HS256 token whose secret is the published
	// public key (PEM and DER), for servers that sign asymmetrically.
	if ts.tokens().access.public != nil {
		keys, _, _ := ts.fetchJWKS(t)
		pub, ok := keys[kid]
		if !ok {
			t.Fatalf("the JWKS lacks the access key %s", kid)
		}
		enc := publicKeyEncodings(t, pub)
		for _, name := range []string{"PKIX PEM", "PKIX DER"} {
			tok := hostileSign(t, jwt.SigningMethodHS256, enc[name], map[string]any{"typ": typAccess, "kid": kid}, ac)
			cases = append(cases, tokenCase("HS256 signed with the public key as "+name, tok, codeInvalidToken, `signed with "HS256"`))
		}
	}
	return cases
}

// TestHostileRequests sends hostile requests; each must get a 4xx with a
// JSON error naming the problem, and the server must keep serving.
func TestHostileRequests(t *testing.T) {
	for _, alg := range []string{"HS256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) { c.Alg = alg })
			if r := ts.do(t, "POST", "/register", map[string]string{"username": sqlUsername, "password": "password123"}); r.Status != http.StatusCreated {
				t.Fatalf("register %q: %d %s", sqlUsername, r.Status, r.Raw)
			}
			// The forged tokens are signed with the server's key: unchanged
			// claims pass, so each case fails for its one change.
			if r := ts.do(t, "GET", "/protected", nil, bearerHeader(ts.forgeAccess(t, hostileAccessClaims(ts)))...); r.Status != http.StatusOK {
				t.Fatalf("baseline forged token: %d %s", r.Status, r.Raw)
			}

			cases := hostileCases(t, ts)
			if len(cases) < 35 {
				t.Fatalf("only %d hostile cases", len(cases))
			}
			seen := map[string]bool{}
			for _, tc := range cases {
				if seen[tc.name] {
					t.Fatalf("two cases named %q", tc.name)
				}
				seen[tc.name] = true
				t.Run(tc.name, func(t *testing.T) {
					r := ts.do(t, tc.method, tc.path, tc.body, tc.header...)
					if r.Status < 400 || r.Status >= 500 || r.Status != tc.status {
						t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
					}
					if ct := r.Header.Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type %q", ct)
					}
					descKey := "message"
					if strings.HasPrefix(tc.path, "/oauth/") {
						descKey = "error_description"
					}
					keys := make([]string, 0, len(r.Body))
					for k := range r.Body {
						keys = append(keys, k)
					}
					slices.Sort(keys)
					if want := []string{descKey, "error"}; !slices.Equal(keys, slices.Sorted(slices.Values(want))) {
						t.Errorf("body members %v, want %v: %s", keys, want, r.Raw)
					}
					if r.str("error") == "" || r.str("error") != tc.code {
						t.Errorf("error %q, want %q: %s", r.str("error"), tc.code, r.Raw)
					}
					if !strings.Contains(r.str(descKey), tc.msg) {
						t.Errorf("%s %q does not name the problem (want %q)", descKey, r.str(descKey), tc.msg)
					}
					for h, sub := range tc.want {
						if got := r.Header.Get(h); !strings.Contains(got, sub) {
							t.Errorf("%s %q, want it to hold %q", h, got, sub)
						}
					}
				})
			}

			// The server still serves, and nothing was dropped.
			if r := ts.do(t, "GET", "/healthz", nil); r.Status != http.StatusOK || r.str("status") != "ok" {
				t.Fatalf("healthz after the hostile requests: %d %s", r.Status, r.Raw)
			}
			access, _ := ts.login(t)
			if r := ts.do(t, "GET", "/me", nil, bearerHeader(access)...); r.Status != http.StatusOK || r.str("username") != "alice" {
				t.Fatalf("/me after the hostile requests: %d %s", r.Status, r.Raw)
			}
			kinds := ts.eventKinds(t)
			for _, want := range []string{"login_failed", "access_rejected", "refresh_rejected"} {
				if !slices.Contains(kinds, want) {
					t.Errorf("the event log lacks %s: %v", want, kinds)
				}
			}
			if r := ts.admin(t, "GET", "/admin/clock", nil); r.Status != http.StatusOK || r.str("now") != "2026-01-02T03:04:05Z" {
				t.Errorf("a refused clock request moved the clock: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// TestHostileSQLUsernames registers names full of SQL and checks they are
// stored and matched as plain strings.
func TestHostileSQLUsernames(t *testing.T) {
	ts := newTestServer(t)
	for _, name := range []string{`' OR 1=1 --`, `"; DROP TABLE users; --`, `alice' --`, `%`, `_`, `\`, `Robert'); DELETE FROM families;--`} {
		t.Run(name, func(t *testing.T) {
			r := ts.do(t, "POST", "/register", map[string]string{"username": name, "password": "password123"})
			if r.Status != http.StatusCreated || r.str("username") != name {
				t.Fatalf("register: %d %s", r.Status, r.Raw)
			}
			r = ts.do(t, "POST", "/login", map[string]string{"username": name, "password": "password123"})
			if r.Status != http.StatusOK {
				t.Fatalf("login: %d %s", r.Status, r.Raw)
			}
			me := ts.do(t, "GET", "/me", nil, bearerHeader(r.str("accessToken"))...)
			if me.Status != http.StatusOK || me.str("username") != name {
				t.Fatalf("/me: %d %s", me.Status, me.Raw)
			}
			if r := ts.do(t, "POST", "/login", map[string]string{"username": name, "password": "wrong-password"}); r.Status != http.StatusUnauthorized {
				t.Fatalf("login with a wrong password: %d %s", r.Status, r.Raw)
			}
		})
	}
	// alice is untouched: neither logged in as by a pattern nor dropped.
	ts.login(t)
	if r := ts.do(t, "POST", "/login", map[string]string{"username": "alice' --", "password": "password123"}); r.Status != http.StatusOK {
		t.Fatalf("the name alice' -- is its own user: %d %s", r.Status, r.Raw)
	}
}

// TestHostileTokenMalleability changes how a valid token's signature is
// encoded without changing its bytes: the last character's unused padding
// bits, or a CR LF inside the segment. A token has one spelling: a
// changed byte is rejected.
func TestHostileTokenMalleability(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) { c.Alg = alg })
			access, refresh := ts.login(t)
			padding := func(tok string) string {
				sig := tok[strings.LastIndexByte(tok, '.')+1:]
				if len(sig)*6%8 == 0 {
					t.Fatalf("the %s signature has no padding bits", alg)
				}
				v := strings.IndexByte(alphabet, tok[len(tok)-1])
				return tok[:len(tok)-1] + string(alphabet[v^1]) // the lowest bit is always padding
			}
			crlf := func(tok string) string {
				i := strings.LastIndexByte(tok, '.') + 4
				return tok[:i] + "\r\n" + tok[i:]
			}
			for _, tc := range []struct {
				name  string
				check func() error
			}{
				{"access padding bits at /protected", func() error {
					if r := ts.do(t, "GET", "/protected", nil, bearerHeader(padding(access))...); r.Status != http.StatusUnauthorized {
						return fmt.Errorf("status %d: %s", r.Status, r.Raw)
					}
					return nil
				}},
				{"access CR LF", func() error { return wantRefused(ts.tokens().verifyAccess(crlf(access))) }},
				{"refresh padding bits", func() error { return wantRefused(ts.tokens().verifyRefresh(padding(refresh))) }},
				{"refresh CR LF", func() error { return wantRefused(ts.tokens().verifyRefresh(crlf(refresh))) }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if err := tc.check(); err != nil {
						t.Fatal(err)
					}
				})
			}
		})
	}
}

func wantRefused[C any](_ C, err error) error {
	if err == nil {
		return errors.New("a re-encoded token verified")
	}
	return nil
}

// TestHostileClockRange moves the clock where timestamps stop fitting: past
// year 9999 (JSON) and outside 1678–2262 (int64 Unix nanoseconds, as the
// store keeps times). The server may refuse the move with a 4xx or accept
// it, but then it must keep working at that time: never a 5xx, and a login
// must refresh.
func TestHostileClockRange(t *testing.T) {
	for _, tc := range []struct {
		name  string
		moves []map[string]string
	}{
		{"past year 9999", []map[string]string{{"set": "9999-12-31T23:59:59Z"}, {"advance": "1d"}}},
		{"before year 0", []map[string]string{{"set": "0000-01-01T00:00:00Z"}, {"advance": "-1d"}}},
		{"set past 2262", []map[string]string{{"set": "2300-01-01T00:00:00Z"}}},
		{"advance past 2262", []map[string]string{{"advance": "2562047h"}}},
		{"set before 1678", []map[string]string{{"set": "1600-01-01T00:00:00Z"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			for _, m := range tc.moves {
				before := ts.Clock.Now()
				r := ts.admin(t, "POST", "/admin/clock", m)
				if r.Status >= 500 {
					t.Fatalf("POST /admin/clock %v: %d %s", m, r.Status, r.Raw)
				}
				if r.Status >= 400 {
					if r.str("error") == "" || !ts.Clock.Now().Equal(before) {
						t.Fatalf("a refused move must say why and leave the clock: %d %s, now %v", r.Status, r.Raw, ts.Clock.Now())
					}
					return
				}
			}
			for _, path := range []string{"/admin/clock", "/admin/events", "/admin/sessions"} {
				if r := ts.admin(t, "GET", path, nil); r.Status != http.StatusOK {
					t.Errorf("GET %s at %v: %d %s", path, ts.Clock.Now(), r.Status, r.Raw)
				}
			}
			_, refresh := ts.login(t)
			if r := ts.do(t, "POST", "/token", map[string]string{"token": refresh}); r.Status != http.StatusOK {
				t.Errorf("refresh of a fresh session at %v: %d %s", ts.Clock.Now(), r.Status, r.Raw)
			}
		})
	}
}

// TestHostileLoginPages puts garbage into every parameter of the HTML
// pages: never a 5xx, always HTML, nothing echoed unescaped, and a redirect
// only to the registered loopback URI of the request.
func TestHostileLoginPages(t *testing.T) {
	ts := newTestServer(t)
	garbage := map[string]string{
		"empty":       "",
		"script":      `<script>alert(1)</script>`,
		"quote break": `"><img src=x onerror=alert(1)>`,
		"javascript":  "javascript:alert(1)",
		"CR LF":       "a\r\nSet-Cookie: pwned=1",
		"NUL":         "a\x00b",
		"escape":      "\x1b[2J",
		"SQL":         "' OR 1=1 --",
		"bad UTF-8":   "\xff\xfe",
		"3000 bytes":  strings.Repeat("x", 3000),
		"long runes":  strings.Repeat("é", 1500),
	}
	check := func(t *testing.T, p page) {
		t.Helper()
		if p.Status >= 500 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %s", p.Status, p.Header.Get("Content-Type"))
		}
		if strings.Contains(p.Body, "<script>alert") || strings.Contains(p.Body, "<img src=x") {
			t.Fatalf("garbage echoed unescaped:\n%s", p.Body)
		}
		if p.Header.Get("Set-Cookie") != "" {
			t.Fatalf("a Set-Cookie header: %v", p.Header)
		}
		if loc := p.Header.Get("Location"); loc != "" && !strings.HasPrefix(loc, loopbackRedirect+"?") {
			t.Fatalf("redirect to %q", loc)
		}
	}
	params := []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "resource"}
	good := formOf(t, ts.browser(t, "GET", "/oauth/authorize?"+authorizeQuery(loopbackRedirect).Encode(), nil))
	for _, param := range params {
		for name, value := range garbage {
			t.Run("authorize "+param+" "+name, func(t *testing.T) {
				q := authorizeQuery(loopbackRedirect)
				q.Set(param, value)
				check(t, ts.browser(t, "GET", "/oauth/authorize?"+q.Encode(), nil))
				// The same garbage posted with a valid form token: the token
				// no longer matches (or the client is refused), never a code.
				p := ts.submit(t, good, param, value, "username", "alice", "password", "password123")
				check(t, p)
				if value != good.Fields[param] && strings.Contains(p.Header.Get("Location"), "code=") {
					t.Fatalf("a code for a changed form: %s", p.Header.Get("Location"))
				}
			})
		}
	}
	for _, field := range []string{"user_code", "username", "password", "action"} {
		for name, value := range garbage {
			t.Run("device "+field+" "+name, func(t *testing.T) {
				form := url.Values{"user_code": {"BCDF-GHJK"}, "username": {"alice"}, "password": {"password123"}, "action": {"approve"}}
				form.Set(field, value)
				check(t, ts.browser(t, "POST", "/device", form))
				check(t, ts.browser(t, "GET", "/device?"+url.Values{field: {value}}.Encode(), nil))
			})
		}
	}
	for _, tc := range []struct{ name, method, path, contentType, body string }{
		{"JSON to the authorize form", "POST", "/oauth/authorize", "application/json", `{"client_id":"tokenlab"}`},
		{"10 MB to the device form", "POST", "/device", formType, "user_code=" + strings.Repeat("A", 10<<20)},
		{"repeated field on /device", "POST", "/device", formType, "user_code=a&user_code=b"},
		{"repeated parameter on authorize", "GET", "/oauth/authorize?client_id=tokenlab&client_id=tokenlab", "", ""},
		{"PUT /device", "PUT", "/device", "", ""},
		{"DELETE /oauth/authorize", "DELETE", "/oauth/authorize", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, ts.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			resp, err := ts.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			p := page{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
			check(t, p)
			if p.Status < 400 || !strings.Contains(p.Body, `id="error"`) {
				t.Fatalf("want an HTML error page: %d %s", p.Status, p.Body)
			}
		})
	}
}
