package main

// End-to-end tests: they build the real tokenlab binary once, start
// `tokenlab serve` as a child process on 127.0.0.1 over a real SQLite file,
// and talk to it over HTTP, as a user or a script would.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read the server's file
)

// e2eAdminToken is the admin token every test server is started with.
const e2eAdminToken = "tla_e2e_admin_token_0123456789"

// Upper bounds, not delays: a healthy run takes a fraction of each.
const (
	startTimeout = 30 * time.Second // build cache, migrations and bcrypt under load
	stopTimeout  = 5 * time.Second
	httpTimeout  = 10 * time.Second
)

// e2eBinary is the binary built for this test process.
var e2eBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain registers tokenlab as a command for the testscript scripts
// (script_test.go): run as "tokenlab", this test binary is tokenlab.
func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){"tokenlab": func() { os.Exit(runProcess()) }})
}

// cleanupM removes the built binary after the tests.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if e2eBinary.dir != "" {
		os.RemoveAll(e2eBinary.dir)
	}
	return code
}

// tokenlabBinary builds the binary on first use and returns its path.
func tokenlabBinary(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("end-to-end test: builds and runs the binary")
	}
	e2eBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "tokenlab-e2e-")
		if err != nil {
			e2eBinary.err = err
			return
		}
		e2eBinary.dir = dir
		e2eBinary.path = filepath.Join(dir, "tokenlab")
		out, err := exec.Command("go", "build", "-o", e2eBinary.path, ".").CombinedOutput()
		if err != nil {
			e2eBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if e2eBinary.err != nil {
		tb.Fatal(e2eBinary.err)
	}
	return e2eBinary.path
}

// serveSpec is how a serve process is started besides its flags.
type serveSpec struct {
	env map[string]string // added to an environment cleared of tokenlab's settings
	dir string            // working directory (where .env is read); a fresh temp dir when empty
}

// environ is the test's environment without any variable that serve reads
// as a setting, plus extra.
func (s serveSpec) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !isSettingEnv(name) {
			env = append(env, kv)
		}
	}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return env
}

func isSettingEnv(name string) bool {
	for _, fe := range envFallbacks {
		if fe.env == name {
			return true
		}
	}
	return strings.HasPrefix(name, "TOKENLAB_")
}

// serveArgs are serve's flags for a test: a free port, the JSON banner, a
// frozen clock, the test admin token and a fresh database file, then args
// (a repeated flag wins over the default given here).
func serveArgs(tb testing.TB, args []string) []string {
	base := []string{"serve", "--addr", "127.0.0.1:0", "--json", "--clock", "frozen",
		"--admin-token", e2eAdminToken, "--db", filepath.Join(tb.TempDir(), "tokenlab.db")}
	return append(base, args...)
}

func (s serveSpec) command(tb testing.TB, ctx context.Context, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, tokenlabBinary(tb), serveArgs(tb, args)...)
	cmd.Env = s.environ()
	cmd.Dir = s.dir
	if cmd.Dir == "" {
		cmd.Dir = tb.TempDir()
	}
	return cmd
}

// proc is a running `tokenlab serve`.
type proc struct {
	cmd    *exec.Cmd
	banner banner
	stdout *firstLineWriter
	stderr *lockedBuffer
	done   chan struct{} // closed once the process has exited and been reaped
}

// startServe starts `tokenlab serve` with serveArgs(args) and returns once
// it has printed its JSON banner. The process is stopped when the test ends.
func startServe(tb testing.TB, args ...string) *proc {
	tb.Helper()
	return startServeWith(tb, serveSpec{}, args...)
}

func startServeWith(tb testing.TB, spec serveSpec, args ...string) *proc {
	tb.Helper()
	p := launchServe(tb, spec.command(tb, context.Background(), args))
	if !strings.HasPrefix(p.banner.URL, "http://127.0.0.1:") {
		tb.Fatalf("banner url = %q, want http://127.0.0.1:<port>", p.banner.URL)
	}
	return p
}

