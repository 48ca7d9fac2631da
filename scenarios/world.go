package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
)

// world is one scenario's running state.
type world struct {
	r        *Runner
	sc       *Scenario
	server   string
	profile  client.Profile
	clock    *mockserver.Clock // the clients' clock; the embedded server's too
	admin    *adminAPI         // nil when the server's admin API is out of reach
	embedded *mockserver.Embedded
	dbPath   string // the embedded server's database file, when it restarts
	cleanup  []func() error

	transport *http.Transport // every connection of the scenario
	rec       *recorder       // the last answer, for captures and header checks
	plain     *http.Client    // for requests that must not refresh
	browser   *http.Client    // the person's browser on login pages: no cookies, no redirects followed
	actors    map[string]*actor
	trace     string // labels every request of this scenario run: its server events are those
	saved     map[string]string
	codes     map[string]*exchange // saved code exchanges, to replay
	vars      map[string]string
	last      Observed
	lastActor string // the client of the step before, which an expect step checks

	mu     sync.Mutex
	events []actorEvent

	v3 worldV3 // token variables and the like (world_v3.go)

	app *appRun // the app under test (app.go), nil in other scenarios
}

// actor is one client of the scenario (a device): its own session.
type actor struct {
	name   string
	client *client.Client
	user   string
	tap    *flowTap // what the runner sees of the client's code exchanges
}

type actorEvent struct {
	actor string
	event client.Event
}

// close stops the scenario's server and puts back what it changed; the
// error says what could not be put back.
func (w *world) close() error {
	w.transport.CloseIdleConnections()
	var errs []error
	if w.embedded != nil {
		if err := w.embedded.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop the scenario's embedded server after its last step: %w", err))
		}
	}
	for i := len(w.cleanup) - 1; i >= 0; i-- {
		errs = append(errs, w.cleanup[i]())
	}
	return errors.Join(errs...)
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// recorder keeps the last answer that went through it: its headers,
// cookies and (up to 1 MiB of) body.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	last *recorded
}

type recorded struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if rerr != nil {
		resp.Body.Close()
		return nil, rerr
	}
	// The caller reads the whole answer: what was read, then the rest.
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	r.mu.Lock()
	r.last = &recorded{status: resp.StatusCode, header: resp.Header.Clone(), cookies: resp.Cookies(), body: body}
	r.mu.Unlock()
	return resp, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// answeredStatus is the status of the step's last answer: what the server
// really said (a logout is 204 on the seed routes, 200 at /oauth/revoke).
func (w *world) answeredStatus() int {
	if ans := w.rec.answer(); ans != nil && ans.status != 0 {
		return ans.status
	}
	return http.StatusOK
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.last = nil
	r.mu.Unlock()
}

func (r *recorder) answer() *recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// newClient gives an actor a fresh client (a new device) for a user.
func (w *world) newClient(a *actor, username string, p client.Profile) error {
	tap := &flowTap{base: w.rec}
	timeout := w.r.RequestTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	c, err := client.New(w.server, username, p, client.NewMemoryStore(),
		client.WithHTTPClient(&http.Client{Transport: tap, Timeout: timeout}),
		client.WithClock(w.clientClock()), client.WithEvents(func(e client.Event) {
			w.mu.Lock()
			w.events = append(w.events, actorEvent{a.name, e})
			w.mu.Unlock()
		}))
	if err != nil {
		return err
	}
	a.client, a.user, a.tap = c, username, tap
	return nil
}

func (w *world) actor(name string) *actor {
	a, ok := w.actors[name]
	if !ok {
		a = &actor{name: name}
		w.actors[name] = a
	}
	return a
}

func (w *world) eventCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// clientEventsSince counts an actor's refreshes and rotations after index from.
func (w *world) clientEventsSince(from int, who string) (refreshes, rotations int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events[from:] {
		if e.actor != who {
			continue
		}
		switch e.event.Kind {
		case client.EventRefresh:
			refreshes++
		case client.EventRotation:
			rotations++
		}
	}
	return
}

// tokens returns an actor's current tokens, empty when there is none.
func (w *world) tokens(ctx context.Context, a *actor) (access, refresh string) {
	if a.client == nil {
		return "", ""
	}
	s, err := a.client.Session(ctx)
	if err != nil {
		return "", ""
	}
	return s.AccessToken, s.RefreshToken
}

