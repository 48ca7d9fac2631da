package main

// Interop tests of the real tokenlab binary against an OAuth server that
// tokenlab did not write: panva's oidc-provider from npm
// (testdata/oidc-provider), started on loopback by the test. The test
// plays the user's browser with its own HTTP client.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/internal/interoptest"
)

// interopAPI is a resource server on its own origin, as real deployments
// have (the IdP on one port, the API on another): it verifies the JWT
// access token with oidc-provider's JWKS (RFC 9068), and it can be told to
// refuse a token, as an API does once a token has expired.
type interopAPI struct {
	*httptest.Server
	mu       sync.Mutex
	refused  map[string]bool
	statuses []int
}

func startInteropAPI(t *testing.T, p *interoptest.OIDCProvider) *interopAPI {
	api := &interopAPI{refused: map[string]bool{}}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		api.mu.Lock()
		refused := api.refused[token]
		api.mu.Unlock()
		status := http.StatusOK
		claims, err := p.VerifyAccessToken(r.Context(), token)
		if !ok || refused || err != nil {
			status = http.StatusUnauthorized
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="the access token is not active"`)
		}
		api.mu.Lock()
		api.statuses = append(api.statuses, status)
		api.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusOK {
			fmt.Fprintf(w, `{"message":"hello","sub":%q}`, claims["sub"])
			return
		}
		fmt.Fprint(w, `{"error":"invalid_token"}`)
	}))
	t.Cleanup(api.Close)
	return api
}

func (a *interopAPI) refuse(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused[token] = true
}

func (a *interopAPI) seen() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.statuses...)
}

// startLogin starts `tokenlab args...` and returns once its stderr has
// printed a line matching want; the submatches of want are returned, and
// wait reports how the process ended.
func (c *cli) startLogin(ctx context.Context, want *regexp.Regexp, args ...string) (match []string, wait func() cliResult) {
	c.tb.Helper()
	cmd := c.command(ctx, "", args...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		c.tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.tb.Fatal(err)
	}
	var stderr strings.Builder
	found := make(chan []string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sent := false
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := want.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m
				sent = true
			}
		}
		io.Copy(io.Discard, stderrPipe)
	}()
	wait = func() cliResult {
		<-copied
		err := cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			c.tb.Fatalf("tokenlab %v: %v", args, err)
		}
		return cliResult{args: args, code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	}
	select {
	case match = <-found:
		return match, wait
	case <-copied:
		r := wait()
		c.tb.Fatalf("tokenlab %v exited %d without printing %s\nstdout:\n%s\nstderr:\n%s", args, r.code, want, r.stdout, r.stderr)
	case <-ctx.Done():
		c.tb.Fatalf("tokenlab %v printed no line matching %s: %v", args, want, ctx.Err())
	}
	return nil, nil
}

// fileSession reads the only session file of this cli's file store.
func (c *cli) fileSession() (client.Session, string) {
	c.tb.Helper()
	files, err := filepath.Glob(filepath.Join(c.config, "tokenlab", "sessions", "*.json"))
	if err != nil || len(files) != 1 {
		c.tb.Fatalf("session files: %v (%v); want one", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		c.tb.Fatal(err)
	}
	var s client.Session
	if err := json.Unmarshal(data, &s); err != nil {
		c.tb.Fatal(err)
	}
	return s, files[0]
}

var oidcAuthorizeLine = regexp.MustCompile(`^\s*(http://127\.0\.0\.1:\d+/auth\?\S+)\s*$`)

// TestInteropCLIPKCEWithOIDCProvider is the walk against an
// independent server: `tokenlab login --flow pkce --no-browser` prints the
// authorize URL, the test signs in on oidc-provider's pages, the command
// exits 0; `token` prints the JWT for the API; a request the API refuses
// makes tokenlab refresh (oidc-provider rotates the refresh token) and
// retry; `logout` revokes the refresh token on the server.
func TestInteropCLIPKCEWithOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	api := startInteropAPI(t, p)
	c := newCLI(t).withoutDBus()

	match, wait := c.startLogin(ctx, oidcAuthorizeLine, "login", "--server", p.Issuer, "--profile", "oauth2",
		"--client-id", interoptest.PublicClientID, "--flow", "pkce", "--no-browser",
		"--scope", "openid offline_access "+interoptest.APIScope, "--resource", interoptest.APIResource,
		"--api", api.URL, "--token-store", "file", "--login-timeout", "1m")
	page, err := p.SignIn(ctx, interoptest.NewFormBrowser(t), match[1], interoptest.Username, interoptest.Password, true)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if !strings.Contains(page.Body, "tokenlab has the code") {
		t.Errorf("the browser ended on %s: %.300s", page.URL, page.Body)
	}
	if r := wait(); r.code != 0 || !strings.Contains(r.stdout, "Logged in as alice") {
		t.Fatalf("login: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	first, file := c.fileSession()

	tok := strings.TrimSpace(c.ok("", "token").stdout)
	if tok != first.AccessToken {
		t.Error("token printed another access token than the one stored at login")
	}
	wantAPIToken(t, tok, p.Issuer)

	// The API refuses the access token: tokenlab refreshes and retries.
	api.refuse(tok)
	r := c.ok("", "request", api.URL+"/whoami")
	if !strings.Contains(r.stdout, `"sub":"alice"`) {
		t.Errorf("request printed:\n%s", r.stdout)
	}
	if got := fmt.Sprint(api.seen()); got != "[401 200]" {
		t.Errorf("the API answered %s, want [401 200] (refused, then the refreshed token)", got)
	}
	second, _ := c.fileSession()
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("the stored session did not change after the refresh")
	}
	if p.Introspect(t, ctx, first.RefreshToken) {
		t.Error("oidc-provider still accepts the first refresh token: no rotation")
	}
	if !p.Introspect(t, ctx, second.RefreshToken) {
		t.Fatal("oidc-provider does not know the stored refresh token")
	}

	c.ok("", "logout")
	if p.Introspect(t, ctx, second.RefreshToken) {
		t.Error("after logout oidc-provider still accepts the refresh token: it was not revoked")
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after logout the session file %s: %v, want it removed", file, err)
	}
}

var oidcDeviceLine = regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/\S+) and enter the code ([A-Z]{4}-[A-Z]{4})`)

// TestInteropCLIDeviceWithOIDCProvider: `tokenlab login --flow device`
// prints the verification URI and the user code; the test types the code
// on oidc-provider's page and signs in; the command exits 0 and `token`
// works. It waits one polling interval (5 s, RFC 8628's default, which
// oidc-provider uses).
func TestInteropCLIDeviceWithOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	c := newCLI(t).withoutDBus()

	match, wait := c.startLogin(ctx, oidcDeviceLine, "login", "--server", p.Issuer, "--profile", "oauth2",
		"--client-id", interoptest.PublicClientID, "--flow", "device", "--no-browser",
		"--scope", "openid offline_access "+interoptest.APIScope, "--resource", interoptest.APIResource,
		"--token-store", "file")
	page, err := p.ApproveDeviceCode(ctx, interoptest.NewFormBrowser(t), match[1], match[2], interoptest.Username, interoptest.Password, true)
	if err != nil || !strings.Contains(page.Body, "Sign-in Success") {
		t.Fatalf("approve: %v (%s: %.300s)", err, page.URL, page.Body)
	}
	if r := wait(); r.code != 0 {
		t.Fatalf("login: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	wantAPIToken(t, strings.TrimSpace(c.ok("", "token").stdout), p.Issuer)
	s, _ := c.fileSession()
	c.ok("", "logout")
	if p.Introspect(t, ctx, s.RefreshToken) {
		t.Error("after logout oidc-provider still accepts the refresh token")
	}
}

// TestInteropCLIClientCredentialsWithOIDCProvider: a confidential client
// whose secret comes from a file (never the command line).
func TestInteropCLIClientCredentialsWithOIDCProvider(t *testing.T) {
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	c := newCLI(t).withoutDBus()
	c.ok("", "login", "--server", p.Issuer, "--profile", "oauth2", "--client-id", interoptest.MachineClientID,
		"--client-secret-file", p.MachineSecretFile, "--flow", "client-credentials",
		"--scope", interoptest.APIScope, "--resource", interoptest.APIResource, "--token-store", "file")
	tok := strings.TrimSpace(c.ok("", "token").stdout)
	wantAPIToken(t, tok, p.Issuer)
	if d, _ := client.Decode(tok); d.Claims["sub"] != interoptest.MachineClientID {
		t.Errorf("sub %v, want the client id %s", d.Claims["sub"], interoptest.MachineClientID)
	}

	wrong := filepath.Join(t.TempDir(), "wrong-secret")
	if err := os.WriteFile(wrong, []byte("not-the-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newCLI(t).withoutDBus().run("", "login", "--server", p.Issuer, "--profile", "oauth2", "--client-id", interoptest.MachineClientID,
		"--client-secret-file", wrong, "--flow", "client-credentials", "--resource", interoptest.APIResource, "--token-store", "memory")
	wantOneLineError(t, r)
	if !strings.Contains(r.stderr, "invalid_client") {
		t.Errorf("a wrong secret: %q, want the server's invalid_client in the sentence", r.stderr)
	}
}

// TestInteropCLIWithoutPasswordGrant: oidc-provider offers no password
// grant; tokenlab says so in one sentence naming what it offers.
func TestInteropCLIWithoutPasswordGrant(t *testing.T) {
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	r := newCLI(t).withoutDBus().run("password123\n", "login", "--server", p.Issuer, "--profile", "oauth2",
		"--client-id", interoptest.PublicClientID, "--flow", "password", "--username", "alice", "--password-stdin", "--token-store", "file")
	wantOneLineError(t, r)
	if !strings.Contains(r.stderr, "password") || !strings.Contains(r.stderr, "authorization_code") {
		t.Errorf("stderr %q: want a sentence that the server offers no password grant, naming what it offers", r.stderr)
	}
}

// TestInteropCLIBrowserPKCEWithTokenlabServe: the real-browser
// walk through the binary: `tokenlab login --flow pkce --no-browser`
// against `tokenlab serve`, headless Chromium opens the printed URL and
// fills the login page, the CLI's loopback listener gets the code.
func TestInteropCLIBrowserPKCEWithTokenlabServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	srv := startServe(t)
	browser := interoptest.StartBrowser(t) // after serve: closed first
	c := newCLI(t).withoutDBus()

	authorizeLine := regexp.MustCompile(`^\s*(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)\s*$`)
	match, wait := c.startLogin(ctx, authorizeLine, "login", "--server", srv.banner.URL, "--profile", "oauth2",
		"--client-id", "tokenlab", "--flow", "pkce", "--no-browser", "--token-store", "file", "--login-timeout", "1m")
	_, text, err := browser.Walk(ctx, match[1], []interoptest.Step{{
		Fill:  map[string]string{"#username": "alice", "#password": alicePassword},
		Click: `button[value="approve"]`,
	}}, func(loc string) bool {
		return strings.HasPrefix(loc, "http://127.0.0.1:") && strings.Contains(loc, "/callback?")
	})
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(text, "tokenlab has the code") {
		t.Errorf("the loopback page says %q", text)
	}
	if r := wait(); r.code != 0 {
		t.Fatalf("login: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	tok := strings.TrimSpace(c.ok("", "token").stdout)
	srv.client(t).get("/protected", tok).want(t, http.StatusOK)
	c.ok("", "logout")
}

// TestInteropCLIBrowserPKCEWithOIDCProvider: the same walk with both the
// browser and the server not ours: Chromium signs in on oidc-provider's
// pages and allows the request; the binary gets the JWT for the API.
func TestInteropCLIBrowserPKCEWithOIDCProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), interopTimeout)
	defer cancel()
	p := interoptest.StartOIDCProvider(t, interoptest.OIDCProviderOptions{})
	browser := interoptest.StartBrowser(t)
	c := newCLI(t).withoutDBus()

	match, wait := c.startLogin(ctx, oidcAuthorizeLine, "login", "--server", p.Issuer, "--profile", "oauth2",
		"--client-id", interoptest.PublicClientID, "--flow", "pkce", "--no-browser",
		"--scope", "openid "+interoptest.APIScope, "--resource", interoptest.APIResource,
		"--token-store", "file", "--login-timeout", "1m")
	_, text, err := browser.Walk(ctx, match[1], []interoptest.Step{
		{Fill: map[string]string{`input[name="login"]`: interoptest.Username, `input[name="password"]`: interoptest.Password}, Click: "#sign-in"},
		{Click: "#allow"},
	}, func(loc string) bool { return strings.Contains(loc, "/callback?") })
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(text, "tokenlab has the code") {
		t.Errorf("the loopback page says %q", text)
	}
	if r := wait(); r.code != 0 {
		t.Fatalf("login: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	wantAPIToken(t, strings.TrimSpace(c.ok("", "token").stdout), p.Issuer)
}
