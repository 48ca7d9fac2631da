package mockserver

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tokenlab/tokenlab/mockserver/auth"
	"github.com/tokenlab/tokenlab/mockserver/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// The fuzzers run the server in process, built once per target. Go fuzzes
// in several processes that each run the target's setup, so the keys and
// the seeded session are fixed: a token in the seed corpus is valid in
// every worker, and a crasher replays anywhere.

var fuzzNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const fuzzIssuer = "http://tokenlab.test"

// fuzzServer is a server on an in-memory store with one known session.
type fuzzServer struct {
	*Server
	name            string
	access, refresh string // valid tokens of the seeded session
}

// newFuzzServer builds a server for alg (HS256 or EdDSA: both sign
// deterministically, so fixed keys give fixed tokens).
func newFuzzServer(f *testing.F, alg string, mutate ...func(*Config)) *fuzzServer {
	f.Helper()
	ctx := f.Context()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	clock, err := NewClock(ClockFrozen, func() time.Time { return fuzzNow })
	if err != nil {
		f.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Issuer, cfg.Alg, cfg.AdminToken, cfg.BcryptCost = fuzzIssuer, alg, testAdminToken, bcrypt.MinCost
	switch alg {
	case "HS256":
		cfg.AccessSecret, cfg.RefreshSecret = "fuzz-access-secret-0123456789abcdef", "fuzz-refresh-secret-0123456789abcdef"
	case "EdDSA":
		for purpose, seed := range map[string]byte{"access": 1, "refresh": 2} {
			der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
			if err != nil {
				f.Fatal(err)
			}
			if _, err := db.SettingOrInit(ctx, purpose+"_EdDSA_key", der); err != nil {
				f.Fatal(err)
			}
		}
	default:
		f.Fatalf("no fixed keys for %s", alg)
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := New(ctx, db, clock, cfg)
	if err != nil {
		f.Fatal(err)
	}

	// A session with fixed IDs, stored as login would store it.
	u, err := db.UserByName(ctx, "alice")
	if err != nil {
		f.Fatal(err)
	}
	fam := auth.Family{ID: "fuzz-family", UserID: u.ID, Username: u.Username, CreatedAt: fuzzNow, ExpiresAt: fuzzNow.Add(cfg.SessionMax)}
	rc := RefreshClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: fuzzIssuer, Subject: "1",
		ExpiresAt: jwt.NewNumericDate(fuzzNow.Add(cfg.RefreshTTL)), IssuedAt: jwt.NewNumericDate(fuzzNow), ID: "fuzz-refresh-jti"}, FamilyID: fam.ID}
	refresh, err := sign(srv.tokens().refresh, typRefresh, rc)
	if err != nil {
		f.Fatal(err)
	}
	first := auth.RefreshToken{JTI: rc.ID, FamilyID: fam.ID, Hash: hashToken(refresh), IssuedAt: fuzzNow, ExpiresAt: rc.ExpiresAt.Time}
	if err := db.StartSession(ctx, fam, first, fuzzNow); err != nil {
		f.Fatal(err)
	}
	ac := AccessClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: fuzzIssuer, Subject: "1", Audience: jwt.ClaimStrings{cfg.Audience},
		ExpiresAt: jwt.NewNumericDate(fuzzNow.Add(cfg.AccessTTL)), IssuedAt: jwt.NewNumericDate(fuzzNow), NotBefore: jwt.NewNumericDate(fuzzNow),
		ID: "fuzz-access-jti"}, Username: "alice", SessionID: fam.ID}
	access, err := sign(srv.tokens().access, typAccess, ac)
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzServer{Server: srv, name: alg, access: access, refresh: refresh}
}

// fuzzServe runs one request through the handler and checks the answer:
// never a 5xx, always JSON, and an error object on 4xx.
func (s *fuzzServer) fuzzServe(t *testing.T, method, path, contentType string, body []byte, header ...string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	raw := rec.Body.Bytes()
	if rec.Code >= 500 {
		t.Fatalf("%s %s (%q, %q): %d %s", method, path, contentType, body, rec.Code, raw)
	}
	if len(raw) == 0 {
		return
	}
	if !json.Valid(raw) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s (%q, %q): not a JSON answer (%s): %q", method, path, contentType, body, rec.Header().Get("Content-Type"), raw)
	}
	if rec.Code >= 400 {
		var e map[string]any
		if err := json.Unmarshal(raw, &e); err != nil || e["error"] == "" || e["error"] == nil {
			t.Fatalf("%s %s: %d without an error member: %s", method, path, rec.Code, raw)
		}
	}
}

