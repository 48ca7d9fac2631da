package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSessionEnded(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  APIError
		want bool
	}{
		{"reused", APIError{Status: 401, Code: "token_reused"}, true},
		{"seed 403", APIError{Status: 403}, true},
		{"oauth invalid_grant", APIError{Status: 400, Code: "invalid_grant"}, true},
		{"oauth invalid_client", APIError{Status: 401, Code: "invalid_client"}, false},
		{"wrong field name", APIError{Status: 400, Code: "invalid_request"}, false},
		{"unsupported grant", APIError{Status: 400, Code: "unsupported_grant_type"}, false},
		{"plain 400", APIError{Status: 400}, false},
		{"server error", APIError{Status: 500}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sessionEnded(&tc.err); got != tc.want {
				t.Fatalf("sessionEnded(%+v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestLoginDoesNotFollowRedirects: a redirect from the login endpoint must
// not carry the password to another host.
func TestLoginDoesNotFollowRedirects(t *testing.T) {
	var stolen atomic.Int64
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer thief.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+"/login", http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	p, _ := ResolveProfile("tokenlab")
	c, err := New(api.URL, "alice", p, NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(t.Context(), "password123"); err == nil {
		t.Fatal("a redirected login must fail")
	}
	if n := stolen.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests with the password", n)
	}
}

// A hostile or careless server chooses the text below: none of it may
// reach a terminal with control characters, and no URL it chooses may
// reach the OS browser opener unless it is http(s).

func TestAPIErrorIsPrintable(t *testing.T) {
	e := apiError(answer{status: 400, body: []byte(`{"error":"invalid_grant\u001b[41m","error_description":"a\u001b]0;owned\u0007\u001b[2Jb\u202e"}`)})
	got := e.Error()
	if strings.ContainsAny(got, "\x1b\x07\u202e") {
		t.Fatalf("APIError carries control characters to the terminal: %q", got)
	}
	if e.Code != "invalid_grant\x1b[41m" {
		t.Errorf("Code = %q: the data must stay as the server sent it, only the sentence is escaped", e.Code)
	}
}

func TestTokenUserSkipsUnprintableClaims(t *testing.T) {
	tok := unsignedJWT(t, map[string]any{"preferred_username": "root\x1b[2JADMIN", "username": "bob\u202e", "sub": "42"})
	if got := tokenUser(tok); got != "42" {
		t.Fatalf("tokenUser = %q, want the first claim free of control characters (sub 42)", got)
	}
	if got := tokenUser(unsignedJWT(t, map[string]any{"sub": "\x1b[2J"})); got != "" {
		t.Fatalf("tokenUser = %q, want no name", got)
	}
}

// unsignedJWT is a token with these claims and a junk signature: the
// client reads names from tokens it cannot verify.
func unsignedJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
}

func TestDeviceLoginRefusesUnsafeVerificationURIs(t *testing.T) {
	for _, tc := range []struct {
		name              string
		uri, complete     string
		wantErr           string // empty: the login reaches Show
		wantShownComplete string
	}{
		{name: "file verification_uri", uri: "file:///etc/passwd", wantErr: "not an http(s) URL"},
		{name: "custom scheme verification_uri", uri: "ms-settings:privacy", wantErr: "not an http(s) URL"},
		{name: "control characters in verification_uri", uri: "https://idp.example/device\r\x1b[2K", wantErr: "not an http(s) URL"},
		{name: "bidi override in verification_uri", uri: "https://idp.example/\u202eecived", wantErr: "not an http(s) URL"},
		{name: "file verification_uri_complete is dropped", uri: "https://idp.example/device", complete: "file:///etc/passwd"},
		{name: "javascript verification_uri_complete is dropped", uri: "https://idp.example/device", complete: "javascript:alert(1)"},
		{name: "https verification_uri_complete is kept", uri: "https://idp.example/device", complete: "https://idp.example/device?user_code=AB",
			wantShownComplete: "https://idp.example/device?user_code=AB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants})
			f.setOverride("device", func(w http.ResponseWriter, r *http.Request) {
				fakeWriteJSON(w, http.StatusOK, map[string]any{"device_code": "dc", "user_code": "AB\x1b[2JCD",
					"verification_uri": tc.uri, "verification_uri_complete": tc.complete, "expires_in": 5, "interval": 1})
			})
			tc2 := newFlowClient(t, f, nil, nil)
			var shown *DeviceCode
			stop := errors.New("stop after Show")
			_, err := tc2.LoginDevice(t.Context(), DeviceOptions{
				Show: func(_ context.Context, d DeviceCode) error { shown = &d; return stop }})
			if tc.wantErr != "" {
				if shown != nil || err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.ContainsAny(err.Error(), "\r\x1b\u202e") {
					t.Fatalf("shown %+v, err %q; want the login stopped before Show with %q, in printable words", shown, err, tc.wantErr)
				}
				return
			}
			if shown == nil {
				t.Fatalf("Show was not called: %v", err)
			}
			if shown.VerificationURIComplete != tc.wantShownComplete {
				t.Errorf("verification_uri_complete = %q, want %q", shown.VerificationURIComplete, tc.wantShownComplete)
			}
			if strings.ContainsRune(shown.UserCode, 0x1b) {
				t.Errorf("user_code reaches Show with ESC: %q", shown.UserCode)
			}
		})
	}
}

// TestPKCERefusesNonHTTPAuthorizationEndpoint: even with cross-origin
// endpoints allowed, a file: or custom-scheme authorize URL never reaches
// the browser opener.
func TestPKCERefusesNonHTTPAuthorizationEndpoint(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants})
	f.setOverride("discovery", func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host
		fakeWriteJSON(w, http.StatusOK, map[string]any{"issuer": base, "token_endpoint": base + "/oauth/token",
			"authorization_endpoint": "file:///etc/passwd", "grant_types_supported": allGrants})
	})
	tc := newFlowClient(t, f, nil, func(p *Profile) { p.OAuth.AllowCrossOriginEndpoints = true })
	opened := ""
	_, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: func(_ context.Context, u string) error { opened = u; return nil }, Timeout: time.Nanosecond})
	if opened != "" || err == nil || !strings.Contains(err.Error(), "authorization_endpoint") {
		t.Fatalf("opened %q, err %v; want the endpoint refused before the browser", opened, err)
	}
}

