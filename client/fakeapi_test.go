package client

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeConfig describes the auth API a fakeAPI plays. The zero value is the
// seed's JSON API: 401 to a bad access token, no rotation.
type fakeConfig struct {
	Dialect string // DialectJSON (default) or DialectOAuth2
	Paths   Paths  // json dialect endpoints; the seed's when empty
	Fields  Fields // json field names; the seed's when empty
	// Cookies makes tokens travel as cookies named CookieNames (json
	// dialect): answers set them, requests must carry them.
	Cookies     bool
	CookieNames Cookies
	// RejectStatus answers an expired or unknown access token; 401 when 0.
	RejectStatus int
	// Rotate spends a refresh token when it is used and answers a new one;
	// using a spent one again is reuse.
	Rotate                bool
	AccessTTL, RefreshTTL time.Duration // 5m and 24h when 0
	NoDate                bool          // answer without a Date header
	SendExpiresIn         bool          // add the expires-in field to token answers
	OmitRefresh           bool          // login answers carry no refresh token
	Password              string        // every user's password; "pw" when empty
	// ClientID and ClientSecret are the oauth2 client's credentials;
	// ClientAuth is how the token and revocation endpoints require them:
	// "basic" (default) or "post".
	ClientID, ClientSecret, ClientAuth string
	// Grants, when set, is the discovery document's grant_types_supported,
	// and the authorize and device endpoints are published for
	// authorization_code and the device grant. Grants not listed are
	// answered unsupported_grant_type.
	Grants []string
	// DevicePolls are the token endpoint's answers to successive device
	// polls: "authorization_pending", "slow_down", "access_denied",
	// "expired_token", or "ok" for tokens.
	DevicePolls []string
	// TokenEndpoint overrides the discovered token endpoint (another
	// origin, for the discovery refusal).
	TokenEndpoint string
	// Forbid403 answers a bad access token with 403 and
	// WWW-Authenticate: Bearer error="invalid_token" (zitadel's way).
	Forbid403 bool
}

// fakeCode is an issued authorization code and what it is bound to.
type fakeCode struct {
	clientID, redirectURI, challenge string
}

// fakeAPI is a small auth API for the client's tests: an httptest server
// that logs in, refreshes, revokes and guards a protected route, with its
// own settable clock so tests move "server time" without sleeping.
type fakeAPI struct {
	*httptest.Server
	cfg fakeConfig

	mu          sync.Mutex
	now         time.Time
	seq         int
	access      map[string]fakeAccess
	refresh     map[string]*fakeRefresh
	issued      []string
	protected   []string // "status body" of each protected request, in order
	clientAuths []string // how the oauth2 client authenticated, per request
	override    map[string]http.HandlerFunc
	onRefresh   func(n int64)
	codes       map[string]fakeCode // authorization codes not yet used
	devicePolls int                 // device polls answered
	authorizeQ  url.Values          // the last authorize request's query
	resources   []string            // resource parameters of the last grant

	logins      atomic.Int64
	refreshes   atomic.Int64 // refresh requests that reached the server
	reuses      atomic.Int64 // refreshes with a spent refresh token
	rejects     atomic.Int64 // protected requests refused
	served      atomic.Int64 // protected requests answered 200
	revocations atomic.Int64
	authHeaders atomic.Int64 // protected requests with an Authorization header
}

type fakeAccess struct {
	user string
	exp  time.Time
}

type fakeRefresh struct {
	user          string
	exp           time.Time
	used, revoked bool
}

