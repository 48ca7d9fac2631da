package main

// The login flows through the real binary: `tokenlab serve --client-file`
// on 127.0.0.1, spoken to over HTTP as a machine client and a person at a
// browser would.

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServeE2ELoginFlows(t *testing.T) {
	t.Parallel()
	const secret = "web-secret-from-a-file"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web.secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(file, []byte("- id: web\n  secret_file: web.secret\n  scopes: [read, write]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "--client-file", file, "--code-ttl", "2m")
	if !slices.Equal(p.banner.Clients, []string{"tokenlab", "web"}) || p.banner.CodeTTL != "2m" {
		t.Fatalf("banner %+v", p.banner)
	}
	c := p.client(t)

	basic := func(id, secret string, form url.Values) answer {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.base+"/oauth/token", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{method: "POST", path: "/oauth/token", status: resp.StatusCode, header: resp.Header, body: b}
	}
	var cc struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	basic("web", secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}).want(t, http.StatusOK).decode(t, &cc)
	if cc.AccessToken == "" || cc.RefreshToken != "" || cc.Scope != "read" {
		t.Fatalf("client credentials (basic) = %+v", cc)
	}
	c.get("/protected", cc.AccessToken).want(t, http.StatusOK)
	c.postForm("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"web"}, "client_secret": {secret}}).want(t, http.StatusOK)
	wrong := basic("web", "not-the-secret", url.Values{"grant_type": {"client_credentials"}}).want(t, http.StatusUnauthorized)
	if code, _ := wrong.errorBody(t); code != "invalid_client" || wrong.header.Get("WWW-Authenticate") != `Basic realm="tokenlab"` {
		t.Fatalf("wrong secret: %s %v", wrong.body, wrong.header)
	}

	// Device flow, with the person's part played over HTTP.
	var dev struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
		URI        string `json:"verification_uri"`
	}
	c.postForm("/oauth/device_authorization", url.Values{"client_id": {"tokenlab"}, "scope": {"read"}}).want(t, http.StatusOK).decode(t, &dev)
	if dev.URI != p.banner.URL+"/device" || !regexp.MustCompile(`^[B-Z]{4}-[B-Z]{4}$`).MatchString(dev.UserCode) {
		t.Fatalf("device authorization %+v", dev)
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dev.DeviceCode}, "client_id": {"tokenlab"}}
	if code, _ := c.postForm("/oauth/token", poll).want(t, http.StatusBadRequest).errorBody(t); code != "authorization_pending" {
		t.Fatalf("first poll: %s", code)
	}
	page := c.get("/device?user_code="+dev.UserCode, "").want(t, http.StatusOK)
	if !strings.Contains(string(page.body), `name="user_code" value="`+dev.UserCode+`"`) {
		t.Fatalf("device page:\n%s", page.body)
	}
	done := c.postForm("/device", url.Values{"user_code": {strings.ToLower(dev.UserCode)}, "username": {"alice"}, "password": {"password123"}, "action": {"approve"}})
	if done.want(t, http.StatusOK); !strings.Contains(string(done.body), `data-result="approved"`) {
		t.Fatalf("approval page:\n%s", done.body)
	}
	c.admin(http.MethodPost, "/admin/clock", map[string]string{"advance": "10s"}).want(t, http.StatusOK)
	var tok oauthTokens
	c.postForm("/oauth/token", poll).want(t, http.StatusOK).decode(t, &tok)
	c.get("/protected", tok.AccessToken).want(t, http.StatusOK)

	if strings.Contains(p.stderr.String(), secret) || strings.Contains(p.stderr.String(), dev.DeviceCode) {
		t.Error("the server's log holds the client secret or the device code")
	}
}

// TestServeE2EClientFlagWarns: --client works, and the banner warns that
// the secret is on the command line.
func TestServeE2EClientFlagWarns(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--client", "app:app-secret-123")
	const warning = "warning: --client puts a client secret on the command line"
	// stderr is copied from its pipe apart from stdout: wait for the line.
	for deadline := time.Now().Add(startTimeout); !strings.Contains(p.stderr.String(), warning) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !slices.Contains(p.banner.Clients, "app") || !strings.Contains(p.stderr.String(), warning) {
		t.Fatalf("banner %+v, stderr %s", p.banner, p.stderr.String())
	}
	c := p.client(t)
	c.postForm("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {"app-secret-123"}}).want(t, http.StatusOK)
	code, _, stderr := runServe(t, serveSpec{}, "--client", "app")
	if code != exitUsage || !strings.Contains(stderr, "ID:SECRET") {
		t.Fatalf("--client without a secret: exit %d, %s", code, stderr)
	}
}