// launchServe starts a prepared serve command and returns once it has
// printed its JSON banner; the process is stopped when the test ends.
func launchServe(tb testing.TB, cmd *exec.Cmd) *proc {
	tb.Helper()
	p := &proc{cmd: cmd, stdout: newFirstLineWriter(), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		if !p.exited() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(stopTimeout):
				tb.Errorf("serve did not exit within %v of SIGTERM; killing it", stopTimeout)
				p.kill()
			}
		}
		if tb.Failed() {
			tb.Logf("serve stderr:\n%s", p.stderr.String())
		}
	})

	select {
	case line := <-p.stdout.first:
		if err := json.Unmarshal([]byte(line), &p.banner); err != nil {
			tb.Fatalf("the first stdout line is not the JSON banner: %v\n%s", err, line)
		}
	case <-p.done:
		tb.Fatalf("serve exited (%v) before printing its banner; stderr:\n%s", cmd.ProcessState, p.stderr.String())
	case <-time.After(startTimeout):
		tb.Fatalf("no banner within %v; stderr:\n%s", startTimeout, p.stderr.String())
	}
	return p
}

// runServe runs serve to completion (it is expected to fail fast) and
// returns its exit code and output.
func runServe(tb testing.TB, spec serveSpec, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := spec.command(tb, ctx, args)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		tb.Fatalf("run %v: %v", cmd.Args, err)
	}
	if ctx.Err() != nil {
		tb.Fatalf("serve still running after %v; it should have failed at start-up; stderr:\n%s", startTimeout, errOut.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits for the exit; it returns the exit code and how
// long the exit took.
func (p *proc) stop(tb testing.TB, sig os.Signal) (int, time.Duration) {
	tb.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.kill()
		tb.Fatalf("serve did not exit within %v of %v", stopTimeout, sig)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// kill sends SIGKILL and waits until the process is reaped. It is safe to
// call from any goroutine.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// firstLineWriter is a process's stdout: it keeps everything and hands the
// first line over as soon as it is complete.
type firstLineWriter struct {
	lockedBuffer
	first chan string
	sent  bool
}

func newFirstLineWriter() *firstLineWriter { return &firstLineWriter{first: make(chan string, 1)} }

func (w *firstLineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(b)
	if !w.sent {
		if line, _, ok := strings.Cut(w.buf.String(), "\n"); ok {
			w.first <- line
			w.sent = true
		}
	}
	return n, err
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// peer talks to one serve process.
type peer struct {
	tb   testing.TB
	base string
	hc   *http.Client
}

func (p *proc) client(tb testing.TB) *peer {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	tb.Cleanup(tr.CloseIdleConnections)
	return &peer{tb: tb, base: p.banner.URL, hc: &http.Client{Timeout: httpTimeout, Transport: tr}}
}

// answer is a complete HTTP answer.
type answer struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
}

func (c *peer) do(method, path, contentType string, body io.Reader, bearer string) answer {
	c.tb.Helper()
	req, err := http.NewRequestWithContext(c.tb.Context(), method, c.base+path, body)
	if err != nil {
		c.tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return answer{method: method, path: path, status: resp.StatusCode, header: resp.Header, body: b}
}

func (c *peer) postJSON(path string, v any) answer {
	c.tb.Helper()
	return c.do(http.MethodPost, path, "application/json", bytes.NewReader(mustJSON(c.tb, v)), "")
}

func (c *peer) get(path, bearer string) answer {
	c.tb.Helper()
	return c.do(http.MethodGet, path, "", nil, bearer)
}

func (c *peer) postForm(path string, form url.Values) answer {
	c.tb.Helper()
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "")
}

func (c *peer) admin(method, path string, v any) answer {
	c.tb.Helper()
	var body io.Reader
	ct := ""
	if v != nil {
		body, ct = bytes.NewReader(mustJSON(c.tb, v)), "application/json"
	}
	return c.do(method, path, ct, body, e2eAdminToken)
}

// want fails the test unless the answer has the status.
func (a answer) want(tb testing.TB, status int) answer {
	tb.Helper()
	if a.status != status {
		tb.Fatalf("%s %s: status %d, want %d; body: %s", a.method, a.path, a.status, status, a.body)
	}
	return a
}

func (a answer) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		tb.Fatalf("%s %s: decode %s: %v", a.method, a.path, a.body, err)
	}
}

// errorBody is both dialects' error answer.
func (a answer) errorBody(tb testing.TB) (code, message string) {
	tb.Helper()
	var e struct {
		Error       string `json:"error"`
		Message     string `json:"message"`
		Description string `json:"error_description"`
	}
	a.decode(tb, &e)
	return e.Error, e.Message + e.Description
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type tokenBody struct {
	Token string `json:"token"`
}

// seedTokens is the seed dialect's answer to /login and /token.
type seedTokens struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int64  `json:"expiresIn"`
}

// oauthTokens is RFC 6749's token answer.
type oauthTokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

type serverEvent struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Username string `json:"username"`
	FamilyID string `json:"familyId"`
	JTI      string `json:"jti"`
	Reason   string `json:"reason"`
}

