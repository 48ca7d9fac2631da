package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
)

// resolveFile runs serve's option handling on args (no server starts)
// and returns the resolved configuration and the output.
func resolveFile(tb testing.TB, env map[string]string, args ...string) (serveConfig, string, error) {
	tb.Helper()
	var out strings.Builder
	std := streams{out: &out, err: &out, env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	var got serveConfig
	cmd := newServeCmdRun(std, func(_ context.Context, _ streams, opts serveOptions) error {
		var err error
		got, err = opts.resolve()
		return err
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return got, out.String(), err
}

// TestServeExampleConfig loads the commented example of docs/ as it is.
func TestServeExampleConfig(t *testing.T) {
	example := filepath.Join(repoRoot(t), "docs", "tokenlab.example.yaml")
	t.Chdir(t.TempDir()) // no .env of the checkout
	cfg, _, err := resolveFile(t, nil, "--config", example)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alg != "RS256" || cfg.AccessTTL != 15*time.Minute || !cfg.Registration || cfg.RegistrationMax != 100 ||
		!slices.Equal(cfg.Resources, []string{"https://api.example/", "urn:tokenlab:api"}) ||
		!slices.Equal(cfg.AccessTokenClaims, []string{"groups", "roles"}) {
		t.Fatalf("config %+v", cfg.Config)
	}
	if len(cfg.Users) != 2 || cfg.Users[0].Claims["email"] != "alice@example.com" || cfg.Users[0].Password != "password123" {
		t.Fatalf("users %+v", cfg.Users)
	}
	if len(cfg.Clients) != 2 || cfg.Clients[0].AccessTTL != mockserver.Duration(5*time.Minute) || cfg.Clients[1].Secret != "" {
		t.Fatalf("clients %+v", cfg.Clients)
	}
}

func repoRoot(tb testing.TB) string {
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

func writeConfig(tb testing.TB, body string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "tokenlab.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestServeConfigRefusals: an unknown key or a wrong type names the file,
// the line and the key, and never a Go type.
func TestServeConfigRefusals(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", "alg: RS256\nacces_ttl: 5m\n", `tokenlab.yaml:2: unknown key "acces_ttl"; known keys there: `},
		{"unknown in section", "policy:\n  rotation: true\n  acess_ttl: 5m\n", `tokenlab.yaml:3: unknown key "acess_ttl" in policy; known keys there: access_denylist, access_ttl,`},
		{"bool", "policy:\n  rotation: sometimes\n", `tokenlab.yaml:2: policy.rotation must be true or false, not "sometimes"`},
		{"duration", "code_ttl: soon\n", `tokenlab.yaml:1: code_ttl must be a duration such as 90s, 15m or 7d, not "soon"`},
		{"int", "registration:\n  max: lots\n", `tokenlab.yaml:2: registration.max must be a whole number, not "lots"`},
		{"list", "resources: https://api.example/\n", `tokenlab.yaml:1: resources must be a list`},
		{"user key", "users:\n  - username: bob\n    pasword: x\n", `tokenlab.yaml:3: unknown key "pasword" in users; known keys there: username, password, password_file, claims`},
		{"user without password", "users:\n  - username: bob\n", `tokenlab.yaml:2: user bob needs password or password_file`},
		{"protocol claim", "users:\n  - username: bob\n    password: bob-password\n    claims: {sub: 7}\n", `tokenlab.yaml:4: user bob: the claim sub is set by the server itself`},
		// A mapping with a number as key has no JSON form: every ID token
		// of the user failed with 500 (json: unsupported type).
		{"claim with a number key", "users:\n  - username: bob\n    password: bob-password\n    claims:\n      address: {1: main street}\n",
			`tokenlab.yaml:5: user bob: claims must be JSON values (a mapping's keys are strings, not numbers)`},
		{"client key", "clients:\n  - id: web\n    redirect_uri: [loopback]\n", `tokenlab.yaml:3: unknown key "redirect_uri" in clients;`},
		{"client ttl", "clients:\n  - id: web\n    access_ttl: [5m]\n", `tokenlab.yaml:3: client web.access_ttl must be a duration such as 90s, 15m or 7d, not a list`},
		{"twice", "alg: RS256\nalg: ES256\n", `tokenlab.yaml:2: alg is given twice`},
		{"not a mapping", "- alg\n", `tokenlab.yaml:1: the file must be a mapping`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := resolveFile(t, nil, "--config", writeConfig(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			for _, goName := range []string{"main.", "mockserver.", "[]", "map[", "!!", "time.Duration", "unmarshal"} {
				if strings.Contains(err.Error(), goName) {
					t.Errorf("the message names a Go type (%s): %v", goName, err)
				}
			}
		})
	}
}

// TestServeConfigOverrides: flags and the environment beat the file;
// --user-file and --client-file add to it; --print-config redacts every
// secret and names each value's source.
func TestServeConfigOverrides(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "web.secret"), []byte("web-secret-from-its-file\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "users.txt"), []byte("carol:carol-password\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "clients.yaml"), []byte("- id: cli\n  secret: cli-secret-0123456789\n"), 0o600)
	cfgPath := filepath.Join(dir, "tokenlab.yaml")
	os.WriteFile(cfgPath, []byte(`alg: ES256
policy:
  access_ttl: 5m
  refresh_ttl: 2d
users:
  - username: alice
    password: file-password-1
    claims: {email: alice@example.com}
clients:
  - id: web
    secret_file: web.secret
`), 0o600)
	env := map[string]string{"REFRESH_TOKEN_EXPIRY": "3d"}
	cfg, _, err := resolveFile(t, env, "--config", cfgPath, "--access-ttl", "1m",
		"--user-file", filepath.Join(dir, "users.txt"), "--client-file", filepath.Join(dir, "clients.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alg != "ES256" || cfg.AccessTTL != time.Minute || cfg.RefreshTTL != 72*time.Hour {
		t.Fatalf("alg %s access %s refresh %s: want the file's alg, the flag's access-ttl, the environment's refresh-ttl", cfg.Alg, cfg.AccessTTL, cfg.RefreshTTL)
	}
	if len(cfg.Users) != 2 || cfg.Users[0].Username != "alice" || cfg.Users[1].Username != "carol" {
		t.Fatalf("users %+v: want the file's and the user file's, not the demo user", cfg.Users)
	}
	if len(cfg.Clients) != 2 || cfg.Clients[0].Secret != "web-secret-from-its-file" || cfg.Clients[1].ID != "cli" {
		t.Fatalf("clients %+v", cfg.Clients)
	}

	_, out, err := resolveFile(t, env, "--config", cfgPath, "--access-ttl", "1m", "--print-config", "--alg", "HS256",
		"--access-secret", "a-secret-that-must-never-print-0123", "--client-file", filepath.Join(dir, "clients.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"a-secret-that-must-never-print", "web-secret-from-its-file", "file-password-1", "cli-secret-0123456789"} {
		if strings.Contains(out, secret) {
			t.Errorf("--print-config shows a secret (%s):\n%s", secret, out)
		}
	}
	for _, line := range []string{
		"policy.access_ttl:", "1m", "# flag",
		"policy.refresh_ttl:", "3d", "# environment",
		"alg:", "HS256",
		"policy.session_max:", "30d", "# default",
		"access_secret:", "(redacted)",
		"- alice (password redacted; claims: [email])  # file tokenlab.yaml",
		"- web (confidential, secret redacted)  # file tokenlab.yaml",
		"- cli (confidential, secret redacted)  # --client-file",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("--print-config lacks %q:\n%s", line, out)
		}
	}
	if !strings.Contains(out, "policy.access_ttl:") || !regexpLine(out, `policy\.refresh_ttl:\s+3d\s+# environment`) {
		t.Errorf("refresh_ttl line:\n%s", out)
	}
}

func regexpLine(out, pattern string) bool { return regexp.MustCompile(pattern).MatchString(out) }

// TestServeE2EConfigFile: the binary with --config: --print-config exits
// 0 without a secret; a bad file exits 2 with one line naming FILE:LINE;
// --registration off through the file removes the endpoint.
func TestServeE2EConfigFile(t *testing.T) {
	t.Parallel()
	example := filepath.Join(repoRoot(t), "docs", "tokenlab.example.yaml")
	code, stdout, stderr := runServe(t, serveSpec{}, "--config", example, "--print-config")
	if code != 0 || !strings.Contains(stdout, "users:") || strings.Contains(stdout, "password123") || strings.Contains(stdout, "web-secret-change-me") {
		t.Fatalf("--print-config: exit %d\n%s\n%s", code, stdout, stderr)
	}
	bad := writeConfig(t, "policy:\n  rotation: maybe\n")
	code, _, stderr = runServe(t, serveSpec{}, "--config", bad)
	if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "tokenlab.yaml:2: policy.rotation must be true or false") {
		t.Fatalf("bad file: exit %d, stderr %q", code, stderr)
	}
	off := writeConfig(t, "registration:\n  enabled: false\nresources: [https://api.example/]\n")
	p := startServe(t, "--config", off)
	if p.banner.Registration || !slices.Equal(p.banner.Resources, []string{"https://api.example/"}) || p.banner.Sources["registration"] != "file tokenlab.yaml" {
		t.Fatalf("banner %+v", p.banner)
	}
	c := p.client(t)
	var meta map[string]any
	c.get("/.well-known/openid-configuration", "").want(t, 200).decode(t, &meta)
	if _, ok := meta["registration_endpoint"]; ok {
		t.Fatalf("registration off in the file, yet advertised: %v", meta)
	}
	c.postJSON("/oauth/register", map[string]any{"redirect_uris": []string{"https://app.example/cb"}}).want(t, 404)
}

// TestServeWarnsOfReadableConfigSecrets: a config file that holds a
// password or client secret inline, and that other users may read, is
// named in the banner's warnings with the chmod that fixes it; a file of
// mode 0600, or one whose secrets are in *_file files, is not.
func TestServeWarnsOfReadableConfigSecrets(t *testing.T) {
	t.Parallel()
	inline := writeConfig(t, "users:\n  - username: carol\n    password: carol-password-1\n")
	if err := os.Chmod(inline, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "--config", inline)
	if w := strings.Join(p.banner.Warnings, "\n"); !strings.Contains(w, "tokenlab.yaml holds passwords or client secrets") || !strings.Contains(w, "chmod 600") {
		t.Errorf("a readable file with an inline password: warnings %q", p.banner.Warnings)
	}
	private := writeConfig(t, "users:\n  - username: carol\n    password: carol-password-1\n")
	if p := startServe(t, "--config", private); strings.Contains(strings.Join(p.banner.Warnings, "\n"), "chmod 600") {
		t.Errorf("a 0600 file: warnings %q", p.banner.Warnings)
	}
}
