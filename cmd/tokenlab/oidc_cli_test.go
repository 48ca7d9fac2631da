package main

// The client's OpenID Connect and RFC 9728 walks through the built binary
// against panva's oidc-provider (an independent OpenID Provider that
// issues ID tokens), with the test playing the user's browser.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/interoptest"
)

// TestOIDCLoginVerifiesAndShowsIDToken (points 8 and 11): a PKCE login
// without --scope, --resource or --username. oidc-provider offers openid,
// so tokenlab asks for it with a nonce; the access token is opaque (no
// resource), and the session is named from the verified ID token. status
// and decode --id-token show the ID token, and the session fits a
// keyring entry.
func TestOIDCLoginVerifiesAndShowsIDToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	c := newCLI(t).withoutDBus()

	match, wait := c.startLogin(ctx, oidcAuthorizeLine, "login", "--server", p.Issuer, "--profile", "oauth2",
		"--client-id", interoptest.PublicClientID, "--flow", "pkce", "--no-browser", "--token-store", "file", "--login-timeout", "1m")
	q := authorizeQuery(t, match[1])
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") || q.Get("nonce") == "" {
		t.Errorf("the authorization request has scope %q and nonce %q; want openid and a nonce", q.Get("scope"), q.Get("nonce"))
	}
	if _, err := p.SignIn(ctx, interoptest.NewFormBrowser(t), match[1], interoptest.Username, interoptest.Password, true); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	r := wait()
	if r.code != 0 || !strings.Contains(r.stdout, "Logged in as alice") {
		t.Fatalf("login: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "ID token") || !strings.Contains(r.stdout, "sub alice from "+p.Issuer+", verified at login") {
		t.Errorf("login does not show the ID token:\n%s", r.stdout)
	}
	s, file := c.fileSession()
	if _, err := client.Decode(s.AccessToken); err == nil {
		t.Fatal("the access token is a JWT; this walk needs an opaque one")
	}
	data, _ := os.ReadFile(file)
	var kept struct {
		IDToken string `json:"idt"`
	}
	json.Unmarshal(data, &kept)
	id, err := client.Decode(kept.IDToken)
	if err != nil {
		t.Fatalf("the session keeps no ID token: %v", err)
	}
	if id.Claims["nonce"] != q.Get("nonce") || id.Claims["aud"] != interoptest.PublicClientID {
		t.Errorf("ID token claims %v; want the nonce sent and aud %s", id.Claims, interoptest.PublicClientID)
	}
	if len(data) > client.MaxSessionBytes {
		t.Errorf("the session is %d bytes, more than a keyring entry's %d", len(data), client.MaxSessionBytes)
	}
	t.Logf("session %d bytes, ID token %d, access token %d", len(data), len(kept.IDToken), len(s.AccessToken))

	st := c.ok("", "status")
	t.Logf("login:\n%s%s\nstatus:\n%s", r.stderr, r.stdout, st.stdout)
	if !strings.Contains(st.stdout, "sub alice from "+p.Issuer+", verified at login") {
		t.Errorf("status does not show the ID token:\n%s", st.stdout)
	}
	var js struct {
		IDToken map[string]any `json:"idToken"`
	}
	if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &js); err != nil || js.IDToken["sub"] != "alice" {
		t.Errorf("status --json idToken %v (%v)", js.IDToken, err)
	}
	dec := c.ok("", "decode", "--id-token", "--jwks", p.Discovery.JWKSURI)
	if !strings.Contains(dec.stdout, `"nonce"`) || !strings.Contains(dec.stdout, "valid") {
		t.Errorf("decode --id-token:\n%s", dec.stdout)
	}
}

func authorizeQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/auth" { // a one-time loopback start URL: read where it sends the browser
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(raw)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if u, err = url.Parse(resp.Header.Get("Location")); err != nil {
			t.Fatal(err)
		}
	}
	return u.Query()
}

// resourceAPI is a protected API on its own origin that publishes RFC
// 9728 metadata naming oidc-provider: it accepts oidc-provider's JWT
// access tokens whose aud is its own URL, and answers anything else 401
// with WWW-Authenticate: Bearer resource_metadata="…".
type resourceAPI struct {
	*httptest.Server
	issuer, jwks string
	metaHits     atomic.Int32
}

// newResourceAPI reserves the API's address; start it with start once the
// provider's issuer is known (the provider must know the API's URL as a
// resource before it starts).
func newResourceAPI(t *testing.T) *resourceAPI {
	a := &resourceAPI{}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *resourceAPI) url() string { return "http://" + a.Listener.Addr().String() }

func (a *resourceAPI) start(p *interoptest.OIDCProvider) {
	a.issuer, a.jwks = p.Issuer, p.Discovery.JWKSURI
	a.Start()
}

func (a *resourceAPI) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/.well-known/oauth-protected-resource" {
		a.metaHits.Add(1)
		fmt.Fprintf(w, `{"resource":%q,"authorization_servers":[%q],"scopes_supported":[%q],"bearer_methods_supported":["header"]}`,
			a.url(), a.issuer, interoptest.APIScope)
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if sub, ok := a.verify(r.Context(), token); ok {
		fmt.Fprintf(w, `{"message":"hello","sub":%q}`, sub)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+a.url()+`/.well-known/oauth-protected-resource"`)
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, `{"error":"invalid_token"}`)
}

