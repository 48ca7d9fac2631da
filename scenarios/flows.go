package scenarios

// Login flows in scenarios: `login: {flow: pkce|device|client-credentials}`.
// For pkce and device the runner plays the person at the browser by
// filling tokenlab's own HTML forms over HTTP with a cookie-less client of
// its own; the device polls on the scenario's frozen clock.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/client"
	"github.com/tokenlab/tokenlab/mockserver"
	"go.yaml.in/yaml/v3"
)

// Grant types the runner watches on their way to the token endpoint.
const (
	grantCode   = "authorization_code"
	grantDevice = "urn:ietf:params:oauth:grant-type:device_code"
)

// maxPolls bounds a device login: polls after the person decided, before
// the runner gives up on a server that keeps the device waiting.
const maxPolls = 20

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// login checks a login step's flow keys against each other.
func (p parser) login(v *yaml.Node, l LoginArgs) error {
	flow := l.flow()
	switch {
	case !slices.Contains(loginFlows, flow):
		return p.errf(v.Line, "login flow must be one of %s, not %q", strings.Join(loginFlows, ", "), l.Flow)
	case l.ClientSecret != "" && l.ClientSecretEnv != "":
		return p.errf(v.Line, "give the client's secret one way: client_secret or client_secret_env")
	case (l.ClientSecret != "" || l.ClientSecretEnv != "") && l.ClientID == "":
		return p.errf(v.Line, "a client secret needs the client_id it belongs to")
	case l.ClientSecretEnv != "" && !envName.MatchString(l.ClientSecretEnv):
		return p.errf(v.Line, "client_secret_env is the name of an environment variable, such as TOKENLAB_CLIENT_SECRET, not %q", l.ClientSecretEnv)
	case l.Deny && flow != client.FlowPKCE && flow != client.FlowDevice:
		return p.errf(v.Line, "deny presses Deny on the pkce or device login page; a %s login has none", flow)
	case l.WrongVerifier && flow != client.FlowPKCE:
		return p.errf(v.Line, "wrong_verifier is for flow: pkce, whose code is traded with a code_verifier")
	case l.WrongVerifier && l.Deny:
		return p.errf(v.Line, "a denied login gets no code, so wrong_verifier has nothing to trade")
	case len(l.Polls) > 0 && flow != client.FlowDevice:
		return p.errf(v.Line, "polls are for flow: device")
	case len(l.Polls) > maxPolls:
		return p.errf(v.Line, "polls lists at most %d answers", maxPolls)
	case flow == client.FlowClientCredentials && (l.Username != "" || l.Password != nil):
		return p.errf(v.Line, "client-credentials logs in as the client itself: it takes no username or password")
	case flow == client.FlowClientCredentials && l.ClientID == "":
		return p.errf(v.Line, "client-credentials needs client_id: a confidential client (see server: clients)")
	}
	for i, a := range l.Polls {
		if !slices.Contains(pollAnswers, a) {
			return p.errf(v.Line, "polls lists authorization_pending or slow_down, not %q", a)
		}
		if i == 0 && a == "slow_down" {
			return p.errf(v.Line, "the first poll cannot be slow_down: there is no earlier poll for it to follow too soon")
		}
	}
	return nil
}

// loginNeeds are what a login step needs of the run: the server's grant
// for its flow (an oauth2 server may not offer the password grant), an
// oauth2 profile for every flow but password, tokenlab's pages for pkce
// and device, the clock for the device's polls, a secret from the
// environment.
func loginNeeds(i int, st Step) []need {
	l := st.Login
	flow := l.flow()
	n := need{step: i + 1, kind: st.Kind, flow: flow, pages: flow == client.FlowPKCE || flow == client.FlowDevice,
		clientID: l.ClientID, secretEnv: l.ClientSecretEnv}
	out := []need{n}
	if flow == client.FlowDevice {
		out = append(out, need{step: i + 1, kind: st.Kind, requires: RequiresClock})
	}
	return out
}

