package scenarios

// The steps of a scenario that puts an app under test (app.go): the
// person's browser at the app (browse, http), the app's restart, a bounded
// real-time wait for the app's server events (await), and a revocation
// behind the app's back (revoke).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Step kinds of an app under test.
const (
	KindBrowse     = "browse"
	KindHTTP       = "http"
	KindRestartApp = "restart_app"
	KindAwait      = "await"
	KindRevoke     = "revoke"
)

var appKinds = []string{KindBrowse, KindHTTP, KindRestartApp, KindAwait, KindRevoke}

// AppStepArgs are the arguments of the app steps; Kind says which is set.
type AppStepArgs struct {
	Browse BrowseArgs
	HTTP   HTTPArgs
	Await  AwaitArgs
	Revoke RevokeArgs
}

// BrowseArgs: the person opens Path in the browser, follows the app's
// redirect to tokenlab's authorize page, logs in, approves (or denies),
// and follows the redirect back to the app, keeping the app's cookies.
type BrowseArgs struct {
	Path     string  `yaml:"path"` // an app path or the name of one (login)
	User     string  `yaml:"user"`
	Password *string `yaml:"password"`
	Consent  string  `yaml:"consent"` // approve (default) or deny
}

// HTTPArgs: one call (or Concurrent calls at once) to the app with the
// browser's cookies; redirects are not followed, so a redirect to /login
// is an answer to check.
type HTTPArgs struct {
	Method     string            `yaml:"method"`
	Path       string            `yaml:"path"`
	Headers    map[string]string `yaml:"headers"`
	Body       string            `yaml:"body"`
	Concurrent int               `yaml:"concurrent"`
}

// AwaitArgs: wait in real time, at most Within, until the app's client
// has caused these server events since the previous await (or the app's
// start).
type AwaitArgs struct {
	Events *EventCheck `yaml:"events"`
	Within Duration    `yaml:"within"`
}

// RevokeArgs: revoke every session of a client through the admin API;
// app is the app's client.
type RevokeArgs struct {
	Client string `yaml:"client"`
}

// appClient in a step (revoke, fault) is the app's client.
const appClient = "app"

// appArgs reads an app step's argument.
func (p parser) appArgs(st *Step, v *yaml.Node) error {
	null := v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "")
	a := &st.App
	if e := st.Expect; e != nil && (e.LoginRequired != nil || e.Refreshes != nil || e.Rotations != nil || e.TokenChanged != nil ||
		e.RefreshChanged != nil || e.HasRefresh != nil || e.Claims != nil) {
		return p.errf(st.Line, "%s talks to the app, whose tokens tokenlab does not hold: check its answer (status: [401, 302]) and the server's events (events: {refresh: 1}) instead of login_required, refreshes, rotations, token or claims checks", st.Kind)
	}
	switch st.Kind {
	case KindRestartApp:
		if !null && !(v.Kind == yaml.MappingNode && len(v.Content) == 0) {
			return p.errf(v.Line, "restart_app takes no arguments")
		}
	case KindBrowse:
		if v.Kind == yaml.ScalarNode && !null {
			a.Browse.Path = v.Value
		} else if err := p.decodeKnown(v, &a.Browse); err != nil {
			return err
		}
		if a.Browse.Path == "" {
			a.Browse.Path = "login"
		}
		if c := a.Browse.Consent; c != "" && c != "approve" && c != "deny" {
			return p.errf(v.Line, "consent is approve or deny, not %q", c)
		}
	case KindHTTP:
		if v.Kind == yaml.ScalarNode {
			a.HTTP.Path = v.Value
			if method, path, ok := strings.Cut(v.Value, " "); ok {
				a.HTTP.Method, a.HTTP.Path = method, strings.TrimSpace(path)
			}
		} else if err := p.decodeKnown(v, &a.HTTP); err != nil {
			return err
		}
		if a.HTTP.Method == "" {
			a.HTTP.Method = http.MethodGet
		}
		a.HTTP.Method = strings.ToUpper(a.HTTP.Method)
		switch {
		case a.HTTP.Path == "":
			return p.errf(v.Line, "http needs a path of the app such as /data (or the name data)")
		case a.HTTP.Concurrent < 0 || a.HTTP.Concurrent > 1000:
			return p.errf(v.Line, "http concurrent must be from 1 to 1000")
		}
	case KindAwait:
		if err := p.decodeKnown(v, &a.Await); err != nil {
			return err
		}
		if a.Await.Events.empty() {
			return p.errf(v.Line, "await needs events: the server events to wait for, such as {refresh: 1}")
		}
		if a.Await.Within <= 0 || time.Duration(a.Await.Within) > time.Minute {
			return p.errf(v.Line, "await needs within: a bound of real time from 1ms to 1m, such as 5s")
		}
	case KindRevoke:
		if err := p.decodeKnown(v, &a.Revoke); err != nil {
			return err
		}
		if a.Revoke.Client == "" {
			return p.errf(v.Line, "revoke needs client: app (the app's client) or a client id")
		}
	}
	return nil
}