// TestDiscoveryIssuerMustMatch: RFC 8414 §3.3 — the document's issuer is
// the one it was fetched for, or it is another server's.
func TestDiscoveryIssuerMustMatch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		issuer  func(base string) any
		wantErr string
	}{
		{"same", func(base string) any { return base }, ""},
		{"trailing slash", func(base string) any { return base + "/" }, ""},
		{"another server", func(string) any { return "https://evil.example" }, `names the issuer "https://evil.example", not http://127.0.0.1`},
		{"another path", func(base string) any { return base + "/tenant-b" }, "RFC 8414"},
		{"missing", func(string) any { return nil }, "names no issuer"},
		{"control characters", func(base string) any { return base + "\x1b[2J" }, `\x1b[2J`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants})
			f.setOverride("discovery", func(w http.ResponseWriter, r *http.Request) {
				base := "http://" + r.Host
				doc := map[string]any{"token_endpoint": base + "/oauth/token", "grant_types_supported": allGrants}
				if iss := tc.issuer(base); iss != nil {
					doc["issuer"] = iss
				}
				fakeWriteJSON(w, http.StatusOK, doc)
			})
			tc2 := newFlowClient(t, f, nil, nil)
			err := tc2.CheckFlow(t.Context(), FlowClientCredentials)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("CheckFlow: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			case err != nil && strings.ContainsRune(err.Error(), 0x1b):
				t.Fatalf("the error carries ESC: %q", err)
			}
		})
	}
}