// serverClients checks server: clients.
func (p parser) serverClients(v *yaml.Node, clients []ScenarioClient) error {
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value != "clients" {
			continue
		}
		list := v.Content[i+1]
		if list.Kind != yaml.SequenceNode {
			return p.errf(list.Line, "clients is a list such as [{id: machine, secret: …}]")
		}
		for j, item := range list.Content {
			var c ScenarioClient
			if err := p.decodeKnown(item, &c); err != nil {
				return err
			}
			switch {
			case clients[j].ID == "" || clients[j].Secret == "":
				return p.errf(item.Line, "a scenario's client needs an id and a secret (it is a confidential client)")
			case clients[j].ID == mockserver.DefaultClientID:
				return p.errf(item.Line, "%s is the server's built-in public client; give yours another id", mockserver.DefaultClientID)
			}
		}
	}
	return nil
}

// grantOf is the OAuth grant type each login flow uses.
var grantOf = map[string]string{
	client.FlowPassword:          "password",
	client.FlowPKCE:              grantCode,
	client.FlowDevice:            grantDevice,
	client.FlowClientCredentials: "client_credentials",
}

// flowSkip says why this run cannot play the scenario's login flows on
// an external server, naming the first step concerned, and returns that
// step; 0 and "" when it can. tokenlab's own server (the embedded one, or
// --server when it is tokenlab serve) speaks every flow whatever the
// run's profile; another server needs an oauth2 profile, must offer the
// flow's grant, and has its own login pages, which the runner cannot fill.
func (w *world) flowSkip(ctx context.Context) (int, string) {
	var grants *[]string // the server's grant_types_supported, read once
	for _, n := range w.sc.needs {
		if n.flow == "" {
			continue
		}
		step := fmt.Sprintf("step %d (%s)", n.step, n.kind)
		if w.profile.Dialect == client.DialectOAuth2 {
			if grants == nil {
				g := w.offeredGrants(ctx)
				grants = &g
			}
			if grant := grantOf[n.flow]; len(*grants) > 0 && !slices.Contains(*grants, grant) {
				return n.step, fmt.Sprintf("%s needs the %s grant, which this server does not offer: it offers %s", step, grant, strings.Join(*grants, ", "))
			}
		}
		switch {
		case n.flow == client.FlowPassword:
			continue // every dialect logs in with a password
		case n.pages:
			if why := w.tokenlabPages(ctx); why != "" {
				return n.step, step + " fills tokenlab's login pages as the person at the browser, but " + why
			}
		case w.profile.Dialect != client.DialectOAuth2:
			if why := w.tokenlabPages(ctx); why != "" {
				return n.step, fmt.Sprintf("%s logs in with the %s flow, which needs an oauth2 profile (profile %s logs in with a password) or tokenlab's server, but %s", step, n.flow, w.profile.Name, why)
			}
		}
		if n.secretEnv != "" {
			if _, ok := w.r.lookupEnv(n.secretEnv); !ok {
				return n.step, fmt.Sprintf("%s needs the secret of the client %s: set %s (and start the server with that client, tokenlab serve --client-file)", step, n.clientID, n.secretEnv)
			}
		}
	}
	return 0, ""
}

// offeredGrants reads grant_types_supported from the server's discovery
// document (OpenID's, then RFC 8414's); nil when there is none, and then
// the login itself finds out.
func (w *world) offeredGrants(ctx context.Context) []string {
	issuer := strings.TrimRight(w.profile.OAuth.Issuer, "/")
	if issuer == "" {
		issuer = w.server
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		var meta struct {
			Grants []string `json:"grant_types_supported"`
		}
		body, status, err := w.get(ctx, issuer+path)
		if err == nil && status == http.StatusOK && json.Unmarshal(body, &meta) == nil {
			return meta.Grants
		}
	}
	return nil
}

