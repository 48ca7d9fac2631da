package client

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeOIDC is a small OpenID Provider on 127.0.0.1: discovery, an
// authorization endpoint the test's opener answers itself, a token
// endpoint that hands out opaque tokens and (when openid was asked for)
// an RS256 ID token, its JWKS, and userinfo. Tests change the ID token's
// claims to see each check refuse it.
type fakeOIDC struct {
	*httptest.Server
	key     *rsa.PrivateKey
	now     time.Time
	offerID bool // scopes_supported lists openid

	mu        sync.Mutex
	nonce     string // the nonce of the last authorization request
	scope     string // its scope
	tamper    func(jwt.MapClaims)
	otherKey  bool           // sign the ID token with a key not in the JWKS
	userinfo  map[string]any // nil: no userinfo_endpoint
	revoked   []string
	introspec bool // offer introspection (always "inactive" after a revocation)
}

func newFakeOIDC(t *testing.T, offerID bool) *fakeOIDC {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeOIDC{key: key, now: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), offerID: offerID}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /userinfo", f.handleUserinfo)
	mux.HandleFunc("POST /revoke", f.revoke)
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		gone := contains(f.revoked, r.PostForm.Get("token"))
		f.mu.Unlock()
		fakeWriteJSON(w, http.StatusOK, map[string]any{"active": !gone})
	})
	// Its Date is its clock, as tokenlab's server sends its lab clock: the
	// client judges expiry, the ID token's too, by the server's time.
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", f.now.UTC().Format(http.TimeFormat))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (f *fakeOIDC) discovery(w http.ResponseWriter, r *http.Request) {
	d := map[string]any{
		"issuer": f.URL, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token",
		"jwks_uri": f.URL + "/jwks", "revocation_endpoint": f.URL + "/revoke",
		"grant_types_supported": []string{"authorization_code", "refresh_token", "client_credentials"},
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offerID {
		d["scopes_supported"] = []string{"openid", "profile"}
	}
	if f.userinfo != nil {
		d["userinfo_endpoint"] = f.URL + "/userinfo"
	}
	if f.introspec {
		d["introspection_endpoint"] = f.URL + "/introspect"
	}
	fakeWriteJSON(w, http.StatusOK, d)
}

