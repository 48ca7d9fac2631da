package main

// End-to-end test of the TUI: the real binary in a real terminal (tmux) at
// 100×30, on its embedded server, with the tokens in the real OS keyring
// (gnome-keyring over D-Bus, see .ci/run). Keys are typed with send-keys
// and the screen is read with capture-pane, polled every 50 ms until the
// expected text shows or a time limit passes: no fixed sleeps.

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/scenarios"

	"github.com/tokenlab/tokenlab/internal/testskip"
)

const (
	tuiCols, tuiRows = 100, 30
	screenTimeout    = 20 * time.Second // an upper bound, not a delay
	screenPoll       = 50 * time.Millisecond
)

// needTmux skips the test when tmux is not installed, but fails it when
// CI=true: CI installs tmux (.ci/run).
func needTmux(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("tmux"); err == nil {
		return
	}
	testskip.Real(tb, "tmux", "not installed, so the TUI is not driven in a real terminal (apt-get install tmux)")
}

var tmuxSockets atomic.Int64

// tmuxTerm is a private tmux server (its own socket, its own config) with
// one pane running one command.
type tmuxTerm struct {
	tb         testing.TB
	socket     string
	config     string
	exitFile   string
	env        []string
	lastScreen string
}

// newTmuxTerm prepares a tmux server whose panes get env (the tmux server
// takes the environment of the process that starts it).
func newTmuxTerm(tb testing.TB, env []string) *tmuxTerm {
	tb.Helper()
	dir := tb.TempDir()
	// The socket goes in the test's temp dir too (TMUX_TMPDIR), so nothing
	// is left in /tmp/tmux-UID.
	env = append(env[:len(env):len(env)], "TMUX_TMPDIR="+dir)
	tt := &tmuxTerm{tb: tb, env: env,
		socket:   fmt.Sprintf("tokenlab-tui-%d-%d", os.Getpid(), tmuxSockets.Add(1)),
		config:   filepath.Join(dir, "tmux.conf"),
		exitFile: filepath.Join(dir, "exit")}
	// remain-on-exit keeps the pane, and its last screen, after the
	// program exits; no status bar, so the program gets all 30 rows.
	// set-clipboard on: the program's OSC 52 copy becomes a tmux buffer.
	conf := "set -g remain-on-exit on\nset -g status off\nset -g history-limit 5000\nset -s set-clipboard on\n"
	if err := os.WriteFile(tt.config, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tt.tmux("kill-server") })
	return tt
}

func (tt *tmuxTerm) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", tt.socket, "-f", tt.config}, args...)...)
	cmd.Env = tt.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// start runs argv in a cols×rows pane; its exit status goes to a file
// (tmux 3.3a's pane_dead_status is unreliable).
func (tt *tmuxTerm) start(dir string, argv ...string) {
	tt.tb.Helper()
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	line := fmt.Sprintf("cd %s && %s; echo $? > %s", shellQuote(dir), strings.Join(quoted, " "), shellQuote(tt.exitFile))
	if _, err := tt.tmux("new-session", "-d", "-s", "tui", "-x", fmt.Sprint(tuiCols), "-y", fmt.Sprint(tuiRows), line); err != nil {
		tt.tb.Fatal(err)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (tt *tmuxTerm) screen() string {
	out, err := tt.tmux("capture-pane", "-p", "-t", "tui")
	if err != nil {
		return err.Error()
	}
	tt.lastScreen = out
	return out
}

// typeText types literal text (send-keys -l: no key-name lookup).
func (tt *tmuxTerm) typeText(text string) {
	tt.tb.Helper()
	if _, err := tt.tmux("send-keys", "-t", "tui", "-l", "--", text); err != nil {
		tt.tb.Fatal(err)
	}
}

// keys types tmux key names (Enter, Escape, Down) or single characters.
func (tt *tmuxTerm) keys(keys ...string) {
	tt.tb.Helper()
	if _, err := tt.tmux(append([]string{"send-keys", "-t", "tui"}, keys...)...); err != nil {
		tt.tb.Fatal(err)
	}
}

// wait polls the screen until every pattern matches it, and returns it.
func (tt *tmuxTerm) wait(what string, patterns ...string) string {
	tt.tb.Helper()
	res := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		res[i] = regexp.MustCompile(p)
	}
	deadline := time.Now().Add(screenTimeout)
	for {
		s := tt.screen()
		missing := ""
		for _, re := range res {
			if !re.MatchString(s) {
				missing = re.String()
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			tt.tb.Fatalf("%s: after %s the screen still lacks /%s/:\n%s", what, screenTimeout, missing, indent(s))
		}
		time.Sleep(screenPoll)
	}
}

// waitGone polls the screen until pattern no longer matches it.
func (tt *tmuxTerm) waitGone(what, pattern string) {
	tt.tb.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(screenTimeout)
	for re.MatchString(tt.screen()) {
		if time.Now().After(deadline) {
			tt.tb.Fatalf("%s: after %s the screen still shows /%s/:\n%s", what, screenTimeout, pattern, indent(tt.lastScreen))
		}
		time.Sleep(screenPoll)
	}
}

// exitStatus waits for the program to exit and returns its status.
func (tt *tmuxTerm) exitStatus() string {
	tt.tb.Helper()
	deadline := time.Now().Add(screenTimeout)
	for {
		if b, err := os.ReadFile(tt.exitFile); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			tt.tb.Fatalf("the program did not exit within %s; screen:\n%s", screenTimeout, indent(tt.screen()))
		}
		time.Sleep(screenPoll)
	}
}

func indent(s string) string {
	return "  | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  | ")
}