// tokenlabPages says why the server's login pages are not tokenlab's, or
// "": its discovery names an authorize endpoint whose page is tokenlab's
// form (with its form_token).
func (w *world) tokenlabPages(ctx context.Context) string {
	issuer := strings.TrimRight(w.profile.OAuth.Issuer, "/")
	if issuer == "" {
		issuer = w.server
	}
	var meta struct {
		Authorization string `json:"authorization_endpoint"`
	}
	body, status, err := w.get(ctx, issuer+"/.well-known/oauth-authorization-server")
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &meta) != nil || meta.Authorization == "" {
		return "the server has no OAuth discovery document naming an authorization_endpoint"
	}
	probe := url.Values{"response_type": {"code"}, "client_id": {mockserver.DefaultClientID},
		"redirect_uri": {"http://127.0.0.1:9/callback"}, "code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}}
	body, status, err = w.get(ctx, meta.Authorization+"?"+probe.Encode())
	if err != nil || status != http.StatusOK || !strings.Contains(string(body), `action="/oauth/authorize"`) || !strings.Contains(string(body), `name="form_token"`) {
		return "the server's authorize page is not tokenlab's login form"
	}
	return ""
}

func (w *world) get(ctx context.Context, u string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := w.browser.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body, resp.StatusCode, err
}

// loginProfile is the profile an actor logs in with: the run's, with the
// step's client, secret, scope and resource. A flow login in a run whose
// profile speaks a password dialect uses the oauth2 dialect of tokenlab's
// server (flowSkip has made sure that is the server).
func (w *world) loginProfile(l LoginArgs) (client.Profile, error) {
	p := w.profile
	flow := l.flow()
	if flow != client.FlowPassword && p.Dialect != client.DialectOAuth2 {
		p = client.BuiltinProfiles()["oauth2"]
	}
	if l.ClientID != "" && l.ClientID != p.OAuth.ClientID {
		p.OAuth.ClientID, p.OAuth.ClientSecret = l.ClientID, ""
	}
	if p.OAuth.ClientID == "" && (flow == client.FlowPKCE || flow == client.FlowDevice) {
		p.OAuth.ClientID = mockserver.DefaultClientID // the mock server's public client
	}
	secret, err := w.clientSecret(l)
	if err != nil {
		return p, err
	}
	if secret != "" {
		p.OAuth.ClientSecret = secret
	}
	if l.Scope != "" {
		p.OAuth.Scope = expand(l.Scope, w.vars)
	}
	if l.Resource != "" {
		p.OAuth.Resources = []string{expand(l.Resource, w.vars)}
	}
	return p, nil
}

// clientSecret finds the step's client secret: written on the step, the
// one the runner registered on its own server, or from the environment.
func (w *world) clientSecret(l LoginArgs) (string, error) {
	if l.ClientSecret != "" {
		return expand(l.ClientSecret, w.vars), nil
	}
	if w.embedded != nil {
		if s, ok := w.sc.Server.clientSecret(l.ClientID); ok {
			return s, nil
		}
	}
	if l.ClientSecretEnv != "" {
		s, ok := w.r.lookupEnv(l.ClientSecretEnv)
		if !ok {
			return "", fmt.Errorf("the environment variable %s, which holds the secret of the client %s, is not set", l.ClientSecretEnv, l.ClientID)
		}
		return s, nil
	}
	return "", nil
}

// flowLogin runs a pkce, device or client-credentials login.
func (w *world) flowLogin(ctx context.Context, a *actor, l LoginArgs, user, pass string) (Observed, string, error) {
	var o Observed
	a.tap.start(l.WrongVerifier)
	switch l.flow() {
	case client.FlowClientCredentials:
		_, err := a.client.LoginClientCredentials(ctx)
		o.Status = 200
		return o, "log in as the client " + l.ClientID + " (client credentials) → " + o.describeAfter(err), o.absorb(err)
	case client.FlowPKCE:
		var page pageStop
		_, err := a.client.LoginPKCE(ctx, client.PKCEOptions{Timeout: 30 * time.Second, Open: func(octx context.Context, u string) error {
			return w.playAuthorize(octx, u, user, pass, l.Deny, &page)
		}})
		what := "log in as " + user + " through the browser (pkce): "
		if page.stopped {
			o = page.observed()
			return o, what + "the page answered " + o.describe(), nil
		}
		o.Status = 200
		steps := "authorize page → " + map[bool]string{true: "deny", false: "approve"}[l.Deny] + " → code on the loopback → exchange"
		if l.Deny {
			steps = "authorize page → deny → access_denied on the loopback"
		}
		err = o.absorbFlow(err, nil)
		return o, what + steps + " → " + o.describe() + because(o), err
	case client.FlowDevice:
		return w.deviceLogin(ctx, a, l, user, pass)
	}
	return o, "log in", fmt.Errorf("unknown login flow %q", l.Flow)
}