// FuzzDecodeJSON sends arbitrary bodies and content types to the routes
// that read JSON.
func FuzzDecodeJSON(f *testing.F) {
	s := newFuzzServer(f, "HS256")
	routes := []string{"/login", "/token", "/register", "/admin/clock"}
	js := "application/json"
	for _, seed := range []struct {
		route       uint8
		contentType string
		body        string
	}{
		{0, js, `{"username":"alice","password":"password123"}`},
		{0, js + "; charset=utf-8", `{"username":"alice","password":"wrong-password"}`},
		{0, js, `{"username":"alice","password":"password123"}{}`},
		{0, js, `{"username":5}`},
		{0, js, `[{"username":"alice"}]`},
		{0, js, `{"username":"alice","password":"pass`},
		{0, js, `null`},
		{0, js, `{"username":"\u0000","password":"password123"}`},
		{0, "text/plain", `{"username":"alice","password":"password123"}`},
		{0, "application/x-www-form-urlencoded", "username=alice&password=password123"},
		{0, "", ""},
		{1, js, `{"token":"` + s.refresh + `"}`},
		{1, js, `{"token":"` + s.access + `"}`},
		{1, js, `{"token":"a.b.c"}`},
		{1, js, `{"token":null,"extra":1}`},
		{2, js, `{"username":"bob","password":"password123"}`},
		{2, js, `{"username":"' OR 1=1 --","password":"password123"}`},
		{2, js, `{"username":"` + strings.Repeat("é", 65) + `","password":"password123"}`},
		{3, js, `{"advance":"16m"}`},
		{3, js, `{"advance":"-1d"}`},
		{3, js, `{"set":"2026-01-02T15:04:05Z"}`},
		{3, js, `{"set":"9999-12-31T23:59:59Z"}`},
		{3, js, `{"advance":"1d","set":"2026-01-02T15:04:05Z"}`},
		{3, js, `{"advance":"1e400"}`},
		{3, js, `{}`},
	} {
		f.Add(seed.route, seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, contentType string, body []byte) {
		defer s.clock.Set(fuzzNow) // each input starts at the same time
		path := routes[int(route)%len(routes)]
		s.fuzzServe(t, http.MethodPost, path, contentType, body, "Authorization", "Bearer "+testAdminToken)
	})
}

// FuzzOAuthForm sends arbitrary form bodies (and Authorization headers) to
// the OAuth endpoints.
func FuzzOAuthForm(f *testing.F) {
	s := newFuzzServer(f, "HS256")
	routes := []string{"/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/device_authorization", "/oauth/userinfo"}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("cli:secret"))
	for _, seed := range []struct {
		route      uint8
		body, auth string
	}{
		{0, "grant_type=password&username=alice&password=password123", ""},
		{0, "grant_type=password&username=alice&password=password123&scope=read&client_id=cli", basic},
		{0, "grant_type=password&username=alice&password=wrong-password", ""},
		{0, "grant_type=refresh_token&refresh_token=" + s.refresh, ""},
		{0, "grant_type=refresh_token&refresh_token=" + s.access, ""},
		{0, "grant_type=client_credentials", "Basic %%%"},
		{0, "grant_type=password&grant_type=password", ""},
		{0, "grant_type=%zz", ""},
		{0, "a=1;b=2", ""},
		{0, "", ""},
		{1, "token=" + s.refresh + "&token_type_hint=refresh_token", ""},
		{1, "token=" + s.access, ""},
		{1, "token=", ""},
		{2, "token=" + s.access, ""},
		{2, "token=" + s.refresh, basic},
		{2, "token=not-a-token", ""},
		{3, "client_id=tokenlab&scope=read", ""},
		{3, "client_id=ghost", basic},
		{0, "grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2F&client_id=tokenlab&code_verifier=v", ""},
		{0, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=x&client_id=tokenlab", ""},
		{4, "", "Bearer " + s.access}, {4, "access_token=x", "Bearer"},
	} {
		f.Add(seed.route, seed.body, seed.auth)
	}
	f.Fuzz(func(t *testing.T, route uint8, body, auth string) {
		path := routes[int(route)%len(routes)]
		s.fuzzServe(t, http.MethodPost, path, "application/x-www-form-urlencoded", []byte(body), "Authorization", auth)
	})
}

