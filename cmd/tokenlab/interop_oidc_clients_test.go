package main

// Independent OpenID Connect clients log in to the real `tokenlab serve`
// binary without a line changed for it: golang.org/x/oauth2 with
// github.com/coreos/go-oidc/v3 here, panva's openid-client v6 (node) and
// the MCP TypeScript SDK's auth() from testdata/. Each logs in, verifies
// the ID token, calls userinfo and the built-in API, refreshes with
// rotation and logs out.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/tokenlab/tokenlab/internal/interoptest"
	"golang.org/x/oauth2"
)

// oidcInteropConfig is the config file the interop tests start serve with.
const oidcInteropConfig = `alg: ES256          # access tokens; ID tokens are RS256 whatever this says
users:
  - username: alice
    password: password123
    claims:
      email: alice@example.com
      email_verified: true
      name: Alice Liddell
      groups: [admins]
clients:
  - id: web
    secret: web-secret-for-the-interop-test
    redirect_uris: [loopback]
    grant_types: [authorization_code, refresh_token]
`

// startOIDCServe starts serve with the interop config file.
func startOIDCServe(t *testing.T, extra ...string) *proc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokenlab.yaml")
	if err := os.WriteFile(path, []byte(oidcInteropConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServe(t, append([]string{"--config", path, "--clock", "real"}, extra...)...)
}

// callback is a relying party's loopback redirect URI: it keeps the last
// query it received.
type callback struct {
	srv   *httptest.Server
	query chan url.Values
}

func newCallback(t *testing.T) *callback {
	cb := &callback{query: make(chan url.Values, 4)}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.query <- r.URL.Query()
		io.WriteString(w, "the relying party has the answer")
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

func (cb *callback) url(path string) string { return cb.srv.URL + path }

func (cb *callback) next(t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-cb.query:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("the browser never reached the redirect URI")
		return nil
	}
}

// signInAsAlice plays the user: the login page's form, filled and posted.
func signInAsAlice(t *testing.T, authorizeURL string) {
	t.Helper()
	b := interoptest.NewFormBrowser(t)
	page, err := b.Get(t.Context(), authorizeURL)
	if err != nil || page.Status != http.StatusOK {
		t.Fatalf("authorize page: %v %d %s", err, page.Status, page.Body)
	}
	form, ok := page.Form(func(f interoptest.Form) bool { return f.Has("username") })
	if !ok {
		t.Fatalf("no login form: %s", page.Body)
	}
	if _, err := b.Submit(t.Context(), page, form, url.Values{"username": {"alice"}, "password": {"password123"}, "action": {"approve"}}); err != nil {
		t.Fatal(err)
	}
}

func randomString(t *testing.T) string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestInteropGoOIDC: x/oauth2 and go-oidc, as a Go web app uses them.
func TestInteropGoOIDC(t *testing.T) {
	t.Parallel()
	p := startOIDCServe(t)
	issuer := p.banner.URL
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()

	provider, err := oidc.NewProvider(ctx, issuer) // discovery, with its issuer check
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
		Userinfo   string `json:"userinfo_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil || meta.EndSession == "" || meta.Userinfo == "" {
		t.Fatalf("discovery lacks endpoints: %+v %v", meta, err)
	}
	cb := newCallback(t)
	conf := oauth2.Config{ClientID: "web", ClientSecret: "web-secret-for-the-interop-test", Endpoint: provider.Endpoint(),
		RedirectURL: cb.url("/callback"), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	state, nonce, verifier := randomString(t), randomString(t), oauth2.GenerateVerifier()
	resource := oauth2.SetAuthURLParam("resource", issuer) // RFC 8707: the built-in API

	signInAsAlice(t, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce), resource))
	q := cb.next(t)
	if q.Get("state") != state || q.Get("iss") != issuer || q.Get("code") == "" {
		t.Fatalf("authorization response %v: want the state, iss %s (RFC 9207) and a code", q, issuer)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier), resource)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	idVerifier := provider.Verifier(&oidc.Config{ClientID: "web"})
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := idVerifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc refuses the ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims struct {
		Email  string   `json:"email"`
		Name   string   `json:"name"`
		Groups []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email != "alice@example.com" || claims.Name != "Alice Liddell" {
		t.Fatalf("ID token claims %+v %v", claims, err)
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != idt.Subject || info.Email != "alice@example.com" || !info.EmailVerified {
		t.Fatalf("userinfo %+v %v", info, err)
	}
	api := func(tk *oauth2.Token) int {
		resp, err := conf.Client(ctx, tk).Get(issuer + "/protected")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := api(tok); code != http.StatusOK {
		t.Fatalf("the protected API: %d", code)
	}

	// Refresh with rotation: an expired token makes the source refresh.
	stale := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	fresh, err := conf.TokenSource(ctx, stale).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("the refresh did not rotate: %+v", fresh)
	}
	refreshedID, _ := fresh.Extra("id_token").(string)
	if again, err := idVerifier.Verify(ctx, refreshedID); err != nil || again.Subject != idt.Subject {
		t.Fatalf("the refreshed ID token: %v", err)
	}
	if code := api(fresh); code != http.StatusOK {
		t.Fatalf("the API with the refreshed token: %d", code)
	}

	// RP-initiated logout, then the session's refresh token is dead.
	logout := meta.EndSession + "?" + url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {cb.url("/bye")},
		"state": {"bye-" + state}}.Encode()
	if _, err := interoptest.NewFormBrowser(t).Get(ctx, logout); err != nil {
		t.Fatal(err)
	}
	if q := cb.next(t); q.Get("state") != "bye-"+state {
		t.Fatalf("post-logout redirect %v", q)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "revoked") {
		t.Fatalf("refresh after logout: %v", err)
	}
}

// nodeProject is a testdata directory with a package-lock.json: its
// node_modules must be there (npm ci; CI runs it), or the test skips,
// except under CI=true, where it fails.
func nodeProject(t *testing.T, name, module string) (node, dir string) {
	t.Helper()
	node = interoptest.RequireTool(t, "node", name+" runs on node")
	dir = filepath.Join(interoptest.RepoRoot(t), "testdata", name)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", module)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s has no node_modules/%s: .ci/run runs npm ci there", dir, module)
		}
		t.Skipf("%s has no node_modules (run npm ci there; CI does)", dir)
	}
	return node, dir
}

// runNode runs a script of dir with env (settings and secrets travel in
// the environment, never in argv) and decodes the JSON object it prints.
func runNode(t *testing.T, node, dir, script string, env map[string]string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, script))
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", script, err, stdout, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("%s printed %q: %v\nstderr: %s", script, stdout, err, stderr.String())
	}
}

// TestInteropOpenIDClient: panva's openid-client v6 (testdata/openid-client).
func TestInteropOpenIDClient(t *testing.T) {
	t.Parallel()
	node, dir := nodeProject(t, "openid-client", "openid-client")
	p := startOIDCServe(t)
	var got struct {
		Issuer         string
		CallbackHasIss bool
		IDToken        struct {
			Sub, Aud, Email, Name string
			NonceMatched          bool
		}
		Userinfo       struct{ Sub, Email string }
		APIStatus      int
		Rotated        bool
		RefreshedSub   string
		LogoutRedirect bool
		AfterLogout    string
	}
	runNode(t, node, dir, "login.js", map[string]string{"ISSUER": p.banner.URL, "CLIENT_ID": "web",
		"CLIENT_SECRET": "web-secret-for-the-interop-test", "LOGIN_USER": "alice", "LOGIN_PASSWORD": "password123"}, &got)
	if got.Issuer != p.banner.URL || !got.CallbackHasIss || got.IDToken.Aud != "web" || !got.IDToken.NonceMatched ||
		got.IDToken.Email != "alice@example.com" || got.IDToken.Name != "Alice Liddell" {
		t.Fatalf("login: %+v", got)
	}
	if got.Userinfo.Sub != got.IDToken.Sub || got.Userinfo.Email != "alice@example.com" || got.APIStatus != 200 {
		t.Fatalf("userinfo and API: %+v", got)
	}
	if !got.Rotated || got.RefreshedSub != got.IDToken.Sub || !got.LogoutRedirect || got.AfterLogout != "invalid_grant" {
		t.Fatalf("refresh and logout: %+v", got)
	}
}

// TestInteropMCPClientAuth: the MCP TypeScript SDK's auth() finds tokenlab
// from the API's 401 (RFC 9728), registers (RFC 7591), logs in with PKCE
// and the resource (RFC 8707), refreshes, and after the logout asks for a
// new authorization.
func TestInteropMCPClientAuth(t *testing.T) {
	t.Parallel()
	node, dir := nodeProject(t, "mcp-client", "@modelcontextprotocol/sdk")
	p := startOIDCServe(t)
	issuer := p.banner.URL
	if !p.banner.Registration {
		t.Fatalf("banner %+v: registration is on by default", p.banner)
	}
	var got struct {
		AnonymousStatus          int
		ResourceMetadataURL      string
		First, Second, Third     string
		Fourth                   string
		RegisteredClientID       string
		AuthorizeResource        string
		AuthorizeChallengeMethod string
		StateMatched             bool
		Iss                      string
		APIStatus                int
		UserinfoSub              string
		AccessAud                []string
		Rotated                  bool
		RefreshedAPIStatus       int
		LogoutStatus             int
		NewAuthorizationAsked    bool
	}
	runNode(t, node, dir, "auth.js", map[string]string{"SERVER_URL": issuer + "/protected",
		"LOGIN_USER": "alice", "LOGIN_PASSWORD": "password123"}, &got)
	if got.AnonymousStatus != 401 || got.ResourceMetadataURL != issuer+"/.well-known/oauth-protected-resource" {
		t.Fatalf("the API's 401: %+v", got)
	}
	if got.First != "REDIRECT" || !strings.HasPrefix(got.RegisteredClientID, "dyn-") || got.AuthorizeResource != issuer ||
		got.AuthorizeChallengeMethod != "S256" || !got.StateMatched || got.Iss != issuer {
		t.Fatalf("discovery, registration and authorization: %+v", got)
	}
	if got.Second != "AUTHORIZED" || got.APIStatus != 200 || got.UserinfoSub == "" || !slices.Contains(got.AccessAud, issuer) {
		t.Fatalf("tokens: %+v", got)
	}
	if got.Third != "AUTHORIZED" || !got.Rotated || got.RefreshedAPIStatus != 200 {
		t.Fatalf("refresh: %+v", got)
	}
	if got.LogoutStatus != 200 || got.Fourth != "REDIRECT" || !got.NewAuthorizationAsked {
		t.Fatalf("logout: %+v", got)
	}
	list := p.client(t).admin("GET", "/admin/clients", nil).want(t, http.StatusOK)
	if !strings.Contains(string(list.body), got.RegisteredClientID) {
		t.Fatalf("/admin/clients lacks the registered client: %s", list.body)
	}
}