func (f *fakeOIDC) jwks(w http.ResponseWriter, r *http.Request) {
	pub := f.key.PublicKey
	fakeWriteJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (f *fakeOIDC) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	ans := map[string]any{"access_token": "opaque-access-" + randomString(8), "token_type": "Bearer", "expires_in": 600}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		ans["refresh_token"] = "opaque-refresh-" + randomString(8)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Contains(" "+f.scope+" ", " openid ") && r.PostForm.Get("grant_type") == "authorization_code" {
		claims := jwt.MapClaims{"iss": f.URL, "sub": "alice", "aud": "tokenlab", "nonce": f.nonce,
			"iat": f.now.Unix(), "exp": f.now.Add(time.Hour).Unix(), "name": "Alice Example"}
		if f.tamper != nil {
			f.tamper(claims)
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "k1"
		key := f.key
		if f.otherKey {
			key, _ = rsa.GenerateKey(rand.Reader, 2048)
		}
		signed, err := tok.SignedString(key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ans["id_token"] = signed
	}
	fakeWriteJSON(w, http.StatusOK, ans)
}

func (f *fakeOIDC) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer opaque-access-") {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		fakeWriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fakeWriteJSON(w, http.StatusOK, f.userinfo)
}

func (f *fakeOIDC) revoke(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	f.revoked = append(f.revoked, r.PostForm.Get("token"))
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// browser answers the authorize URL as a browser whose user approves:
// it notes the nonce and scope, and calls the loopback with a code.
func (f *fakeOIDC) browser(t *testing.T) Opener {
	return func(ctx context.Context, authorizeURL string) error {
		u, err := url.Parse(authorizeURL)
		if err != nil {
			return err
		}
		if u.Path != "/authorize" {
			// A loopback start URL that redirects to the authorize URL.
			hc := &http.Client{CheckRedirect: noRedirects}
			resp, err := hc.Get(authorizeURL)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if u, err = url.Parse(resp.Header.Get("Location")); err != nil {
				return err
			}
		}
		q := u.Query()
		f.mu.Lock()
		f.nonce, f.scope = q.Get("nonce"), q.Get("scope")
		f.mu.Unlock()
		back := q.Get("redirect_uri") + "?" + url.Values{"code": {"c1"}, "state": {q.Get("state")}}.Encode()
		go func() {
			resp, err := http.Get(back)
			if err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
}

func (f *fakeOIDC) client(t *testing.T, username string) *Client {
	t.Helper()
	p := builtinProfile(t, "oauth2")
	p.OAuth.ClientID = "tokenlab"
	c, err := New(f.URL, username, p, NewMemoryStore(), WithClock(newManualClock(f.now)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLoginOpenIDVerifiesIDToken: with openid in scopes_supported, a PKCE
// login asks for openid with a nonce, verifies the ID token and keeps it,
// and names the session from it although the access token is opaque.
func TestLoginOpenIDVerifiesIDToken(t *testing.T) {
	f := newFakeOIDC(t, true)
	c := f.client(t, "")
	s, err := c.LoginPKCE(t.Context(), PKCEOptions{Open: f.browser(t)})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if !strings.Contains(" "+f.scope+" ", " openid ") || f.nonce == "" {
		t.Errorf("the authorization request had scope %q and nonce %q; want openid and a nonce", f.scope, f.nonce)
	}
	if s.Username != "alice" {
		t.Errorf("session named %q, want alice (the ID token's sub)", s.Username)
	}
	if s.IDToken == "" || s.IDTokenClaims().String("nonce") != f.nonce {
		t.Errorf("the session keeps ID token %q (claims %v), want the verified token", s.IDToken, s.IDTokenClaims())
	}
}

// TestLoginWithoutOpenIDOffered: a server that lists no openid scope is
// not asked for it, and sends no nonce.
func TestLoginWithoutOpenIDOffered(t *testing.T) {
	f := newFakeOIDC(t, false)
	if _, err := f.client(t, "bob").LoginPKCE(t.Context(), PKCEOptions{Open: f.browser(t)}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.scope, "openid") || f.nonce != "" {
		t.Errorf("scope %q nonce %q: want neither openid nor a nonce", f.scope, f.nonce)
	}
}

// TestLoginRefusesBadIDToken: each check of OIDC Core §3.1.3.7 refuses
// the login.
func TestLoginRefusesBadIDToken(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(jwt.MapClaims)
		otherKey bool
		want     string
	}{
		{"signature", nil, true, "signature"},
		{"iss", func(c jwt.MapClaims) { c["iss"] = "http://evil.example" }, false, "iss"},
		{"aud", func(c jwt.MapClaims) { c["aud"] = "another-client" }, false, "aud"},
		{"azp", func(c jwt.MapClaims) { c["aud"] = []string{"tokenlab", "other"}; c["azp"] = "other" }, false, "azp"},
		{"nonce", func(c jwt.MapClaims) { c["nonce"] = "replayed" }, false, "nonce"},
		{"no nonce", func(c jwt.MapClaims) { delete(c, "nonce") }, false, "nonce"},
		{"exp", func(c jwt.MapClaims) { c["exp"] = time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC).Unix() }, false, "expired"},
		{"no exp", func(c jwt.MapClaims) { delete(c, "exp") }, false, "exp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOIDC(t, true)
			f.tamper, f.otherKey = tc.tamper, tc.otherKey
			c := f.client(t, "")
			_, err := c.LoginPKCE(t.Context(), PKCEOptions{Open: f.browser(t)})
			if !errors.Is(err, ErrIDToken) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("login: %v; want ErrIDToken about %s", err, tc.want)
			}
			if _, err := c.Session(t.Context()); !errors.Is(err, ErrLoginRequired) {
				t.Errorf("after a refused ID token the session is %v, want none kept", err)
			}
		})
	}
}

// TestLoginNamesSessionFromUserinfo: opaque tokens and no ID token (the
// server offers no openid), but userinfo names the user.
func TestLoginNamesSessionFromUserinfo(t *testing.T) {
	f := newFakeOIDC(t, false)
	f.userinfo = map[string]any{"sub": "u-1", "preferred_username": "carol"}
	s, err := f.client(t, "").LoginPKCE(t.Context(), PKCEOptions{Open: f.browser(t)})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if s.Username != "carol" {
		t.Errorf("session named %q, want carol from userinfo", s.Username)
	}
}

// TestLoginAsksForUsernameOnlyWhenNoneNamesUser: without an ID token or
// userinfo, the error asks for a username.
func TestLoginAsksForUsernameOnlyWhenNoneNamesUser(t *testing.T) {
	f := newFakeOIDC(t, false)
	_, err := f.client(t, "").LoginPKCE(t.Context(), PKCEOptions{Open: f.browser(t)})
	if err == nil || !strings.Contains(err.Error(), "userinfo") || !strings.Contains(err.Error(), "username") {
		t.Fatalf("login: %v; want an error asking for a username, saying userinfo named nobody", err)
	}
}

// TestIDTokenKeptWithinBudget: an ID token that does not fit beside the
// other tokens is replaced by its main claims; the session stays under
// MaxSessionBytes.
func TestIDTokenKeptWithinBudget(t *testing.T) {
	f := newFakeOIDC(t, true)
	f.tamper = func(c jwt.MapClaims) { c["groups"] = strings.Repeat("g", 1500) }
	s, err := f.client(t, "").LoginPKCE(t.Context(), PKCEOptions{Open: f.browser(t)})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	data, _ := json.Marshal(s)
	if len(data) > MaxSessionBytes {
		t.Fatalf("session is %d bytes", len(data))
	}
	claims := s.IDTokenClaims()
	if s.IDToken != "" || claims.String("sub") != "alice" || claims["groups"] != nil || !claims.Expiry().Equal(f.now.Add(time.Hour)) {
		t.Errorf("IDToken %d bytes, claims %v: want only the main claims kept", len(s.IDToken), claims)
	}
}

// TestLogoutWithoutRefreshTokenRevokesAccessToken: a client-credentials
// session has no refresh token; logout revokes its access token and says
// so, checked by introspection, instead of claiming the session was
// revoked.
func TestLogoutWithoutRefreshTokenRevokesAccessToken(t *testing.T) {
	for _, tc := range []struct {
		name       string
		introspect bool
		want       string
	}{
		{"introspection confirms", true, "the access token is revoked on the server (its introspection now calls it inactive)"},
		{"no introspection", false, "the server accepted the revocation of the access token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOIDC(t, true)
			f.introspec = tc.introspect
			p := builtinProfile(t, "oauth2")
			p.OAuth.ClientID, p.OAuth.ClientSecret = "robot", "s3cret"
			c, err := New(f.URL, "", p, NewMemoryStore(), WithClock(newManualClock(f.now)))
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.LoginClientCredentials(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			rep, err := c.LogoutReport(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Revoked || !strings.HasPrefix(rep.Server, tc.want) || strings.Contains(rep.Server, "session is revoked") {
				t.Errorf("logout said %q (revoked %t), want %q", rep.Server, rep.Revoked, tc.want)
			}
			if !contains(f.revoked, s.AccessToken) {
				t.Error("the access token was not sent to the revocation endpoint")
			}
		})
	}
}
