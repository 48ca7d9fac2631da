package interoptest

// These tests prove the harness with a plain Go OAuth client (no tokenlab
// code), and they document how oidc-provider behaves: what tokenlab's
// client meets against an OAuth server it did not write.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const testTimeout = 60 * time.Second

// loopback is a client's RFC 8252 redirect listener on 127.0.0.1.
type loopback struct {
	server *httptest.Server
	mu     sync.Mutex
	got    []url.Values
}

func newLoopback(t *testing.T) *loopback {
	l := &loopback{}
	l.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		l.mu.Lock()
		l.got = append(l.got, r.URL.Query())
		l.mu.Unlock()
		fmt.Fprint(w, "<p>You can close this tab.</p>")
	}))
	t.Cleanup(l.server.Close)
	return l
}

func (l *loopback) redirectURI() string { return l.server.URL + "/callback" }

func (l *loopback) received() []url.Values {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]url.Values(nil), l.got...)
}

// pkce is one authorization request's secrets.
type pkce struct{ verifier, challenge, state string }

func newPKCE(t *testing.T) pkce {
	verifier := randomString(t) + randomString(t)
	sum := sha256.Sum256([]byte(verifier))
	return pkce{verifier: verifier, challenge: base64.RawURLEncoding.EncodeToString(sum[:]), state: randomString(t)}
}

func authorizeURL(p *OIDCProvider, redirectURI string, k pkce, change func(url.Values)) string {
	q := url.Values{
		"client_id":             {PublicClientID},
		"response_type":         {"code"},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid offline_access " + APIScope},
		"resource":              {APIResource},
		"state":                 {k.state},
		"code_challenge":        {k.challenge},
		"code_challenge_method": {"S256"},
	}
	if change != nil {
		change(q)
	}
	return p.Discovery.AuthorizationEndpoint + "?" + q.Encode()
}

// tokenResponse is RFC 6749 §5.1 and §5.2 in one.
type tokenResponse struct {
	Status           int    `json:"-"`
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	// device authorization (RFC 8628 §3.2)
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	Interval                int    `json:"interval"`
}

func post(t *testing.T, ctx context.Context, endpoint string, form url.Values, basicUser, basicPass string) tokenResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tr tokenResponse
	if len(body) > 0 {
		if err := json.Unmarshal(body, &tr); err != nil {
			t.Fatalf("POST %s: %s: not JSON: %s", endpoint, resp.Status, body)
		}
	}
	tr.Status = resp.StatusCode
	return tr
}

func (p *OIDCProvider) token(t *testing.T, ctx context.Context, form url.Values) tokenResponse {
	t.Helper()
	form.Set("client_id", PublicClientID)
	return post(t, ctx, p.Discovery.TokenEndpoint, form, "", "")
}

// login runs the whole PKCE flow and returns the token response.
func login(t *testing.T, ctx context.Context, p *OIDCProvider) tokenResponse {
	t.Helper()
	lb := newLoopback(t)
	k := newPKCE(t)
	page, err := p.SignIn(ctx, NewFormBrowser(t), authorizeURL(p, lb.redirectURI(), k, nil), Username, Password, true)
	if err != nil {
		t.Fatalf("sign in: %v (last page %s: %.300s)", err, page.URL, page.Body)
	}
	got := lb.received()
	if len(got) != 1 {
		t.Fatalf("the loopback listener got %d requests, want 1 (last page %s)", len(got), page.URL)
	}
	if got[0].Get("state") != k.state {
		t.Fatalf("state %q came back, sent %q", got[0].Get("state"), k.state)
	}
	if got[0].Get("iss") != p.Issuer { // RFC 9207
		t.Errorf("iss %q on the redirect, want %q", got[0].Get("iss"), p.Issuer)
	}
	tr := p.token(t, ctx, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {got[0].Get("code")},
		"redirect_uri":  {lb.redirectURI()},
		"code_verifier": {k.verifier},
	})
	if tr.Status != http.StatusOK || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("code exchange: %d %s %s (refresh token %t)", tr.Status, tr.Error, tr.ErrorDescription, tr.RefreshToken != "")
	}
	return tr
}

// verifyAccessToken checks the JWT access token with the server's JWKS
// and its subject.
func verifyAccessToken(t *testing.T, ctx context.Context, p *OIDCProvider, token, wantSub string) {
	t.Helper()
	claims, err := p.VerifyAccessToken(ctx, token)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	if sub, _ := claims.GetSubject(); sub != wantSub {
		t.Errorf("sub %q, want %q", sub, wantSub)
	}
}