// fakeEpoch is where fake server and client clocks start.
var fakeEpoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newFakeAPI(tb testing.TB, cfg fakeConfig) *fakeAPI {
	tb.Helper()
	seed := BuiltinProfiles()["seed-json"]
	if cfg.Dialect == "" {
		cfg.Dialect = DialectJSON
	}
	if cfg.Paths == (Paths{}) {
		cfg.Paths = seed.Paths
	}
	if cfg.Paths.Protected == "" {
		cfg.Paths.Protected = "/protected"
	}
	if cfg.Fields == (Fields{}) {
		cfg.Fields = seed.Fields
	}
	if cfg.CookieNames == (Cookies{}) {
		cfg.CookieNames = seed.Cookies
	}
	if cfg.RejectStatus == 0 {
		cfg.RejectStatus = http.StatusUnauthorized
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 5 * time.Minute
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 24 * time.Hour
	}
	if cfg.Password == "" {
		cfg.Password = "pw"
	}
	f := &fakeAPI{cfg: cfg, now: fakeEpoch, access: map[string]fakeAccess{}, refresh: map[string]*fakeRefresh{},
		override: map[string]http.HandlerFunc{}, codes: map[string]fakeCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc(cfg.Paths.Protected, f.route("protected", f.handleProtected))
	if cfg.Dialect == DialectOAuth2 {
		mux.HandleFunc("GET /.well-known/openid-configuration", f.route("discovery", f.handleDiscovery))
		mux.HandleFunc("POST /oauth/token", f.route("token", f.handleOAuthToken))
		mux.HandleFunc("POST /oauth/revoke", f.route("revoke", f.handleOAuthRevoke))
		mux.HandleFunc("GET /oauth/authorize", f.route("authorize", f.handleAuthorize))
		mux.HandleFunc("POST /oauth/device_authorization", f.route("device", f.handleDeviceAuthorization))
	} else {
		mux.HandleFunc("POST "+cfg.Paths.Login, f.route("login", f.handleLogin))
		mux.HandleFunc("POST "+cfg.Paths.Refresh, f.route("refresh", f.handleRefresh))
		if cfg.Paths.Logout != "" {
			mux.HandleFunc("POST "+cfg.Paths.Logout, f.route("logout", f.handleLogout))
		}
	}
	f.Server = httptest.NewServer(f.dated(mux))
	tb.Cleanup(f.Close)
	return f
}

// dated sends the fake's clock in each answer's Date header, as
// tokenlab's mock server sends its lab clock; with NoDate, none at all.
func (f *fakeAPI) dated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.cfg.NoDate {
			w.Header()["Date"] = nil // net/http then sends none
		} else {
			w.Header().Set("Date", f.Now().UTC().Format(http.TimeFormat))
		}
		h.ServeHTTP(w, r)
	})
}

// route lets a test replace a route's handler with setOverride.
func (f *fakeAPI) route(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		o := f.override[name]
		f.mu.Unlock()
		if o != nil {
			o(w, r)
			return
		}
		h(w, r)
	}
}

// setOverride answers the route (login, refresh, logout, protected,
// discovery, token, revoke) with h instead.
func (f *fakeAPI) setOverride(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.override[route] = h
}

// setOnRefresh calls fn with the refresh's number (from 1) as each refresh
// request arrives, before it is looked at. fn may block.
func (f *fakeAPI) setOnRefresh(fn func(n int64)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onRefresh = fn
}

// Now is the server's time.
func (f *fakeAPI) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// advance moves the server's clock.
func (f *fakeAPI) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// revoke revokes a refresh token, as an admin would.
func (f *fakeAPI) revoke(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.refresh[tok]; ok {
		r.revoked = true
	}
}

// spend marks a refresh token used, as if another client had refreshed.
func (f *fakeAPI) spend(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.refresh[tok]; ok {
		r.used = true
	}
}

// validAccess reports whether the server accepts an access token now.
func (f *fakeAPI) validAccess(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.access[tok]
	return ok && f.now.Before(a.exp)
}

// issuedTokens returns every token the server has issued.
func (f *fakeAPI) issuedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.issued...)
}

// protectedLog returns "status body" for each protected request.
func (f *fakeAPI) protectedLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.protected...)
}

// clientAuthLog returns how the oauth2 client authenticated, per request.
func (f *fakeAPI) clientAuthLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.clientAuths...)
}

func fakeB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// mint makes a JWT-shaped token (unsigned: the client never verifies).
// f.mu must be held.
func (f *fakeAPI) mint(typ, user string, exp time.Time) string {
	f.seq++
	payload, _ := json.Marshal(map[string]any{"sub": user, "exp": exp.Unix(), "typ": typ, "jti": fmt.Sprintf("%s-%d", typ, f.seq)})
	tok := fakeB64(`{"alg":"none","typ":"JWT"}`) + "." + fakeB64(string(payload)) + "." + fakeB64(fmt.Sprintf("fake-signature-%s-%d", typ, f.seq))
	f.issued = append(f.issued, tok)
	return tok
}

// issue mints an access token, and a refresh token when withRefresh.
func (f *fakeAPI) issue(user string, withRefresh bool) (access, refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	exp := f.now.Add(f.cfg.AccessTTL)
	access = f.mint("access", user, exp)
	f.access[access] = fakeAccess{user: user, exp: exp}
	if withRefresh {
		rexp := f.now.Add(f.cfg.RefreshTTL)
		refresh = f.mint("refresh", user, rexp)
		f.refresh[refresh] = &fakeRefresh{user: user, exp: rexp}
	}
	return access, refresh
}

