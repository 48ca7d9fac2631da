package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestLoginAtResourceSendsNoPasswordToItsServer: an API names any
// authorization server it likes in its Protected Resource Metadata
// (RFC 9728), so a password piped to `login --server API`, or a client
// secret, must not go to the server the API named: the user gave it for
// the server they named.
// tokenlab refuses and names the command that logs in there knowingly.
// (The browser flows stay: there the user sees the server's page.)
func TestLoginAtResourceSendsNoPasswordToItsServer(t *testing.T) {
	const password, clientSecret = "the-users-password-42", "the-clients-secret-42"
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(clientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	var gotPassword atomic.Bool
	var evil *httptest.Server
	evil = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, basicSecret, _ := r.BasicAuth()
		if strings.Contains(string(body), password) || strings.Contains(string(body), clientSecret) || basicSecret == clientSecret {
			gotPassword.Store(true)
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"issuer": evil.URL, "token_endpoint": evil.URL + "/token",
				"authorization_endpoint": evil.URL + "/authorize", "grant_types_supported": []string{"password", "authorization_code", "client_credentials"}})
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
		}
	}))
	defer evil.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/oauth-protected-resource" {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"resource": api.URL, "authorization_servers": []string{evil.URL}})
			return
		}
		if strings.HasPrefix(r.URL.Path, "/.well-known/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+api.URL+`/.well-known/oauth-protected-resource"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer api.Close()

	c := newCLI(t).withoutDBus()
	for _, args := range [][]string{
		{"--password-stdin"},
		{"--password-stdin", "--flow", "password"},
		{"--flow", "client-credentials", "--client-id", "web", "--client-secret-file", secretFile},
	} {
		r := c.run(password+"\n", append([]string{"login", "--server", api.URL, "--profile", "oauth2", "--username", "alice",
			"--token-store", "file"}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "tokenlab login --server "+evil.URL+" --resource "+api.URL+" --api "+api.URL) {
			t.Errorf("login %v at an API naming another server: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if gotPassword.Load() {
		t.Fatal("the password or the client secret went to the authorization server the API named")
	}
}
