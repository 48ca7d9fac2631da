package scenarios

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"golang.org/x/crypto/bcrypt"
)

// Outcomes of scenarios and steps.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
	// XFailed: failed where its xfail said it would (format_v3.go); not a
	// failure of the run. A scenario that passes there instead is Failed,
	// with XPassed set.
	XFailed = "xfailed"
)

// Result is the outcome of one scenario.
type Result struct {
	Name        string `json:"name"`
	File        string `json:"file"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"` // why it was skipped, or its first failure
	// SkippedChecks counts the checks that could not be made here (server
	// events without the admin API); the rest of the scenario ran.
	SkippedChecks int `json:"skippedChecks,omitempty"`
	// Interrupted is set when Ctrl-C stopped the scenario before its end.
	Interrupted bool `json:"interrupted,omitempty"`
	// Tags are the scenario's tags; XFail is the reason of the xfail that
	// matched this run, XPassed that the scenario passed nonetheless;
	// Notes say what the run assumed (settings: where_possible).
	Tags       []string      `json:"tags,omitempty"`
	XFail      string        `json:"xfail,omitempty"`
	XPassed    bool          `json:"xpassed,omitempty"`
	Notes      []string      `json:"notes,omitempty"`
	Steps      []StepResult  `json:"steps"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"durationMs"`

	// AppOutput is what the app under test wrote (stdout and stderr, its
	// last 64 KiB), in app scenarios.
	AppOutput string `json:"appOutput,omitempty"`
}

// StepResult is the outcome of one step.
type StepResult struct {
	N        int      `json:"n"`
	Line     int      `json:"line"`
	Kind     string   `json:"kind"`
	Say      string   `json:"say,omitempty"`
	Summary  string   `json:"summary"`
	Status   string   `json:"status"`
	Failures []string `json:"failures,omitempty"` // expected …, got …
	Client   string   `json:"client,omitempty"`   // when not the main client
	// SkippedChecks are the checks this run could not make, each with why.
	SkippedChecks []string      `json:"skippedChecks,omitempty"`
	Got           Observed      `json:"got"`
	Duration      time.Duration `json:"-"`
	DurationMS    float64       `json:"durationMs"`
}

// Observed is what a step saw. Tokens are never kept here.
type Observed struct {
	Status         int      `json:"status,omitempty"`
	Statuses       []int    `json:"statuses,omitempty"`
	Error          string   `json:"error,omitempty"`
	Message        string   `json:"message,omitempty"`
	Refreshes      int      `json:"refreshes"`
	Rotations      int      `json:"rotations"`
	TokenChanged   bool     `json:"tokenChanged"`
	RefreshChanged bool     `json:"refreshChanged"`
	LoginRequired  bool     `json:"loginRequired,omitempty"`
	Events         []string `json:"events,omitempty"`
	// EventsUnknown says why the server's events could not be read.
	EventsUnknown string `json:"-"`
	hasRefresh    bool   // the client holds a refresh token after the step
	body          string
	header        http.Header
	cookies       []*http.Cookie
}

// Runner runs scenarios.
type Runner struct {
	// Server is the API to run against; empty starts a fresh embedded
	// server (in-memory SQLite, frozen clock) for every scenario.
	Server     string
	AdminToken string // for the clock, events and settings of an external tokenlab server
	Profile    client.Profile
	Username   string
	Password   string
	// OnStep, when set, sees every step as it finishes (live output).
	OnStep func(*Scenario, StepResult)
	// OnScenario, when set, sees every scenario as it finishes; under
	// RunAll it may be called from several goroutines at once.
	OnScenario func(*Scenario, Result)
	// Wall is the real time source for the clocks; time.Now when nil.
	Wall func() time.Time
	// RunID is ${run_id}: unique per run, so that a scenario that
	// registers a user can run twice against one server.
	RunID string
	// RequestTimeout bounds each HTTP exchange of the scenario's clients
	// (a refresh included); 30 s when 0.
	RequestTimeout time.Duration
	// LookupEnv reads the environment (client_secret_env); os.LookupEnv
	// when nil.
	LookupEnv func(string) (string, bool)
	// App is the app under test (app.go), for the scenarios that put one
	// under test; empty Command: none.
	App AppConfig

	// External servers are shared: a scenario that moves their clock or
	// changes their settings runs alone.
	settingsMu sync.RWMutex
}

