package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
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
)

// Result is the outcome of one scenario.
type Result struct {
	Name        string        `json:"name"`
	File        string        `json:"file"`
	Description string        `json:"description"`
	Status      string        `json:"status"`
	Reason      string        `json:"reason,omitempty"` // why it was skipped, or its first failure
	Steps       []StepResult  `json:"steps"`
	Duration    time.Duration `json:"-"`
	DurationMS  float64       `json:"durationMs"`
}

// StepResult is the outcome of one step.
type StepResult struct {
	N          int           `json:"n"`
	Line       int           `json:"line"`
	Kind       string        `json:"kind"`
	Say        string        `json:"say,omitempty"`
	Summary    string        `json:"summary"`
	Status     string        `json:"status"`
	Failures   []string      `json:"failures,omitempty"` // expected …, got …
	Got        Observed      `json:"got"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"durationMs"`
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
	body           string
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

	// External servers are shared: a scenario that moves their clock or
	// changes their settings runs alone.
	settingsMu sync.RWMutex
}

// NewRunner returns a runner with the tokenlab profile and the demo user.
func NewRunner() *Runner {
	p, _ := client.ResolveProfile("tokenlab")
	return &Runner{Profile: p, Username: "alice", Password: "password123"}
}

// RunAll runs scenarios, up to parallel at once, and returns their
// results in the given order. They start in that order too, so with
// parallel 1 they run one after another as listed.
func (r *Runner) RunAll(ctx context.Context, scs []*Scenario, parallel int) []Result {
	results := make([]Result, len(scs))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, sc := range scs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = r.Run(ctx, sc)
		})
	}
	wg.Wait()
	return results
}