// keyringEntries lists the keyring items of service tokenlab whose
// attributes mention server.
func keyringEntries(tb testing.TB, server string) []string {
	tb.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		s, err := client.NewKeyringStore().Load(tb.Context(), client.Key("tokenlab", server, "alice"))
		if err == nil {
			return []string{"alice's session at " + s.Server}
		}
		return nil
	}
	out, _ := exec.Command("secret-tool", "search", "--all", "service", client.KeyringService).CombinedOutput()
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, server) {
			found = append(found, strings.TrimSpace(line))
		}
	}
	return found
}

// tuiEnv is the environment of a TUI process: its own data (the embedded
// database), config and cache dirs, and none of tokenlab's settings or of
// an enclosing tmux from this environment.
func tuiEnv(tb testing.TB, data string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "XDG_DATA_HOME", name == "XDG_CONFIG_HOME", name == "XDG_CACHE_HOME", name == "NO_COLOR",
			name == "TMUX", name == "TMUX_PANE", name == "TMUX_TMPDIR", isSettingEnv(name):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "XDG_DATA_HOME="+data, "XDG_CONFIG_HOME="+tb.TempDir(), "XDG_CACHE_HOME="+tb.TempDir())
}

var embeddedURL = regexp.MustCompile(`Embedded mock server at (http://127\.0\.0\.1:\d+)`)