// use checks a refresh token and, when rotating, spends it. It returns the
// user, or the error code to answer.
func (f *fakeAPI) use(tok string) (user, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.refresh[tok]
	switch {
	case !ok:
		return "", "invalid_token"
	case r.revoked:
		return "", "token_revoked"
	case r.used:
		f.reuses.Add(1)
		return "", "token_reused"
	case !f.now.Before(r.exp):
		return "", "token_expired"
	}
	if f.cfg.Rotate {
		r.used = true
	}
	return r.user, ""
}

func fakeWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// answerTokens writes a token answer in the configured dialect.
func (f *fakeAPI) answerTokens(w http.ResponseWriter, access, refresh string) {
	ttl := int64(f.cfg.AccessTTL / time.Second)
	if f.cfg.Dialect == DialectOAuth2 {
		body := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": ttl}
		if refresh != "" {
			body["refresh_token"] = refresh
		}
		fakeWriteJSON(w, http.StatusOK, body)
		return
	}
	body := map[string]any{}
	if f.cfg.SendExpiresIn {
		body[f.cfg.Fields.ExpiresIn] = ttl
	}
	if f.cfg.Cookies {
		http.SetCookie(w, &http.Cookie{Name: f.cfg.CookieNames.Access, Value: access, Path: "/", HttpOnly: true})
		if refresh != "" {
			http.SetCookie(w, &http.Cookie{Name: f.cfg.CookieNames.Refresh, Value: refresh, Path: "/", HttpOnly: true})
		}
		body["ok"] = true
		fakeWriteJSON(w, http.StatusOK, body)
		return
	}
	body[f.cfg.Fields.AccessToken] = access
	if refresh != "" {
		body[f.cfg.Fields.RefreshToken] = refresh
	}
	fakeWriteJSON(w, http.StatusOK, body)
}

func fakeReadJSON(r *http.Request) (map[string]any, error) {
	var body map[string]any
	err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body)
	return body, err
}

func (f *fakeAPI) handleLogin(w http.ResponseWriter, r *http.Request) {
	f.logins.Add(1)
	body, err := fakeReadJSON(r)
	if err != nil {
		fakeWriteJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": err.Error()})
		return
	}
	user, _ := body[f.cfg.Fields.Username].(string)
	pass, ok := body[f.cfg.Fields.Password].(string)
	if user == "" || !ok {
		fakeWriteJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": "missing " + f.cfg.Fields.Username + " or " + f.cfg.Fields.Password})
		return
	}
	if pass != f.cfg.Password {
		fakeWriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_credentials"})
		return
	}
	access, refresh := f.issuePair(user)
	f.answerTokens(w, access, refresh)
}

func (f *fakeAPI) issuePair(user string) (string, string) {
	return f.issue(user, !f.cfg.OmitRefresh)
}

// refreshArrived counts a refresh and runs the test's hook.
func (f *fakeAPI) refreshArrived() {
	n := f.refreshes.Add(1)
	f.mu.Lock()
	hook := f.onRefresh
	f.mu.Unlock()
	if hook != nil {
		hook(n)
	}
}

// refreshed answers a good refresh token with new tokens.
func (f *fakeAPI) refreshed(w http.ResponseWriter, old, user string) {
	access, refresh := f.issue(user, f.cfg.Rotate)
	if !f.cfg.Rotate && f.cfg.Dialect == DialectOAuth2 {
		refresh = old // RFC 6749 §6: the same refresh token may be sent back
	}
	f.answerTokens(w, access, refresh)
}

func (f *fakeAPI) handleRefresh(w http.ResponseWriter, r *http.Request) {
	f.refreshArrived()
	var tok string
	if f.cfg.Cookies {
		if ck, err := r.Cookie(f.cfg.CookieNames.Refresh); err == nil {
			tok = ck.Value
		}
	} else if body, err := fakeReadJSON(r); err == nil {
		tok, _ = body[f.cfg.Fields.RefreshRequest].(string)
	}
	if tok == "" {
		fakeWriteJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": "no refresh token"})
		return
	}
	user, code := f.use(tok)
	if code != "" {
		fakeWriteJSON(w, http.StatusUnauthorized, map[string]string{"error": code})
		return
	}
	f.refreshed(w, tok, user)
}