// Run runs one scenario.
func (r *Runner) Run(ctx context.Context, sc *Scenario) Result {
	res := r.run(ctx, sc)
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
	defer env.close()
	for i, st := range sc.Steps {
		sr := env.run(ctx, i+1, st)
		res.Steps = append(res.Steps, sr)
		if r.OnStep != nil {
			r.OnStep(sc, sr)
		}
		if sr.Status == Failed {
			res.Status = Failed
			res.Reason = fmt.Sprintf("step %d (%s, %s:%d): %s", sr.N, st.Kind, sc.File, st.Line, strings.Join(sr.Failures, "; "))
			break
		}
	}
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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
	w := &world{r: r, sc: sc, saved: map[string]string{}, profile: r.Profile, transport: tr,
		plain: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	if r.Server == "" {
		e, err := mockserver.StartEmbedded(ctx, mockserver.EmbeddedOptions{Wall: wall, Configure: func(c *mockserver.Config) {
			c.BcryptCost = bcrypt.MinCost // a scenario logs in often; hashing is not what it shows
			sc.Server.apply(&c.Policy)
		}})
		if err != nil {
			return nil, "", err
		}
		w.server, w.clock, w.admin = e.URL, e.Clock, &adminAPI{url: e.URL, token: e.AdminToken}
		w.cleanup = append(w.cleanup, func() { e.Close() })
		return w, "", nil
	}
	w.server = strings.TrimRight(r.Server, "/")
	if w.clock, err = mockserver.NewClock(mockserver.ClockFrozen, wall); err != nil {
		return nil, "", err
	}
	if r.AdminToken != "" {
		w.admin = &adminAPI{url: w.server, token: r.AdminToken}
	}
	if skip := w.checkRequirements(ctx); skip != "" {
		return nil, skip, nil
	}
	// A shared server's clock and settings are global: a scenario that
	// moves or changes them runs alone; the others may share.
	if sc.Server.empty() && !slices.Contains(sc.Requires, RequiresClock) {
		r.settingsMu.RLock()
		w.cleanup = append(w.cleanup, r.settingsMu.RUnlock)
		return w, "", nil
	}
	r.settingsMu.Lock()
	w.cleanup = append(w.cleanup, r.settingsMu.Unlock)
	if sc.Server.empty() {
		return w, "", nil
	}
	before, err := w.admin.settings(ctx, nil)
	if err != nil {
		w.close()
		return nil, "", err
	}
	if _, err := w.admin.settings(ctx, sc.Server.body()); err != nil {
		w.close()
		return nil, "", err
	}
	// Put the server back as it was, before the lock is released.
	w.cleanup = append(w.cleanup, func() { w.admin.settings(context.WithoutCancel(ctx), before) })
	return w, "", nil
}

// checkRequirements says why an external server cannot run the scenario.
func (w *world) checkRequirements(ctx context.Context) string {
	needs := w.sc.Requires
	if len(needs) == 0 {
		return ""
	}
	what := "changes the server's settings or reads its events"
	if slices.Contains(needs, RequiresClock) {
		what = "moves the server's clock"
	}
	if w.admin == nil {
		return "it " + what + ", which needs a tokenlab server and its --admin-token"
	}
	mode, err := w.admin.clockMode(ctx)
	if err != nil {
		return "it " + what + ", but the admin API did not answer: " + err.Error()
	}
	if slices.Contains(needs, RequiresClock) && mode == mockserver.ClockReal {
		return "it moves the server's clock, but the server runs on the real clock (start it with --clock frozen or offset)"
	}
	return ""
}

func (s ServerSettings) apply(p *mockserver.Policy) {
	set := func(dst *time.Duration, src *Duration) {
		if src != nil {
			*dst = time.Duration(*src)
		}
	}
	set(&p.AccessTTL, s.AccessTTL)
	set(&p.RefreshTTL, s.RefreshTTL)
	set(&p.SessionMax, s.SessionMax)
	set(&p.ReuseGrace, s.ReuseGrace)
	for _, b := range []struct{ dst, src *bool }{{&p.Rotation, s.Rotation}, {&p.ReuseDetection, s.ReuseDetection}, {&p.AccessDenylist, s.AccessDenylist}} {
		if b.src != nil {
			*b.dst = *b.src
		}
	}
}

// body is the settings as PUT /admin/settings takes them.
func (s ServerSettings) body() map[string]any {
	out := map[string]any{}
	dur := func(k string, d *Duration) {
		if d != nil {
			out[k] = mockserver.FormatDuration(time.Duration(*d))
		}
	}
	dur("accessTtl", s.AccessTTL)
	dur("refreshTtl", s.RefreshTTL)
	dur("sessionMax", s.SessionMax)
	dur("reuseGrace", s.ReuseGrace)
	for k, b := range map[string]*bool{"rotation": s.Rotation, "reuseDetection": s.ReuseDetection, "accessDenylist": s.AccessDenylist} {
		if b != nil {
			out[k] = *b
		}
	}
	return out
}

// world is one scenario's running state.
type world struct {
	r       *Runner
	sc      *Scenario
	server  string
	profile client.Profile
	clock   *mockserver.Clock // the client's clock; the embedded server's too
	admin   *adminAPI         // nil when the server's admin API is out of reach
	cleanup []func()

	transport *http.Transport // the client's and plain's connections
	client    *client.Client
	plain     *http.Client // for requests that must not refresh
	seenEvent int64        // the newest server event this scenario has read
	user      string
	saved     map[string]string
	last      Observed

	mu     sync.Mutex
	events []client.Event
}

func (w *world) close() {
	w.transport.CloseIdleConnections()
	for i := len(w.cleanup) - 1; i >= 0; i-- {
		w.cleanup[i]()
	}
}

func (w *world) newClient(username string) error {
	c, err := client.New(w.server, username, w.profile, client.NewMemoryStore(),
		client.WithHTTPClient(&http.Client{Transport: w.transport, Timeout: 30 * time.Second}),
		client.WithClock(w.clock), client.WithEvents(func(e client.Event) {
			w.mu.Lock()
			w.events = append(w.events, e)
			w.mu.Unlock()
		}))
	if err != nil {
		return err
	}
	w.client, w.user = c, username
	return nil
}

func (w *world) eventCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// clientEventsSince counts refreshes and rotations after index from.
func (w *world) clientEventsSince(from int) (refreshes, rotations int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events[from:] {
		switch e.Kind {
		case client.EventRefresh:
			refreshes++
		case client.EventRotation:
			rotations++
		}
	}
	return
}

// tokens returns the session's current tokens, empty when there is none.
func (w *world) tokens(ctx context.Context) (access, refresh string) {
	if w.client == nil {
		return "", ""
	}
	s, err := w.client.Session(ctx)
	if err != nil {
		return "", ""
	}
	return s.AccessToken, s.RefreshToken
}

// run runs one step and checks its expectations.
func (w *world) run(ctx context.Context, n int, st Step) StepResult {
	start := time.Now()
	sr := StepResult{N: n, Line: st.Line, Kind: st.Kind, Say: st.Say, Status: Passed}
	if st.Kind == KindExpect {
		sr.Summary, sr.Got = "check the step before", w.last
		sr.Failures = check(st.Expect, w.last, w.claims(ctx))
	} else {
		var eventsFrom int64
		if st.Expect != nil && len(st.Expect.Events) > 0 {
			eventsFrom, _ = w.lastServerEvent(ctx)
		}
		from := w.eventCount()
		at, rt := w.tokens(ctx)
		obs, summary, err := w.do(ctx, st)
		obs.Refreshes, obs.Rotations = w.clientEventsSince(from)
		at2, rt2 := w.tokens(ctx)
		obs.TokenChanged = at != at2 && at2 != ""
		obs.RefreshChanged = rt != rt2 && rt2 != ""
		if st.Expect != nil && len(st.Expect.Events) > 0 {
			obs.Events, _ = w.serverEventsSince(ctx, eventsFrom)
		}
		sr.Summary, sr.Got, w.last = summary, obs, obs
		switch {
		case err != nil:
			sr.Failures = []string{err.Error()}
		case st.Expect != nil:
			sr.Failures = check(st.Expect, obs, w.claims(ctx))
		default:
			sr.Failures = defaultCheck(st.Kind, obs)
		}
	}
	if len(sr.Failures) > 0 {
		sr.Status = Failed
	}
	sr.Duration = time.Since(start)
	sr.DurationMS = ms(sr.Duration)
	return sr
}

// defaultCheck: steps that build the session must succeed unless the
// scenario says what it expects instead.
func defaultCheck(kind string, o Observed) []string {
	switch kind {
	case KindLogin, KindRefresh, KindLogout:
		if o.Status >= 400 || o.LoginRequired {
			return []string{fmt.Sprintf("%s failed: %s (add an expect: to make this the point of the step)", kind, o.describe())}
		}
	}
	return nil
}

func (o Observed) describe() string {
	s := fmt.Sprint(o.Status)
	if o.Status == 0 {
		s = "no answer"
	}
	if o.Error != "" {
		s += " " + o.Error
	}
	if o.LoginRequired {
		s += " (login required)"
	}
	return s
}

// do performs a step. The error is for failures the scenario cannot
// expect (a broken connection, a missing login); refusals by the server
// are observations.
func (w *world) do(ctx context.Context, st Step) (Observed, string, error) {
	var o Observed
	needClient := func() error {
		if w.client == nil {
			return errors.New("no one is logged in yet: add a login step first")
		}
		return nil
	}
	switch st.Kind {
	case KindLogin:
		user, pass := st.Login.Username, st.Login.Password
		if user == "" {
			user, pass = w.r.Username, w.r.Password
		}
		if pass == "" {
			pass = w.r.Password
		}
		if err := w.newClient(user); err != nil {
			return o, "log in", err
		}
		_, err := w.client.Login(ctx, pass)
		o.Status = 200
		return o, "log in as " + user + " → " + o.describeAfter(err), o.absorb(err)
	case KindRequest:
		if err := needClient(); err != nil && st.Request.Token == "" {
			return o, st.Request.Method + " " + st.Request.Path, err
		}
		err := w.request(ctx, st.Request, &o)
		return o, st.Request.Method + " " + st.Request.Path + " → " + o.describeAfter(err), o.absorb(err)
	case KindRefresh:
		if err := needClient(); err != nil {
			return o, "refresh", err
		}
		_, err := w.client.Refresh(ctx)
		o.Status = 200
		return o, "refresh now → " + o.describeAfter(err), o.absorb(err)
	case KindAdvance:
		if err := w.advance(ctx, st.Duration); err != nil {
			return o, "advance", err
		}
		return o, fmt.Sprintf("clock +%s → %s", mockserver.FormatDuration(st.Duration), w.clock.Now().Format(time.RFC3339)), nil
	case KindWait:
		select {
		case <-time.After(st.Duration):
		case <-ctx.Done():
			return o, "wait", ctx.Err()
		}
		return o, "wait " + st.Duration.String() + " of real time", nil
	case KindSave:
		at, rt := w.tokens(ctx)
		tok := map[string]string{"access": at, "refresh": rt}[st.Save.Token]
		if tok == "" {
			return o, "save", fmt.Errorf("there is no %s token to save: log in first", st.Save.Token)
		}
		w.saved[st.Save.As] = tok
		return o, "save the " + st.Save.Token + " token as " + st.Save.As, nil
	case KindReplay:
		if err := w.ensureClient(); err != nil {
			return o, "replay", err
		}
		err := w.client.Replay(ctx, w.saved[st.Replay])
		o.Status = 200
		return o, "replay " + st.Replay + " → " + o.describeAfter(err), o.absorb(err)
	case KindTamper:
		return w.tamper(ctx, st.Tamper, &o)
	case KindConcurrent:
		if err := needClient(); err != nil {
			return o, "concurrent", err
		}
		return w.concurrent(ctx, st.Concurrent, &o)
	case KindLogout:
		if err := needClient(); err != nil {
			return o, "log out", err
		}
		err := w.client.Logout(ctx)
		o.Status = 200
		return o, "log out → " + o.describeAfter(err), o.absorb(err)
	}
	return o, st.Kind, fmt.Errorf("unknown step kind %q", st.Kind)
}

// ensureClient makes a client for steps that only need the profile.
func (w *world) ensureClient() error {
	if w.client != nil {
		return nil
	}
	return w.newClient(w.r.Username)
}

// absorb turns a refusal into an observation and returns only the errors
// a scenario cannot expect.
func (o *Observed) absorb(err error) error {
	if err == nil {
		return nil
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		o.Status, o.Error, o.Message = ae.Status, ae.Code, ae.Message
	}
	if errors.Is(err, client.ErrLoginRequired) {
		o.LoginRequired = true
		if ae == nil {
			o.Status = 0
		}
	}
	if ae == nil && !o.LoginRequired {
		return err
	}
	return nil
}

func (o *Observed) describeAfter(err error) string {
	if err != nil {
		var ae *client.APIError
		if !errors.As(err, &ae) && !errors.Is(err, client.ErrLoginRequired) {
			return "error"
		}
		probe := *o
		probe.absorb(err)
		return probe.describe()
	}
	return o.describe()
}

func (w *world) advance(ctx context.Context, d time.Duration) error {
	if w.r.Server != "" {
		if w.admin == nil {
			return errors.New("advance needs the server's admin token")
		}
		if err := w.admin.advance(ctx, d); err != nil {
			return err
		}
	}
	return w.clock.Advance(d)
}

// request sends one API call through the client, which refreshes as
// needed; with a saved token, that token is sent as is.
func (w *world) request(ctx context.Context, a RequestArgs, o *Observed) error {
	if a.Token != "" {
		return w.rawRequest(ctx, a, w.saved[a.Token], o)
	}
	req, err := w.newRequest(ctx, a)
	if err != nil {
		return err
	}
	return readAnswer(w.client.HTTPClient().Do(req))(o)
}

// rawRequest sends a request with exactly this access token.
func (w *world) rawRequest(ctx context.Context, a RequestArgs, token string, o *Observed) error {
	req, err := w.newRequest(ctx, a)
	if err != nil {
		return err
	}
	w.attach(req, token)
	return readAnswer(w.plain.Do(req))(o)
}

func (w *world) newRequest(ctx context.Context, a RequestArgs) (*http.Request, error) {
	var body io.Reader
	if a.Body != "" {
		body = strings.NewReader(a.Body)
	}
	req, err := http.NewRequestWithContext(ctx, a.Method, w.url(a.Path), body)
	if err == nil && a.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, err
}

// readAnswer records an answer's status, error code and body.
func readAnswer(resp *http.Response, err error) func(*Observed) error {
	return func(o *Observed) error {
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		o.Status, o.body = resp.StatusCode, string(data)
		o.Error, o.Message = errorCode(data)
		return nil
	}
}

func (w *world) url(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return w.server + path
}

// attach puts an access token where the profile says it travels.
func (w *world) attach(req *http.Request, token string) {
	if w.profile.Transport == client.ViaCookie {
		req.AddCookie(&http.Cookie{Name: w.profile.Cookies.Access, Value: token})
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
}

func (w *world) concurrent(ctx context.Context, a ConcurrentArgs, o *Observed) (Observed, string, error) {
	obs := make([]Observed, a.N)
	errs := make([]error, a.N)
	var wg sync.WaitGroup
	for i := range a.N {
		wg.Go(func() { errs[i] = obs[i].absorb(w.request(ctx, a.Request, &obs[i])) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return *o, "concurrent", err
	}
	counts := map[int]int{}
	for _, ob := range obs {
		o.Statuses = append(o.Statuses, ob.Status)
		counts[ob.Status]++
	}
	o.Status = obs[0].Status
	if len(counts) > 1 {
		o.Status = 0 // mixed: an expected status cannot match
	}
	o.Error = obs[0].Error
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d×%d", counts[st], st))
	}
	return *o, fmt.Sprintf("%d × %s %s at once → %s", a.N, a.Request.Method, a.Request.Path, strings.Join(parts, ", ")), nil
}

func (w *world) lastServerEvent(ctx context.Context) (int64, error) {
	if w.admin == nil {
		return 0, errors.New("no admin API")
	}
	// Page on from the last event this scenario saw, not from the start.
	events, err := w.admin.events(ctx, w.seenEvent)
	if err != nil {
		return 0, err
	}
	if len(events) > 0 {
		w.seenEvent = events[len(events)-1].ID
	}
	return w.seenEvent, nil
}

func (w *world) serverEventsSince(ctx context.Context, after int64) ([]string, error) {
	if w.admin == nil {
		return nil, errors.New("no admin API")
	}
	events, err := w.admin.events(ctx, after)
	if err != nil {
		return nil, err
	}
	kinds := make([]string, len(events))
	for i, e := range events {
		kinds[i] = e.Kind
	}
	return kinds, nil
}

// claims decodes the current access token's claims (unverified: the
// scenario only reads what the server put there).
func (w *world) claims(ctx context.Context) map[string]any {
	at, _ := w.tokens(ctx)
	d, err := client.Decode(at)
	if err != nil {
		return nil
	}
	return d.Claims
}