// fuzzCheckVerify checks one verification: the valid token passes, any
// other string fails with a worded refusal.
func fuzzCheckVerify(t *testing.T, what, raw, valid string, err error) {
	t.Helper()
	switch {
	case raw == valid && err != nil:
		t.Fatalf("%s refused the valid token: %v", what, err)
	case raw != valid && err == nil:
		t.Fatalf("%s accepted %q, which is not the valid token %q", what, raw, valid)
	case err != nil:
		var te *Error
		if !errors.As(err, &te) || te.Code == "" || te.Message == "" {
			t.Fatalf("%s: %T %v is not a worded refusal", what, err, err)
		}
	}
}

// tokenMutations are hand-made near misses of tok, for the seed corpus.
func tokenMutations(tok, other string) []string {
	p := strings.Split(tok, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	last := len(tok) - 1
	out := []string{
		tok,
		other,
		flip(tok, last),                  // the signature's last character
		flip(tok, len(p[0])+len(p[1])+5), // inside the signature
		flip(tok, len(p[0])+5),           // inside the payload
		flip(tok, 5),                     // inside the header
		p[0] + "." + p[1] + ".",
		p[0] + "." + p[1],
		p[0] + "." + p[1] + "." + p[2][:3] + "\n" + p[2][3:],
		tok + ".",
		tok + "=",
		" " + tok,
		p[1] + "." + p[0] + "." + p[2],
		b64([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + p[1] + ".",
		b64([]byte(`{"alg":"none","typ":"rt+jwt"}`)) + "." + p[1] + ".",
		b64([]byte(`{"alg":"HS256","typ":1,"kid":null}`)) + "." + p[1] + "." + p[2],
		b64([]byte(`{"alg":"EdDSA","typ":"at+jwt"}`)) + "." + p[1] + "." + p[2],
		p[0] + "." + b64([]byte(`[]`)) + "." + p[2],
		p[0] + "." + b64([]byte(`{"exp":1e400,"nbf":"soon","aud":7}`)) + "." + p[2],
		"", ".", "..", "a.b.c", strings.Repeat("A", 5000),
		// Shapes refused before any signature work (checkShape).
		b64([]byte(`{"alg":"HS256","typ":"at+jwt","crit":["exp"]}`)) + "." + p[1] + "." + p[2],
		b64([]byte(`{"alg":"HS256","typ":"at+jwt","b64":false}`)) + "." + p[1] + "." + p[2],
		b64([]byte(`{"alg":"HS256","alg":"HS256","typ":"at+jwt"}`)) + "." + p[1] + "." + p[2],
		p[0] + "." + b64([]byte(`{"exp":"2000000000","sub":"1","sub":"2"}`)) + "." + p[2],
		p[0] + "." + b64([]byte(`{"iat":4000000000,"a":{"b":[{"c":1,"c":2}]}}`)) + "." + p[2],
		p[0] + "." + b64([]byte(strings.Repeat(`{"a":`, 100)+"1"+strings.Repeat("}", 100))) + "." + p[2],
	}
	return out
}

// fuzzVerifiers are the servers the verify fuzzers check each input with.
func fuzzVerifiers(f *testing.F) []*fuzzServer {
	return []*fuzzServer{newFuzzServer(f, "HS256"), newFuzzServer(f, "EdDSA")}
}

// FuzzVerifyAccess checks that only the exact valid access token verifies.
func FuzzVerifyAccess(f *testing.F) {
	servers := fuzzVerifiers(f)
	for _, s := range servers {
		for _, m := range tokenMutations(s.access, s.refresh) {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range servers {
			c, err := s.tokens().verifyAccess(raw)
			fuzzCheckVerify(t, s.name+" verifyAccess", raw, s.access, err)
			if err == nil && (c.Username != "alice" || c.SessionID != "fuzz-family") {
				t.Fatalf("%s: the valid token gave claims %+v", s.name, c)
			}
		}
	})
}

// FuzzVerifyRefresh checks that only the exact valid refresh token
// verifies.
func FuzzVerifyRefresh(f *testing.F) {
	servers := fuzzVerifiers(f)
	for _, s := range servers {
		for _, m := range tokenMutations(s.refresh, s.access) {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range servers {
			c, err := s.tokens().verifyRefresh(raw)
			fuzzCheckVerify(t, s.name+" verifyRefresh", raw, s.refresh, err)
			if err == nil && (c.FamilyID != "fuzz-family" || c.ID != "fuzz-refresh-jti") {
				t.Fatalf("%s: the valid token gave claims %+v", s.name, c)
			}
		}
	})
}

// FuzzParseDuration: never a panic; Go durations mean what Go says; a sign
// in front negates.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"15m", "1h30m", "90s", "250ms", "1.5h", "-2h", "0", "7d", "1d", "10 days", "2.5 hrs", "1w", "1y",
		"146y", "147y", "1000 years", "1500", ".5", "-", "", " ", "1e3", "9223372036854775807ns",
		"-9223372036854775808ns", "2562047h47m16.854775807s", "1d1h", "١s", "5 M", "NaN", "Inf", "0x10s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if gd, gerr := time.ParseDuration(s); gerr == nil && (err != nil || d != gd) {
			t.Fatalf("ParseDuration(%q) = %v, %v; time.ParseDuration says %v", s, d, err, gd)
		}
		if err == nil && strings.TrimSpace(s) == "" {
			t.Fatalf("ParseDuration(%q) = %v, want an error", s, d)
		}
		if err != nil || s == "" || strings.ContainsAny(s[:1], "-+") || strings.TrimSpace(s) != s {
			return
		}
		if neg, err := ParseDuration("-" + s); err != nil || neg != -d {
			t.Fatalf("ParseDuration(%q) = %v but ParseDuration(%q) = %v, %v", s, d, "-"+s, neg, err)
		}
	})
}

