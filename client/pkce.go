package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cli/browser"
)

// Opener shows the user a login URL: it opens a browser, prints the
// URL, or (in tests and the scenario runner) plays the browser's part. It
// may return at once; the login then waits for the loopback redirect.
type Opener func(ctx context.Context, url string) error

// OpenBrowser opens the URL in the system's browser, as gh does: through
// another program (xdg-open, open, start) whose command line every user on
// the machine can read with ps. Give it only URLs that hold no secret,
// such as a PKCE login's one-time start URL (PKCEOptions.Browser).
func OpenBrowser(_ context.Context, url string) error {
	return browser.OpenURL(url)
}

// The opener (xdg-open and the browser it starts) writes nothing on our
// terminal, where it would paint over the TUI: its output goes to the
// null device, a file, so no pipe keeps a long-lived browser waited on.
func init() {
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		browser.Stdout, browser.Stderr = null, null
	}
}

// DefaultLoginTimeout bounds how long a PKCE login waits for the browser.
const DefaultLoginTimeout = 5 * time.Minute

// PKCEOptions configure LoginPKCE. Scope and resources come from the
// profile's OAuth settings.
type PKCEOptions struct {
	// Open is given the authorize URL itself, with its state and
	// challenge: to print it on the user's own terminal, or to play the
	// browser inside this process. It must not pass the URL to another
	// program's command line.
	Open Opener
	// Browser is a browser in another process, such as OpenBrowser. Its
	// command line is public (ps), and another local user who read the
	// state and challenge there could finish this login as themselves, so
	// it is given only a one-time start URL on the loopback listener
	// (http://127.0.0.1:PORT/start/RANDOM) that redirects to the authorize
	// URL once. Browser runs before Open; when both are nil, Browser is
	// OpenBrowser.
	Browser Opener
	// RedirectPort is the loopback port; 0 picks a free one (RFC 8252 §7.3
	// lets the server accept any port).
	RedirectPort int
	// Timeout bounds the wait for the browser; DefaultLoginTimeout when 0.
	Timeout time.Duration
}

// callbackPath is where the loopback listener takes the redirect, and
// startPath where it serves the one-time start URL.
const (
	callbackPath = "/callback"
	startPath    = "/start/"
)