// run runs one step and checks its expectations.
func (w *world) run(ctx context.Context, n int, st Step) StepResult {
	start := time.Now()
	sr := StepResult{N: n, Line: st.Line, Kind: st.Kind, Say: st.Say, Status: Passed}
	if st.Client != DefaultClient && st.Client != "" {
		sr.Client = st.Client
	}
	who := st.Client
	if st.Kind == KindExpect && who == "" {
		who = w.lastActor
	}
	a := w.actor(who)
	w.lastActor = who
	wantsEvents := st.Expect != nil && (!st.Expect.Events.empty() || len(st.Expect.NoEvents) > 0) ||
		w.app != nil && (st.Kind == KindHTTP || st.Kind == KindBrowse) // for the diagnosis of a failure (app_diagnose.go)
	w.setTokenVars(ctx, a)
	if st.Kind == KindExpect {
		sr.Summary, sr.Got = "check the step before", w.last
		sr.Failures, sr.SkippedChecks = check(st.Expect.expanded(w.vars), w.last, w.claims(ctx, a))
		sr.Failures = append(sr.Failures, checkV3(st.Expect, w.last, w.vars, w.clock.Now())...)
	} else if err := w.missingTokenVars(st, a); err != nil {
		sr.Summary, sr.Failures = st.Kind, []string{err.Error()}
	} else {
		var eventsBefore ownEvents
		var eventsErr error
		if wantsEvents {
			eventsBefore, eventsErr = w.ownServerEvents(ctx)
		}
		from := w.eventCount()
		at, rt := w.tokens(ctx, a)
		w.rec.reset()
		stepCtx, cancel := stepContext(ctx, st)
		obs, summary, err := w.do(stepCtx, st, a)
		cancel()
		w.noteIDToken(a)
		obs.Refreshes, obs.Rotations = w.clientEventsSince(from, a.name)
		at2, rt2 := w.tokens(ctx, a)
		if usesSession(st) {
			// One rule for every step that works on the session: login is
			// required when the client holds no session afterwards (a
			// login that did not start one, a refresh refused for good,
			// a logout), whatever the server answered.
			obs.LoginRequired = at2 == "" && rt2 == ""
		}
		obs.hasRefresh = rt2 != ""
		obs.TokenChanged = at != at2 && at2 != ""
		obs.RefreshChanged = rt != rt2 && rt2 != ""
		if ans := w.rec.answer(); ans != nil && answersOf(st) {
			obs.header, obs.cookies = ans.header, ans.cookies
		}
		if wantsEvents {
			if eventsErr == nil {
				obs.Events, eventsErr = w.serverEventsSince(ctx, eventsBefore)
			}
			if eventsErr != nil {
				obs.EventsUnknown = fmt.Sprintf("step %d (%s) checks server events, which %s", n, st.Kind, eventsErr)
			}
		}
		sr.Summary, sr.Got, w.last = summary, obs, obs
		switch {
		case err != nil:
			sr.Failures = []string{err.Error()}
		case st.Expect != nil:
			sr.Failures, sr.SkippedChecks = check(st.Expect.expanded(w.vars), obs, w.claims(ctx, a))
			if e := st.Expect; e.Status == nil && e.Error == nil && e.LoginRequired == nil {
				sr.Failures = append(sr.Failures, defaultCheck(st.Kind, obs, summary)...)
			}
		default:
			sr.Failures = defaultCheck(st.Kind, obs, summary)
		}
		if err == nil && len(st.Capture) > 0 {
			sr.Failures = append(sr.Failures, w.capture(st)...)
		}
		if err == nil {
			w.setTokenVars(ctx, a)
			sr.Failures = append(sr.Failures, checkV3(st.Expect, obs, w.vars, w.clock.Now())...)
		}
	}
	if len(sr.Failures) > 0 {
		sr.Status = Failed
		sr.Failures = append(sr.Failures, w.app.diagnose(st, sr.Got)...)
	}
	sr.Duration = time.Since(start)
	sr.DurationMS = ms(sr.Duration)
	return sr
}

