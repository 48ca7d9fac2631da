package main

// End-to-end tests of the client commands (login, status, token, request,
// logout): the real binary against a real `tokenlab serve --clock frozen`,
// with the tokens in a real OS keyring (gnome-keyring over D-Bus, see
// .ci/run), a plaintext file, or memory.
//
// Every tokenlab process gets its own XDG_CONFIG_HOME and XDG_CACHE_HOME,
// so nothing touches the user's own session index, files or locks.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

const (
	alicePassword = "password123"
	cliTimeout    = 30 * time.Second // an upper bound, not a delay
)

// keyringCheck is whether this test process can reach the OS keyring.
var keyringCheck struct {
	once sync.Once
	err  error
}

// needKeyring skips the test when no OS keyring is reachable, but fails it
// when CI=true: CI runs every test inside a D-Bus session with an unlocked
// gnome-keyring, so a missing keyring there is a broken set-up.
func needKeyring(tb testing.TB) {
	tb.Helper()
	keyringCheck.once.Do(func() {
		if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			keyringCheck.err = errors.New("DBUS_SESSION_BUS_ADDRESS is unset")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keyringCheck.err = client.NewKeyringStore().Probe(ctx)
	})
	if keyringCheck.err == nil {
		return
	}
	testskip.Real(tb, "OS keyring", "none reachable ("+keyringCheck.err.Error()+"); run inside dbus-run-session with an unlocked gnome-keyring, as .ci/run does")
}

// cli runs the tokenlab binary as a user would, with private config and
// cache dirs.
type cli struct {
	tb            testing.TB
	bin           string
	config, cache string
	env           []string
}

// cliResult is one finished tokenlab process.
type cliResult struct {
	args           []string
	code           int
	stdout, stderr string
	took           time.Duration
}

func newCLI(tb testing.TB) *cli {
	tb.Helper()
	c := &cli{tb: tb, bin: tokenlabBinary(tb), config: tb.TempDir(), cache: tb.TempDir()}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "XDG_CONFIG_HOME", name == "XDG_CACHE_HOME", name == "NO_COLOR", isSettingEnv(name):
			continue
		}
		c.env = append(c.env, kv)
	}
	c.env = append(c.env, "XDG_CONFIG_HOME="+c.config, "XDG_CACHE_HOME="+c.cache)
	return c
}

