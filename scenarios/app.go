package scenarios

// An app under test: `tokenlab run --app 'COMMAND'` (or `app:` in a
// scenario file). For each scenario the runner registers a confidential
// client for the app on the scenario's server, starts COMMAND with the
// environment contract below, waits until the app answers its health
// path, plays the person at the app's pages (app_steps.go), and stops the
// app after the last step: SIGTERM, then a kill after a grace period. The
// server's events are counted by the app's client, since the app's own
// requests carry no Tokenlab-Trace header.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/mockserver"
	"go.yaml.in/yaml/v3"
)

// The environment an app under test is started with.
const (
	EnvIssuer       = "TOKENLAB_ISSUER"        // the issuer URL; OAuth metadata under /.well-known
	EnvClientID     = "TOKENLAB_CLIENT_ID"     // the confidential client registered for the app
	EnvClientSecret = "TOKENLAB_CLIENT_SECRET" // its secret
	EnvRedirectURI  = "TOKENLAB_REDIRECT_URI"  // http://127.0.0.1:$PORT/callback
	EnvAPI          = "TOKENLAB_API"           // the protected API the app calls with its access tokens
	EnvPort         = "PORT"                   // where the app listens, on 127.0.0.1
)

// The conventional paths of an app under test, by name; each may be
// overridden (--app-path data=/api/me, or app: {paths: {data: /api/me}}).
var defaultAppPaths = map[string]string{
	"login":    "/login",    // starts the login: redirects to the authorize endpoint
	"callback": "/callback", // the redirect URI
	"data":     "/data",     // calls TOKENLAB_API with the user's token: 200, or 401 / a redirect to /login
	"logout":   "/logout",   // logs out, revoking at the server
	"healthz":  "/healthz",  // 200 once the app is ready
}

// AppConfig is how the runner starts an app under test.
type AppConfig struct {
	Command string            // run with /bin/sh -c; empty: no app
	Paths   map[string]string // overrides of defaultAppPaths, by name
	Dir     string            // the app's working directory; the runner's own when empty
	// ReadyTimeout bounds the wait for the health path (30 s when 0);
	// StopGrace the wait between SIGTERM and the kill (5 s when 0).
	ReadyTimeout time.Duration
	StopGrace    time.Duration
}

// AppSpec is a scenario's `app:` block: the same, written in the file.
// The runner's --app comes first; the file's command is used without one.
type AppSpec struct {
	Command      string            `yaml:"command"`
	Paths        map[string]string `yaml:"paths"`
	ReadyTimeout *Duration         `yaml:"ready_timeout"`
}

// appNeedsAdmin is why an app scenario cannot run on a server without its
// admin token.
const appNeedsAdmin = "it puts an app under test, whose client is registered through the server's admin API: give its --admin-token"

// appOutputMax bounds the app's output kept for the report: its last 64 KiB.
const appOutputMax = 64 << 10

// CheckAppPaths checks path overrides (NAME=/path) and returns them as a map.
func CheckAppPaths(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		name, path, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("write --app-path as NAME=/path, such as data=/api/me, not %q", p)
		}
		if err := checkAppPath(name, path); err != nil {
			return nil, err
		}
		out[name] = path
	}
	return out, nil
}

func checkAppPath(name, path string) error {
	if _, ok := defaultAppPaths[name]; !ok {
		return fmt.Errorf("unknown app path %q (want %s)", name, strings.Join(slices.Sorted(maps.Keys(defaultAppPaths)), ", "))
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#") {
		return fmt.Errorf("app path %s must be a path such as /api/me, not %q", name, path)
	}
	return nil
}

// parseApp reads the scenario's app: block.
func (p parser) parseApp(sc *Scenario, v *yaml.Node) error {
	sc.App = &AppSpec{}
	if err := p.decodeKnown(v, sc.App); err != nil {
		return err
	}
	for name, path := range sc.App.Paths {
		if err := checkAppPath(name, path); err != nil {
			return p.errf(v.Line, "app: paths: %v", err)
		}
	}
	if d := sc.App.ReadyTimeout; d != nil && (*d <= 0 || time.Duration(*d) > 10*time.Minute) {
		return p.errf(v.Line, "app: ready_timeout must be from 1s to 10m")
	}
	return nil
}