// answersOf reports whether a step's own answer is what the recorder saw
// last (not a refresh the client made on the way, for a lost response).
func answersOf(st Step) bool {
	return slices.Contains(answered, st.Kind) && !(st.Kind == KindRefresh && st.Refresh.LoseResponse)
}

// capture keeps parts of the step's answer as variables.
func (w *world) capture(st Step) []string {
	ans := w.rec.answer()
	if ans == nil {
		return []string{"capture: the step got no answer to capture from"}
	}
	var fails []string
	for _, name := range slices.Sorted(maps.Keys(st.Capture)) {
		expr := st.Capture[name]
		src, key, _ := strings.Cut(expr, ".")
		var v string
		var ok bool
		switch src {
		case "body":
			v, ok = jsonField(ans.body, key)
		case "header":
			v = ans.header.Get(key)
			ok = v != ""
		case "cookie":
			for _, c := range ans.cookies {
				if c.Name == key {
					v, ok = c.Value, true
				}
			}
		case "token":
			v, ok = w.captureToken(st, key, ans)
		}
		if !ok {
			fails = append(fails, fmt.Sprintf("capture %s: the answer has no %s", name, expr))
			continue
		}
		w.vars[name] = v
	}
	return fails
}

// jsonField reads a dotted path (data.id, items.0.id) from a JSON body;
// numbers and booleans come back as written.
func jsonField(body []byte, path string) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "", false
	}
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[part]; !ok {
				return "", false
			}
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(node) {
				return "", false
			}
			v = node[i]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "", false
	case map[string]any, []any:
		data, _ := json.Marshal(x)
		return string(data), true
	}
	return fmt.Sprint(v), true
}

// defaultCheck: a step that builds the session or calls the API must
// succeed unless the scenario says what it expects instead (a status, an
// error or login_required).
func defaultCheck(kind string, o Observed, summary string) []string {
	switch kind {
	case KindLogin, KindRefresh:
		if o.Status >= 400 || o.LoginRequired || o.Error == ErrTimeout {
			return []string{fmt.Sprintf("%s failed: %s (add an expect: to make this the point of the step)", kind, o.describe())}
		}
	case KindLogout:
		if o.Status >= 400 || o.Error == ErrTimeout {
			return []string{fmt.Sprintf("logout failed: %s (add an expect: to make this the point of the step)", o.describe())}
		}
	case KindHTTP, KindBrowse:
		return appDefaultCheck(kind, o, summary)
	case KindRequest:
		if o.Status >= 400 || o.Error == ErrTimeout {
			return []string{fmt.Sprintf("the request failed: %s (add expect: {status: %d} if that is the point of the step)", summary, o.Status)}
		}
		if o.LoginRequired {
			return []string{fmt.Sprintf("the request could not be sent: %s (add expect: {login_required: true} if that is the point of the step)", o.describe())}
		}
	}
	return nil
}

