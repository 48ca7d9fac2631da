package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// startServeArgs starts `tokenlab serve` with exactly args (no test
// defaults), in dir, and returns once the JSON banner is out.
func startServeArgs(tb testing.TB, dir string, args ...string) *proc {
	tb.Helper()
	spec := serveSpec{dir: dir}
	cmd := spec.command(tb, context.Background(), nil)
	cmd.Args = append([]string{cmd.Args[0], "serve"}, args...)
	return launchServe(tb, cmd)
}

func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// A secret shorter than 32 bytes is refused with a sentence saying how to
// make a good one, from a flag or the environment; --allow-weak-secrets
// lets it through with a warning in the banner.
func TestServeE2EWeakSecretRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		spec serveSpec
		args []string
	}{
		{"flag", serveSpec{}, []string{"--access-secret", "k"}},
		{"environment", serveSpec{env: map[string]string{"REFRESH_TOKEN_SECRET": "secret"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runServe(t, tc.spec, tc.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit %d with stdout %q, want %d and nothing", code, stdout, exitUsage)
			}
			if lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one sentence:\n%s", len(lines), stderr)
			}
			for _, want := range []string{"32", "openssl rand -base64 32", "--allow-weak-secrets"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not say %q", stderr, want)
				}
			}
		})
	}
	t.Run("allowed for teaching", func(t *testing.T) {
		t.Parallel()
		p := startServe(t, "--access-secret", "k", "--allow-weak-secrets")
		if !strings.Contains(strings.Join(p.banner.Warnings, "\n"), "weak HS256 secrets allowed") {
			t.Errorf("banner warnings %q do not warn of the weak secret", p.banner.Warnings)
		}
		var login seedTokens
		p.client(t).postJSON("/login", credentials{"alice", "password123"}).want(t, http.StatusOK).decode(t, &login)
		if _, err := jwt.Parse(login.AccessToken, func(*jwt.Token) (any, error) { return []byte("k"), nil }); err != nil {
			t.Errorf("the access token is not signed with the weak secret: %v", err)
		}
	})
}

// The banner says where each setting came from, and warns when ./.env sets
// a secret or the listen address.
func TestServeE2EBannerNamesSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, ".env", "ACCESS_TOKEN_EXPIRY=2m\nACCESS_TOKEN_SECRET="+strings.Repeat("d", 40)+"\n")
	p := startServeWith(t, serveSpec{dir: dir, env: map[string]string{"REFRESH_TOKEN_EXPIRY": "1d"}}, "--session-max", "2d")
	want := map[string]string{"access-ttl": ".env", "access-secret": ".env", "refresh-ttl": "environment",
		"session-max": "flag", "admin-token": "flag"}
	for name, src := range want {
		if got := p.banner.Sources[name]; got != src {
			t.Errorf("banner sources[%q] = %q, want %q (all: %v)", name, got, src, p.banner.Sources)
		}
	}
	if _, ok := p.banner.Sources["rotation"]; ok {
		t.Errorf("a setting left at its default has a source: %v", p.banner.Sources)
	}
	warnings := strings.Join(p.banner.Warnings, "\n")
	if !strings.Contains(warnings, ".env sets access-secret") {
		t.Errorf("banner warnings %q do not name the secret from .env", p.banner.Warnings)
	}
	if strings.Contains(warnings, "access-ttl") {
		t.Errorf("a harmless .env setting is warned about: %q", warnings)
	}
}