// putsAppUnderTest reports whether the scenario needs an app: an app:
// block or a step that talks to one.
func (sc *Scenario) putsAppUnderTest() bool {
	return sc.App != nil || slices.ContainsFunc(sc.Steps, func(st Step) bool { return slices.Contains(appKinds, st.Kind) })
}

// appRun is one scenario's app: its client, its environment, its process
// and the person's browser at its pages.
type appRun struct {
	command  string
	dir      string
	paths    map[string]string
	ready    time.Duration
	grace    time.Duration
	port     int
	clientID string
	secret   string
	env      []string
	out      *tailBuffer
	browser  *http.Client // keeps the app's cookies; follows no redirect by itself

	mu   sync.Mutex
	proc *appProc
	// awaitBase is the events await counts from: those before it are
	// the earlier awaits' (see doAwait).
	awaitBase ownEvents
	restarted bool // a restart_app step ran: a reuse then means a lost rotation
	lost      bool // a fault loses the answer of the app's refresh
}

// appFor prepares the scenario's app, or says why the scenario cannot
// run (it needs an app and the run has none). Nothing starts yet: the
// client must be registered on the server first (startEmbedded, startApp).
func (r *Runner) appFor(sc *Scenario) (*appRun, string, error) {
	if !sc.putsAppUnderTest() {
		return nil, "", nil
	}
	cfg := r.App
	spec := sc.App
	if spec == nil {
		spec = &AppSpec{}
	}
	if cfg.Command == "" {
		cfg.Command = spec.Command
	}
	if cfg.Command == "" {
		return nil, "it puts an app under test: give the app's command with tokenlab run --app 'COMMAND' (or app: {command: …} in the file)", nil
	}
	paths := maps.Clone(defaultAppPaths)
	maps.Copy(paths, spec.Paths)
	maps.Copy(paths, cfg.Paths) // the command line overrides the file
	if spec.ReadyTimeout != nil && cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = time.Duration(*spec.ReadyTimeout)
	}
	port, err := freePort()
	if err != nil {
		return nil, "", fmt.Errorf("find a port for the app: %w", err)
	}
	jar, _ := cookiejar.New(nil)
	a := &appRun{command: cfg.Command, dir: cfg.Dir, paths: paths, ready: cfg.ReadyTimeout, grace: cfg.StopGrace, port: port,
		clientID: "app-" + r.RunID + "-" + randomHex(6), secret: randomHex(24),
		out:     &tailBuffer{max: appOutputMax},
		browser: &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: noRedirects}}
	if a.ready <= 0 {
		a.ready = 30 * time.Second
	}
	if a.grace <= 0 {
		a.grace = 5 * time.Second
	}
	return a, "", nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// appPorts are the ports given to the apps of this process's running
// scenarios: the kernel may hand a port out again once its probe is
// closed, and two apps of a -j run must not be given the same one.
var appPorts sync.Map

// freePort asks the kernel for a free port on 127.0.0.1 that no other app
// of this run holds. Another process could take it before the app
// listens; the app then fails to start, and the scenario says so.
func freePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if _, taken := appPorts.LoadOrStore(port, true); !taken {
			return port, nil
		}
	}
	return 0, errors.New("the kernel kept offering ports that other apps of this run hold")
}

func (a *appRun) base() string { return "http://127.0.0.1:" + strconv.Itoa(a.port) }

// url is an app path: a name of the conventions (data) or a path (/data).
func (a *appRun) url(path string) string {
	if p, ok := a.paths[path]; ok {
		path = p
	}
	return a.base() + path
}

func (a *appRun) redirectURI() string { return a.base() + a.paths["callback"] }

// clientConfigs is the app's client for the embedded server (none
// without an app).
func (a *appRun) clientConfigs() []mockserver.ClientConfig {
	if a == nil {
		return nil
	}
	return []mockserver.ClientConfig{{ID: a.clientID, Secret: a.secret, RedirectURIs: []string{a.redirectURI()},
		GrantTypes: []string{"authorization_code", "refresh_token"}}}
}