// TestOIDCProviderPKCEWithPlainClient walks the whole life of a session
// against oidc-provider: PKCE login through its HTML forms, a JWT access
// token for the resource, refresh with rotation, revocation.
func TestOIDCProviderPKCEWithPlainClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := StartOIDCProvider(t, OIDCProviderOptions{AccessTTL: 5 * time.Minute})

	for _, grant := range []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "client_credentials"} {
		if !strings.Contains(strings.Join(p.Discovery.GrantTypesSupported, " "), grant) {
			t.Errorf("discovery does not offer %s: %v", grant, p.Discovery.GrantTypesSupported)
		}
	}
	if fmt.Sprint(p.Discovery.CodeChallengeMethods) != "[S256]" {
		t.Errorf("code_challenge_methods_supported %v, want [S256]", p.Discovery.CodeChallengeMethods)
	}

	first := login(t, ctx, p)
	verifyAccessToken(t, ctx, p, first.AccessToken, Username)
	if first.ExpiresIn != 300 {
		t.Errorf("expires_in %d, want 300 (OIDC_ACCESS_TTL)", first.ExpiresIn)
	}
	// A JWT access token is for the API to verify; oidc-provider refuses
	// to introspect it.
	if in := post(t, ctx, p.Discovery.IntrospectionEndpoint, url.Values{"token": {first.AccessToken}, "client_id": {PublicClientID}}, "", ""); in.Status != http.StatusBadRequest {
		t.Errorf("introspection of the JWT access token: %d %s, want 400", in.Status, in.Error)
	}

	second := p.token(t, ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if second.Status != http.StatusOK || second.RefreshToken == "" {
		t.Fatalf("refresh: %d %s %s", second.Status, second.Error, second.ErrorDescription)
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh returned the same refresh token: rotation is off")
	}
	verifyAccessToken(t, ctx, p, second.AccessToken, Username)
	if p.Introspect(t, ctx, first.RefreshToken) {
		t.Error("the rotated refresh token is still active")
	}

	third := p.token(t, ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken}})
	if third.Status != http.StatusOK || third.RefreshToken == "" {
		t.Fatalf("second refresh: %d %s %s", third.Status, third.Error, third.ErrorDescription)
	}

	revoked := post(t, ctx, p.Discovery.RevocationEndpoint, url.Values{
		"token": {third.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {PublicClientID},
	}, "", "")
	if revoked.Status != http.StatusOK {
		t.Fatalf("revocation: %d %s", revoked.Status, revoked.Error)
	}
	if p.Introspect(t, ctx, third.RefreshToken) {
		t.Error("the revoked refresh token is still active")
	}
	after := p.token(t, ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.RefreshToken}})
	if after.Status != http.StatusBadRequest || after.Error != "invalid_grant" {
		t.Errorf("refresh with a revoked token: %d %q, want 400 invalid_grant", after.Status, after.Error)
	}
}

// TestOIDCProviderRefreshReuseRevokesGrant: replaying a rotated refresh
// token is refused and also kills its successor (the whole grant), the
// reuse detection tokenlab's own server does too.
func TestOIDCProviderRefreshReuseRevokesGrant(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := StartOIDCProvider(t, OIDCProviderOptions{})

	first := login(t, ctx, p)
	second := p.token(t, ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if second.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", second.Status, second.Error)
	}
	replay := p.token(t, ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}})
	if replay.Status != http.StatusBadRequest || replay.Error != "invalid_grant" {
		t.Fatalf("replayed refresh token: %d %q, want 400 invalid_grant", replay.Status, replay.Error)
	}
	successor := p.token(t, ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken}})
	if successor.Error != "invalid_grant" {
		t.Errorf("the successor after a replay: %d %q, want invalid_grant (grant revoked)", successor.Status, successor.Error)
	}
}

