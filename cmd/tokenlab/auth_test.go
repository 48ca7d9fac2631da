package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
)

// privateDirs points the user's config and cache dirs at temp dirs, so
// that nothing here reads or writes the real session index.
func privateDirs(t *testing.T) (config string) {
	t.Helper()
	config = t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	return config
}

func runBuffered(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestAuthCmdUsage: mistakes in how the client commands are called exit
// 2 (or 3 when there is no session) with one sentence, before anything
// reaches a server, a keyring or the disk.
func TestAuthCmdUsage(t *testing.T) {
	config := privateDirs(t)
	const srv = "http://127.0.0.1:1" // nothing listens there: reaching it would fail differently
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"login without --username", "", []string{"login", "--server", srv}, exitUsage, "--username is required"},
		{"login with stdin not a terminal", "pw\n", []string{"login", "--server", srv, "--username", "alice"}, exitUsage, "--password-stdin"},
		{"login with an empty stdin", "", []string{"login", "--server", srv, "--username", "alice", "--password-stdin", "--token-store", "memory"}, exitUsage, "no password"},
		{"login with an unknown store", "pw\n", []string{"login", "--server", srv, "--username", "alice", "--password-stdin", "--token-store", "vault"}, exitUsage, "--token-store"},
		{"login with an unknown profile", "pw\n", []string{"login", "--server", srv, "--username", "alice", "--password-stdin", "--profile", "nope"}, exitUsage, "unknown profile"},
		{"login with a server that is not http", "pw\n", []string{"login", "--server", "ftp://x", "--username", "alice", "--password-stdin"}, exitUsage, "http://"},
		{"login with OAuth flags on a json profile", "pw\n", []string{"login", "--server", srv, "--username", "alice", "--password-stdin", "--client-id", "cli"}, exitUsage, "oauth2"},
		{"login with an argument", "", []string{"login", "extra"}, exitUsage, "unknown command"},
		{"login with an unknown flag", "", []string{"login", "--pasword-stdin"}, exitUsage, "unknown flag"},
		{"status with an argument", "", []string{"status", "x"}, exitUsage, "unknown command"},
		{"token with an argument", "", []string{"token", "x"}, exitUsage, "unknown command"},
		{"logout with an unknown flag", "", []string{"logout", "--everyone"}, exitUsage, "unknown flag"},
		{"request without a path", "", []string{"request"}, exitUsage, "accepts between 1 and 2"},
		{"request with three arguments", "", []string{"request", "GET", "/a", "/b"}, exitUsage, "accepts between 1 and 2"},
		{"request with a bad method", "", []string{"request", "GE T", "/a"}, exitUsage, "not an HTTP method"},
		{"request with a bad header", "", []string{"request", "/a", "-H", "no colon"}, exitUsage, "Name: value"},
		{"request with a missing body file", "", []string{"request", "/a", "-d", "@" + filepath.Join(t.TempDir(), "none")}, exitUsage, "-d @"},
		{"token when not logged in", "", []string{"token"}, exitNoLogin, "not logged in; run tokenlab login"},
		{"status when not logged in", "", []string{"status"}, exitNoLogin, "not logged in; run tokenlab login"},
		{"logout when not logged in", "", []string{"logout"}, exitNoLogin, "not logged in"},
		{"request when not logged in", "", []string{"request", "/protected"}, exitNoLogin, "not logged in"},
		{"status of a server nobody logged in to", "", []string{"status", "--server", srv}, exitNoLogin, "no session matches server " + srv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runBuffered(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.want)
			}
			if stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "tokenlab: ") {
				t.Errorf("stdout %q, stderr %q; want nothing on stdout and one line on stderr", stdout, stderr)
			}
		})
	}
	if ix, err := client.LoadIndex(filepath.Join(config, "tokenlab", "sessions.json")); err != nil || len(ix.Sessions) != 0 {
		t.Errorf("the index after the usage errors: %+v, %v", ix, err)
	}
}