// withoutDBus makes every later process unable to find a D-Bus session:
// no bus address, no runtime dir with a bus socket, and a PATH where
// dbus-launch cannot be found.
func (c *cli) withoutDBus() *cli {
	var env []string
	for _, kv := range c.env {
		name, _, _ := strings.Cut(kv, "=")
		if name == "DBUS_SESSION_BUS_ADDRESS" || name == "XDG_RUNTIME_DIR" || name == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	c.env = append(env, "PATH="+c.tb.TempDir())
	return c
}

func (c *cli) command(ctx context.Context, stdin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	cmd.Dir = c.tb.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

// run runs tokenlab to completion.
func (c *cli) run(stdin string, args ...string) cliResult {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := c.command(ctx, stdin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		c.tb.Fatalf("tokenlab %v: %v", args, err)
	}
	if ctx.Err() != nil {
		c.tb.Fatalf("tokenlab %v still running after %v; stderr:\n%s", args, cliTimeout, errOut.String())
	}
	return cliResult{args: args, code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errOut.String(), took: took}
}

// ok runs tokenlab and fails the test unless it exits 0.
func (c *cli) ok(stdin string, args ...string) cliResult {
	c.tb.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.tb.Fatalf("tokenlab %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// login logs alice in to server with --password-stdin.
func (c *cli) login(server string, args ...string) cliResult {
	c.tb.Helper()
	return c.ok(alicePassword+"\n", append([]string{"login", "--server", server, "--username", "alice", "--password-stdin"}, args...)...)
}

// index reads the session index of this cli's config dir.
func (c *cli) index() *client.Index {
	c.tb.Helper()
	ix, err := client.LoadIndex(filepath.Join(c.config, "tokenlab", "sessions.json"))
	if err != nil {
		c.tb.Fatal(err)
	}
	return ix
}

// wantOneLineError checks a failure was told in one line on stderr,
// without a Go trace.
func wantOneLineError(tb testing.TB, r cliResult) {
	tb.Helper()
	if r.code == 0 {
		tb.Fatalf("tokenlab %v succeeded; want a failure\nstdout:\n%s", r.args, r.stdout)
	}
	msg := strings.TrimRight(r.stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "tokenlab: ") {
		tb.Errorf("tokenlab %v: stderr is not one line starting with \"tokenlab: \":\n%s", r.args, r.stderr)
	}
	for _, bad := range []string{"goroutine", "panic", "runtime."} {
		if strings.Contains(r.stdout+r.stderr, bad) {
			tb.Errorf("tokenlab %v: output mentions %q:\n%s%s", r.args, bad, r.stdout, r.stderr)
		}
	}
}

// keyringSession reads alice's session at server straight from the OS keyring.
func keyringSession(tb testing.TB, server string) (client.Session, error) {
	tb.Helper()
	return client.NewKeyringStore().Load(tb.Context(), client.Key("tokenlab", server, "alice"))
}

// cleanKeyring removes alice's entry at server when the test ends, so a
// failed test leaves nothing in the keyring.
func cleanKeyring(tb testing.TB, server string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		client.NewKeyringStore().Delete(ctx, client.Key("tokenlab", server, "alice"))
	})
}

// expireStoredAccess makes the stored access token look expired to the
// client. The client judges expiry by its own clock: moving the server's
// frozen clock is invisible to `tokenlab token`, which only learns of it
// when an API rejects the token.
func expireStoredAccess(tb testing.TB, server string) {
	tb.Helper()
	st := client.NewKeyringStore()
	key := client.Key("tokenlab", server, "alice")
	s, err := st.Load(tb.Context(), key)
	if err != nil {
		tb.Fatal(err)
	}
	s.AccessExpiry = time.Now().Add(-time.Minute)
	if err := st.Save(tb.Context(), key, s); err != nil {
		tb.Fatal(err)
	}
}

// adminSession is a family as /admin/sessions shows it.
type adminSession struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	State    string `json:"state"`
	Tokens   []struct {
		JTI   string `json:"jti"`
		State string `json:"state"`
	} `json:"tokens"`
}

func (c *peer) sessions() []adminSession {
	c.tb.Helper()
	var out struct {
		Sessions []adminSession `json:"sessions"`
	}
	c.admin(http.MethodGet, "/admin/sessions", nil).want(c.tb, http.StatusOK).decode(c.tb, &out)
	return out.Sessions
}

// familyOf returns the family holding the refresh token with jti.
func (c *peer) familyOf(jti string) (adminSession, string) {
	c.tb.Helper()
	for _, f := range c.sessions() {
		for _, t := range f.Tokens {
			if t.JTI == jti {
				return f, t.State
			}
		}
	}
	c.tb.Fatalf("no family holds the refresh token %s", jti)
	return adminSession{}, ""
}

func countEvents(events []serverEvent, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// TestAuthE2EKeyringWalk: login, token, request with a refresh, status and
// logout, with the session in the OS keyring.
func TestAuthE2EKeyringWalk(t *testing.T) {
	needKeyring(t)
	srv := startServe(t)
	api := srv.client(t)
	url := srv.banner.URL
	cleanKeyring(t, url)
	c := newCLI(t)

	var loginJTI string
	t.Run("login keeps the refresh token in the keyring", func(t *testing.T) {
		r := c.login(url)
		for _, want := range []string{"alice", url, "tokenlab", "OS keyring"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("login output lacks %q:\n%s", want, r.stdout)
			}
		}
		// Read it back the way another program would: Secret Service
		// attributes service and username (go-keyring's names).
		key := client.Key("tokenlab", url, "alice")
		var raw []byte
		if _, err := exec.LookPath("secret-tool"); err == nil {
			out, err := exec.Command("secret-tool", "lookup", "service", client.KeyringService, "username", key).Output()
			if err != nil {
				t.Fatalf("secret-tool lookup service tokenlab username %q: %v", key, err)
			}
			raw = out
		} else {
			t.Log("secret-tool is not installed; reading the keyring through go-keyring")
			s, err := keyringSession(t, url)
			if err != nil {
				t.Fatal(err)
			}
			raw = mustJSON(t, s)
		}
		var stored client.Session
		if err := json.Unmarshal(raw, &stored); err != nil {
			t.Fatalf("the keyring entry is not a session: %v\n%s", err, raw)
		}
		if stored.RefreshToken == "" || stored.Username != "alice" || stored.Server != url {
			t.Fatalf("keyring entry = %+v, want alice's session at %s with a refresh token", stored, url)
		}
		loginJTI = claimsOf(t, stored.RefreshToken).JTI
		fam, state := api.familyOf(loginJTI)
		if state != "active" || fam.Username != "alice" || fam.State != "active" {
			t.Fatalf("the stored refresh token is %s in %s family %+v; want an active token of alice's active family", state, fam.State, fam)
		}
		ix := c.index()
		e, ok := ix.Find("", "")
		if !ok || e.Server != url || e.Username != "alice" || e.Store != client.StoreKeyring {
			t.Fatalf("index current = %+v (found %v), want alice at %s in the keyring", e, ok, url)
		}
		idx, _ := os.ReadFile(filepath.Join(c.config, "tokenlab", "sessions.json"))
		if bytes.Contains(idx, []byte(stored.RefreshToken)) || bytes.Contains(idx, []byte(stored.AccessToken)) {
			t.Fatal("the session index holds a token")
		}
	})

	t.Run("token prints a valid access token and nothing else", func(t *testing.T) {
		r := c.ok("", "token")
		tok := strings.TrimSuffix(r.stdout, "\n")
		if tok == "" || strings.ContainsAny(tok, " \n") || r.stderr != "" {
			t.Fatalf("token printed %q (stderr %q); want one token on one line", r.stdout, r.stderr)
		}
		api.get("/protected", tok).want(t, http.StatusOK)
	})

	t.Run("request refreshes once after the server's clock moves", func(t *testing.T) {
		api.admin(http.MethodPost, "/admin/clock", map[string]string{"advance": "16m"}).want(t, http.StatusOK)
		r := c.ok("", "request", "/protected", "--json")
		var res struct {
			Status    int             `json:"status"`
			Body      json.RawMessage `json:"body"`
			Refreshes int             `json:"refreshes"`
			Rotations int             `json:"rotations"`
			Events    []client.Event  `json:"events"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("request --json: %v\n%s", err, r.stdout)
		}
		if res.Status != 200 || res.Refreshes != 1 || res.Rotations != 1 {
			t.Fatalf("status %d, %d refreshes, %d rotations; want 200, 1 and 1\n%s", res.Status, res.Refreshes, res.Rotations, r.stdout)
		}
		var body struct {
			User struct {
				Username string `json:"username"`
			} `json:"user"`
		}
		if err := json.Unmarshal(res.Body, &body); err != nil || body.User.Username != "alice" {
			t.Errorf("body = %s, want /protected's JSON for alice", res.Body)
		}
		if n := countEvents(api.events(), "refresh"); n != 1 {
			t.Errorf("the server counted %d refreshes, want 1", n)
		}
	})

	t.Run("status shows user, store and both expiries", func(t *testing.T) {
		var st statusResult
		if err := json.Unmarshal([]byte(c.ok("", "status", "--json").stdout), &st); err != nil {
			t.Fatal(err)
		}
		if st.Username != "alice" || st.Server != url || st.Store != client.StoreKeyring || st.Refreshes != 1 || !st.Current ||
			st.AccessExpiresAt.IsZero() || st.RefreshExpiresAt.IsZero() {
			t.Fatalf("status --json = %+v", st)
		}
		out := c.ok("", "status").stdout
		for _, want := range []string{"alice", url, "OS keyring", timeText(st.AccessExpiresAt), timeText(st.RefreshExpiresAt),
			"expires in", "1 since login"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("status wrote colour codes to a pipe:\n%q", out)
		}
	})

	t.Run("logout revokes the family and empties the keyring", func(t *testing.T) {
		r := c.ok("", "logout")
		if !strings.Contains(r.stdout, "revoked") {
			t.Errorf("logout output = %q", r.stdout)
		}
		if fam, _ := api.familyOf(loginJTI); fam.State != "revoked" {
			t.Errorf("after logout the family is %s, want revoked", fam.State)
		}
		if _, err := keyringSession(t, url); !errors.Is(err, client.ErrNoSession) {
			t.Errorf("after logout the keyring answers %v, want no entry", err)
		}
		if out, err := exec.Command("secret-tool", "lookup", "service", client.KeyringService, "username", client.Key("tokenlab", url, "alice")).Output(); err == nil && len(out) > 0 {
			t.Errorf("secret-tool still finds the entry after logout")
		}
		if ix := c.index(); len(ix.Sessions) != 0 || ix.Current != "" {
			t.Errorf("after logout the index holds %+v", ix)
		}
		r = c.run("", "status")
		if r.code != exitNoLogin || !strings.Contains(r.stderr, "not logged in") {
			t.Errorf("status after logout: exit %d, %q; want 3 and not logged in", r.code, r.stderr)
		}
	})
}

// TestAuthE2EConcurrentToken: eight `tokenlab token` processes at once,
// with an expired access token in the store, refresh once between them.
func TestAuthE2EConcurrentToken(t *testing.T) {
	needKeyring(t)
	srv := startServe(t)
	api := srv.client(t)
	url := srv.banner.URL
	cleanKeyring(t, url)
	c := newCLI(t)
	c.login(url)
	expireStoredAccess(t, url)

	const n = 8
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	errs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = c.command(ctx, "", "token")
		outs[i], errs[i] = &bytes.Buffer{}, &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], errs[i]
	}
	for i, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatalf("start process %d: %v", i, err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v; stderr: %s", i, err, errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for i, out := range outs {
		tok := strings.TrimSpace(out.String())
		api.get("/protected", tok).want(t, http.StatusOK)
		if i > 0 && tok != strings.TrimSpace(outs[0].String()) {
			t.Errorf("process %d printed another token than process 0: several refreshes?", i)
		}
	}
	events := api.events()
	if got := countEvents(events, "refresh"); got != 1 {
		t.Errorf("the server counted %d refreshes, want exactly 1", got)
	}
	if got := countEvents(events, "reuse_detected"); got != 0 {
		t.Errorf("the server detected reuse %d times, want none", got)
	}
	s, err := keyringSession(t, url)
	if err != nil || s.Refreshes != 1 {
		t.Errorf("stored session after the run: %d refreshes, %v; want 1", s.Refreshes, err)
	}
	c.ok("", "logout")
}

// TestAuthE2EReplayedRefreshToken: when someone else has spent the stored
// refresh token, the next refresh is refused as reuse: tokenlab says
// "login required", exits 3 and forgets the session.
func TestAuthE2EReplayedRefreshToken(t *testing.T) {
	needKeyring(t)
	for _, tc := range []struct {
		name string
		args []string
		// expire makes the client refresh: token refreshes when its own
		// clock says the access token expires; request when the API says so.
		expire func(t *testing.T, api *peer, url string)
	}{
		{"token", []string{"token"}, func(t *testing.T, api *peer, url string) {
			api.admin(http.MethodPost, "/admin/clock", map[string]string{"advance": "16m"}).want(t, http.StatusOK)
			expireStoredAccess(t, url)
		}},
		{"request", []string{"request", "/protected"}, func(t *testing.T, api *peer, url string) {
			api.admin(http.MethodPost, "/admin/clock", map[string]string{"advance": "16m"}).want(t, http.StatusOK)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServe(t)
			api := srv.client(t)
			url := srv.banner.URL
			cleanKeyring(t, url)
			c := newCLI(t)
			c.login(url)
			s, err := keyringSession(t, url)
			if err != nil {
				t.Fatal(err)
			}
			// An attacker (or a second copy of the session) spends it.
			api.postJSON("/token", tokenBody{s.RefreshToken}).want(t, http.StatusOK)
			tc.expire(t, api, url)

			r := c.run("", tc.args...)
			wantOneLineError(t, r)
			if r.code != exitNoLogin || !strings.Contains(r.stderr, "login required") {
				t.Fatalf("exit %d, stderr %q; want 3 and \"login required\"", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if got := countEvents(api.events(), "reuse_detected"); got != 1 {
				t.Errorf("the server detected reuse %d times, want 1", got)
			}
			if _, err := keyringSession(t, url); !errors.Is(err, client.ErrNoSession) {
				t.Errorf("the keyring still answers %v; want the session removed", err)
			}
			if ix := c.index(); len(ix.Sessions) != 0 {
				t.Errorf("the index still holds %+v", ix.Sessions)
			}
			st := c.run("", "status")
			if st.code != exitNoLogin || !strings.Contains(st.stderr, "not logged in") {
				t.Errorf("status: exit %d, %q; want 3 and not logged in", st.code, st.stderr)
			}
		})
	}
}

// TestAuthE2ENoKeyring: without a D-Bus session, login with the default
// keyring store fails fast, names the two other stores, and neither
// contacts the server nor writes anything.
func TestAuthE2ENoKeyring(t *testing.T) {
	var hits atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "should not be called", http.StatusTeapot)
	}))
	defer hs.Close()
	c := newCLI(t).withoutDBus()

	r := c.run(alicePassword+"\n", "login", "--server", hs.URL, "--username", "alice", "--password-stdin")
	wantOneLineError(t, r)
	if r.took > 5*time.Second {
		t.Errorf("login took %v to fail, want under 5s", r.took)
	}
	for _, want := range []string{"--token-store memory", "--token-store file", "keyring"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the server was contacted %d times; the keyring must be checked first", hits.Load())
	}
	for _, dir := range []string{c.config, c.cache} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s holds %d entries after the failed login, want none", dir, len(entries))
		}
	}
}

// TestAuthE2EFileStore: --token-store file keeps the session in a 0600
// plaintext file, warns once, and later commands find it without a keyring.
func TestAuthE2EFileStore(t *testing.T) {
	srv := startServe(t)
	api := srv.client(t)
	url := srv.banner.URL
	c := newCLI(t).withoutDBus() // the file store must not need one

	r := c.login(url, "--token-store", "file")
	if n := strings.Count(r.stderr, "plaintext"); n != 1 || strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") != 0 {
		t.Errorf("stderr = %q; want one warning line that mentions plaintext once", r.stderr)
	}
	dir := filepath.Join(c.config, "tokenlab", "sessions")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("files in %s: %v (%v); want one session file", dir, files, err)
	}
	fi, err := os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", files[0], fi.Mode().Perm())
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm()&0o077 != 0 {
		t.Errorf("%s: mode %v (%v); want no access for group and others", dir, di.Mode().Perm(), err)
	}
	var stored client.Session
	data, _ := os.ReadFile(files[0])
	if err := json.Unmarshal(data, &stored); err != nil || stored.RefreshToken == "" {
		t.Fatalf("the file holds no session: %v", err)
	}
	if e, ok := c.index().Find("", ""); !ok || e.Store != client.StoreFile {
		t.Fatalf("index current = %+v, want the file store", e)
	}

	tok := strings.TrimSpace(c.ok("", "token").stdout)
	api.get("/protected", tok).want(t, http.StatusOK)
	if out := c.ok("", "status").stdout; !strings.Contains(out, "plaintext file") || !strings.Contains(out, files[0]) {
		t.Errorf("status does not say the tokens are in %s:\n%s", files[0], out)
	}
	c.ok("", "logout")
	if _, err := os.Stat(files[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after logout %s: %v, want it removed", files[0], err)
	}
}

// TestAuthE2EBadInput: what goes wrong at the edges is told in one line,
// with a non-zero exit and never a Go trace.
func TestAuthE2EBadInput(t *testing.T) {
	serve := func(h http.HandlerFunc) string {
		hs := httptest.NewServer(h)
		t.Cleanup(hs.Close)
		return hs.URL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	nonJSON := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
	})
	status500 := serve(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error\nwith a second line", http.StatusInternalServerError)
	})
	tooLarge := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"accessToken":"`))
		w.Write(bytes.Repeat([]byte("a"), 2<<20))
		w.Write([]byte(`"}`))
	})
	var profileHits atomic.Int64
	unused := serve(func(w http.ResponseWriter, r *http.Request) { profileHits.Add(1) })
	dir := t.TempDir()
	oneUnknown := filepath.Join(dir, "one.yaml")
	twoUnknown := filepath.Join(dir, "two.yaml")
	os.WriteFile(oneUnknown, []byte("extends: tokenlab\nname: mine\nlogin_path: /signin\n"), 0o600)
	os.WriteFile(twoUnknown, []byte("extends: tokenlab\nbogus: 1\nalso_bogus: 2\n"), 0o600)

	login := func(server string, extra ...string) []string {
		return append([]string{"login", "--server", server, "--username", "alice", "--password-stdin", "--token-store", "memory"}, extra...)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int // 0: any non-zero
		contains string
	}{
		{"unreachable server", login(closed), exitFailed, "cannot reach"},
		{"non-JSON answer to /login", login(nonJSON), exitFailed, "not a JSON"},
		{"500", login(status500), exitFailed, "500"},
		{"too-large answer", login(tooLarge), exitFailed, "larger than"},
		{"profile file with an unknown key", login(unused, "--profile", oneUnknown), exitUsage, "login_path"},
		{"profile file with two unknown keys", login(unused, "--profile", twoUnknown), exitUsage, "bogus"},
		{"missing profile file", login(unused, "--profile", filepath.Join(dir, "none.yaml")), exitUsage, "none.yaml"},
		{"server that is not a URL", login("127.0.0.1:8080"), exitUsage, "http://"},
		{"unknown token store", login(unused, "--token-store", "vault"), exitUsage, "keyring, memory or file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			r := c.run(alicePassword+"\n", tc.args...)
			wantOneLineError(t, r)
			if tc.code != 0 && r.code != tc.code {
				t.Errorf("exit %d, want %d (%s)", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.contains) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.contains)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			if ix := c.index(); len(ix.Sessions) != 0 {
				t.Errorf("a failed login left %+v in the index", ix.Sessions)
			}
		})
	}
	if profileHits.Load() != 0 {
		t.Errorf("a bad profile still contacted the server %d times", profileHits.Load())
	}

	t.Run("damaged session index", func(t *testing.T) {
		c := newCLI(t)
		os.MkdirAll(filepath.Join(c.config, "tokenlab"), 0o700)
		os.WriteFile(filepath.Join(c.config, "tokenlab", "sessions.json"), []byte("{not json"), 0o600)
		for _, args := range [][]string{{"status"}, {"token"}, {"request", "/protected"}, {"logout"}} {
			r := c.run("", args...)
			wantOneLineError(t, r)
			if r.code != exitUsage || !strings.Contains(r.stderr, "sessions.json") {
				t.Errorf("%v: exit %d, %q; want 2 naming sessions.json", args, r.code, r.stderr)
			}
		}
	})

	t.Run("request answered 500 and unreachable", func(t *testing.T) {
		srv := startServe(t)
		c := newCLI(t).withoutDBus()
		c.login(srv.banner.URL, "--token-store", "file")
		r := c.run("", "request", status500+"/boom")
		if r.code != exitUsage || !strings.Contains(r.stderr, "the access token is not sent to "+status500) || !strings.Contains(r.stderr, "--api "+status500) {
			t.Errorf("another origin: exit %d, stderr %q; want 2 saying the token is withheld and how to allow it", r.code, r.stderr)
		}
		r = c.run("", "request", "--api", status500, status500+"/boom")
		wantOneLineError(t, r)
		if r.code != exitFailed || !strings.Contains(r.stderr, "500") || !strings.Contains(r.stdout, "internal error") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 1, the body, and 500", r.code, r.stdout, r.stderr)
		}
		r = c.run("", "request", "--api", closed, closed+"/x")
		wantOneLineError(t, r)
		if r.code != exitFailed || !strings.Contains(r.stderr, "cannot reach") {
			t.Errorf("exit %d, stderr %q; want 1 and cannot reach", r.code, r.stderr)
		}
		c.ok("", "logout")
	})

	t.Run("logout while the server is down", func(t *testing.T) {
		srv := startServe(t)
		c := newCLI(t).withoutDBus()
		c.login(srv.banner.URL, "--token-store", "file")
		srv.stop(t, syscall.SIGTERM)
		r := c.run("", "logout")
		wantOneLineError(t, r)
		if r.code != exitFailed || !strings.Contains(r.stderr, "could not revoke") || !strings.Contains(r.stderr, "cannot reach") {
			t.Errorf("exit %d, stderr %q; want 1, saying the server could not revoke it", r.code, r.stderr)
		}
		if ix := c.index(); len(ix.Sessions) != 0 {
			t.Errorf("the index still holds %+v; the local session is gone", ix.Sessions)
		}
		if files, _ := filepath.Glob(filepath.Join(c.config, "tokenlab", "sessions", "*.json")); len(files) != 0 {
			t.Errorf("session files left: %v", files)
		}
	})
}