func (c *peer) events() []serverEvent {
	c.tb.Helper()
	var out struct {
		Events []serverEvent `json:"events"`
	}
	c.admin(http.MethodGet, "/admin/events", nil).want(c.tb, http.StatusOK).decode(c.tb, &out)
	return out.Events
}

// findEvent returns the first event of kind with the jti and family, or
// fails the test listing what there was.
func findEvent(tb testing.TB, events []serverEvent, kind, familyID string) serverEvent {
	tb.Helper()
	for _, e := range events {
		if e.Kind == kind && e.FamilyID == familyID {
			return e
		}
	}
	tb.Fatalf("no %s event for family %s in %+v", kind, familyID, events)
	return serverEvent{}
}

// jwtClaims are the claims the tests read from a token, unverified.
type jwtClaims struct {
	JTI string `json:"jti"`
	FID string `json:"fid"`
}

func claimsOf(tb testing.TB, token string) jwtClaims {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("%q is not a JWT", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("JWT payload: %v", err)
	}
	var c jwtClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		tb.Fatalf("JWT payload: %v", err)
	}
	return c
}

// wantExpiredAccess checks a 401 from a protected route carries the RFC
// 6750 challenge.
func wantExpiredAccess(tb testing.TB, a answer) {
	tb.Helper()
	a.want(tb, http.StatusUnauthorized)
	challenge := a.header.Get("WWW-Authenticate")
	if !strings.Contains(challenge, "Bearer") || !strings.Contains(challenge, `error="invalid_token"`) {
		tb.Errorf(`WWW-Authenticate = %q, want a Bearer challenge with error="invalid_token"`, challenge)
	}
	if code, _ := a.errorBody(tb); code != "token_expired" {
		tb.Errorf("error = %q, want token_expired", code)
	}
}

func TestServeE2ESeedWalk(t *testing.T) {
	t.Parallel()
	p := startServe(t)
	c := p.client(t)

	var login seedTokens
	c.postJSON("/login", credentials{"alice", "password123"}).want(t, http.StatusOK).decode(t, &login)
	if login.AccessToken == "" || login.RefreshToken == "" || login.TokenType != "Bearer" || login.ExpiresIn != 900 {
		t.Fatalf("login answer = %+v, want both tokens, Bearer and expiresIn 900", login)
	}
	c.get("/protected", login.AccessToken).want(t, http.StatusOK)

	c.admin(http.MethodPost, "/admin/clock", map[string]string{"advance": "16m"}).want(t, http.StatusOK)
	wantExpiredAccess(t, c.get("/protected", login.AccessToken))

	var next seedTokens
	c.postJSON("/token", tokenBody{login.RefreshToken}).want(t, http.StatusOK).decode(t, &next)
	if next.AccessToken == "" || next.AccessToken == login.AccessToken {
		t.Errorf("refresh gave access token %q, want a new one", next.AccessToken)
	}
	if next.RefreshToken == "" || next.RefreshToken == login.RefreshToken {
		t.Fatalf("refresh gave refresh token %q, want a new one (rotation is on)", next.RefreshToken)
	}
	c.get("/protected", next.AccessToken).want(t, http.StatusOK)

	replay := c.postJSON("/token", tokenBody{login.RefreshToken}).want(t, http.StatusUnauthorized)
	if code, _ := replay.errorBody(t); code != "token_reused" {
		t.Errorf("replaying the old refresh token: error %q, want token_reused", code)
	}
	newest := c.postJSON("/token", tokenBody{next.RefreshToken}).want(t, http.StatusUnauthorized)
	if code, _ := newest.errorBody(t); code != "token_revoked" {
		t.Errorf("the newest refresh token after the replay: error %q, want token_revoked", code)
	}

	first := claimsOf(t, login.RefreshToken)
	events := c.events()
	reuse := findEvent(t, events, "reuse_detected", first.FID)
	revoked := findEvent(t, events, "family_revoked", first.FID)
	if reuse.JTI != first.JTI || reuse.Username != "alice" {
		t.Errorf("reuse_detected = %+v, want jti %s of user alice", reuse, first.JTI)
	}
	if revoked.Reason != "reuse_detected" || revoked.ID < reuse.ID {
		t.Errorf("family_revoked = %+v, want reason reuse_detected after event %d", revoked, reuse.ID)
	}
}