// deviceLogin runs a device login: the device polls on the scenario's
// clock; the person decides on /device after the polls the step lists.
func (w *world) deviceLogin(ctx context.Context, a *actor, l LoginArgs, user, pass string) (Observed, string, error) {
	var o Observed
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var code client.DeviceCode
	var page pageStop
	sleeps := 0
	decided := "approved"
	if l.Deny {
		decided = "denied"
	}
	_, err := a.client.LoginDevice(dctx, client.DeviceOptions{
		Show: func(_ context.Context, c client.DeviceCode) error { code = c; return nil },
		Sleep: func(sctx context.Context, d time.Duration) error {
			sleeps++
			if sleeps == len(l.Polls)+1 { // the person decides now, before the next poll
				if err := w.playDevice(sctx, code, user, pass, l.Deny, &page); err != nil {
					cancel()
					return err
				}
			}
			if sleeps > len(l.Polls)+maxPolls {
				return fmt.Errorf("the server kept the device waiting for %d polls after the person %s it", maxPolls, decided)
			}
			if sleeps <= len(l.Polls) && l.Polls[sleeps-1] == "slow_down" {
				return nil // the device asks again at once, too soon
			}
			_, err := w.advance(sctx, d) // waits the interval on the scenario's clock
			return err
		}})
	heard := a.tap.pollAnswers()
	what := "log in as " + user + " on a device: code " + code.UserCode
	if len(heard) > 0 {
		what += "; polls: " + strings.Join(heard, ", ")
	}
	if page.stopped {
		o = page.observed()
		return o, what + "; the /device page answered " + o.describe(), nil
	}
	if ctx.Err() == nil && dctx.Err() == nil && len(heard) >= len(l.Polls) && !slices.Equal(heard[:len(l.Polls)], l.Polls) {
		return o, what, fmt.Errorf("expected the device to hear %v before the person decided, got %v", l.Polls, heard[:len(l.Polls)])
	}
	o.Status = 200
	err = o.absorbFlow(err, a.tap.lastPoll())
	return o, what + "; " + decided + " on /device → " + o.describe() + because(o), err
}

// tokenlabReason finds the code at the end of an invalid_grant's
// description: "… (code_reused)".
var tokenlabReason = regexp.MustCompile(`\(([a-z_]+)\)\s*$`)

// because names that code in a summary, when there is one.
func because(o Observed) string {
	if m := tokenlabReason.FindStringSubmatch(o.Message); m != nil && m[1] != o.Error {
		return " (" + m[1] + ")"
	}
	return ""
}

// absorbFlow is absorb for a flow login, whose refusals may come back as
// sentences (a denied login) rather than the server's answer; last is the
// token endpoint's last answer, when known.
func (o *Observed) absorbFlow(err error, last *Observed) error {
	switch {
	case errors.Is(err, client.ErrLoginDenied):
		o.Status, o.Error, o.LoginRequired = 0, "access_denied", true
		if last != nil {
			o.Status, o.Message = last.Status, last.Message
		}
		return nil
	case errors.Is(err, client.ErrLoginTimeout) && last != nil && last.Error != "":
		o.Status, o.Error, o.Message, o.LoginRequired = last.Status, last.Error, last.Message, true
		return nil
	}
	return o.absorb(err)
}

// pageStop is where the person's part stopped on a page: an error page,
// or the login form shown again with an error (a wrong password).
type pageStop struct {
	stopped bool
	status  int
	code    string
	text    string
}

var errStoppedOnPage = errors.New("the login stopped on the server's page")