func (o Observed) describe() string {
	s := fmt.Sprint(o.Status)
	switch {
	case o.Status == 0 && o.Error != "":
		s = o.Error
	case o.Status == 0:
		s = "no answer"
	case o.Error != "":
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
func (w *world) do(ctx context.Context, st Step, a *actor) (Observed, string, error) {
	switch st.Kind {
	case KindLogin:
		return w.doLogin(ctx, st, a)
	case KindRequest:
		return w.doRequest(ctx, st, a)
	case KindRefresh:
		return w.doRefresh(ctx, st, a)
	case KindAdvance:
		return w.doAdvance(ctx, st)
	case KindWait:
		return doWait(ctx, st)
	case KindSave:
		return w.doSave(ctx, st, a)
	case KindReplay:
		return w.doReplay(ctx, st, a)
	case KindTamper:
		var o Observed
		return w.tamper(ctx, a, st.Tamper, &o)
	case KindConcurrent:
		var o Observed
		if err := a.needClient(); err != nil && st.Concurrent.Request.Token == "" {
			return o, "concurrent", err
		}
		return w.concurrent(ctx, a, st.Concurrent, &o)
	case KindLogout:
		return w.doLogout(ctx, a)
	case KindFault:
		return w.doFault(ctx, st)
	case KindRestart:
		if err := w.restart(ctx); err != nil {
			return Observed{}, "restart", err
		}
		return Observed{}, "the server restarts on the same database", nil
	case KindBrowse, KindHTTP, KindRestartApp, KindAwait, KindRevoke:
		return w.doApp(ctx, st)
	case KindRotateKeys:
		if err := w.admin.rotateKeys(ctx); err != nil {
			return Observed{}, "rotate_keys", err
		}
		return Observed{}, "the server rotates its signing keys", nil
	}
	return Observed{}, st.Kind, fmt.Errorf("unknown step kind %q", st.Kind)
}

// who prefixes a step's summary with the actor's name, unless it is the
// default client.
func (a *actor) who() string {
	if a.name == DefaultClient {
		return ""
	}
	return a.name + ": "
}

// needClient says why a step cannot run before the actor logged in.
func (a *actor) needClient() error {
	if a.client != nil {
		return nil
	}
	if a.name != DefaultClient {
		return fmt.Errorf("client %s has not logged in yet: add a login step with client: %s first", a.name, a.name)
	}
	return errors.New("no one is logged in yet: add a login step first")
}

func (w *world) doLogin(ctx context.Context, st Step, a *actor) (Observed, string, error) {
	var o Observed
	who := a.who()
	user := expand(st.Login.Username, w.vars)
	if user == "" {
		user = w.r.Username
	}
	pass := w.r.Password
	if st.Login.Password != nil { // given, even empty: sent as written
		pass = expand(*st.Login.Password, w.vars)
	}
	p, err := w.loginProfile(st.Login)
	if err != nil {
		return o, who + "log in", err
	}
	if st.Login.flow() == client.FlowClientCredentials {
		user = "" // the session is named after the client
	}
	if err := w.newClient(a, user, p); err != nil {
		return o, who + "log in", err
	}
	if st.Login.flow() != client.FlowPassword {
		o, summary, err := w.flowLogin(ctx, a, st.Login, user, pass)
		return o, who + summary, err
	}
	_, err = a.client.Login(ctx, pass)
	o.Status = w.answeredStatus()
	return o, who + "log in as " + user + " → " + o.describeAfter(err), o.absorb(err)
}

func (w *world) doRequest(ctx context.Context, st Step, a *actor) (Observed, string, error) {
	var o Observed
	who := a.who()
	if err := a.needClient(); err != nil && st.Request.Token == "" && st.Request.Auth != "none" {
		return o, who + st.Request.Method + " " + st.Request.Path, err
	}
	req := w.expandRequest(st.Request)
	err := w.request(ctx, a, req, &o)
	return o, who + req.Method + " " + req.Path + " → " + o.describeAfter(err), o.absorb(err)
}

func (w *world) doRefresh(ctx context.Context, st Step, a *actor) (Observed, string, error) {
	var o Observed
	who := a.who()
	if err := a.needClient(); err != nil {
		return o, who + "refresh", err
	}
	if st.Refresh.LoseResponse {
		return w.loseRefreshResponse(ctx, a)
	}
	_, err := a.client.Refresh(ctx)
	o.Status = w.answeredStatus()
	return o, who + "refresh now → " + o.describeAfter(err), o.absorb(err)
}

// loseRefreshResponse sends a refresh whose answer the client never sees.
func (w *world) loseRefreshResponse(ctx context.Context, a *actor) (Observed, string, error) {
	who := a.who()
	_, rt := w.tokens(ctx, a)
	if rt == "" {
		return Observed{}, who + "refresh", errors.New("there is no refresh token to send: log in first")
	}
	// The request reaches the server and is processed; the client never
	// sees the answer, as after a dropped connection. Any answer will do,
	// but a request that never arrived proves nothing.
	if err := a.client.Replay(ctx, rt); err != nil {
		if ae := (*client.APIError)(nil); !errors.As(err, &ae) {
			return Observed{}, who + "refresh", fmt.Errorf("the refresh whose answer is to be lost never reached the server: %w", err)
		}
	}
	return Observed{}, who + "refresh; the answer is lost on the way back (the client keeps its old tokens)", nil
}

func (w *world) doAdvance(ctx context.Context, st Step) (Observed, string, error) {
	at, err := w.advance(ctx, st.Duration)
	if err != nil {
		return Observed{}, "advance", err
	}
	return Observed{}, fmt.Sprintf("clock +%s → %s", mockserver.FormatDuration(st.Duration), at.Format(time.RFC3339)), nil
}

func doWait(ctx context.Context, st Step) (Observed, string, error) {
	select {
	case <-time.After(st.Duration):
	case <-ctx.Done():
		return Observed{}, "wait", ctx.Err()
	}
	return Observed{}, "wait " + st.Duration.String() + " of real time", nil
}

func (w *world) doSave(ctx context.Context, st Step, a *actor) (Observed, string, error) {
	who := a.who()
	if st.Save.Token == "code" {
		if a.tap == nil || a.tap.lastExchange() == nil {
			return Observed{}, "save", errors.New("there is no code exchange to save: the pkce or device login before it sent none")
		}
		w.codes[st.Save.As] = a.tap.lastExchange()
		return Observed{}, who + "save the token request that traded the code as " + st.Save.As, nil
	}
	if st.Save.From != "" {
		return w.saveCaptured(st, a)
	}
	at, rt := w.tokens(ctx, a)
	tok := map[string]string{"access": at, "refresh": rt}[st.Save.Token]
	if tok == "" {
		return Observed{}, "save", fmt.Errorf("there is no %s token to save: log in first", st.Save.Token)
	}
	w.saved[st.Save.As] = tok
	return Observed{}, who + "save the " + st.Save.Token + " token as " + st.Save.As, nil
}

func (w *world) doReplay(ctx context.Context, st Step, a *actor) (Observed, string, error) {
	var o Observed
	who := a.who()
	if ex, ok := w.codes[st.Replay]; ok {
		err := w.replayExchange(ctx, ex, &o)
		return o, who + "send the token request that traded " + st.Replay + " again → " + o.describeAfter(err) + because(o), err
	}
	if a.client == nil {
		if err := w.newClient(a, w.r.Username, w.profile); err != nil {
			return o, "replay", err
		}
	}
	tok, err := w.replayToken(st.Replay)
	if err != nil {
		return o, who + "replay " + st.Replay, err
	}
	err = a.client.Replay(ctx, tok)
	o.Status = w.answeredStatus()
	return o, who + "replay " + st.Replay + " → " + o.describeAfter(err), o.absorb(err)
}

func (w *world) doLogout(ctx context.Context, a *actor) (Observed, string, error) {
	var o Observed
	who := a.who()
	if err := a.needClient(); err != nil {
		return o, who + "log out", err
	}
	err := a.client.Logout(ctx)
	o.Status = w.answeredStatus()
	err = o.absorb(err)
	o.LoginRequired = false // a logout is meant to end the session: not news for its summary
	return o, who + "log out → " + o.describe(), err
}

func (w *world) doFault(ctx context.Context, st Step) (Observed, string, error) {
	f := st.Fault
	if f.Client == appClient && f.LoseResponse && w.app != nil {
		w.app.lost = true
	}
	f.Client = w.clientID(f.Client)
	if err := w.admin.fault(ctx, f); err != nil {
		return Observed{}, "fault", err
	}
	calls := "call"
	if f.Times > 1 {
		calls = plural(f.Times, "call")
	}
	what := fmt.Sprintf("with %d", f.Status)
	switch {
	case f.LoseResponse:
		what = "by acting on it and losing the answer on the way back"
	case f.Status == 0:
		what = "late, after " + time.Duration(f.Delay).String()
	case f.Delay > 0:
		what += ", after " + time.Duration(f.Delay).String()
	}
	of := ""
	if st.Fault.Client != "" {
		of = " of client " + st.Fault.Client
	}
	return Observed{}, fmt.Sprintf("the server will answer the next %s%s to the %s route %s", calls, of, f.Route, what), nil
}

// restart stops the embedded server and starts it again on the same
// database, address and clock; clients keep their URL and tokens.
func (w *world) restart(ctx context.Context) error {
	if w.embedded == nil {
		return errors.New("only the embedded server can restart")
	}
	addr := strings.TrimPrefix(w.embedded.URL, "http://")
	w.transport.CloseIdleConnections()
	err := w.embedded.Close()
	w.embedded = nil
	if err != nil {
		return fmt.Errorf("stop the server: %w", err)
	}
	wall := w.r.Wall
	if wall == nil {
		wall = time.Now
	}
	if err := w.startEmbedded(ctx, wall, addr); err != nil {
		return fmt.Errorf("start the server again: %w", err)
	}
	return nil
}

func (w *world) expandRequest(r RequestArgs) RequestArgs {
	r.Path, r.Body = expand(r.Path, w.vars), expand(r.Body, w.vars)
	if len(r.Headers) > 0 {
		h := make(map[string]string, len(r.Headers))
		for k, v := range r.Headers {
			h[k] = expand(v, w.vars)
		}
		r.Headers = h
	}
	return r
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
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			// No answer within the client's timeout: something a scenario
			// expects (error: timeout) when it delays the server on purpose.
			o.Status, o.Error, o.Message = 0, ErrTimeout, err.Error()
			return nil
		}
		return err
	}
	return nil
}