// doApp runs an app step.
func (w *world) doApp(ctx context.Context, st Step) (Observed, string, error) {
	if w.app == nil {
		return Observed{}, st.Kind, errors.New("this step needs an app under test")
	}
	if err := w.app.exited(); err != nil {
		return Observed{}, st.Kind, err
	}
	switch st.Kind {
	case KindBrowse:
		o, summary, err := w.doBrowse(ctx, st.App.Browse)
		return o, summary, w.app.whyNoAnswer(err)
	case KindHTTP:
		o, summary, err := w.doHTTP(ctx, st.App.HTTP)
		return o, summary, w.app.whyNoAnswer(err)
	case KindRestartApp:
		w.app.stop()
		w.app.restarted = true
		if err := w.app.start(ctx); err != nil {
			return Observed{}, "restart the app", err
		}
		return Observed{}, "the app stops (SIGTERM) and starts again with the same environment; the server keeps its state", nil
	case KindAwait:
		return w.doAwait(ctx, st.App.Await)
	case KindRevoke:
		id := w.clientID(st.App.Revoke.Client)
		var out struct{ Revoked int }
		if err := w.admin.do(ctx, http.MethodPost, "/admin/clients/"+url.PathEscape(id)+"/revoke", nil, &out); err != nil {
			return Observed{}, "revoke", err
		}
		return Observed{}, fmt.Sprintf("an admin revokes every session of client %s behind its back: %s", st.App.Revoke.Client, plural(out.Revoked, "family")), nil
	}
	return Observed{}, st.Kind, fmt.Errorf("unknown step kind %q", st.Kind)
}

// clientID resolves a step's client: app is the app's.
func (w *world) clientID(name string) string {
	if name == appClient && w.app != nil {
		return w.app.clientID
	}
	return name
}

// doBrowse is the person at the browser: open the app's path and follow
// its redirects, through tokenlab's authorize page, back to the app.
func (w *world) doBrowse(ctx context.Context, b BrowseArgs) (Observed, string, error) {
	var o Observed
	user := expand(b.User, w.vars)
	if user == "" {
		user = w.r.Username
	}
	pass := w.r.Password
	if b.Password != nil {
		pass = expand(*b.Password, w.vars)
	}
	consent := b.Consent
	if consent == "" {
		consent = "approve"
	}
	target := w.app.url(b.Path)
	what := "the browser opens " + strings.TrimPrefix(target, w.app.base())
	hops := []string{}
	method, form := http.MethodGet, url.Values(nil)
	for range 20 {
		resp, body, err := w.appBrowse(ctx, method, target, form)
		if err != nil {
			return o, what, fmt.Errorf("%s: %w", strings.Join(append([]string{what}, hops...), " → "), err)
		}
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			o.Status, o.body, o.header, o.cookies = resp.StatusCode, string(body), resp.Header, resp.Cookies()
			o.Error, o.Message = errorCode(body)
			hops = append(hops, fmt.Sprintf("%d", resp.StatusCode))
			return o, what + " → " + strings.Join(hops, " → "), nil
		}
		next, err := url.Parse(target)
		if err == nil {
			next, err = next.Parse(loc)
		}
		if err != nil {
			return o, what, fmt.Errorf("the browser cannot follow the redirect to %q: %w", loc, err)
		}
		method, form, target = http.MethodGet, nil, next.String()
		switch {
		case strings.HasPrefix(target, w.app.base()+"/") || target == w.app.base():
			hops = append(hops, "app "+next.Path)
		case w.sameServer(target) == nil && next.Path == "/oauth/authorize":
			hops = append(hops, "tokenlab's authorize page: "+user+" logs in and presses "+consent)
			form, err = w.authorizeForm(ctx, target, user, pass, consent, &o)
			if err != nil || form == nil {
				return o, what + " → " + strings.Join(hops, " → ") + " → " + o.describe(), err
			}
			method, target = http.MethodPost, strings.SplitN(target, "?", 2)[0]
		default:
			return o, what, fmt.Errorf("the app sent the browser to %s, which is neither the app nor tokenlab's authorize page", next.Redacted())
		}
	}
	return o, what, errors.New("the browser followed 20 redirects without reaching a page: a redirect loop")
}