func (p *pageStop) stop(status int, f page) error {
	p.stopped, p.status, p.code, p.text = true, status, f.errCode, f.errText
	if p.code == "" {
		// The login form shown again with an error: the server logs it as
		// login_failed, which is the code a step expects.
		p.code = "login_failed"
	}
	return errStoppedOnPage
}

func (p pageStop) observed() Observed {
	return Observed{Status: p.status, Error: p.code, Message: p.text, LoginRequired: true}
}

// playAuthorize is the person at the browser: open the authorize URL,
// fill tokenlab's login form, press approve or deny, and follow the
// redirect to the client's loopback.
func (w *world) playAuthorize(ctx context.Context, authorizeURL, user, pass string, deny bool, stop *pageStop) error {
	if err := w.sameServer(authorizeURL); err != nil {
		return err
	}
	redirectURI := ""
	if u, err := url.Parse(authorizeURL); err == nil {
		redirectURI = u.Query().Get("redirect_uri")
	}
	resp, body, err := w.browse(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusFound {
		return w.followToLoopback(ctx, resp, redirectURI)
	}
	pg := readPage(body, "/oauth/authorize")
	if resp.StatusCode != http.StatusOK || pg.form == nil {
		return stop.stop(resp.StatusCode, pg)
	}
	form := pg.form
	form.Set("username", user)
	form.Set("password", pass)
	form.Set("action", map[bool]string{true: "deny", false: "approve"}[deny])
	action, _ := url.Parse(authorizeURL)
	action = action.ResolveReference(&url.URL{Path: "/oauth/authorize"})
	resp, body, err = w.browse(ctx, http.MethodPost, action.String(), form)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusFound {
		return stop.stop(resp.StatusCode, readPage(body, "/oauth/authorize"))
	}
	return w.followToLoopback(ctx, resp, redirectURI)
}

// followToLoopback takes the server's redirect to the client's loopback
// listener, as the browser would; only to the redirect URI it was given.
func (w *world) followToLoopback(ctx context.Context, resp *http.Response, redirectURI string) error {
	loc := resp.Header.Get("Location")
	if redirectURI == "" || !strings.HasPrefix(loc, redirectURI) {
		return fmt.Errorf("the server redirected the browser to %q, not to the client's redirect URI %s", loc, redirectURI)
	}
	_, _, err := w.browse(ctx, http.MethodGet, loc, nil)
	return err
}

// playDevice is the person at /device: enter the user code, log in, and
// approve or deny.
func (w *world) playDevice(ctx context.Context, code client.DeviceCode, user, pass string, deny bool, stop *pageStop) error {
	if err := w.sameServer(code.VerificationURI); err != nil {
		return err
	}
	form := url.Values{"user_code": {code.UserCode}, "username": {user}, "password": {pass},
		"action": {map[bool]string{true: "deny", false: "approve"}[deny]}}
	resp, body, err := w.browse(ctx, http.MethodPost, code.VerificationURI, form)
	if err != nil {
		return err
	}
	pg := readPage(body, "/device")
	if resp.StatusCode != http.StatusOK || pg.result == "" {
		return stop.stop(resp.StatusCode, pg)
	}
	return nil
}

// sameServer refuses to send the person's password to another origin
// than the server's.
func (w *world) sameServer(u string) error {
	got, err := client.Origin(u)
	if err != nil {
		return err
	}
	want, _ := client.Origin(w.server)
	if got != want {
		return fmt.Errorf("the login page %s is on another origin than the server %s; the runner sends the password only to the server", u, want)
	}
	return nil
}

// browse is one request of the person's browser: cookie-less, and it
// follows no redirect by itself.
func (w *world) browse(ctx context.Context, method, u string, form url.Values) (*http.Response, []byte, error) {
	return pageRequest(ctx, w.browser, method, u, form)
}

// pageRequest sends a browser's request (a form, when given, as a browser
// posts it) with hc and reads up to 1 MiB of the answer.
func pageRequest(ctx context.Context, hc *http.Client, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, data, err
}

// page is what the runner reads of one of tokenlab's HTML pages.
type page struct {
	form    url.Values // the inputs of the form posting to the action; nil when there is none
	errCode string     // data-error of the error paragraph
	errText string
	result  string // data-result of the device page
}

var (
	formTag   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputTag  = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attr      = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)\s*=\s*"([^"]*)"`)
	errorPara = regexp.MustCompile(`(?is)<p\b([^>]*\bid="error"[^>]*)>(.*?)</p>`)
	resultTag = regexp.MustCompile(`(?is)\bid="result"[^>]*\bdata-result="([^"]*)"`)
	anyTag    = regexp.MustCompile(`<[^>]*>`)
)