// startApp registers the app's client on an external server (the
// embedded one has it from its start), then starts the app and waits
// until it is ready. The app is stopped with the scenario, whatever
// happens.
func (w *world) startApp(ctx context.Context) error {
	a := w.app
	if a == nil {
		return nil
	}
	if w.embedded == nil {
		if w.admin == nil {
			return errors.New("the app's client is registered through the server's admin API: give its --admin-token")
		}
		c := a.clientConfigs()[0]
		body := map[string]any{"id": c.ID, "secret": c.Secret, "redirect_uris": c.RedirectURIs, "grant_types": c.GrantTypes}
		if err := w.admin.do(ctx, http.MethodPost, "/admin/clients", body, nil); err != nil {
			return fmt.Errorf("register the app's client: %w", err)
		}
		// A shared server keeps no client per scenario run: the registry is bounded.
		w.cleanup = append(w.cleanup, func() error {
			if err := w.admin.do(context.WithoutCancel(ctx), http.MethodDelete, "/admin/clients/"+url.PathEscape(c.ID), nil, nil); err != nil {
				return fmt.Errorf("remove the app's client from the server: %w", err)
			}
			return nil
		})
	}
	a.env = []string{EnvIssuer + "=" + w.server, EnvClientID + "=" + a.clientID, EnvClientSecret + "=" + a.secret,
		EnvRedirectURI + "=" + a.redirectURI(), EnvAPI + "=" + w.server + "/protected", EnvPort + "=" + strconv.Itoa(a.port)}
	w.cleanup = append(w.cleanup, func() error { a.stop(); appPorts.Delete(a.port); return nil })
	a.awaitBase = ownEvents{}
	return a.start(ctx)
}

// appProc is one start of the app.
type appProc struct {
	cmd      *exec.Cmd
	done     chan struct{} // closed when it has exited and been reaped
	err      error         // its exit, once done
	stopping bool          // the runner stopped it: its exit is not news
}

// start starts the app and waits for its health path to answer 200.
func (a *appRun) start(ctx context.Context) error {
	cmd := exec.Command("/bin/sh", "-c", a.command)
	cmd.Dir = a.dir
	cmd.Env = append(appEnviron(os.Environ()), a.env...)
	cmd.Stdout, cmd.Stderr = a.out, a.out
	cmd.WaitDelay = time.Second // a grandchild holding the output open must not hold the runner
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the app (%s): %w", a.command, err)
	}
	p := &appProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	a.mu.Lock()
	a.proc = p
	a.mu.Unlock()
	return a.waitReady(ctx, p)
}

// waitReady polls the health path until it answers 200, the app exits,
// or the bound passes.
func (a *appRun) waitReady(ctx context.Context, p *appProc) error {
	health := a.url("healthz")
	ctx, cancel := context.WithTimeout(ctx, a.ready)
	defer cancel()
	probe := &http.Client{Timeout: time.Second, CheckRedirect: noRedirects}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := "no answer"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		resp, err := probe.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "it answered " + strconv.Itoa(resp.StatusCode)
		}
		select {
		case <-p.done:
			return fmt.Errorf("the app exited before it was ready (%s); its output is in the report", exitText(p.err))
		case <-ctx.Done():
			a.stop()
			return fmt.Errorf("the app was not ready within %s: GET %s never answered 200 (%s)", a.ready, health, last)
		case <-tick.C:
		}
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// stop sends the app SIGTERM, kills it after the grace period, and reaps
// it; an app that already exited is only reaped. Once: the process group
// is not signalled again after it is gone (its ID could be reused).
func (a *appRun) stop() {
	a.mu.Lock()
	p := a.proc
	if p != nil {
		p.stopping = true
		a.proc = nil
	}
	a.mu.Unlock()
	if p == nil {
		return
	}
	// What the app's shell left behind goes with it, whenever it ended.
	defer kill(p.cmd)
	select {
	case <-p.done:
		return
	default:
	}
	terminate(p.cmd)
	timer := time.NewTimer(a.grace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		kill(p.cmd)
		<-p.done
	}
}