// FuzzUserCode feeds anything to the user-code normaliser: it never
// panics, accepts only 8 letters of the alphabet, and a normalised code
// shown as XXXX-XXXX normalises to itself.
func FuzzUserCode(f *testing.F) {
	for _, seed := range []string{"BCDF-GHJK", "bcdfghjk", " bCdF-gHjK ", "AEIO-UAEI", "", "BCDF--GHJK", "ßCDF-GHJK", "BCDF\x00GHJK", "bcdf-ghjk-"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, err := normalizeUserCode(in)
		if err != nil {
			return
		}
		if len(code) != 8 || strings.Trim(code, userCodeAlphabet) != "" {
			t.Fatalf("normalizeUserCode(%q) = %q", in, code)
		}
		if again, err := normalizeUserCode(strings.ToLower(formatUserCode(code))); err != nil || again != code {
			t.Fatalf("round trip of %q: %q %v", code, again, err)
		}
	})
}

// FuzzClientFile parses arbitrary client files: never a panic, and every
// client accepted passes validation.
func FuzzClientFile(f *testing.F) {
	for _, seed := range []string{
		"- id: app\n  secret: s\n  grant_types: [client_credentials]\n  scopes: [read]\n",
		`[{"id": "web", "secret_file": "s", "redirect_uris": ["https://app.example/cb", "loopback"]}]`,
		"- id: a\n  colour: blue\n", "id: x\n", "- {}\n", "[", "- id: &a x\n  secret: *a\n",
	} {
		f.Add(seed)
	}
	read := func(string) ([]byte, error) { return []byte("file-secret"), nil }
	f.Fuzz(func(t *testing.T, data string) {
		clients, err := ParseClientFile([]byte(data), read)
		if err != nil {
			return
		}
		for _, c := range clients {
			if err := c.validate(); err != nil || c.SecretFile != "" {
				t.Fatalf("accepted %+v: %v", c, err)
			}
		}
	})
}