// TestOIDCProviderRefusals documents what oidc-provider refuses and how
// it says so, which tokenlab's client has to turn into sentences.
func TestOIDCProviderRefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := StartOIDCProvider(t, OIDCProviderOptions{})

	// Authorization requests refused before any login: where the error goes.
	for _, tc := range []struct {
		name         string
		change       func(url.Values)
		wantRedirect bool   // the error is sent to the (valid) redirect URI
		wantError    string // error parameter on the redirect
	}{
		{"plain challenge", func(q url.Values) { q.Set("code_challenge_method", "plain") }, true, "invalid_request"},
		{"no challenge", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, true, "invalid_request"},
		{"unknown resource", func(q url.Values) { q.Set("resource", "urn:other:api") }, true, "invalid_target"},
		{"redirect URI not registered", func(q url.Values) {
			u, _ := url.Parse(q.Get("redirect_uri"))
			u.Path = "/elsewhere"
			q.Set("redirect_uri", u.String())
		}, false, ""},
		{"redirect URI not loopback", func(q url.Values) { q.Set("redirect_uri", "http://192.0.2.1/callback") }, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lb := newLoopback(t)
			page, err := NewFormBrowser(t).Get(ctx, authorizeURL(p, lb.redirectURI(), newPKCE(t), tc.change))
			if err != nil {
				t.Fatal(err)
			}
			got := lb.received()
			if !tc.wantRedirect {
				if len(got) != 0 || page.URL.Host != hostOf(p.Issuer) || page.Status != http.StatusBadRequest {
					t.Fatalf("redirected %d times, ended on %s with %d; want an error page of the server (400) and no redirect", len(got), page.URL, page.Status)
				}
				return
			}
			if len(got) != 1 || got[0].Get("error") != tc.wantError {
				t.Fatalf("loopback got %v, want one redirect with error=%s", got, tc.wantError)
			}
		})
	}

	t.Run("wrong password then deny", func(t *testing.T) {
		lb := newLoopback(t)
		k := newPKCE(t)
		b := NewFormBrowser(t)
		_, err := p.SignIn(ctx, b, authorizeURL(p, lb.redirectURI(), k, nil), Username, "wrong", true)
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("sign in with a wrong password: %v, want the sign-in page back", err)
		}
		if _, err := p.SignIn(ctx, b, authorizeURL(p, lb.redirectURI(), k, nil), Username, Password, false); err != nil {
			t.Fatal(err)
		}
		got := lb.received()
		if len(got) != 1 || got[0].Get("error") != "access_denied" || got[0].Get("state") != k.state {
			t.Fatalf("after deny the loopback got %v, want error=access_denied with the state", got)
		}
	})

	t.Run("wrong verifier, then the code replayed", func(t *testing.T) {
		lb := newLoopback(t)
		k := newPKCE(t)
		if _, err := p.SignIn(ctx, NewFormBrowser(t), authorizeURL(p, lb.redirectURI(), k, nil), Username, Password, true); err != nil {
			t.Fatal(err)
		}
		code := lb.received()[0].Get("code")
		exchange := func(verifier string) tokenResponse {
			return p.token(t, ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {lb.redirectURI()}, "code_verifier": {verifier}})
		}
		if tr := exchange(newPKCE(t).verifier); tr.Error != "invalid_grant" {
			t.Errorf("wrong verifier: %d %q, want invalid_grant", tr.Status, tr.Error)
		}
		// oidc-provider does not consume a code on a wrong verifier: the
		// right one still redeems it.
		first := exchange(k.verifier)
		if first.Status != http.StatusOK || first.RefreshToken == "" {
			t.Fatalf("the code with the right verifier after a wrong one: %d %q", first.Status, first.Error)
		}
		// A replayed code is refused and revokes what it gave (RFC 6749 §4.1.2).
		if tr := exchange(k.verifier); tr.Error != "invalid_grant" {
			t.Errorf("the code replayed: %d %q, want invalid_grant", tr.Status, tr.Error)
		}
		if p.Introspect(t, ctx, first.RefreshToken) {
			t.Error("the refresh token issued from a replayed code is still active")
		}
	})

	t.Run("client credentials", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "resource": {APIResource}, "scope": {APIScope}}
		ok := post(t, ctx, p.Discovery.TokenEndpoint, form, MachineClientID, p.MachineSecret())
		if ok.Status != http.StatusOK || ok.RefreshToken != "" {
			t.Fatalf("client credentials: %d %s, refresh token %t (want none)", ok.Status, ok.Error, ok.RefreshToken != "")
		}
		verifyAccessToken(t, ctx, p, ok.AccessToken, MachineClientID)
		bad := post(t, ctx, p.Discovery.TokenEndpoint, form, MachineClientID, "wrong-secret")
		if bad.Status != http.StatusUnauthorized || bad.Error != "invalid_client" {
			t.Errorf("wrong secret: %d %q, want 401 invalid_client", bad.Status, bad.Error)
		}
	})
}