// LoginPKCE logs in with the authorization code flow and PKCE (RFC 6749
// §4.1, RFC 7636 S256, RFC 8252 loopback redirect): a listener on
// 127.0.0.1, a random verifier and state, the authorize URL handed to
// opts.Open, the code checked against the state on its way back, then
// traded with the verifier for tokens. Each step is an event.
func (c *Client) LoginPKCE(ctx context.Context, opts PKCEOptions) (Session, error) {
	if err := c.CheckFlow(ctx, FlowPKCE); err != nil {
		return Session{}, err
	}
	d, err := c.endpoints(ctx)
	if err != nil {
		return Session{}, err
	}
	clientID, _ := c.oauthClient()
	if clientID == "" {
		return Session{}, errors.New("the PKCE flow needs an OAuth client id (the mock server's public client is tokenlab)")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultLoginTimeout
	}
	if opts.Open == nil && opts.Browser == nil {
		opts.Browser = OpenBrowser
	}

	verifier := randomString(32)
	c.emit(Event{Kind: EventPKCEVerifier, Detail: "a random 32-byte code_verifier stays in this process: only whoever holds it can trade the code, so a code stolen on its way back is useless"})
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	c.emit(Event{Kind: EventPKCEChallenge, Detail: "code_challenge = BASE64URL(SHA-256(verifier)) (S256): the server keeps it and later checks the verifier against it"})
	state := randomString(16)

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.RedirectPort)))
	if err != nil {
		return Session{}, fmt.Errorf("cannot listen on 127.0.0.1:%d for the browser's redirect: %w", opts.RedirectPort, err)
	}
	redirectURI := "http://" + ln.Addr().String() + callbackPath
	lb := newLoopback(state, d.Issuer, d.IssParameter, func() {
		c.emit(Event{Kind: EventBrowserRefused, Detail: "a callback with a wrong state was refused (a stale tab or a forged request); still waiting for this login's own (later wrong ones are only counted)"})
	})
	srv := &http.Server{Handler: lb.handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	q := c.grantForm("")
	q.Set("response_type", "code")
	q.Set("client_id", clientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	q.Set("code_challenge", challenge)
	q.Set("code_challenge_method", "S256")
	nonce := ""
	if asksOpenID(q) { // OIDC Core §3.1.2.1: the ID token must echo it
		nonce = randomString(16)
		q.Set("nonce", nonce)
	}
	if !browsable(d.Authorization) {
		return Session{}, fmt.Errorf("the authorization_endpoint %q is not an http(s) URL a browser may be sent to", d.Authorization)
	}
	authURL, err := url.Parse(d.Authorization)
	if err != nil {
		return Session{}, fmt.Errorf("the authorization_endpoint %q is not a URL: %w", d.Authorization, err)
	}
	authURL.RawQuery = q.Encode()
	lb.setAuthorizeURL(authURL.String())
	c.emit(Event{Kind: EventAuthorizeURL, URL: d.Authorization,
		Detail: "the browser goes to the server's login page with client_id, redirect_uri " + redirectURI + ", a random state and the challenge; the password never passes through tokenlab"})

	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := show(wctx, opts, "http://"+ln.Addr().String()+startPath+lb.start, authURL.String()); err != nil {
		return Session{}, fmt.Errorf("could not open the browser (%v); log in again and open the authorize URL yourself", err)
	}
	c.emit(Event{Kind: EventBrowserWait, Detail: "waiting for the browser to come back to " + redirectURI + " with a code (at most " + timeout.String() + ")"})

	var res callbackResult
	select {
	case res = <-lb.results:
	case <-wctx.Done():
		if ctx.Err() != nil {
			return Session{}, ctx.Err()
		}
		if n := lb.wrongStates(); n > 0 {
			return Session{}, sentinelf(ErrLoginTimeout, "the browser did not come back with a code within %s; %d callback(s) with a wrong state were refused (a stale tab of an earlier login, or a forged request)", timeout, n)
		}
		return Session{}, sentinelf(ErrLoginTimeout, "the browser did not come back with a code within %s", timeout)
	}
	if res.err != nil {
		c.emit(Event{Kind: EventBrowserRefused, Detail: res.err.Error()})
		return Session{}, res.err
	}
	c.emit(Event{Kind: EventCodeReceived, URL: redirectURI, Detail: "the code arrived on the loopback and its state matched the one sent, so it answers this login and not someone else's"})

	form := c.grantForm(grantAuthorizationCode)
	form.Set("code", res.code)
	form.Set("redirect_uri", redirectURI)
	form.Set("code_verifier", verifier)
	c.emit(Event{Kind: EventCodeExchange, URL: d.Token, Detail: "trade the single-use code and the verifier for tokens at the token endpoint"})
	ans, err := c.grantExchange(ctx, d.Token, form, "authorization code: trade the code and verifier for tokens")
	if err != nil {
		return Session{}, err
	}
	ans.nonce = nonce
	return c.start(ctx, ans, FlowPKCE, "logged in through the browser (authorization code + PKCE)")
}

// show hands the login to the browser (the one-time start URL) and to
// Open (the authorize URL). A browser that cannot be started is no error
// when Open can still show the URL.
func show(ctx context.Context, opts PKCEOptions, startURL, authorizeURL string) error {
	var browserErr error
	if opts.Browser != nil {
		browserErr = opts.Browser(ctx, startURL)
	}
	if opts.Open == nil {
		return browserErr
	}
	return opts.Open(ctx, authorizeURL)
}

// callbackResult is what came back on the loopback: a code, or why not.
type callbackResult struct {
	code string
	err  error
}

// loopback takes the browser's redirect for one login.
//
// The first callback that carries this login's state ends the login: its
// code, error or denial is the login's one result, and every later
// request gets a page saying the login is over. A callback with another
// state is refused with an error page but does NOT end the login: any
// local process, or any web page that finds the port, can send one, and
// it must not cancel a login whose real redirect is still coming (a stale
// tab of an earlier login does the same). If the right callback never
// comes, the login times out as usual and says wrong ones were refused.
type loopback struct {
	state   string
	start   string              // the random part of the one-time start URL
	issuer  string              // the issuer the authorize request went to, which iss must name (RFC 9207)
	needIss bool                // the server said it always sends iss
	results chan callbackResult // buffered: the login's one result
	refused func()              // called at the first wrong-state callback; must not block

	mu           sync.Mutex // browsers and attackers may call back concurrently
	authorizeURL string     // where the start URL redirects; set before the browser is told
	started      bool       // the start URL was used
	over         bool
	wrongState   int
}

func newLoopback(state, issuer string, needIss bool, refused func()) *loopback {
	if refused == nil {
		refused = func() {}
	}
	return &loopback{state: state, start: randomString(16), issuer: issuer, needIss: needIss, results: make(chan callbackResult, 1), refused: refused}
}

// handler serves the callback path only.
func (l *loopback) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, l.callback)
	mux.HandleFunc("GET "+startPath+"{token}", l.startPage)
	return mux
}