// FuzzLoginPages posts arbitrary forms and queries to the HTML pages: never
// a 5xx, always HTML, and a redirect only to a registered loopback URI.
func FuzzLoginPages(f *testing.F) {
	s := newFuzzServer(f, "HS256")
	q := "response_type=code&client_id=tokenlab&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=s&code_challenge=" +
		s256("fuzz-verifier-fuzz-verifier-fuzz-verifier-fuzz") + "&code_challenge_method=S256"
	for _, seed := range []struct {
		route       uint8
		query, body string
	}{
		{0, q, ""}, {1, q, q + "&username=alice&password=password123&action=approve"}, {1, "", q + "&form_token=AAAA&action=deny"},
		{2, "user_code=bcdf-ghjk", ""}, {3, "", "user_code=BCDFGHJK&username=alice&password=password123&action=approve"},
		{0, "client_id=%00&redirect_uri=javascript:alert(1)", ""}, {3, "", "user_code=%zz"},
		{0, strings.Replace(q, "%3A9%2F", "%3A0%2F", 1), ""}, {0, strings.Replace(q, "%3A9%2F", "%3A99999999999%2F", 1), ""},
		{2, "user_code=BBBB-BBBB", ""},
		{4, "id_token_hint=a.b.c&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F", ""},
		{4, "client_id=tokenlab&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fbye&state=s", ""},
		{5, "", "id_token_hint=" + s.access + "&state=%zz"}, {5, "", "client_id=tokenlab&client_id=x"},
	} {
		f.Add(seed.route, seed.query, seed.body)
	}
	routes := []struct{ method, path string }{{"GET", "/oauth/authorize"}, {"POST", "/oauth/authorize"}, {"GET", "/device"}, {"POST", "/device"},
		{"GET", endSessionPath}, {"POST", endSessionPath}}
	f.Fuzz(func(t *testing.T, route uint8, query, body string) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequestWithContext(t.Context(), rt.method, "/", strings.NewReader(body))
		req.URL.Path, req.URL.RawQuery = rt.path, query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s %s?%q (%q): %d %s", rt.method, rt.path, query, body, rec.Code, rec.Header().Get("Content-Type"))
		}
		if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, "http://127.0.0.1:") && !strings.HasPrefix(loc, "http://[::1]:") {
			t.Fatalf("redirect to %q", loc)
		}
	})
}

// FuzzRegisterClient: any body at the registration endpoint gets 201 with
// a client or a JSON refusal, never a 5xx; a registered client has only
// https or loopback redirect URIs.
func FuzzRegisterClient(f *testing.F) {
	// With the default rate every input after the tenth met the limit
	// (429), so the fuzzer never reached the metadata checks again; each
	// registered client is removed again, so the cap is never reached.
	s := newFuzzServer(f, "HS256", func(c *Config) { c.RegistrationPerMinute = 1 << 30 })
	for _, seed := range []string{
		`{"redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none"}`,
		`{"redirect_uris":["https://app.example/cb"],"grant_types":["authorization_code","client_credentials"]}`,
		`{"redirect_uris":["javascript:alert(1)"]}`, `{"redirect_uris":[1]}`, `{"grant_types":"x"}`, `[]`, `null`, `{`, ``,
		`{"redirect_uris":["http://[::1]:0/"],"token_endpoint_auth_method":"none","scope":"a\u0000b"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, registerPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Header().Get("Content-Type") != "application/json" || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%q: %d %s %q", body, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
		}
		if rec.Code == http.StatusTooManyRequests || rec.Code == http.StatusForbidden {
			t.Fatalf("%q: %d: the fuzz server's registration bounds were reached", body, rec.Code)
		}
		if rec.Code != http.StatusCreated {
			return
		}
		var got struct {
			ClientID     string   `json:"client_id"`
			RedirectURIs []string `json:"redirect_uris"`
		}
		json.Unmarshal(rec.Body.Bytes(), &got)
		del := httptest.NewRequestWithContext(t.Context(), http.MethodDelete, "/admin/clients/"+url.PathEscape(got.ClientID), nil)
		del.Header.Set("Authorization", "Bearer "+testAdminToken)
		gone := httptest.NewRecorder()
		s.ServeHTTP(gone, del)
		if gone.Code != http.StatusOK {
			t.Fatalf("remove %s: %d %s", got.ClientID, gone.Code, gone.Body.Bytes())
		}
		for _, u := range got.RedirectURIs {
			if !registrableRedirect(u) {
				t.Fatalf("%q registered the redirect URI %q", body, u)
			}
		}
	})
}
