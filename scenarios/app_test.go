package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary be the app under test: with
// TOKENLAB_TEST_APP set it runs one of the small apps below instead of
// the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TOKENLAB_TEST_APP"); mode != "" {
		os.Exit(testApp(mode))
	}
	os.Exit(m.Run())
}

// testApp is a minimal app of the environment contract:
//
//	ignore-term   serves /healthz and ignores SIGTERM (the runner must kill it)
//	exit-on-data  exits 4 when /data is called
//	leaky         prints its client secret and a token, then serves /healthz
//	oauth         logs in with the code flow at /login and /callback, then refreshes once in the background
func testApp(mode string) int {
	if mode == "ignore-term" {
		signal.Ignore(syscall.SIGTERM)
	}
	if f := os.Getenv("TEST_APP_PIDFILE"); f != "" {
		os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	fmt.Printf("test app %s listening on %s\n", mode, os.Getenv(EnvPort))
	if mode == "leaky" { // a debug log, as apps have: its secret and a token
		fmt.Printf("test app: client secret %s, token %s\n", os.Getenv(EnvClientSecret), leakedToken)
		fmt.Printf("test app: inherited admin token %q, password %q\n", os.Getenv("TOKENLAB_ADMIN_TOKEN"), os.Getenv("TOKENLAB_PASSWORD"))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /data", func(w http.ResponseWriter, r *http.Request) {
		if mode == "exit-on-data" {
			fmt.Fprintln(os.Stderr, "test app: /data is fatal here")
			os.Exit(4)
		}
	})
	issuer := os.Getenv(EnvIssuer)
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		q := url.Values{"response_type": {"code"}, "client_id": {os.Getenv(EnvClientID)}, "redirect_uri": {os.Getenv(EnvRedirectURI)},
			"state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		http.Redirect(w, r, issuer+"/oauth/authorize?"+q.Encode(), http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		tok, err := testAppToken(url.Values{"grant_type": {"authorization_code"}, "code": {r.URL.Query().Get("code")},
			"redirect_uri": {os.Getenv(EnvRedirectURI)}, "code_verifier": {verifier}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		go func() { // a background refresh, which await waits for
			time.Sleep(100 * time.Millisecond)
			if _, err := testAppToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}); err != nil {
				fmt.Fprintln(os.Stderr, "test app: refresh:", err)
			}
		}()
		io.WriteString(w, "logged in\n")
	})
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv(EnvPort), Handler: mux}
	if mode != "ignore-term" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		go func() { <-ctx.Done(); srv.Close() }()
	}
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testAppToken calls the token endpoint as the app's client and returns
// the refresh token.
func testAppToken(form url.Values) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, os.Getenv(EnvIssuer)+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(os.Getenv(EnvClientID), os.Getenv(EnvClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("token endpoint: %d", resp.StatusCode)
	}
	return body.RefreshToken, nil
}

// appRunner runs scenarios with this test binary as the app.
func appRunner(t *testing.T, mode string) *Runner {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner()
	t.Setenv("TOKENLAB_TEST_APP", mode)
	// exec: the app is the shell's process itself, so the runner reaps it
	// (an orphaned grandchild would be a zombie until init reaps it).
	r.App = AppConfig{Command: "exec " + strconv.Quote(self), StopGrace: 200 * time.Millisecond, ReadyTimeout: 20 * time.Second}
	return r
}

func runAppScenario(t *testing.T, r *Runner, src string) Result {
	t.Helper()
	sc, err := Parse("app.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return r.Run(t.Context(), sc)
}

// An app that ignores SIGTERM is killed after the grace period, and no
// process is left behind.
func TestAppStoppedWithSIGTERMThenKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("TEST_APP_PIDFILE", pidFile)
	r := appRunner(t, "ignore-term")
	res := runAppScenario(t, r, "name: x\nsteps:\n  - http: /healthz\n")
	if res.Status != Passed || !strings.Contains(res.AppOutput, "test app ignore-term listening on") {
		t.Fatalf("%s: %s, output %q", res.Status, res.Reason, res.AppOutput)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(data))
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the app (pid %d) is still there after the scenario: kill -0 said %v", pid, err)
	}
}

// An app that exits during a step fails it with a sentence that says so.
func TestAppExitingDuringTheScenario(t *testing.T) {
	r := appRunner(t, "exit-on-data")
	res := runAppScenario(t, r, "name: x\nsteps:\n  - http: /data\n  - http: /healthz\n")
	if res.Status != Failed || !strings.Contains(res.Reason, "step 1 (http, app.yaml:3): the app exited during the scenario (exit status 4)") ||
		!strings.Contains(res.AppOutput, "test app: /data is fatal here") {
		t.Errorf("%s: %q, output %q", res.Status, res.Reason, res.AppOutput)
	}
}

// browse plays the person through the app's login; await waits for the
// app's background refresh, counted by the app's client.
func TestAppBrowseAndAwait(t *testing.T) {
	r := appRunner(t, "oauth")
	res := runAppScenario(t, r, `name: x
steps:
  - browse: login
    expect: {status: 200, body_contains: logged in, events: {code_redeemed: 1}}
  - await: {events: {refresh: 1, rotation: 1}, within: 10s}
`)
	if res.Status != Passed {
		t.Fatalf("%s: %s\n%s", res.Status, res.Reason, res.AppOutput)
	}
	res = runAppScenario(t, r, `name: x
steps:
  - browse: login
  - await: {events: {refresh: 2}, within: 300ms}
`)
	if res.Status != Failed || !strings.Contains(res.Reason, "within 300ms the app's client caused") || !strings.Contains(res.Reason, "not refresh 2") {
		t.Errorf("%s: %s", res.Status, res.Reason)
	}
	res = runAppScenario(t, r, `name: x
steps:
  - browse: {path: login, consent: deny}
    expect: {status: 502}
`)
	if res.Status != Passed {
		t.Errorf("a denied login: %s: %s", res.Status, res.Reason)
	}
}