func (l *loopback) setAuthorizeURL(u string) {
	l.mu.Lock()
	l.authorizeURL = u
	l.mu.Unlock()
}

// startPage sends the browser on to the authorize URL, once: the start
// URL was on a public command line, so a second use is someone else's.
func (l *loopback) startPage(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if subtle.ConstantTimeCompare([]byte(r.PathValue("token")), []byte(l.start)) != 1 {
		loopbackPage(w, http.StatusNotFound, "No such login", "This address does not start a tokenlab login.")
		return
	}
	if l.started || l.authorizeURL == "" {
		loopbackPage(w, http.StatusGone, "This link was already used", "A login link works once. If this tab did not log you in, start the login again.")
		return
	}
	l.started = true
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, l.authorizeURL, http.StatusFound)
}

// wrongStates is how many callbacks were refused for a wrong state.
func (l *loopback) wrongStates() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wrongState
}

func (l *loopback) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.over {
		loopbackPage(w, http.StatusGone, "This login is already over", "You can close this tab.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
		l.wrongState++
		if l.wrongState == 1 { // once: a flood of forged requests must not flood the events
			l.refused()
		}
		loopbackPage(w, http.StatusBadRequest, "Login refused", "The answer did not carry this login's state (a stale tab or a forged request), so tokenlab ignored it and still waits for the right one.")
		return
	}
	l.over = true
	res := l.result(w, q)
	l.results <- res // never blocks: the one send, into a buffer of one
}

// result reads a callback that carries the right state.
func (l *loopback) result(w http.ResponseWriter, q url.Values) callbackResult {
	iss, sent := q["iss"]
	switch {
	case sent && (len(iss) != 1 || strings.TrimRight(iss[0], "/") != strings.TrimRight(l.issuer, "/")):
		loopbackPage(w, http.StatusBadRequest, "Login refused", "The answer came from another issuer than the one this login asked, so tokenlab ignored it. Start the login again.")
		return callbackResult{err: fmt.Errorf("the browser came back with iss %q, not the issuer %s this login went to (a mix-up attack, RFC 9207); nothing was exchanged", strings.Join(iss, " "), l.issuer)}
	case !sent && l.needIss:
		loopbackPage(w, http.StatusBadRequest, "Login refused", "The answer lacked the issuer that this server always sends, so tokenlab ignored it. Start the login again.")
		return callbackResult{err: fmt.Errorf("the browser came back without iss, which %s says it always sends (RFC 9207); nothing was exchanged", l.issuer)}
	case q.Get("error") == "access_denied":
		loopbackPage(w, http.StatusOK, "Login denied", "You denied the login. You can close this tab.")
		return callbackResult{err: sentinelf(ErrLoginDenied, "the login was denied in the browser")}
	case q.Get("error") != "":
		loopbackPage(w, http.StatusOK, "Login failed", "The server said: "+q.Get("error")+". You can close this tab.")
		return callbackResult{err: fmt.Errorf("the server answered the authorization request with %s: %s", Printable(q.Get("error")), Printable(q.Get("error_description")))}
	case q.Get("code") == "":
		loopbackPage(w, http.StatusBadRequest, "Login failed", "No code came back. Start the login again.")
		return callbackResult{err: errors.New("the browser came back without a code")}
	}
	loopbackPage(w, http.StatusOK, "Logged in", "tokenlab has the code. You can close this tab.")
	return callbackResult{code: q.Get("code")}
}

var loopbackTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tokenlab: {{.Title}}</title></head>
<body id="tokenlab-loopback" style="font-family: sans-serif; margin: 3em"><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))

func loopbackPage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	loopbackTemplate.Execute(w, struct{ Title, Text string }{title, text})
}

// randomString is n random bytes, base64url without padding (43 characters
// for 32 bytes: RFC 7636 §4.1's verifier length).
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// grantExchange posts a grant to the token endpoint and reads its tokens.
func (c *Client) grantExchange(ctx context.Context, endpoint string, form url.Values, why string) (tokenAnswer, error) {
	req, err := c.formRequest(ctx, endpoint, form)
	if err != nil {
		return tokenAnswer{}, err
	}
	a, err := c.send(req, why)
	if err != nil {
		return tokenAnswer{}, err
	}
	if a.status/100 != 2 {
		return tokenAnswer{}, apiError(a)
	}
	return c.parseTokens(a)
}