// Secrets and users can come from files, so they stay out of ps; giving a
// secret both ways is refused.
func TestServeE2ESecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	accessSecret := strings.Repeat("a", 16) + strings.Repeat("b", 16) + "\n"
	admin := "tla_from_a_file_0123456789abcdef"
	args := []string{"--addr", "127.0.0.1:0", "--json", "--clock", "frozen", "--db", filepath.Join(dir, "tokenlab.db"),
		"--access-secret-file", writeFile(t, dir, "access", accessSecret),
		"--refresh-secret-file", writeFile(t, dir, "refresh", strings.Repeat("r", 32)),
		"--admin-token-file", writeFile(t, dir, "admin", admin+"\n"),
		"--user-file", writeFile(t, dir, "users", "# team\nbob:hunter2hunter2\n\ncarol:Velvet-Otter-88\n"),
	}
	p := startServeArgs(t, dir, args...)
	for _, name := range []string{"access-secret", "refresh-secret", "admin-token", "user"} {
		if got := p.banner.Sources[name]; got != "file" {
			t.Errorf("banner sources[%q] = %q, want file", name, got)
		}
	}
	if strings.Join(p.banner.Users, ",") != "bob,carol" {
		t.Errorf("banner users = %v, want bob and carol from the file (the demo user replaced)", p.banner.Users)
	}
	if p.banner.AdminToken != "" {
		t.Errorf("the banner shows an admin token given in a file")
	}
	c := p.client(t)
	var login seedTokens
	c.postJSON("/login", credentials{"bob", "hunter2hunter2"}).want(t, http.StatusOK).decode(t, &login)
	if _, err := jwt.Parse(login.AccessToken, func(*jwt.Token) (any, error) {
		return []byte(strings.TrimRight(accessSecret, "\n")), nil
	}); err != nil {
		t.Errorf("the access token is not signed with the file's secret (less its newline): %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, p.banner.URL+"/admin/clock", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/admin/clock with the admin token from the file: %d", resp.StatusCode)
	}

	code, _, stderr := runServe(t, serveSpec{}, "--access-secret", strings.Repeat("x", 32),
		"--access-secret-file", filepath.Join(dir, "access"))
	if code != exitUsage || !strings.Contains(stderr, "not both") {
		t.Errorf("a secret given as flag and file: exit %d, %q; want %d and a sentence", code, stderr, exitUsage)
	}
	code, _, stderr = runServe(t, serveSpec{}, "--user-file", writeFile(t, dir, "bad-users", "justaname\n"))
	if code != exitUsage || !strings.Contains(stderr, "bad-users:1") || strings.Contains(stderr, "justaname") {
		t.Errorf("a malformed user file: exit %d, %q; want %d naming the line, not its text", code, stderr, exitUsage)
	}
}

// A failed login with an unknown name does not store what was typed
// there: people type passwords into the user field.
func TestServeE2EFailedLoginHidesTypedName(t *testing.T) {
	t.Parallel()
	const typed = "Correct-Horse-Battery-9"
	p := startServe(t)
	c := p.client(t)
	c.postJSON("/login", credentials{typed, "whatever123"}).want(t, http.StatusUnauthorized)
	c.postJSON("/login", credentials{"alice", "wrong-password"}).want(t, http.StatusUnauthorized)
	var failed []serverEvent
	for _, e := range c.events() {
		if e.Kind == "login_failed" {
			failed = append(failed, e)
		}
	}
	if len(failed) != 2 || failed[0].Reason != "unknown user" || failed[0].Username != "" ||
		failed[1].Reason != "wrong password" || failed[1].Username != "alice" {
		t.Errorf("login_failed events = %+v, want one unknown user with no name and one wrong password for alice", failed)
	}
	raw := c.admin(http.MethodGet, "/admin/events", nil).want(t, http.StatusOK)
	if strings.Contains(string(raw.body), typed) {
		t.Errorf("/admin/events holds the typed name: %s", raw.body)
	}
	p.stop(t, syscall.SIGTERM)
	if strings.Contains(p.stderr.String(), typed) {
		t.Errorf("the access log holds the typed name:\n%s", p.stderr.String())
	}
	for _, path := range []string{p.banner.DB, p.banner.DB + "-wal"} {
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), typed) {
			t.Errorf("%s holds the typed name", path)
		}
	}
}