// TestTUIE2E walks the lab in the real binary: log in by typing (a wrong
// password first), call the API, expire the access token, watch the
// reactive refresh and rotation, log out — then send the pre-logout access
// token to /protected from here and check the access card predicted the
// answer — log in again, let the attacker replay, play reuse-detection to
// the end, quit; the session kept in the OS keyring is gone afterwards. A
// second launch on the same database shows only its own events.
func TestTUIE2E(t *testing.T) {
	needTmux(t)
	needKeyring(t)
	bin := tokenlabBinary(t)
	sc, err := scenarios.Builtin("reuse-detection")
	if err != nil {
		t.Fatal(err)
	}
	if scenarios.BuiltinNames[3] != sc.Name {
		t.Fatalf("reuse-detection is not the 4th built-in scenario (%v): the walk below picks the 4th", scenarios.BuiltinNames)
	}

	data := t.TempDir()
	env := tuiEnv(t, data)

	tt := newTmuxTerm(t, env)
	started := time.Now()
	tt.start(t.TempDir(), bin) // no arguments: the TUI, the default --token-store keyring
	screen := tt.wait("the login screen", `Demo user: alice / password password123`, `› password`, `Tokens will be kept in: OS keyring`, `enter log in`)
	t.Logf("login screen after %v (start to text, polled every %v)", time.Since(started).Round(time.Millisecond), screenPoll)
	m := embeddedURL.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("the login screen does not name the embedded server:\n%s", indent(screen))
	}
	server := m[1]
	cleanKeyring(t, server) // should the walk stop half-way
	if _, err := os.Stat(filepath.Join(data, "tokenlab", "tokenlab.db")); err != nil {
		t.Errorf("the embedded database is not in XDG_DATA_HOME: %v", err)
	}

	// ? on the login screen shows help, not a letter of the password; a
	// newcomer types the shown password over the prefilled one, and the
	// first key replaces it (issue 17, point 10).
	tt.wait("prefilled", `prefilled: type to replace`)
	tt.keys("?")
	tt.wait("? on the login screen", `Dashboard`, `esc back`)
	tt.keys("Escape")
	tt.wait("esc from help", `› password`)
	tt.typeText("password123")
	tt.keys("Enter")
	tt.wait("login", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`, `kept in OS keyring`, `Logged in\.`)
	if got := keyringEntries(t, server); len(got) == 0 {
		t.Errorf("after login the OS keyring holds no entry for %s", server)
	}
	// A first launch explains why there are two tokens; t hides it (and
	// the next launch remembers).
	tt.wait("why two tokens", `Why two tokens\?`, `t hides this`, `lives 15m`)
	tt.keys("t")
	tt.waitGone("why two tokens hidden", `Why two tokens\?`)

	tt.keys("p")
	tt.wait("p", `GET /protected 200`, `/protected → 200\.`)

	// enter: the request view of the newest row, the call just made, as
	// the client sent it (the token shortened) and the server answered;
	// ← the login before it, its password hidden; tab the login's diagram
	// (issue 17, point 17).
	tt.keys("Enter")
	screen = tt.wait("enter: the request view", `Request \d+ of \d+`, `→ GET http://127\.0\.0\.1:\d+/protected`,
		`Authorization: Bearer eyJ\S{5}… \(\d+ chars\)`, `← 200 OK`, `"username": "alice"`)
	inHand, err := client.NewKeyringStore().Load(t.Context(), client.Key("tokenlab", server, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ReplaceAll(screen, "\n", ""), inHand.AccessToken[len(inHand.AccessToken)-20:]) {
		t.Errorf("the request view shows the access token's end, not only its start:\n%s", indent(screen))
	}
	tt.keys("Left")
	screen = tt.wait("← the login", `→ POST http://127\.0\.0\.1:\d+/login`, `"password": "•••• \(hidden\)"`, `"accessToken": "eyJ\S{5}… \(\d+ chars\)"`)
	if strings.Contains(screen, "password123") {
		t.Errorf("the request view shows the password:\n%s", indent(screen))
	}
	tt.keys("Tab")
	tt.wait("tab: the login's diagram", `Login sequence`, `authorization server`, `POST /login ─+▶│`, `│◀─+ 200 access \+ refresh`)
	tt.keys("Escape")
	tt.wait("esc from the request view", `Timeline`, `GET /protected 200`)

	tt.keys("f")
	tt.wait("f", `ACCESS TOKEN\s+EXPIRED.*REFRESH TOKEN\s+VALID`, `clock \+16m`)

	tt.keys("p")
	// The timeline fills as the client's and the server's events arrive,
	// a moment after the card changes: wait for all of them.
	tt.wait("p after expiry", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+ROTATED`, `/protected → 200\.`,
		`GET /protected 401`, `client\s+refresh `, `rotation `, `access_rejected`,
		`(?s)GET /protected 200.*GET /protected 200`) // the first call and the retry

	// The access token in hand before logout, read where the lab keeps it.
	sess, err := client.NewKeyringStore().Load(t.Context(), client.Key("tokenlab", server, "alice"))
	if err != nil {
		t.Fatalf("the session is not in the OS keyring before logout: %v", err)
	}
	tt.keys("x")
	screen = tt.wait("x", `REFRESH TOKEN\s+REVOKED`, `Logged out`, `family_revoked`, `forgotten: no longer in OS keyring`)
	if got := keyringEntries(t, server); len(got) > 0 { // the card says forgotten: the keyring agrees
		t.Errorf("after logout the refresh card says forgotten, but the OS keyring holds %q", got)
	}
	predicted := http.StatusOK
	switch {
	case regexp.MustCompile(`ACCESS TOKEN\s+VALID`).MatchString(screen) && strings.Contains(screen, "still accepted until exp"):
	case regexp.MustCompile(`ACCESS TOKEN\s+REVOKED`).MatchString(screen) && strings.Contains(screen, "refused (denylist)"):
		predicted = http.StatusUnauthorized
	default:
		t.Fatalf("after logout the access card says neither accepted nor refused:\n%s", indent(screen))
	}
	if got := protectedStatus(t, server, sess.AccessToken); got != predicted {
		t.Errorf("the access card predicted %d for the pre-logout access token; the server answered %d:\n%s", predicted, got, indent(screen))
	}
	// c copies the access token (OSC 52, here into a tmux buffer), as a
	// learner would for curl; p sends it and shows the server's answer.
	tt.keys("c")
	tt.wait("c", `Copied the access token \(jti [0-9a-f]{8}`)
	if buf, err := tt.tmux("show-buffer"); err != nil || buf != sess.AccessToken {
		t.Errorf("c put %d characters on the clipboard (%v), not the access token", len(buf), err)
	}
	tt.keys("p")
	tt.wait("p after logout", fmt.Sprintf(`The old access token → %d`, predicted))

	tt.keys("L")
	// After L the demo password is prefilled as at launch; typing replaces
	// it: a wrong password first, then, cleared, the right one.
	tt.wait("L", `› password\s+•{11}`, `prefilled: type to replace`, `enter log in`)
	tt.typeText("not-the-password")
	tt.keys("Enter")
	tt.wait("wrong password", `wrong username or password`, `› password`)
	tt.keys("C-u")
	tt.typeText("password123")
	tt.keys("Enter")
	tt.wait("login again", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`)
	tt.keys("f")
	tt.wait("f again", `ACCESS TOKEN\s+EXPIRED`)
	tt.keys("p")
	tt.wait("rotated", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+ROTATED`)
	tt.keys("a")
	tt.wait("a", `REFRESH TOKEN\s+REVOKED`, `attacker\s+POST /token 401`, `reuse_detected`, `family_revoked`, `Reuse detected`)

	// The family as a picture: the chain of this login, the replayed
	// (spent) token marked, every token revoked with the family.
	tt.keys("g")
	screen = tt.wait("g", `Token family`, `REVOKED\s+at \S+ \(reuse_detected\)`, `▲ REPLAYED at`, `\(login\)`, `│ rotated`)
	if n := len(regexp.MustCompile(`✗ [0-9a-f]{8} `).FindAllString(screen, -1)); n != 2 {
		t.Errorf("the family view shows %d revoked tokens, want the login's and its successor's:\n%s", n, indent(screen))
	}
	if !regexp.MustCompile(`✗ [0-9a-f]{8} .*revoked \(spent before\).*\n\s+▲ REPLAYED`).MatchString(screen) {
		t.Errorf("the replay mark is not under the spent token:\n%s", indent(screen))
	}
	tt.keys("Escape")
	tt.wait("esc from the family", `Timeline`)

	tt.keys("s")
	tt.wait("s", `Scenarios ·`, `› basic-login`, `q quit`)
	tt.keys("Down", "Down", "Down")
	tt.wait("the 4th scenario", `› reuse-detection`)
	tt.keys("Enter")
	// The scenario plays on a dashboard of its own server: its cards,
	// family and timeline move with each step, its narration above them
	// (issue 17, point 16).
	tt.wait("reuse-detection started", `Press n or space`, `reuse-detection · step 0 of 7`, `no token yet`)
	tt.keys("n")
	tt.wait("n: the login step", `step 1 of 7: log in as alice → 200`, regexp.QuoteMeta(sc.Steps[0].Say),
		`ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`, `family [0-9a-f]{8}… alice · 1 token · active`, `server\s+login`)
	tt.keys("R") // to the end, with a pause at each step for the class to read
	for n := 2; n < len(sc.Steps); n++ {
		tt.wait(fmt.Sprintf("R: the pause after step %d", n), fmt.Sprintf(`Step %d of %d done; the next follows`, n, len(sc.Steps)))
		if n == 4 {
			tt.wait("the replay on the stage", `REFRESH TOKEN\s+REVOKED`, `revoked \(reuse_detected\)`, `server\s+family_revoked`)
		}
	}
	tt.wait("R", fmt.Sprintf(`All %d steps passed`, len(sc.Steps)), `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`)
	tt.keys("g") // the scenario's family, drawn whole from its server's records
	tt.wait("g on the stage", `alive: 1 token`, `\(login\)`)
	tt.keys("g")
	tt.wait("g again: the cards", `ACCESS TOKEN\s+VALID`)
	tt.keys("v") // the text-only player stays as a view
	tt.wait("v: the steps as text", `✓  7 GET /protected → 200`)
	tt.keys("Escape")
	tt.wait("esc to the list", `› reuse-detection`)
	tt.keys("Escape")
	tt.wait("esc to the dashboard", `Timeline`, `REFRESH TOKEN\s+REVOKED`)

	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0; screen:\n%s", status, indent(tt.screen()))
	}
	last := tt.screen()
	for _, bad := range []string{"tokenlab:", "panic", "goroutine"} {
		if strings.Contains(last, bad) {
			t.Errorf("after exit the terminal shows %q:\n%s", bad, indent(last))
		}
	}
	if got := keyringEntries(t, server); len(got) > 0 {
		t.Errorf("after exit the OS keyring still holds the lab's session: %q", got)
	}

	// A second launch on the same database: its timeline starts empty and
	// shows only its own login and call, though the first run moved the
	// clock and left many events behind.
	second := newTmuxTerm(t, env)
	second.start(t.TempDir(), bin)
	screen = second.wait("the second login screen", `› password`)
	if m := embeddedURL.FindStringSubmatch(screen); m != nil {
		cleanKeyring(t, m[1])
	}
	second.keys("Enter")
	screen = second.wait("second login", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`)
	if strings.Contains(screen, "Why two tokens?") {
		t.Errorf("the second launch shows the explanation hidden in the first:\n%s", indent(screen))
	}
	second.keys("p")
	screen = second.wait("second p", `GET /protected 200`, `server\s+login`)
	for _, old := range []string{"family_revoked", "reuse_detected", "clock +16m", "rotation", "access_rejected"} {
		if strings.Contains(screen, old) {
			t.Errorf("the second launch shows the first launch's %s:\n%s", old, indent(screen))
		}
	}
	second.keys("q")
	if status := second.exitStatus(); status != "0" {
		t.Errorf("the second launch exited with %s, want 0", status)
	}
}

// protectedStatus sends an access token to the server's /protected, as
// whoever holds it would.
func protectedStatus(t *testing.T, server, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, server+"/protected", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTUIE2EQuitRemovesSession: quitting with a live session removes it
// from the OS keyring (the embedded server's address changes every start,
// so the session would be of no further use).
func TestTUIE2EQuitRemovesSession(t *testing.T) {
	needTmux(t)
	needKeyring(t)
	bin := tokenlabBinary(t)
	tt := newTmuxTerm(t, tuiEnv(t, t.TempDir()))
	tt.start(t.TempDir(), bin, "tui")
	screen := tt.wait("the login screen", `Demo user: alice`, `› password`)
	m := embeddedURL.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("the login screen does not name the embedded server:\n%s", indent(screen))
	}
	cleanKeyring(t, m[1])
	tt.keys("Enter")
	tt.wait("login", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`)
	if got := keyringEntries(t, m[1]); len(got) == 0 {
		t.Fatalf("after login the OS keyring holds no entry for %s", m[1])
	}
	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0; screen:\n%s", status, indent(tt.screen()))
	}
	if got := keyringEntries(t, m[1]); len(got) > 0 {
		t.Errorf("after q the OS keyring still holds the lab's session: %q", got)
	}
}

// TestTUIE2EWithoutKeyring: a newcomer without a keyring still gets a
// working lab, with tokens in memory and a sentence saying so; asked for
// the keyring explicitly, the lab keeps it and login says what to do.
func TestTUIE2EWithoutKeyring(t *testing.T) {
	needTmux(t)
	var env []string
	for _, kv := range tuiEnv(t, t.TempDir()) {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			env = append(env, kv)
		}
	}
	tt := newTmuxTerm(t, env)
	tt.start(t.TempDir(), tokenlabBinary(t))
	tt.wait("the login screen", `Tokens will be kept in: memory`, `No OS keyring is reachable`, `--token-store file`)
	tt.keys("Enter")
	tt.wait("login", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`, `kept in memory`)
	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0", status)
	}

	explicit := newTmuxTerm(t, env)
	explicit.start(t.TempDir(), tokenlabBinary(t), "--token-store", "keyring")
	explicit.wait("the login screen", `Tokens will be kept in: OS keyring`)
	explicit.keys("Enter")
	explicit.wait("login refused", `(?i)no OS keyring is reachable`, `--token-store memory`)
	explicit.keys("C-c")
	if status := explicit.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0", status)
	}
}