// TestAuthCmdHelp: every client command has --help with an example.
func TestAuthCmdHelp(t *testing.T) {
	for _, name := range []string{"login", "status", "token", "logout", "request"} {
		t.Run(name, func(t *testing.T) {
			code, stdout, _ := runBuffered(t, "", name, "--help")
			if code != 0 || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "tokenlab "+name) {
				t.Errorf("exit %d; help:\n%s", code, stdout)
			}
		})
	}
}

// TestAuthCmdStatusText: status in words and human times, from a session
// in the file store, without colour under NO_COLOR.
func TestAuthCmdStatusText(t *testing.T) {
	config := privateDirs(t)
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	server := "http://api.example.test"
	ix, err := client.LoadIndex(filepath.Join(config, "tokenlab", "sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Update(t.Context(), client.DefaultLockDir(), func(ix *client.Index) {
		ix.Put(client.IndexEntry{Server: server, Profile: "seed-json", Username: "bob", Store: client.StoreFile}, true)
	}); err != nil {
		t.Fatal(err)
	}
	dir, _ := sessionsDir()
	fs := &client.FileStore{Dir: dir}
	sess := client.Session{Server: server, Profile: "seed-json", Username: "bob", AccessToken: "a", RefreshToken: "r",
		AccessExpiry: now.Add(14*time.Minute + 52*time.Second), RefreshExpiry: now.Add(-3 * time.Minute), Refreshes: 4}
	if err := fs.Save(t.Context(), client.Key("seed-json", server, "bob"), sess); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	std := streams{in: strings.NewReader(""), out: &out, err: &errOut, env: func(k string) (string, bool) {
		if k == "NO_COLOR" {
			return "1", true
		}
		return "", false
	}}
	if err := statusRun(context.Background(), std, statusOptions{now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"bob", server, "seed-json", "plaintext file", "expires in 14m 52s", "expired 3m ago",
		timeText(sess.AccessExpiry), "4 since login", "current session"} {
		if !strings.Contains(got, want) {
			t.Errorf("status lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\x1b[") {
		t.Errorf("NO_COLOR is set but status is coloured:\n%q", got)
	}
	// Aligned: every value starts in the same column.
	col := -1
	for _, line := range strings.Split(strings.TrimSpace(got), "\n")[1:] {
		i := strings.Index(line, strings.TrimSpace(line[18:]))
		if col == -1 {
			col = i
		}
		if i != col {
			t.Errorf("line %q: value at column %d, want %d", line, i, col)
		}
	}
}

func TestAuthHumanTimes(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		exp  time.Time
		want string
	}{
		{now.Add(14*time.Minute + 52*time.Second), "expires in 14m 52s"},
		{now.Add(-3 * time.Minute), "expired 3m ago"},
		{now.Add(-3*time.Minute - 400*time.Millisecond), "expired 3m ago"},
		{now.Add(45 * time.Second), "expires in 45s"},
		{now.Add(2*time.Hour + 5*time.Minute + 9*time.Second), "expires in 2h 5m"},
		{now.Add(7 * 24 * time.Hour), "expires in 7d"},
		{now.Add(6*24*time.Hour + 23*time.Hour + 59*time.Minute), "expires in 6d 23h"},
		{now, "expired 0s ago"},
		{time.Time{}, "expiry unknown"},
	} {
		if got := expiresPhrase(tc.exp, now); got != tc.want {
			t.Errorf("expiresPhrase(now%+v) = %q, want %q", tc.exp.Sub(now), got, tc.want)
		}
	}
}

func TestAuthResolveURL(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"/protected", "http://h:1/protected"},
		{"protected?x=1", "http://h:1/protected?x=1"},
		{"https://other.example/a", "https://other.example/a"},
	} {
		if got, err := resolveURL("http://h:1", tc.target); err != nil || got != tc.want {
			t.Errorf("resolveURL(%q) = %q, %v; want %q", tc.target, got, err, tc.want)
		}
	}
}