// ErrTimeout is the error code of a step whose answer did not come within
// the client's timeout.
const ErrTimeout = "timeout"

func (o *Observed) describeAfter(err error) string {
	if err != nil {
		var ae *client.APIError
		if ne := net.Error(nil); !errors.As(err, &ae) && !errors.Is(err, client.ErrLoginRequired) && !(errors.As(err, &ne) && ne.Timeout()) {
			return "error"
		}
		probe := *o
		probe.absorb(err)
		return probe.describe()
	}
	return o.describe()
}

// advance moves the scenario's clock, and the external server's through
// its admin API; it returns the server's time afterwards.
func (w *world) advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if w.embedded == nil {
		if w.admin == nil {
			return time.Time{}, errors.New("advance needs the server's admin token")
		}
		now, err := w.admin.advance(ctx, d)
		if err != nil {
			return time.Time{}, err
		}
		if err := w.clock.Advance(d); err != nil {
			return time.Time{}, err
		}
		return now, nil
	}
	if err := w.clock.Advance(d); err != nil {
		return time.Time{}, err
	}
	return w.clock.Now(), nil
}

// request sends one API call through the actor's client, which refreshes
// as needed; with a saved token, that token is sent as is; with auth:
// none, no token at all.
func (w *world) request(ctx context.Context, a *actor, r RequestArgs, o *Observed) error {
	switch {
	case r.Auth == "none":
		return w.rawRequest(ctx, r, "", o)
	case r.Token != "":
		return w.rawRequest(ctx, r, w.saved[r.Token], o)
	}
	req, err := w.newRequest(ctx, r)
	if err != nil {
		return err
	}
	return readAnswer(a.client.HTTPClient().Do(req))(o)
}