// authorizeStart finds the PKCE authorize URL on the login screen; it is
// broken over the lines that follow, up to a blank line.
var authorizeStart = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/oauth/authorize\?`)

func authorizeURLOn(screen string) string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if !authorizeStart.MatchString(l) {
			continue
		}
		u := strings.TrimSpace(l)
		for _, next := range lines[i+1:] {
			next = strings.TrimSpace(next)
			if next == "" || strings.Contains(next, " ") {
				break
			}
			u += next
		}
		return u
	}
	return ""
}

var userCodeLine = regexp.MustCompile(`code ([A-Z]{4}-[A-Z]{4}) · expires in`)

// TestTUIE2ELoginFlows: the login screen's browser (PKCE) and device
// flows in the real binary, in tmux, with the real keyring. The test
// plays the learner's browser: it reads the authorize URL off the screen
// (--no-browser) and fills the server's HTML form over HTTP; then it
// reads the user code off the screen and approves it on /device.
func TestTUIE2ELoginFlows(t *testing.T) {
	needTmux(t)
	needKeyring(t)
	bin := tokenlabBinary(t)
	tt := newTmuxTerm(t, tuiEnv(t, t.TempDir()))
	tt.start(t.TempDir(), bin, "--no-browser")
	screen := tt.wait("the login screen", `flow\s+\[password\] browser \(PKCE\)\s+device code`, `› password`)
	m := embeddedURL.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("the login screen does not name the embedded server:\n%s", indent(screen))
	}
	server := m[1]
	t.Cleanup(func() { client.NewKeyringStore().Delete(t.Context(), client.Key("oauth2", server, "alice")) })

	tt.keys("Down", "Right")
	tt.wait("the browser flow chosen", `\[browser \(PKCE\)\]`)
	tt.keys("Enter")
	screen = tt.wait("the PKCE screen", `Logging in through the browser`, `Open this URL`, `(?m)^http://127\.0\.0\.1:\d+/oauth/authorize\?`,
		`Waiting for the browser: this screen goes on by itself`, `esc cancel`)
	authorize := authorizeURLOn(screen)
	if !strings.Contains(authorize, "code_challenge_method=S256") || !strings.Contains(authorize, "redirect_uri=") {
		t.Fatalf("the authorize URL read off the screen is %q:\n%s", authorize, indent(screen))
	}
	if err := fillLoginForm(authorize, "alice", "password123", nil); err != nil {
		t.Fatalf("the browser's part: %v", err)
	}
	tt.wait("PKCE login", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`, `alice @ 127\.0\.0\.1:\d+ \(oauth2\)`,
		`code exchange`, `code_redeemed`)
	tt.keys("p")
	tt.wait("p after PKCE", `GET /protected 200`)

	// Log out, then the device flow.
	tt.keys("x")
	tt.wait("x", `Logged out`)
	tt.keys("L")
	tt.wait("L", `\[browser \(PKCE\)\]`)
	tt.keys("Right")
	tt.wait("the device flow chosen", `\[device code\]`)
	tt.keys("Enter")
	screen = tt.wait("the device screen", `Logging in with a device code`, `████`, `/device`, `code [A-Z]{4}-[A-Z]{4} · expires in`, `esc cancel`)
	code := userCodeLine.FindStringSubmatch(screen)[1]
	// tab: the flow as a sequence diagram, filled in as it runs (issue 17, point 17).
	tt.keys("Tab")
	tt.wait("tab: the device flow's diagram", `Login sequence · fills in as the flow runs`, `authorization server`,
		`POST /oauth/device_authorization ─*▶│`, `200 device code \+ user code`, `│ device code`)
	tt.keys("Tab")
	tt.wait("tab: back to the code", `code [A-Z]{4}-[A-Z]{4} · expires in`)
	if err := fillLoginForm(server+"/device", "alice", "password123", map[string]string{"user_code": code}); err != nil {
		t.Fatalf("approving %s on /device: %v", code, err)
	}
	tt.wait("device login", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`, `device approved`, `poll: pending|device_approved`)
	tt.keys("Enter")
	tt.wait("enter: the request view", `Request \d+ of \d+`)
	tt.keys("Tab")
	tt.wait("the device login's whole diagram", `Login sequence`, `POST /oauth/token`, `user on another device: approved`, `200 access \+ refresh`)
	tt.keys("Escape")
	tt.wait("back", `Timeline`)

	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0; screen:\n%s", status, indent(tt.screen()))
	}
}