// verify checks the token's signature with the provider's JWKS, its iss
// and its aud (this API).
func (a *resourceAPI) verify(ctx context.Context, token string) (string, bool) {
	if token == "" {
		return "", false
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.jwks, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	keys, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if client.VerifyJWKS(token, keys) != nil {
		return "", false
	}
	d, _ := client.Decode(token)
	if d.Claims["iss"] != a.issuer || d.Claims["aud"] != a.url() {
		return "", false
	}
	sub, _ := d.Claims["sub"].(string)
	return sub, true
}

// TestLoginAtProtectedResource (point 9): `login --server API` where API
// is a resource server, not an authorization server: tokenlab reads the
// API's Protected Resource Metadata from its 401 challenge, logs in at
// the authorization server it names with resource = the API, and says in
// one line what it discovered; `request API/...` then works with the
// token. `request` to another API that refuses the session's token says
// in one line what that API's metadata names.
func TestLoginAtProtectedResource(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	api, other := newResourceAPI(t), newResourceAPI(t)
	t.Setenv("OIDC_RESOURCES", api.url()+" "+other.url()) // read by testdata/oidc-provider/server.js
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	api.start(p)
	other.start(p)
	c := newCLI(t).withoutDBus()

	// Not logged in yet: request says where to log in for the API.
	before := c.run("", "request", api.url()+"/hello")
	if before.code != 3 || !strings.Contains(before.stderr, "not logged in; discovered: "+api.url()+" is the protected resource "+api.url()+"; its authorization server is "+p.Issuer) ||
		!strings.Contains(before.stderr, "log in for it with tokenlab login --server "+api.url()) {
		t.Errorf("request before login: exit %d\n%s", before.code, before.stderr)
	}

	match, wait := c.startLogin(ctx, oidcAuthorizeLine, "login", "--server", api.url(), "--profile", "oauth2",
		"--client-id", interoptest.PublicClientID, "--flow", "pkce", "--no-browser", "--token-store", "file", "--login-timeout", "1m")
	q := authorizeQuery(t, match[1])
	if q.Get("resource") != api.url() || !strings.Contains(q.Get("scope"), interoptest.APIScope) {
		t.Errorf("the authorization request has resource %q and scope %q; want the API and its scope", q.Get("resource"), q.Get("scope"))
	}
	if _, err := p.SignIn(ctx, interoptest.NewFormBrowser(t), match[1], interoptest.Username, interoptest.Password, true); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	r := wait()
	if r.code != 0 {
		t.Fatalf("login: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	discovered := regexp.MustCompile(`(?m)^Discovered: ` + regexp.QuoteMeta(api.url()) + ` is the protected resource ` + regexp.QuoteMeta(api.url()) +
		`; its authorization server is ` + regexp.QuoteMeta(p.Issuer) + ` \(.*WWW-Authenticate resource_metadata\).*$`)
	if !discovered.MatchString(r.stderr) {
		t.Errorf("login's stderr does not say in one line what it discovered:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "Logged in as alice at "+p.Issuer) {
		t.Errorf("login:\n%s", r.stdout)
	}

	got := c.ok("", "request", api.url()+"/hello")
	if !strings.Contains(got.stdout, `"sub":"alice"`) {
		t.Errorf("request to the API: %s", got.stdout)
	}

	refused := c.run("", "request", "--api", other.url(), other.url()+"/hello")
	t.Logf("login:\n%s%s\nrequest to the other API:\n%s", r.stderr, r.stdout, refused.stderr)
	if refused.code != 1 {
		t.Fatalf("request to the other API: exit %d, want 1 (401)\n%s", refused.code, refused.stderr)
	}
	line := "tokenlab: discovered: " + other.url() + " is the protected resource " + other.url() + "; its authorization server is " + p.Issuer
	if !strings.Contains(refused.stderr, line) || !strings.Contains(refused.stderr, "log in for it with tokenlab login --server "+other.url()) {
		t.Errorf("request's stderr does not say what the 401 pointed at:\n%s", refused.stderr)
	}
}

// TestClientCredentialsLogoutSaysWhatHappened (point 10): a
// client-credentials session has no refresh token: login and status say
// "no refresh token", and logout revokes the access token (oidc-provider
// offers revocation) and says so, instead of "the session is revoked on
// the server".
func TestClientCredentialsLogoutSaysWhatHappened(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	c := newCLI(t).withoutDBus()
	login := c.ok("", "login", "--server", p.Issuer, "--profile", "oauth2", "--client-id", interoptest.MachineClientID,
		"--client-secret-file", p.MachineSecretFile, "--flow", "client-credentials", "--token-store", "file")
	status := c.ok("", "status")
	for name, out := range map[string]string{"login": login.stdout, "status": status.stdout} {
		if !strings.Contains(out, "no refresh token") || strings.Contains(out, "expiry unknown") {
			t.Errorf("%s says of the refresh token:\n%s\nwant \"no refresh token\"", name, out)
		}
	}
	s, _ := c.fileSession()
	if !machineIntrospect(t, ctx, p, s.AccessToken) {
		t.Fatal("oidc-provider does not know the access token before logout")
	}
	out := c.ok("", "logout").stdout
	t.Logf("login:\n%s\nstatus:\n%s\nlogout:\n%s", login.stdout, status.stdout, out)
	if strings.Contains(out, "the session is revoked on the server") || !strings.Contains(out, "the access token is revoked on the server") {
		t.Errorf("logout says:\n%s\nwant that the access token was revoked, not the session", out)
	}
	if machineIntrospect(t, ctx, p, s.AccessToken) {
		t.Error("after logout oidc-provider still calls the access token active")
	}
}

// machineIntrospect asks oidc-provider, as the confidential client, whether
// its token is active (oidc-provider tells a client only about its own).
func machineIntrospect(t *testing.T, ctx context.Context, p *interoptest.OIDCProvider, token string) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.Discovery.IntrospectionEndpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(interoptest.MachineClientID, p.MachineSecret())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&got) != nil {
		t.Fatalf("introspection: %s", resp.Status)
	}
	return got.Active
}