func (f *fakeAPI) handleLogout(w http.ResponseWriter, r *http.Request) {
	var tok string
	if f.cfg.Cookies {
		if ck, err := r.Cookie(f.cfg.CookieNames.Refresh); err == nil {
			tok = ck.Value
		}
	} else if body, err := fakeReadJSON(r); err == nil {
		tok, _ = body[f.cfg.Fields.RefreshRequest].(string)
	}
	f.revocations.Add(1)
	f.revoke(tok)
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeAPI) handleProtected(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		f.authHeaders.Add(1)
	}
	var tok string
	if f.cfg.Cookies {
		if ck, err := r.Cookie(f.cfg.CookieNames.Access); err == nil {
			tok = ck.Value
		}
	} else {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	ok := f.validAccess(tok)
	status := http.StatusOK
	if !ok {
		status = f.cfg.RejectStatus
		if f.cfg.Forbid403 {
			status = http.StatusForbidden
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="expired"`)
		}
	}
	f.mu.Lock()
	f.protected = append(f.protected, fmt.Sprintf("%d %s", status, body))
	user := f.access[tok].user
	f.mu.Unlock()
	if !ok {
		f.rejects.Add(1)
		fakeWriteJSON(w, status, map[string]string{"error": "token_expired"})
		return
	}
	f.served.Add(1)
	fakeWriteJSON(w, http.StatusOK, map[string]any{"ok": true, "user": user, "body": string(body)})
}

// OAuth 2.0

func (f *fakeAPI) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host
	doc := map[string]any{"issuer": base, "token_endpoint": base + "/oauth/token",
		"revocation_endpoint": base + "/oauth/revoke"}
	if f.cfg.TokenEndpoint != "" {
		doc["token_endpoint"] = f.cfg.TokenEndpoint
	}
	if f.cfg.Grants != nil {
		doc["grant_types_supported"] = f.cfg.Grants
		if slices.Contains(f.cfg.Grants, "authorization_code") {
			doc["authorization_endpoint"] = base + "/oauth/authorize"
		}
		if slices.Contains(f.cfg.Grants, grantDeviceCode) {
			doc["device_authorization_endpoint"] = base + "/oauth/device_authorization"
		}
	}
	fakeWriteJSON(w, http.StatusOK, doc)
}

// authClient checks the client's credentials in the way the config
// requires, and records how they came.
func (f *fakeAPI) authClient(r *http.Request) bool {
	how, ok := "none", f.cfg.ClientID == ""
	if f.cfg.ClientSecret == "" && f.cfg.ClientID != "" && r.PostForm.Get("client_id") == f.cfg.ClientID {
		how, ok = "public", true // a public client names itself
	}
	if u, p, basic := r.BasicAuth(); basic {
		id, err1 := url.QueryUnescape(u)
		secret, err2 := url.QueryUnescape(p)
		how = "basic"
		ok = err1 == nil && err2 == nil && id == f.cfg.ClientID && secret == f.cfg.ClientSecret && f.cfg.ClientAuth != "post"
	} else if r.PostForm.Has("client_secret") {
		how = "post"
		ok = r.PostForm.Get("client_id") == f.cfg.ClientID && r.PostForm.Get("client_secret") == f.cfg.ClientSecret && f.cfg.ClientAuth == "post"
	}
	f.mu.Lock()
	f.clientAuths = append(f.clientAuths, how)
	f.mu.Unlock()
	return ok
}

func fakeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	fakeWriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (f *fakeAPI) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		fakeOAuthError(w, http.StatusBadRequest, "invalid_request", "want a form")
		return
	}
	if !f.authClient(r) {
		fakeOAuthError(w, http.StatusUnauthorized, "invalid_client", "bad client credentials")
		return
	}
	grant := r.PostForm.Get("grant_type")
	if f.cfg.Grants != nil && !slices.Contains(f.cfg.Grants, grant) {
		// Hydra's misleading wording, which the client must never relay.
		fakeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter: redirect_uri")
		return
	}
	f.mu.Lock()
	f.resources = r.PostForm["resource"]
	f.mu.Unlock()
	switch grant {
	case "authorization_code":
		f.redeemCode(w, r)
	case grantDeviceCode:
		f.pollDevice(w, r)
	case "client_credentials":
		if f.cfg.ClientSecret == "" {
			fakeOAuthError(w, http.StatusUnauthorized, "invalid_client", "a public client has no credentials")
			return
		}
		access, _ := f.issue(f.cfg.ClientID, false)
		f.answerTokens(w, access, "")
	case "password":
		f.logins.Add(1)
		if r.PostForm.Get("username") == "" || r.PostForm.Get("password") != f.cfg.Password {
			fakeOAuthError(w, http.StatusBadRequest, "invalid_grant", "bad username or password")
			return
		}
		access, refresh := f.issuePair(r.PostForm.Get("username"))
		f.answerTokens(w, access, refresh)
	case "refresh_token":
		f.refreshArrived()
		tok := r.PostForm.Get("refresh_token")
		user, code := f.use(tok)
		if code != "" {
			fakeOAuthError(w, http.StatusBadRequest, "invalid_grant", code)
			return
		}
		f.refreshed(w, tok, user)
	default:
		fakeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", r.PostForm.Get("grant_type"))
	}
}

// handleOAuthRevoke is RFC 7009: 200 whether or not the token was known.
func (f *fakeAPI) handleOAuthRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		fakeOAuthError(w, http.StatusBadRequest, "invalid_request", "want a form")
		return
	}
	if !f.authClient(r) {
		fakeOAuthError(w, http.StatusUnauthorized, "invalid_client", "bad client credentials")
		return
	}
	f.revocations.Add(1)
	f.revoke(r.PostForm.Get("token"))
	w.WriteHeader(http.StatusOK)
}

// manualClock is a Clock that moves only when told.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock(t time.Time) *manualClock { return &manualClock{t: t} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eventRecorder records a client's events; safe for concurrent use.
type eventRecorder struct {
	mu      sync.Mutex
	events  []Event
	waiters map[string][]chan struct{} // closed when an event of the kind arrives
}

func (l *eventRecorder) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	for _, ch := range l.waiters[e.Kind] {
		close(ch)
	}
	delete(l.waiters, e.Kind)
}

// seen returns a channel that is closed once an event of kind has been
// recorded: a test waits on it (with its own deadline) instead of polling.
func (l *eventRecorder) seen(kind string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	for _, e := range l.events {
		if e.Kind == kind {
			close(ch)
			return ch
		}
	}
	if l.waiters == nil {
		l.waiters = map[string][]chan struct{}{}
	}
	l.waiters[kind] = append(l.waiters[kind], ch)
	return ch
}

func (l *eventRecorder) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

func (l *eventRecorder) count(kind string) int {
	n := 0
	for _, e := range l.all() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// refreshState reports whether a refresh token is spent or revoked.
func (f *fakeAPI) refreshState(tok string) (used, revoked bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.refresh[tok]
	if !ok {
		return false, false
	}
	return r.used, r.revoked
}

// handleAuthorize plays the browser's whole visit: alice logs in at once
// and is redirected back with a code bound to the challenge.
func (f *fakeAPI) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.authorizeQ = q
	f.mu.Unlock()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("client_id") != f.cfg.ClientID {
		http.Error(w, "bad authorize request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.seq++
	code := fmt.Sprintf("code-%d", f.seq)
	f.codes[code] = fakeCode{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
	f.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
}

func (f *fakeAPI) redeemCode(w http.ResponseWriter, r *http.Request) {
	code := r.PostForm.Get("code")
	f.mu.Lock()
	fc, ok := f.codes[code]
	delete(f.codes, code)
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok:
		fakeOAuthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
	case fc.redirectURI != r.PostForm.Get("redirect_uri"):
		fakeOAuthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs")
	case base64.RawURLEncoding.EncodeToString(sum[:]) != fc.challenge:
		fakeOAuthError(w, http.StatusBadRequest, "invalid_grant", "wrong code_verifier")
	default:
		f.logins.Add(1)
		access, refresh := f.issuePair("alice")
		f.answerTokens(w, access, refresh)
	}
}

func (f *fakeAPI) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != f.cfg.ClientID {
		fakeOAuthError(w, http.StatusBadRequest, "invalid_client", "unknown client")
		return
	}
	base := "http://" + r.Host
	fakeWriteJSON(w, http.StatusOK, map[string]any{"device_code": "device-secret", "user_code": "BCDF-GHJK",
		"verification_uri": base + "/device", "verification_uri_complete": base + "/device?user_code=BCDF-GHJK",
		"expires_in": 600, "interval": 5})
}

func (f *fakeAPI) pollDevice(w http.ResponseWriter, r *http.Request) {
	if r.PostForm.Get("device_code") != "device-secret" {
		fakeOAuthError(w, http.StatusBadRequest, "invalid_grant", "unknown device code")
		return
	}
	f.mu.Lock()
	answer := "expired_token"
	if f.devicePolls < len(f.cfg.DevicePolls) {
		answer = f.cfg.DevicePolls[f.devicePolls]
	}
	f.devicePolls++
	f.mu.Unlock()
	if answer == "ok" {
		f.logins.Add(1)
		access, refresh := f.issuePair("alice")
		f.answerTokens(w, access, refresh)
		return
	}
	fakeOAuthError(w, http.StatusBadRequest, answer, "device poll answer")
}