// authorizeForm opens tokenlab's authorize page and fills its form; nil
// (and o set) when the page stopped the login.
func (w *world) authorizeForm(ctx context.Context, u, user, pass, consent string, o *Observed) (url.Values, error) {
	resp, body, err := w.appBrowse(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	pg := readPage(body, "/oauth/authorize")
	if resp.StatusCode != http.StatusOK || pg.form == nil {
		var stop pageStop
		stop.stop(resp.StatusCode, pg)
		*o = stop.observed()
		return nil, nil
	}
	pg.form.Set("username", user)
	pg.form.Set("password", pass)
	pg.form.Set("action", consent)
	return pg.form, nil
}

// appBrowse is one request of the person's browser, with its cookies.
func (w *world) appBrowse(ctx context.Context, method, u string, form url.Values) (*http.Response, []byte, error) {
	return pageRequest(ctx, w.app.browser, method, u, form)
}

// doHTTP calls the app with the browser's cookies, once or concurrently.
func (w *world) doHTTP(ctx context.Context, h HTTPArgs) (Observed, string, error) {
	path := expand(h.Path, w.vars)
	u := w.app.url(path)
	what := h.Method + " " + strings.TrimPrefix(u, w.app.base())
	n := max(h.Concurrent, 1)
	obs := make([]Observed, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = w.appCall(ctx, h, u, &obs[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Observed{}, what, fmt.Errorf("the app did not answer %s: %w", what, err)
	}
	if n == 1 {
		return obs[0], what + " → " + obs[0].describe(), nil
	}
	o := Observed{Status: obs[0].Status, Error: obs[0].Error}
	counts := map[int]int{}
	for _, ob := range obs {
		o.Statuses = append(o.Statuses, ob.Status)
		counts[ob.Status]++
	}
	if len(counts) > 1 {
		o.Status = 0 // mixed: an expected status cannot match
	}
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d×%d", counts[st], st))
	}
	return o, fmt.Sprintf("%d × %s at once → %s", n, what, strings.Join(parts, ", ")), nil
}

func (w *world) appCall(ctx context.Context, h HTTPArgs, u string, o *Observed) error {
	var body io.Reader
	if h.Body != "" {
		body = strings.NewReader(expand(h.Body, w.vars))
	}
	req, err := http.NewRequestWithContext(ctx, h.Method, u, body)
	if err != nil {
		return err
	}
	for k, v := range h.Headers {
		req.Header.Set(k, expand(v, w.vars))
	}
	resp, err := w.app.browser.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	o.Status, o.body, o.header, o.cookies = resp.StatusCode, string(data), resp.Header, resp.Cookies()
	o.Error, o.Message = errorCode(data)
	return nil
}

// doAwait waits, in real time and at most Within, until the app's client
// has caused the events since the previous await; it checks the counts'
// upper bounds once their lower bounds are met (or time is up).
func (w *world) doAwait(ctx context.Context, a AwaitArgs) (Observed, string, error) {
	within := time.Duration(a.Within)
	what := "wait up to " + within.String() + " of real time for the app's server events"
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		now, err := w.appEvents(ctx)
		if err != nil {
			return Observed{}, what, fmt.Errorf("await reads the app's server events, which %w", err)
		}
		kinds := eventsBetween(w.app.awaitBase, now)
		o := Observed{Events: kinds}
		if reached(a.Events, kinds) {
			w.app.awaitBase = now
			return o, what + ": they came", checkAwait(a.Events, kinds)
		}
		select {
		case <-ctx.Done():
			return o, what, ctx.Err()
		case <-deadline.C:
			w.app.awaitBase = now
			return o, what, fmt.Errorf("within %s the app's client caused %s, not %s", within, countsText(kinds), awaitText(a.Events))
		case <-tick.C:
		}
	}
}

// reached: every kind listed happened, every count reached its minimum.
func reached(c *EventCheck, kinds []string) bool {
	for _, k := range c.Kinds {
		if !slices.Contains(kinds, k) {
			return false
		}
	}
	for k, r := range c.Counts {
		if count(kinds, k) < r.Min {
			return false
		}
	}
	return true
}

func checkAwait(c *EventCheck, kinds []string) error {
	for _, k := range slices.Sorted(maps.Keys(c.Counts)) {
		if r := c.Counts[k]; !r.Holds(count(kinds, k)) {
			return fmt.Errorf("the app's client caused %s %d times, expected %s", k, count(kinds, k), r)
		}
	}
	return nil
}

func countsText(kinds []string) string {
	if len(kinds) == 0 {
		return "no events"
	}
	counts := map[string]int{}
	for _, k := range kinds {
		counts[k]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

func awaitText(c *EventCheck) string {
	parts := slices.Clone(c.Kinds)
	for _, k := range slices.Sorted(maps.Keys(c.Counts)) {
		parts = append(parts, fmt.Sprintf("%s %s", k, c.Counts[k]))
	}
	return strings.Join(parts, ", ")
}

// appDefaultCheck: a call to the app must succeed unless the scenario
// says what it expects instead.
func appDefaultCheck(kind string, o Observed, summary string) []string {
	if o.Status >= 400 || (o.Status == 0 && len(o.Statuses) == 0) {
		return []string{fmt.Sprintf("the app answered %s: %s (add expect: {status: %d} if that is the point of the step)", o.describe(), summary, o.Status)}
	}
	return nil
}