func TestServeE2EOAuthWalk(t *testing.T) {
	t.Parallel()
	p := startServe(t)
	c := p.client(t)

	var login oauthTokens
	c.postForm("/oauth/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"password123"}}).
		want(t, http.StatusOK).decode(t, &login)
	if login.AccessToken == "" || login.RefreshToken == "" || login.TokenType != "Bearer" || login.ExpiresIn != 900 {
		t.Fatalf("password grant = %+v, want both tokens, Bearer and expires_in 900", login)
	}
	c.get("/protected", login.AccessToken).want(t, http.StatusOK)

	c.admin(http.MethodPost, "/admin/clock", map[string]string{"advance": "16m"}).want(t, http.StatusOK)
	wantExpiredAccess(t, c.get("/protected", login.AccessToken))

	refresh := func(token string) answer {
		return c.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
	}
	var next oauthTokens
	refresh(login.RefreshToken).want(t, http.StatusOK).decode(t, &next)
	if next.AccessToken == "" || next.AccessToken == login.AccessToken {
		t.Errorf("refresh grant gave access token %q, want a new one", next.AccessToken)
	}
	if next.RefreshToken == "" || next.RefreshToken == login.RefreshToken {
		t.Fatalf("refresh grant gave refresh token %q, want a new one (rotation is on)", next.RefreshToken)
	}
	c.get("/protected", next.AccessToken).want(t, http.StatusOK)

	for _, tc := range []struct {
		name, token, cause string
	}{
		{"replayed old token", login.RefreshToken, "token_reused"},
		{"newest token after the replay", next.RefreshToken, "token_revoked"},
	} {
		code, desc := refresh(tc.token).want(t, http.StatusBadRequest).errorBody(t)
		if code != "invalid_grant" || !strings.Contains(desc, tc.cause) {
			t.Errorf("%s: error %q (%s), want invalid_grant naming %s", tc.name, code, desc, tc.cause)
		}
	}

	first := claimsOf(t, login.RefreshToken)
	events := c.events()
	findEvent(t, events, "reuse_detected", first.FID)
	if revoked := findEvent(t, events, "family_revoked", first.FID); revoked.Reason != "reuse_detected" {
		t.Errorf("family_revoked = %+v, want reason reuse_detected", revoked)
	}
}

// loader is one client of the kill -9 test: it logs in, then refreshes in
// a loop, keeping the latest refresh token of a complete 200 answer.
type loader struct {
	mu       sync.Mutex
	token    string
	inFlight bool  // a refresh was sent and its answer not fully read
	err      error // an answer or failure that should not have happened
}

// refreshOnce asks the seed dialect for a refresh and reads the whole answer.
func refreshOnce(ctx context.Context, hc *http.Client, base, token string) (int, seedTokens, error) {
	var out seedTokens
	body, _ := json.Marshal(tokenBody{token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", bytes.NewReader(body))
	if err != nil {
		return 0, out, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, out, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, out, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, out, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &out); err != nil || out.RefreshToken == "" {
		return resp.StatusCode, out, fmt.Errorf("incomplete answer %q: %v", b, err)
	}
	return resp.StatusCode, out, nil
}

func TestServeE2EKill9(t *testing.T) {
	t.Parallel()
	const (
		clients             = 32 // enough waiting writers that refreshes are group-committed in batches
		refreshesBeforeKill = 300
		maxRefreshes        = 20000 // a bound, should the kill never come
		issuer              = "http://tokenlab.test"
	)
	db := filepath.Join(t.TempDir(), "tokenlab.db")
	p := startServe(t, "--db", db, "--issuer", issuer)
	c := p.client(t)
	hc := c.hc

	loaders := make([]*loader, clients)
	for i := range loaders {
		var login seedTokens
		c.postJSON("/login", credentials{"alice", "password123"}).want(t, http.StatusOK).decode(t, &login)
		loaders[i] = &loader{token: login.RefreshToken}
	}

	var (
		killed    atomic.Bool
		completed atomic.Int64
		reached   = make(chan struct{})
		loadersWG sync.WaitGroup
	)
	ctx := t.Context()
	for _, l := range loaders {
		loadersWG.Go(func() {
			for range maxRefreshes {
				l.mu.Lock()
				if killed.Load() {
					l.mu.Unlock()
					return
				}
				l.inFlight = true
				token := l.token
				l.mu.Unlock()

				_, got, err := refreshOnce(ctx, hc, p.banner.URL, token)
				if err != nil {
					if !killed.Load() {
						l.mu.Lock()
						l.err = err
						l.mu.Unlock()
					}
					return // the request stays in flight
				}
				l.mu.Lock()
				l.token, l.inFlight = got.RefreshToken, false
				l.mu.Unlock()
				if completed.Add(1) == refreshesBeforeKill {
					close(reached)
				}
			}
		})
	}
	loadersDone := make(chan struct{})
	go func() {
		loadersWG.Wait()
		close(loadersDone)
	}()

	// The killer holds every loader's lock from just before SIGKILL until
	// the process is reaped, so the snapshot is the clients' state at the
	// moment of the kill, while the loaders' requests are on the wire.
	type snapshot struct {
		token    string
		inFlight bool
	}
	snaps := make([]snapshot, clients)
	select {
	case <-reached:
	case <-loadersDone:
		for i, l := range loaders {
			if l.err != nil {
				t.Errorf("client %d: %v", i, l.err)
			}
		}
		t.Fatalf("the clients stopped after %d refreshes, before the kill", completed.Load())
	}
	for _, l := range loaders {
		l.mu.Lock()
	}
	killed.Store(true)
	p.kill()
	for i, l := range loaders {
		snaps[i] = snapshot{l.token, l.inFlight}
		l.mu.Unlock()
	}
	<-loadersDone

	inFlight := 0
	for i, l := range loaders {
		if l.err != nil {
			t.Errorf("client %d before the kill: %v", i, l.err)
		}
		if snaps[i].inFlight {
			inFlight++
		}
	}
	t.Logf("SIGKILL after %d refreshes with %d of %d clients in flight; %d refreshes completed in all",
		refreshesBeforeKill, inFlight, clients, completed.Load())
	if t.Failed() {
		return
	}

	// While the server is down: the file opens, is intact, and has every
	// refresh that any client saw answered.
	func() {
		sdb := openSQLite(t, db)
		defer sdb.Close()
		var check string
		if err := sdb.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("PRAGMA integrity_check = %q, %v; want ok", check, err)
		}
		var used int64
		if err := sdb.QueryRow(`SELECT count(*) FROM refresh_tokens WHERE used_at IS NOT NULL`).Scan(&used); err != nil {
			t.Fatal(err)
		}
		if used < completed.Load() {
			t.Errorf("the database has %d used refresh tokens, but clients saw %d refreshes answered", used, completed.Load())
		}
	}()

	p2 := startServe(t, "--db", db, "--issuer", issuer)
	c2 := p2.client(t)
	outcomes := map[string]int{}
	for i, l := range loaders {
		snap := snaps[i]
		token := l.token // the latest token of a complete answer, even one read after the kill
		a := c2.postJSON("/token", tokenBody{token})
		code := "accepted"
		if a.status != http.StatusOK {
			code, _ = a.errorBody(t)
		}
		outcomes[code]++
		switch {
		case !snap.inFlight && a.status != http.StatusOK:
			t.Errorf("client %d had no request in flight; its latest refresh token got %d %s, want 200", i, a.status, a.body)
		case snap.inFlight && token != snap.token && a.status != http.StatusOK:
			t.Errorf("client %d read a complete answer after the kill; that token got %d %s, want 200", i, a.status, a.body)
		case snap.inFlight && a.status != http.StatusOK && code != "token_reused":
			// token_reused: the server rotated the token but the answer was lost
			// in the kill. invalid_token would mean it forgot a token it handed out.
			t.Errorf("client %d was in flight; its token got %d %s, want 200 or token_reused", i, a.status, a.body)
		}
	}
	t.Logf("after the restart, the clients' latest refresh tokens: %v", outcomes)
}

// openSQLite opens a database file with database/sql, as any SQLite tool would.
func openSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// dbFiles returns the bytes of the database file and its companions
// (-wal, -shm), by name.
func dbFiles(tb testing.TB, path string) map[string][]byte {
	tb.Helper()
	names, err := filepath.Glob(path + "*")
	if err != nil {
		tb.Fatal(err)
	}
	files := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		files[filepath.Base(name)] = b
	}
	if len(files[filepath.Base(path)]) == 0 {
		tb.Fatalf("no database file at %s", path)
	}
	return files
}

// secretsOf lists what must never be stored or logged: every token whole
// and its signature alone, and the passwords.
func secretsOf(tokens []string, passwords ...string) map[string]string {
	secrets := map[string]string{}
	for i, tok := range tokens {
		secrets[tok] = fmt.Sprintf("token %d", i)
		if _, sig, ok := strings.Cut(tok[strings.Index(tok, ".")+1:], "."); ok {
			secrets[sig] = fmt.Sprintf("signature of token %d", i)
		}
	}
	for _, pw := range passwords {
		secrets[pw] = "password " + pw
	}
	return secrets
}

func wantNoSecrets(tb testing.TB, where string, data []byte, secrets map[string]string) {
	tb.Helper()
	for s, what := range secrets {
		if bytes.Contains(data, []byte(s)) {
			tb.Errorf("%s holds %s", where, what)
		}
	}
}

func TestServeE2EDatabaseHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	const (
		bobPassword = "Quartz-Zebra-41-Unforgettable"
		badPassword = "Wrong-Horse-Battery-7"
	)
	db := filepath.Join(t.TempDir(), "tokenlab.db")
	p := startServe(t, "--db", db)
	c := p.client(t)

	c.postJSON("/register", credentials{"bob", bobPassword}).want(t, http.StatusCreated)
	c.postJSON("/login", credentials{"alice", badPassword}).want(t, http.StatusUnauthorized)
	var alice, aliceNext, bob seedTokens
	c.postJSON("/login", credentials{"alice", "password123"}).want(t, http.StatusOK).decode(t, &alice)
	c.postJSON("/token", tokenBody{alice.RefreshToken}).want(t, http.StatusOK).decode(t, &aliceNext)
	c.postJSON("/logout", tokenBody{aliceNext.RefreshToken}).want(t, http.StatusNoContent)
	c.postJSON("/login", credentials{"bob", bobPassword}).want(t, http.StatusOK).decode(t, &bob)

	refreshTokens := []string{alice.RefreshToken, aliceNext.RefreshToken, bob.RefreshToken}
	all := append([]string{alice.AccessToken, aliceNext.AccessToken, bob.AccessToken}, refreshTokens...)
	secrets := secretsOf(all, "password123", bobPassword, badPassword)

	for name, b := range dbFiles(t, db) { // while running: the WAL holds the recent writes
		wantNoSecrets(t, name+" (server running)", b, secrets)
	}
	if code, _ := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
	for name, b := range dbFiles(t, db) {
		wantNoSecrets(t, name+" (server stopped)", b, secrets)
	}

	sdb := openSQLite(t, db)
	defer sdb.Close()
	rows, err := sdb.Query(`SELECT jti, token_hash FROM refresh_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string][]byte{}
	for rows.Next() {
		var jti string
		var hash []byte
		if err := rows.Scan(&jti, &hash); err != nil {
			t.Fatal(err)
		}
		if len(hash) != sha256.Size {
			t.Errorf("refresh token %s: stored hash has %d bytes, want %d", jti, len(hash), sha256.Size)
		}
		stored[jti] = hash
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(refreshTokens) {
		t.Errorf("refresh_tokens has %d rows, want %d (one per issued refresh token)", len(stored), len(refreshTokens))
	}
	for i, tok := range refreshTokens {
		jti := claimsOf(t, tok).JTI
		sum := sha256.Sum256([]byte(tok))
		if got, ok := stored[jti]; !ok || !bytes.Equal(got, sum[:]) {
			t.Errorf("refresh token %d (jti %s): stored hash %x, want sha256 of the token %x", i, jti, got, sum)
		}
	}
}

func TestServeE2EGracefulShutdown(t *testing.T) {
	t.Parallel()
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := startServe(t)
			p.client(t).get("/healthz", "").want(t, http.StatusOK)
			code, took := p.stop(t, sig)
			if code != 0 {
				t.Errorf("exit code %d after %s, want 0", code, name)
			}
			if !strings.Contains(p.stderr.String(), "shutting down") {
				t.Errorf("stderr does not say it is shutting down:\n%s", p.stderr.String())
			}
			t.Logf("exit code %d, %v after %s", code, took, name)
		})
	}
}

func TestServeE2EEnvAndDotEnv(t *testing.T) {
	t.Parallel()
	dotEnvDir := func(t *testing.T, content string) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	const dotEnv = "# settings of the seed articles\nREFRESH_TOKEN_EXPIRY=1d\nACCESS_TOKEN_EXPIRY=2m\n"

	for _, tc := range []struct {
		name        string
		env         map[string]string
		dotEnv      string
		args        []string
		wantExpires int64
		wantRefresh string // the banner's refreshTtl
	}{
		{name: "defaults", wantExpires: 900, wantRefresh: "7d"},
		{name: "environment", env: map[string]string{"ACCESS_TOKEN_EXPIRY": "90s"}, wantExpires: 90, wantRefresh: "7d"},
		{name: "dotenv", dotEnv: dotEnv, wantExpires: 120, wantRefresh: "1d"},
		{name: "environment beats dotenv", env: map[string]string{"ACCESS_TOKEN_EXPIRY": "90s"}, dotEnv: dotEnv,
			wantExpires: 90, wantRefresh: "1d"},
		{name: "flag beats both", env: map[string]string{"ACCESS_TOKEN_EXPIRY": "90s"}, dotEnv: dotEnv,
			args: []string{"--access-ttl", "30s"}, wantExpires: 30, wantRefresh: "1d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := serveSpec{env: tc.env}
			if tc.dotEnv != "" {
				spec.dir = dotEnvDir(t, tc.dotEnv)
			}
			p := startServeWith(t, spec, tc.args...)
			if p.banner.RefreshTTL != tc.wantRefresh {
				t.Errorf("banner refreshTtl = %q, want %q", p.banner.RefreshTTL, tc.wantRefresh)
			}
			var login seedTokens
			p.client(t).postJSON("/login", credentials{"alice", "password123"}).want(t, http.StatusOK).decode(t, &login)
			if login.ExpiresIn != tc.wantExpires {
				t.Errorf("expiresIn = %d, want %d", login.ExpiresIn, tc.wantExpires)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		env    map[string]string
		dotEnv string
		want   []string // substrings of the one stderr line
	}{
		{name: "invalid environment value", env: map[string]string{"ACCESS_TOKEN_EXPIRY": "banana"},
			want: []string{"ACCESS_TOKEN_EXPIRY", "banana"}},
		{name: "invalid dotenv value", dotEnv: "ACCESS_TOKEN_EXPIRY=banana\n", want: []string{"ACCESS_TOKEN_EXPIRY", "banana"}},
		{name: "malformed dotenv line", dotEnv: "ACCESS_TOKEN_EXPIRY=2m\nnot a setting\n", want: []string{".env:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := serveSpec{env: tc.env}
			if tc.dotEnv != "" {
				spec.dir = dotEnvDir(t, tc.dotEnv)
			}
			code, stdout, stderr := runServe(t, spec)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %s", stderr, w)
				}
			}
		})
	}
}

// accessLine matches one line of the text access log.
var accessLine = regexp.MustCompile(`msg=request method=(\S+) path=(\S+) status=(\d+) `)

func TestServeE2ELogNeverHoldsSecrets(t *testing.T) {
	t.Parallel()
	const (
		carolPassword = "Velvet-Otter-88-Lighthouse"
		badPassword   = "Wrong-Horse-Battery-7"
	)
	p := startServe(t)
	c := p.client(t)

	var want []string // "METHOD PATH STATUS" of every request, in order
	track := func(a answer, status int) answer {
		t.Helper()
		a.want(t, status)
		want = append(want, fmt.Sprintf("%s %s %d", a.method, a.path, a.status))
		return a
	}
	var login, next, carol seedTokens
	var oauth, oauthNext oauthTokens
	track(c.postJSON("/register", credentials{"carol", carolPassword}), http.StatusCreated)
	track(c.postJSON("/login", credentials{"alice", badPassword}), http.StatusUnauthorized)
	track(c.postJSON("/login", credentials{"alice", "password123"}), http.StatusOK).decode(t, &login)
	track(c.postJSON("/login", credentials{"carol", carolPassword}), http.StatusOK).decode(t, &carol)
	track(c.get("/protected", login.AccessToken), http.StatusOK)
	track(c.get("/protected", login.AccessToken+"x"), http.StatusUnauthorized)
	track(c.postJSON("/token", tokenBody{login.RefreshToken}), http.StatusOK).decode(t, &next)
	track(c.get("/me", next.AccessToken), http.StatusOK)
	track(c.postForm("/oauth/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"password123"}}),
		http.StatusOK).decode(t, &oauth)
	track(c.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oauth.RefreshToken}}),
		http.StatusOK).decode(t, &oauthNext)
	// Introspection needs a confidential client's credentials.
	track(c.postForm("/oauth/introspect", url.Values{"token": {oauthNext.AccessToken}}), http.StatusUnauthorized)
	track(c.postForm("/oauth/revoke", url.Values{"token": {oauthNext.RefreshToken}}), http.StatusOK)
	track(c.postJSON("/token", tokenBody{login.RefreshToken}), http.StatusUnauthorized) // a replay
	track(c.postJSON("/logout", tokenBody{carol.RefreshToken}), http.StatusNoContent)
	track(c.admin(http.MethodGet, "/admin/sessions", nil), http.StatusOK)

	if code, _ := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
	log := p.stderr.String()

	tokens := []string{login.AccessToken, login.RefreshToken, next.AccessToken, next.RefreshToken,
		carol.AccessToken, carol.RefreshToken, oauth.AccessToken, oauth.RefreshToken, oauthNext.AccessToken, oauthNext.RefreshToken}
	secrets := secretsOf(tokens, "password123", carolPassword, badPassword, e2eAdminToken)
	wantNoSecrets(t, "the access log", []byte(log), secrets)
	if strings.Contains(log, "eyJ") {
		t.Errorf("the access log holds something like a JWT (eyJ…):\n%s", log)
	}

	var got []string
	for line := range strings.Lines(log) {
		if m := accessLine.FindStringSubmatch(line); m != nil {
			got = append(got, m[1]+" "+m[2]+" "+m[3])
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("access log lines (method path status):\n%s\nwant one per request:\n%s\nlog:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"), log)
	}
}

func TestServeE2EAddressInUse(t *testing.T) {
	t.Parallel()
	p := startServe(t)
	addr := strings.TrimPrefix(p.banner.URL, "http://")

	code, stdout, stderr := runServe(t, serveSpec{}, "--addr", addr)
	if code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	if lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); len(lines) != 1 || !strings.HasSuffix(lines[0], ".") {
		t.Errorf("stderr = %q, want one sentence", stderr)
	}
	if !strings.Contains(stderr, "--addr") || !strings.Contains(stderr, addr) {
		t.Errorf("stderr = %q, want it to name %s and --addr", stderr, addr)
	}
	p.client(t).get("/healthz", "").want(t, http.StatusOK) // the first server is unharmed
}