// exited says how the app ended when it ended without being asked to.
func (a *appRun) exited() error {
	a.mu.Lock()
	p := a.proc
	a.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		a.mu.Lock()
		stopping := p.stopping
		a.mu.Unlock()
		if !stopping {
			return fmt.Errorf("the app exited during the scenario (%s); its output is in the report", exitText(p.err))
		}
	default:
	}
	return nil
}

// whyNoAnswer says that the app exited when that is why a request to it
// failed: the connection drops a moment before the process is reaped, so
// it waits for that moment (at most a second).
func (a *appRun) whyNoAnswer(err error) error {
	if err == nil {
		return nil
	}
	a.mu.Lock()
	p := a.proc
	a.mu.Unlock()
	if p != nil {
		select {
		case <-p.done:
		case <-time.After(time.Second):
		}
	}
	if exit := a.exited(); exit != nil {
		return exit
	}
	return err
}

// tokenlabSecrets are the variables that hold tokenlab's own secrets
// (run's admin token, a login's password and client secret, decode's key,
// serve's signing secrets). The app under test may be anyone's code: with
// the admin token it could move the server's clock or read the event log
// that judges it.
var tokenlabSecrets = []string{"TOKENLAB_ADMIN_TOKEN", "TOKENLAB_PASSWORD", EnvClientSecret, "TOKENLAB_DECODE_SECRET",
	"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET"}

// appEnviron is tokenlab's environment without its secrets, which the app
// inherits (the contract's variables are added after it).
func appEnviron(environ []string) []string {
	return slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(tokenlabSecrets, name)
	})
}

// output is what the app wrote, its last 64 KiB, for the reports: its
// client secret and anything like a JWT are masked, as an app's debug log
// may print them and reports are kept (CI artifacts).
func (a *appRun) output() string {
	if a == nil {
		return ""
	}
	return maskTokens(strings.ReplaceAll(a.out.String(), a.secret, "<client secret>"))
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.dropped = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped {
		return "[… earlier output dropped: the last 64 KiB follow]\n" + string(t.buf)
	}
	return string(t.buf)
}

// clientEvents returns the server's events of one OAuth client, following
// pages.
func (ad *adminAPI) clientEvents(ctx context.Context, clientID string) ([]serverEvent, error) {
	const page = 5000
	var all []serverEvent
	var after int64
	for {
		var body struct{ Events []serverEvent }
		path := fmt.Sprintf("/admin/events?after=%d&limit=%d&client=%s", after, page, url.QueryEscape(clientID))
		if err := ad.do(ctx, http.MethodGet, path, nil, &body); err != nil {
			return nil, err
		}
		all = append(all, body.Events...)
		if len(body.Events) < page {
			return all, nil
		}
		after = body.Events[len(body.Events)-1].ID
	}
}

// errUnscopedClient is why a server's events cannot be told apart by client.
var errUnscopedClient = errors.New("this server cannot tell one client's events from another's (GET /admin/events ignores client=; it is an older tokenlab): upgrade it")

// appEvents reads every event of the app's client.
func (w *world) appEvents(ctx context.Context) (ownEvents, error) {
	if w.admin == nil {
		return nil, errNoAdmin
	}
	events, err := w.admin.clientEvents(ctx, w.app.clientID)
	if err != nil {
		return nil, err
	}
	own := make(ownEvents, len(events))
	for _, e := range events {
		if e.ClientID != w.app.clientID {
			return nil, errUnscopedClient
		}
		own[e.ID] = e
	}
	return own, nil
}

// appExited fails a step after which the app is gone without being asked.
func (w *world) appExited(sr *StepResult) {
	if w.app == nil {
		return
	}
	if err := w.app.exited(); err != nil && sr.Status != Failed {
		sr.Status, sr.Failures = Failed, append(sr.Failures, err.Error())
	}
}

// appOutput prints the app's output under a failed scenario's report.
func (t *Text) appOutput(r Result) {
	if r.AppOutput == "" {
		return
	}
	t.printf("  %s\n", t.s.where.Render("the app's output (stdout and stderr):"))
	for _, line := range strings.Split(strings.TrimRight(r.AppOutput, "\n"), "\n") {
		t.printf("  │ %s\n", line)
	}
	t.printf("\n")
}