// TestOIDCProviderDeviceFlow: the device authorization grant, approved
// through the verification page with a plain HTTP client.
func TestOIDCProviderDeviceFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := StartOIDCProvider(t, OIDCProviderOptions{})

	start := post(t, ctx, p.Discovery.DeviceAuthorizationEndpoint, url.Values{
		"client_id": {PublicClientID}, "scope": {"openid offline_access " + APIScope}, "resource": {APIResource},
	}, "", "")
	if start.Status != http.StatusOK || start.DeviceCode == "" || start.UserCode == "" || start.VerificationURIComplete == "" {
		t.Fatalf("device authorization: %+v", start)
	}
	poll := func() tokenResponse {
		return p.token(t, ctx, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {start.DeviceCode}})
	}
	if tr := poll(); tr.Error != "authorization_pending" {
		t.Fatalf("poll before approval: %d %q, want authorization_pending", tr.Status, tr.Error)
	}
	page, err := p.ApproveDevice(ctx, NewFormBrowser(t), start.VerificationURIComplete, Username, Password, true)
	if err != nil {
		t.Fatalf("approve: %v (last page %s: %.300s)", err, page.URL, page.Body)
	}
	if !strings.Contains(page.Body, "Sign-in Success") {
		t.Fatalf("after approval the browser shows %s: %.300s", page.URL, page.Body)
	}
	tr := poll()
	if tr.Status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("poll after approval: %d %s %s", tr.Status, tr.Error, tr.ErrorDescription)
	}
	verifyAccessToken(t, ctx, p, tr.AccessToken, Username)
	if again := poll(); again.Error != "invalid_grant" {
		t.Errorf("the device code redeemed twice: %d %q, want invalid_grant", again.Status, again.Error)
	}
}

// TestOIDCProviderDeviceDenied: a denied device request ends the polling
// with access_denied.
func TestOIDCProviderDeviceDenied(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := StartOIDCProvider(t, OIDCProviderOptions{})

	start := post(t, ctx, p.Discovery.DeviceAuthorizationEndpoint, url.Values{"client_id": {PublicClientID}, "scope": {"openid"}}, "", "")
	if start.Status != http.StatusOK {
		t.Fatalf("device authorization: %+v", start)
	}
	if _, err := p.ApproveDevice(ctx, NewFormBrowser(t), start.VerificationURIComplete, Username, Password, false); err != nil {
		t.Fatal(err)
	}
	tr := p.token(t, ctx, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {start.DeviceCode}})
	if tr.Error != "access_denied" {
		t.Errorf("poll after deny: %d %q, want access_denied", tr.Status, tr.Error)
	}
}

// TestOIDCProviderDeviceUserCodeTyped: the person opens verification_uri
// and types the code; a wrong code brings the code page back.
func TestOIDCProviderDeviceUserCodeTyped(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := StartOIDCProvider(t, OIDCProviderOptions{})

	var start struct {
		tokenResponse
		VerificationURI string `json:"verification_uri"`
	}
	form := url.Values{"client_id": {PublicClientID}, "scope": {"openid"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.Discovery.DeviceAuthorizationEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&start); err != nil || start.VerificationURI == "" {
		t.Fatalf("device authorization: %v %+v", err, start)
	}
	wrong, err := p.ApproveDeviceCode(ctx, NewFormBrowser(t), start.VerificationURI, "BCDF-GHJK", Username, Password, true)
	if err != nil || !strings.Contains(wrong.Body, "The code you entered is incorrect") {
		t.Fatalf("a wrong user code: %v, page %s: %.300s; want the code page again saying it is incorrect", err, wrong.URL, wrong.Body)
	}
	page, err := p.ApproveDeviceCode(ctx, NewFormBrowser(t), start.VerificationURI, start.UserCode, Username, Password, true)
	if err != nil || !strings.Contains(page.Body, "Sign-in Success") {
		t.Fatalf("approve with the typed code: %v (%s: %.200s)", err, page.URL, page.Body)
	}
	tr := p.token(t, ctx, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {start.DeviceCode}})
	if tr.Status != http.StatusOK {
		t.Fatalf("poll after approval: %d %s", tr.Status, tr.Error)
	}
}