// TestLoopbackChecksIss: RFC 9207 — an authorization response that names
// another issuer (a mix-up attack) is refused; one without iss is refused
// only when the server says it always sends it.
func TestLoopbackChecksIss(t *testing.T) {
	const issuer = "https://idp.example"
	for _, tc := range []struct {
		name    string
		query   string
		needIss bool
		wantErr string
	}{
		{"no iss", "state=s&code=c", false, ""},
		{"right iss", "state=s&code=c&iss=https%3A%2F%2Fidp.example", true, ""},
		{"right iss with a trailing slash", "state=s&code=c&iss=https%3A%2F%2Fidp.example%2F", true, ""},
		{"another issuer", "state=s&code=c&iss=https%3A%2F%2Fevil.example", false, "mix-up"},
		{"two iss", "state=s&code=c&iss=https%3A%2F%2Fidp.example&iss=https%3A%2F%2Fevil.example", false, "mix-up"},
		{"missing but promised", "state=s&code=c", true, "without iss"},
		{"iss with control characters", "state=s&code=c&iss=%1b%5D0%3Bowned%07", false, "mix-up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lb := newLoopback("s", issuer, tc.needIss, nil)
			rec := httptest.NewRecorder()
			lb.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback?"+tc.query, nil))
			res := <-lb.results
			if tc.wantErr == "" {
				if res.err != nil || res.code != "c" {
					t.Fatalf("got %+v, want the code", res)
				}
				return
			}
			if res.code != "" || res.err == nil || !strings.Contains(res.err.Error(), tc.wantErr) || rec.Code != http.StatusBadRequest {
				t.Fatalf("got %+v (page %d), want refused with %q", res, rec.Code, tc.wantErr)
			}
			if strings.ContainsAny(res.err.Error(), "\x1b\x07") {
				t.Fatalf("the error carries control characters: %q", res.err)
			}
		})
	}
}

// TestPKCERefusesAnotherIssuersResponse: through the whole flow, a
// callback whose iss names another issuer ends the login without trading
// its code.
func TestPKCERefusesAnotherIssuersResponse(t *testing.T) {
	f := newFakeAPI(t, fakeConfig{Dialect: DialectOAuth2, ClientID: "tokenlab", Grants: allGrants})
	f.setOverride("authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=stolen&iss=https%3A%2F%2Fevil.example&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	tc := newFlowClient(t, f, nil, nil)
	_, err := tc.LoginPKCE(t.Context(), PKCEOptions{Open: browserOpener(t, nil)})
	if err == nil || !strings.Contains(err.Error(), "RFC 9207") {
		t.Fatalf("err = %v, want the other issuer's response refused", err)
	}
	if f.logins.Load() != 0 {
		t.Errorf("the code was traded")
	}
}

// TestLoopbackConcurrentCallbacksEndOneLogin: callbacks that arrive
// together (a browser retrying, an attacker racing it) never panic and
// give the login exactly one result; the others find the login over.
func TestLoopbackConcurrentCallbacksEndOneLogin(t *testing.T) {
	for range 200 {
		lb := newLoopback("good", "", false, nil)
		h := lb.handler()
		var wg sync.WaitGroup
		var gone atomic.Int64
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback?state=good&code=c", nil))
				if rec.Code == http.StatusGone {
					gone.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(lb.results) != 1 || gone.Load() != 7 {
			t.Fatalf("%d results and %d pages saying the login is over, want 1 and 7", len(lb.results), gone.Load())
		}
	}
}

// TestLoopbackWrongStateKeepsWaiting: forged requests are refused with
// an error page but do not end the login (and only the first becomes an
// event); the right callback still ends it.
func TestLoopbackWrongStateKeepsWaiting(t *testing.T) {
	var reported int
	lb := newLoopback("good", "", false, func() { reported++ })
	h := lb.handler()
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/callback?state=forged&code=evil", nil))
		if rec.Code != http.StatusBadRequest || len(lb.results) != 0 {
			t.Fatalf("forged callback: page %d, %d results", rec.Code, len(lb.results))
		}
	}
	if lb.wrongStates() != 3 || reported != 1 {
		t.Fatalf("%d counted, %d reported; want 3 counted and the first one reported", lb.wrongStates(), reported)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/callback?state=good&code=real", nil))
	if res := <-lb.results; res.err != nil || res.code != "real" {
		t.Fatalf("got %+v; want the right callback's code", res)
	}
}