// Without an app command an app scenario skips, saying how to give one.
func TestAppScenarioWithoutAnApp(t *testing.T) {
	res := runAppScenario(t, NewRunner(), "name: x\nsteps:\n  - http: data\n")
	if res.Status != Skipped || !strings.Contains(res.Reason, "tokenlab run --app 'COMMAND'") {
		t.Errorf("%s: %s", res.Status, res.Reason)
	}
}

func TestParseAppMistakes(t *testing.T) {
	for _, tc := range []struct{ name, src, msg string }{
		{"await without events", "  - await: {within: 5s}\n", "await needs events"},
		{"await without a bound", "  - await: {events: {refresh: 1}}\n", "await needs within"},
		{"await too long", "  - await: {events: {refresh: 1}, within: 2m}\n", "from 1ms to 1m"},
		{"revoke without a client", "  - revoke: {}\n", "revoke needs client: app"},
		{"a consent that is neither", "  - browse: {path: login, consent: maybe}\n", "consent is approve or deny"},
		{"restart_app with arguments", "  - restart_app: {hard: true}\n", "restart_app takes no arguments"},
		{"http without a path", "  - http: {method: POST}\n", "http needs a path"},
		{"an unknown app path", "app: {paths: {home: /}}\n", `unknown app path "home"`},
		{"an app path that is no path", "app: {paths: {data: api}}\n", "must be a path such as /api/me"},
		{"an unknown key of browse", "  - browse: {path: login, username: bob}\n", `unknown key "username"`},
		{"lose_response with a status", "  - fault: {route: token, lose_response: true, status: 503}\n", "cannot also answer a status"},
		{"a check of tokenlab's own client", "  - http: data\n    expect: {refreshes: 1}\n", "check its answer (status: [401, 302]) and the server's events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: x\nsteps:\n  - http: data\n" + tc.src
			if strings.HasPrefix(tc.src, "app:") {
				src = "name: x\n" + tc.src + "steps:\n  - http: data\n"
			}
			_, err := Parse("f.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want %q", err, tc.msg)
			}
		})
	}
	if _, err := CheckAppPaths([]string{"data=/api/me", "login"}); err == nil || !strings.Contains(err.Error(), "NAME=/path") {
		t.Errorf("--app-path login: %v", err)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 8}
	io.WriteString(b, "0123456789")
	io.WriteString(b, "abc")
	if got := b.String(); !strings.HasSuffix(got, "6789abc") || !strings.HasSuffix(got, "56789abc") || !strings.HasPrefix(got, "[… earlier output dropped") {
		t.Errorf("%q", got)
	}
}

// The app's command and paths may come from the file's app: block.
func TestAppFromTheFile(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TOKENLAB_TEST_APP", "oauth")
	src := fmt.Sprintf("name: x\napp: {command: %s, paths: {data: /healthz}, ready_timeout: 20s}\nsteps:\n  - http: data\n    expect: {status: 200}\n",
		strconv.Quote("exec "+strconv.Quote(self)))
	res := runAppScenario(t, NewRunner(), src)
	if res.Status != Passed || !strings.Contains(res.Steps[0].Summary, "GET /healthz → 200") {
		t.Errorf("%s: %s %+v", res.Status, res.Reason, res.Steps)
	}
}

// In an app scenario the server events are the app's client's only: the
// runner's own login and refresh (tokenlab's public client) do not count.
func TestAppEventsAreTheAppClients(t *testing.T) {
	r := appRunner(t, "oauth")
	res := runAppScenario(t, r, `name: x
steps:
  - browse: login
  - await: {events: {refresh: 1}, within: 10s}
  - login: {}
  - refresh:
    expect: {no_events: [refresh, rotation, login]}
  - await: {events: {refresh: 0}, within: 1s}
`)
	if res.Status != Passed {
		t.Errorf("%s: %s", res.Status, res.Reason)
	}
}

// leakedToken is the JWT the leaky test app prints.
const leakedToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"

// The app's output goes into reports (JSON, JUnit, TAP, text), which CI
// keeps as artifacts: an app that logs its client secret or a token must
// not put them there.
func TestAppOutputHidesSecretAndTokens(t *testing.T) {
	r := appRunner(t, "leaky")
	res := runAppScenario(t, r, "name: x\nsteps:\n  - http: /healthz\n")
	if res.Status != Passed || !strings.Contains(res.AppOutput, "test app: client secret <client secret>, token <token>") {
		t.Fatalf("%s: %s, output %q", res.Status, res.Reason, res.AppOutput)
	}
	if strings.Contains(res.AppOutput, leakedToken) {
		t.Errorf("the report's app output holds the token: %q", res.AppOutput)
	}
}

// tokenlab's own secrets in its environment (the admin token run reads,
// the password login reads) are tokenlab's: the app under test, which may
// be anyone's code, is not given them. With the admin token it could move
// the server's clock or read the event log that judges it.
func TestAppDoesNotInheritTokenlabSecrets(t *testing.T) {
	t.Setenv("TOKENLAB_ADMIN_TOKEN", "admin-token-of-the-runner")
	t.Setenv("TOKENLAB_PASSWORD", "password-of-the-runner")
	r := appRunner(t, "leaky")
	res := runAppScenario(t, r, "name: x\nsteps:\n  - http: /healthz\n")
	if res.Status != Passed || !strings.Contains(res.AppOutput, `test app: inherited admin token "", password ""`) {
		t.Fatalf("%s: %s, output %q", res.Status, res.Reason, res.AppOutput)
	}
}