// rawRequest sends a request with exactly this access token (none when empty).
func (w *world) rawRequest(ctx context.Context, a RequestArgs, token string, o *Observed) error {
	req, err := w.newRequest(ctx, a)
	if err != nil {
		return err
	}
	if token != "" {
		w.attach(req, token)
	}
	return readAnswer(w.plain.Do(req))(o)
}

func (w *world) newRequest(ctx context.Context, a RequestArgs) (*http.Request, error) {
	var body io.Reader
	if a.Body != "" {
		body = strings.NewReader(a.Body)
	}
	req, err := http.NewRequestWithContext(ctx, a.Method, w.url(a.Path), body)
	if err != nil {
		return nil, err
	}
	if a.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
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

func (w *world) concurrent(ctx context.Context, a *actor, c ConcurrentArgs, o *Observed) (Observed, string, error) {
	obs := make([]Observed, c.N)
	errs := make([]error, c.N)
	r := w.expandRequest(c.Request)
	var wg sync.WaitGroup
	for i := range c.N {
		wg.Go(func() { errs[i] = obs[i].absorb(w.request(ctx, a, r, &obs[i])) })
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
	return *o, fmt.Sprintf("%d × %s %s at once → %s", c.N, r.Method, r.Path, strings.Join(parts, ", ")), nil
}

// claims decodes the actor's current access token's claims (unverified:
// the scenario only reads what the server put there).
func (w *world) claims(ctx context.Context, a *actor) map[string]any {
	at, _ := w.tokens(ctx, a)
	d, err := client.Decode(at)
	if err != nil {
		return nil
	}
	return d.Claims
}