// TestTUIE2EBrowserOpenerStaysOffScreen (issue 17, point 12): the
// program that opens the browser (here a stand-in xdg-open that talks on
// stdout and stderr) never writes on the TUI's terminal; when it fails,
// the screen says so in one status and shows the URL to open.
func TestTUIE2EBrowserOpenerStaysOffScreen(t *testing.T) {
	needTmux(t)
	bin := tokenlabBinary(t)
	fake := t.TempDir()
	exitFile := filepath.Join(fake, "exit")
	script := "#!/bin/sh\necho OPENER-STDOUT-NOISE\necho OPENER-STDERR-NOISE >&2\nexit $(cat " + shellQuote(exitFile) + ")\n"
	if err := os.WriteFile(filepath.Join(fake, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exitFile, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range tuiEnv(t, t.TempDir()) {
		if strings.HasPrefix(kv, "PATH=") {
			kv = "PATH=" + fake + ":" + strings.TrimPrefix(kv, "PATH=")
		}
		env = append(env, kv)
	}
	tt := newTmuxTerm(t, env)
	written := filepath.Join(t.TempDir(), "pane.log")
	tt.start(t.TempDir(), bin, "--token-store", "memory")
	if _, err := tt.tmux("pipe-pane", "-t", "tui", "-o", "cat >> "+shellQuote(written)); err != nil {
		t.Fatal(err)
	}
	tt.wait("the login screen", `› password`)
	noise := func(when string) {
		t.Helper()
		b, _ := os.ReadFile(written)
		if s := tt.screen(); strings.Contains(string(b), "OPENER-") || strings.Contains(s, "OPENER-") {
			t.Errorf("%s: the opener wrote on the TUI's terminal:\n%s", when, indent(s))
		}
	}
	tt.keys("Down", "Right")
	tt.wait("the browser flow chosen", `\[browser \(PKCE\)\]`)
	tt.keys("Enter")
	tt.wait("opened", `Your browser was opened`, `Waiting for the browser`)
	noise("after opening")

	tt.keys("Escape")
	tt.wait("cancelled", `Cancelled\.`)
	if err := os.WriteFile(exitFile, []byte("3"), 0o644); err != nil {
		t.Fatal(err)
	}
	tt.keys("Enter")
	tt.wait("the opener failed", `the browser could not be opened \(exit\s+status 3\)`, `Open this URL`,
		`(?m)^http://127\.0\.0\.1:\d+/oauth/authorize\?`)
	noise("after a failed open")
	tt.keys("C-c")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0", status)
	}
}

// TestTUIE2EAdminTokenOnServer (issue 17, point 13): against --server on
// a tokenlab serve, TOKENLAB_ADMIN_TOKEN in the environment lets the lab
// move that server's clock, show its rows and draw the family graph.
func TestTUIE2EAdminTokenOnServer(t *testing.T) {
	needTmux(t)
	bin := tokenlabBinary(t)
	srv := startServe(t)
	tt := newTmuxTerm(t, append(tuiEnv(t, t.TempDir()), "TOKENLAB_ADMIN_TOKEN="+e2eAdminToken))
	tt.start(t.TempDir(), bin, "--server", srv.banner.URL, "--token-store", "memory", "--username", "alice")
	tt.wait("the login screen", `move its clock through its admin API`, `› password`)
	tt.typeText("password123")
	tt.keys("Enter")
	tt.wait("login", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`, `server\s+login`)
	tt.keys("f")
	tt.wait("f", `ACCESS TOKEN\s+EXPIRED`, `clock \+16m`, `clock_moved`)
	tt.keys("p")
	tt.wait("p", `server\s+rotation`, `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+ROTATED`)
	tt.keys("g")
	tt.wait("g", `Token family`, `alive: 2 tokens`, `│ rotated`)
	tt.keys("Escape")
	tt.wait("back", `Timeline`)
	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0", status)
	}
}

// TestTUIE2EResetTheLab (issue 17, point 18): ctrl+r twice gives the
// next class a new lab: a new server on a new database, a fresh login
// screen, and none of the last class's rows.
func TestTUIE2EResetTheLab(t *testing.T) {
	needTmux(t)
	bin := tokenlabBinary(t)
	data := t.TempDir()
	tt := newTmuxTerm(t, tuiEnv(t, data))
	tt.start(t.TempDir(), bin, "--token-store", "memory")
	screen := tt.wait("the login screen", `› password`)
	first := embeddedURL.FindStringSubmatch(screen)[1]
	tt.keys("Enter")
	tt.wait("login", `ACCESS TOKEN\s+VALID`)
	tt.keys("f", "p")
	tt.wait("p", `REFRESH TOKEN\s+ROTATED`, `rotation`)
	tt.keys("C-r")
	tt.wait("asked", `Press ctrl\+r again to reset the lab`)
	tt.keys("C-r")
	screen = tt.wait("reset", `The lab was reset`, `› password`, `prefilled`)
	if second := embeddedURL.FindStringSubmatch(screen)[1]; second == first {
		t.Errorf("after the reset the lab still runs on %s", first)
	}
	tt.keys("Enter")
	screen = tt.wait("login after the reset", `ACCESS TOKEN\s+VALID.*REFRESH TOKEN\s+VALID`, `server\s+login`)
	for _, old := range []string{"rotation", "clock +16m", "access_rejected"} {
		if strings.Contains(screen, old) {
			t.Errorf("after the reset the timeline shows the last class's %s:\n%s", old, indent(screen))
		}
	}
	if _, err := os.Stat(filepath.Join(data, "tokenlab", "tokenlab.db")); err != nil {
		t.Errorf("no database after the reset: %v", err)
	}
	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0", status)
	}
}

// TestTUIE2ELabSettings (issue 17, point 15): tokenlab tui takes the
// embedded server's settings as flags; , shows them and changes one live
// (it lands in the timeline); m moves the clock a minute, enough for a
// 2m access token to turn EXPIRING.
func TestTUIE2ELabSettings(t *testing.T) {
	needTmux(t)
	bin := tokenlabBinary(t)
	tt := newTmuxTerm(t, tuiEnv(t, t.TempDir()))
	tt.start(t.TempDir(), bin, "--token-store", "memory", "--access-ttl", "2m", "--rotation=false")
	tt.wait("the login screen", `› password`)
	tt.keys("Enter")
	tt.wait("login", `ACCESS TOKEN\s+VALID`, `(2m|1m \d+s) left`) // the lab's clock runs: 2m, then 1m 59s…
	tt.keys(",")
	tt.wait("the settings", `Lab settings`, `access TTL\s+2m`, `rotation\s+off`, `reuse detection\s+on`)
	tt.keys("Down", "Down", "Down", "Down", "Down", "Enter") // access denylist
	tt.wait("denylist on", `access denylist\s+on`, `access denylist is now on`)
	tt.keys("Escape")
	tt.wait("the dashboard", `setting access`, `Timeline`)
	tt.keys("m")
	tt.wait("m", `ACCESS TOKEN\s+EXPIRING`, `clock \+1m`)
	tt.keys("x")
	tt.wait("x with the denylist", `ACCESS TOKEN\s+REVOKED`, `refused \(denylist\)`)
	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0", status)
	}
}

// TestTUISettingFlagsUsage (issue 17, point 15): the lab settings are the
// embedded server's; with --server, or an impossible value, tokenlab tui
// stops with a usage error before anything starts.
func TestTUISettingFlagsUsage(t *testing.T) {
	privateDirs(t)
	for _, args := range [][]string{
		{"tui", "--server", "http://127.0.0.1:1", "--rotation=false"},
		{"tui", "--access-ttl", "0s", "--token-store", "memory"},
	} {
		code, _, stderr := runBuffered(t, "", args...)
		if code != 2 || !strings.Contains(stderr, "tokenlab:") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error (2)", args, code, stderr)
		}
	}
}

// TestTUIE2EWatch (issue 15, point 6): tokenlab tui --server URL
// --admin-token-file F --watch ID on a tokenlab serve shows that client's
// family and server events live, as an app logs in, rotates and has a
// spent token replayed, and f moves the server's clock.
func TestTUIE2EWatch(t *testing.T) {
	needTmux(t)
	bin := tokenlabBinary(t)
	srv := startServe(t)
	tokenFile := filepath.Join(t.TempDir(), "admin.txt")
	if err := os.WriteFile(tokenFile, []byte(e2eAdminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tt := newTmuxTerm(t, tuiEnv(t, t.TempDir()))
	tt.start(t.TempDir(), bin, "--server", srv.banner.URL, "--admin-token-file", tokenFile, "--watch", "tokenlab", "--token-store", "memory")
	tt.wait("the watch screen", `watching client tokenlab`, `None yet`, `No events of this client yet`)

	// The app: the OAuth client tokenlab, logging in with a password, refreshing, then its spent token replayed.
	p, err := client.ResolveProfile("oauth2")
	if err != nil {
		t.Fatal(err)
	}
	p.OAuth.ClientID = "tokenlab"
	app, err := client.New(srv.banner.URL, "alice", p, client.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	first, err := app.Login(t.Context(), "password123")
	if err != nil {
		t.Fatal(err)
	}
	tt.wait("the app's login, live", `family [0-9a-f]{8}… alice · 1 token · active`, `server\s+login`)
	if _, err := app.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	tt.wait("the rotation, live", `alice · 2 tokens · active\s+○→●`, `server\s+rotation`)
	app.Replay(t.Context(), first.RefreshToken)
	tt.wait("the replay, live", `revoked \(reuse_detected\)\s+✗→✗`, `server\s+reuse_detected`, `server\s+family_revoked`)
	tt.keys("f")
	tt.wait("f", `The server's clock moved 16m forward`)
	tt.keys("q")
	if status := tt.exitStatus(); status != "0" {
		t.Errorf("tokenlab exited with %s, want 0", status)
	}
}