// NewRunner returns a runner with the tokenlab profile and the demo user.
func NewRunner() *Runner {
	p, _ := client.ResolveProfile("tokenlab")
	return &Runner{Profile: p, Username: "alice", Password: "password123", RunID: newRunID()}
}

// RunAll runs scenarios, up to parallel at once, and returns their
// results in the given order. They start in that order too, so with
// parallel 1 they run one after another as listed.
func (r *Runner) RunAll(ctx context.Context, scs []*Scenario, parallel int) []Result {
	results := make([]Result, len(scs))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	ran := make([]bool, len(scs))
	for i, sc := range scs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break // interrupted: what did not start is left out of the report
		}
		ran[i] = true
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = r.Run(ctx, sc)
		})
	}
	wg.Wait()
	var out []Result
	for i, r := range results {
		if ran[i] {
			out = append(out, r)
		}
	}
	return out
}

// Run runs one scenario.
func (r *Runner) Run(ctx context.Context, sc *Scenario) Result {
	res := r.finishV3(sc, r.run(ctx, sc))
	if r.OnScenario != nil {
		r.OnScenario(sc, res)
	}
	return res
}

func (r *Runner) run(ctx context.Context, sc *Scenario) (res Result) {
	start := time.Now()
	res = Result{Name: sc.Name, File: sc.File, Description: sc.Description, Status: Passed}
	defer func() {
		res.Duration = time.Since(start)
		res.DurationMS = ms(res.Duration)
	}()
	env, skip, err := r.setup(ctx, sc)
	if skip != "" || err != nil {
		res.Status, res.Reason = Skipped, skip
		if err != nil {
			res.Status, res.Reason = Failed, "setup: "+err.Error()
		}
		return res
	}
	res.Notes = env.v3.notes
	defer func() { res.AppOutput = env.app.output() }()
	if err := env.startApp(ctx); err != nil {
		env.close()
		res.Status, res.Reason = Failed, err.Error()
		return res
	}
	for i, st := range sc.Steps {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		sr := env.run(ctx, i+1, st)
		env.appExited(&sr)
		if ctx.Err() != nil { // the step was cut short: it proves nothing
			res.Interrupted = true
			break
		}
		res.Steps = append(res.Steps, sr)
		res.SkippedChecks += len(sr.SkippedChecks)
		if r.OnStep != nil {
			r.OnStep(sc, sr)
		}
		if sr.Status == Failed {
			res.Status = Failed
			res.Reason = fmt.Sprintf("step %d (%s, %s:%d): %s", sr.N, st.Kind, sc.File, st.Line, strings.Join(sr.Failures, "; "))
			break
		}
	}
	if env.app != nil {
		env.app.stop() // before its server goes
	}
	if err := env.close(); err != nil && res.Status != Failed {
		res.Status, res.Reason = Failed, err.Error()
	}
	if res.Interrupted && res.Status == Passed {
		res.Status, res.Reason = Skipped, fmt.Sprintf("interrupted after %s", plural(len(res.Steps), "step"))
	}
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// plural writes "1 step", "2 steps".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (r *Runner) lookupEnv(name string) (string, bool) {
	if r.LookupEnv != nil {
		return r.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

func newRunID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ErrAdminTokenRefused is returned when the server refuses --admin-token:
// a configuration error, not a reason to skip.
var ErrAdminTokenRefused = errors.New("the admin token was refused")

// CheckServer checks what can be checked of an external server before
// anything runs: that it answers at all, and that it takes the admin
// token. A server that does not answer would skip or fail every scenario
// one by one, and a CI must not read that as a result.
func (r *Runner) CheckServer(ctx context.Context) error {
	if r.Server == "" {
		return nil
	}
	base := strings.TrimRight(r.Server, "/")
	if err := answers(ctx, base); err != nil {
		return fmt.Errorf("%s does not answer (%v): start it, or check --server", base, err)
	}
	if r.AdminToken == "" {
		return nil
	}
	a := &adminAPI{url: base, token: r.AdminToken}
	_, err := a.clockMode(ctx)
	if errors.Is(err, ErrAdminTokenRefused) {
		return fmt.Errorf("%s refused the admin token: check --admin-token or TOKENLAB_ADMIN_TOKEN (%w)", r.Server, ErrAdminTokenRefused)
	}
	return nil // a server without the admin routes: the steps that need them say so, as skips
}

// answers reports whether an HTTP server answers at url: any status will
// do (an API need not serve its root).
func answers(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{CheckRedirect: noRedirects}).Do(req)
	if err != nil {
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return err
	}
	resp.Body.Close()
	return nil
}

// setup prepares a scenario's world: its server, clock and settings. A
// non-empty skip says why the scenario cannot run against this server.
func (r *Runner) setup(ctx context.Context, sc *Scenario) (env *world, skip string, err error) {
	wall := r.Wall
	if wall == nil {
		wall = time.Now
	}
	// Each scenario has its own connections, closed with it: a connection
	// dialled but never used would hold the embedded server's Shutdown
	// for its 5-second grace.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	trace := newTrace()
	traced := tracing{base: tr, trace: trace}
	rec := &recorder{base: traced}
	w := &world{r: r, sc: sc, saved: map[string]string{}, profile: r.Profile, transport: tr, rec: rec, trace: trace,
		plain:   &http.Client{Transport: rec, Timeout: 30 * time.Second, CheckRedirect: noRedirects},
		browser: &http.Client{Transport: traced, Timeout: 30 * time.Second, CheckRedirect: noRedirects},
		actors:  map[string]*actor{}, codes: map[string]*exchange{},
		vars: map[string]string{VarRunID: r.RunID, VarScenario: sc.Name}}
	if w.app, skip, err = r.appFor(sc); skip != "" || err != nil {
		return nil, skip, err
	}
	if r.Server == "" {
		if err := w.startEmbedded(ctx, wall, ""); err != nil {
			return nil, "", err
		}
		return w, "", nil
	}
	w.server = strings.TrimRight(r.Server, "/")
	if w.clock, err = mockserver.NewClock(mockserver.ClockFrozen, wall); err != nil {
		return nil, "", err
	}
	if r.AdminToken != "" {
		w.admin = &adminAPI{url: w.server, token: r.AdminToken, trace: trace}
	}
	if w.app != nil && w.admin == nil {
		return nil, appNeedsAdmin, nil
	}
	// The skip names the first step that cannot run here: a login the
	// server cannot do comes before an advance it cannot do, whatever
	// makes each impossible.
	adminStep, adminSkip, err := w.checkRequirements(ctx)
	if err != nil {
		return nil, "", err
	}
	flowStep, flowSkip := w.flowSkip(ctx)
	switch {
	case flowSkip != "" && (adminSkip == "" || flowStep <= adminStep):
		return nil, flowSkip, nil
	case adminSkip != "":
		return nil, adminSkip, nil
	}
	// A shared server's clock, settings, faults and keys are global: a
	// scenario that changes them runs alone; the others may share (each
	// counts its own events only, see events.go).
	if !w.appliesSettings() && !sc.changesServer() {
		r.settingsMu.RLock()
		w.cleanup = append(w.cleanup, func() error { r.settingsMu.RUnlock(); return nil })
		return w, "", nil
	}
	r.settingsMu.Lock()
	w.cleanup = append(w.cleanup, func() error { r.settingsMu.Unlock(); return nil })
	if slices.ContainsFunc(sc.Steps, func(st Step) bool { return st.Kind == KindFault }) {
		w.cleanup = append(w.cleanup, func() error {
			if err := w.admin.clearFaults(context.WithoutCancel(ctx)); err != nil {
				return fmt.Errorf("clear the faults this scenario left on the server: %w", err)
			}
			return nil
		})
	}
	if !w.appliesSettings() {
		return w, "", nil
	}
	before, err := w.admin.settings(ctx, nil)
	if err != nil {
		w.close()
		return nil, "", err
	}
	if _, err := w.admin.settings(ctx, sc.Server.patch()); err != nil {
		w.close()
		return nil, "", err
	}
	// Put the server back exactly as it was, before the lock is released,
	// and say so when that fails: the next run would measure another server.
	w.cleanup = append(w.cleanup, func() error {
		after, err := w.admin.settings(context.WithoutCancel(ctx), before)
		if err == nil && !maps.EqualFunc(after, before, func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
			err = fmt.Errorf("the server holds %v instead of %v", after, before)
		}
		if err != nil {
			return fmt.Errorf("restore the server's settings: %w", err)
		}
		return nil
	})
	return w, "", nil
}

// changesServer reports whether a step moves the server's clock, injects
// faults, rotates its keys or restarts it.
func (sc *Scenario) changesServer() bool {
	return slices.ContainsFunc(sc.needs, func(n need) bool { return n.requires != "" || n.restart })
}

// startEmbedded starts (or, with addr, restarts) the scenario's own
// server. A scenario that restarts it keeps its database in a file.
func (w *world) startEmbedded(ctx context.Context, wall func() time.Time, addr string) error {
	if w.dbPath == "" && slices.ContainsFunc(w.sc.needs, func(n need) bool { return n.restart }) {
		dir, err := os.MkdirTemp("", "tokenlab-scenario-")
		if err != nil {
			return err
		}
		w.dbPath = filepath.Join(dir, "tokenlab.db")
		w.cleanup = append(w.cleanup, func() error { return os.RemoveAll(dir) })
	}
	var clients []mockserver.ClientConfig
	for _, c := range w.sc.Server.Clients {
		clients = append(clients, mockserver.ClientConfig{ID: c.ID, Secret: c.Secret})
	}
	clients = append(clients, w.app.clientConfigs()...)
	var policyErr error
	e, err := mockserver.StartEmbedded(ctx, mockserver.EmbeddedOptions{Wall: wall, DB: w.dbPath, Addr: addr, Clock: w.clock, Clients: clients,
		Configure: func(c *mockserver.Config) {
			c.BcryptCost = bcrypt.MinCost // a scenario logs in often; hashing is not what it shows
			policy, err := w.sc.Server.patch().Apply(c.Policy)
			if err != nil {
				policyErr = err
				return
			}
			c.Policy = policy
		}})
	if policyErr != nil {
		if err == nil {
			e.Close()
		}
		return fmt.Errorf("the scenario's server: settings: %w", policyErr)
	}
	if err != nil {
		return err
	}
	w.embedded, w.server, w.clock, w.admin = e, e.URL, e.Clock, &adminAPI{url: e.URL, token: e.AdminToken, trace: w.trace}
	return nil
}

// checkRequirements says why an external server cannot run the scenario,
// naming the first step that needs what is missing, and returns that step
// (settingsStep for the scenario's server: settings). A refused admin
// token is an error, not a skip.
// settingsStep orders a skip for server: settings after every step's: a
// step's reason says more about what the server lacks.
const settingsStep = math.MaxInt

func (w *world) checkRequirements(ctx context.Context) (int, string, error) {
	var clockMode string
	var adminErr error
	asked := false
	ask := func() {
		if !asked && w.admin != nil {
			clockMode, adminErr = w.admin.clockMode(ctx)
			asked = true
		}
	}
	what := func(n need) string {
		if n.requires == RequiresClock {
			return "needs the admin clock"
		}
		return "needs the admin API"
	}
	for _, n := range w.sc.needs {
		if n.requires == "" && !n.restart {
			continue // a login flow's needs: see flowSkip
		}
		step := fmt.Sprintf("step %d (%s)", n.step, n.kind)
		if n.restart {
			return n.step, step + " restarts the server, which only the embedded server can do (an external server's process is not tokenlab's to stop)", nil
		}
		if w.admin == nil {
			return n.step, step + " " + what(n) + " of a tokenlab server: give its --admin-token", nil
		}
		ask()
		if errors.Is(adminErr, ErrAdminTokenRefused) {
			return n.step, "", adminErr
		}
		if adminErr != nil {
			return n.step, step + " " + what(n) + ", but " + adminErr.Error(), nil
		}
		if n.requires == RequiresClock && clockMode == mockserver.ClockReal {
			return n.step, step + " needs the admin clock, but the server runs on the real clock (start it with --clock frozen or offset)", nil
		}
	}
	if !w.sc.Server.empty() {
		ask()
		if w.assumeSettings(adminErr) {
			return 0, "", nil
		}
		if w.admin == nil {
			return settingsStep, "its server: settings need the admin API of a tokenlab server: give its --admin-token", nil
		}
		ask()
		if errors.Is(adminErr, ErrAdminTokenRefused) {
			return settingsStep, "", adminErr
		}
		if adminErr != nil {
			return settingsStep, "its server: settings need the admin API, but " + adminErr.Error(), nil
		}
	}
	return 0, "", nil
}