func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range attr.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// readPage reads tokenlab's page: every <input> of the form that posts to
// action, the error paragraph, and the device page's result.
func readPage(body []byte, action string) page {
	var p page
	s := string(body)
	for _, m := range formTag.FindAllStringSubmatch(s, -1) {
		if attrs(m[1])["action"] != action {
			continue
		}
		p.form = url.Values{}
		for _, in := range inputTag.FindAllString(m[2], -1) {
			a := attrs(in)
			if a["name"] != "" {
				p.form.Add(a["name"], a["value"])
			}
		}
		break
	}
	if m := errorPara.FindStringSubmatch(s); m != nil {
		p.errCode = attrs(m[1])["data-error"]
		p.errText = strings.TrimSpace(html.UnescapeString(anyTag.ReplaceAllString(m[2], "")))
	}
	if m := resultTag.FindStringSubmatch(s); m != nil {
		p.result = m[1]
	}
	return p
}

// ---- what the runner sees of a client's code exchanges ----

// flowTap sits under an actor's client: it keeps the last token request
// that traded a code or a device code (to replay it), swaps the verifier
// when the step says so, and hears the device's polls.
type flowTap struct {
	base http.RoundTripper

	mu            sync.Mutex
	wrongVerifier bool
	exchange      *exchange
	polls         []Observed // answers to the device's polls since start
}

// exchange is a token request as sent.
type exchange struct {
	url    string
	header http.Header
	body   []byte
}

func (t *flowTap) start(wrongVerifier bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wrongVerifier, t.polls = wrongVerifier, nil
}

func (t *flowTap) lastExchange() *exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exchange
}

// pollAnswers are the error codes the device heard, in order; a poll that
// got tokens is left out.
func (t *flowTap) pollAnswers() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, p := range t.polls {
		if p.Error != "" {
			out = append(out, p.Error)
		}
	}
	return out
}

func (t *flowTap) lastPoll() *Observed {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.polls) == 0 {
		return nil
	}
	p := t.polls[len(t.polls)-1]
	return &p
}

func (t *flowTap) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.Body == nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return t.base.RoundTrip(req)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, _ := url.ParseQuery(string(body))
	grant := form.Get("grant_type")
	if grant == grantCode || grant == grantDevice {
		t.mu.Lock()
		if grant == grantCode && t.wrongVerifier {
			form.Set("code_verifier", otherVerifier())
			body = []byte(form.Encode())
		}
		t.exchange = &exchange{url: req.URL.String(), header: req.Header.Clone(), body: body}
		t.mu.Unlock()
	}
	out := req.Clone(req.Context())
	out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := t.base.RoundTrip(out)
	if err != nil || grant != grantDevice {
		return resp, err
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	poll := Observed{Status: resp.StatusCode}
	if resp.StatusCode/100 != 2 {
		poll.Error, poll.Message = errorCode(data)
	}
	t.mu.Lock()
	t.polls = append(t.polls, poll)
	t.mu.Unlock()
	return resp, nil
}

// otherVerifier is a well-formed code_verifier that is not the client's.
func otherVerifier() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// replayExchange sends a saved code exchange again, exactly as it went.
func (w *world) replayExchange(ctx context.Context, ex *exchange, o *Observed) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ex.url, bytes.NewReader(ex.body))
	if err != nil {
		return err
	}
	req.Header = ex.header.Clone()
	return readAnswer(w.plain.Do(req))(o)
}
