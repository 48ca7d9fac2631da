// Package client is tokenlab's auth client: it logs in to an API described
// by a Profile, keeps the session in a Store (the OS keyring by default),
// attaches the access token to requests and refreshes it before it expires
// and after the API rejects it — once, however many callers need it at the
// same moment, in this process or in several.
//
// It never imports the mock server: it must work against any compatible API.
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Clock tells the client the time.
type Clock interface{ Now() time.Time }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Event is one step of the client's exchanges, for timelines and reports.
// It never holds a token.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Method string    `json:"method,omitempty"`
	URL    string    `json:"url,omitempty"`
	Status int       `json:"status,omitempty"`
	Detail string    `json:"detail,omitempty"` // why it happened, in words
	// Exchange, on a response, is the request and its answer with their
	// secrets masked (record.go).
	Exchange *Exchange `json:"-"` // for viewers in the process; not in --json output
}

// Event kinds.
const (
	EventRequest      = "request"
	EventResponse     = "response"
	EventLogin        = "login"
	EventRefresh      = "refresh"
	EventRotation     = "rotation"
	EventStoreWrite   = "store_write"
	EventLogout       = "logout"
	EventSessionEnded = "session_ended"
	// EventLockWait: another process holds this session's refresh lock.
	EventLockWait = "lock_wait"
	// EventTokenWithheld: a request went to an origin that may not receive
	// the access token, so it was sent without it.
	EventTokenWithheld = "token_withheld"
	// EventFlowChosen: which login flow was picked, and why.
	EventFlowChosen = "flow_chosen"

	// Authorization code with PKCE (RFC 7636, RFC 8252), in order.
	EventPKCEVerifier   = "pkce_verifier"   // a random code_verifier was made (never shown)
	EventPKCEChallenge  = "pkce_challenge"  // its S256 challenge was computed
	EventAuthorizeURL   = "authorize_url"   // the authorize URL was built (URL: the endpoint, without the query)
	EventBrowserWait    = "browser_wait"    // the browser was opened (or the URL printed); waiting on the loopback
	EventCodeReceived   = "code_received"   // the code arrived on the loopback and its state matched
	EventCodeExchange   = "code_exchange"   // the code and verifier are traded for tokens
	EventBrowserRefused = "browser_refused" // the loopback got an error, a denial or a wrong state

	// Device authorization (RFC 8628).
	EventDeviceCode     = "device_code"     // the server issued a device and user code
	EventDevicePoll     = "device_poll"     // one poll; Detail says pending or slow_down
	EventDeviceApproved = "device_approved" // the user approved: tokens arrived
	EventDeviceDenied   = "device_denied"   // the user denied (access_denied)
	EventDeviceExpired  = "device_expired"  // the device code expired (expired_token)

	// Client credentials (RFC 6749 §4.4).
	EventClientCredentials = "client_credentials" // the grant ran (at login, or again instead of a refresh)
)

// DefaultSkew is how long before exp the client refreshes proactively.
const DefaultSkew = 30 * time.Second

// Client talks to one server as one user. It is safe for concurrent use.
type Client struct {
	server   string
	username string // guarded by mu: a PKCE or device login learns it from the token
	profile  Profile
	store    Store
	http     *http.Client // for token exchanges: never the refreshing Transport
	clock    Clock
	skew     time.Duration
	lockDir  string
	onEvent  func(Event)

	mu     sync.Mutex // guards sess, loaded, gen, offset, offsetKnown
	sess   Session
	loaded bool
	gen    uint64 // bumped whenever the session changes
	// offset is the server's clock minus ours (serverclock.go);
	// offsetKnown says an answer of this process told it.
	offset      time.Duration
	offsetKnown bool

	refreshMu sync.Mutex         // one refresh at a time in this process
	flight    singleflight.Group // callers of one generation share its refresh, failures included
	attempts  atomic.Uint64      // refresh exchanges finished
	lastFail  failedRefresh      // the latest failed one, guarded by mu
	origin    string             // scheme://host of the server: the only place tokens are sent

	discoMu sync.Mutex
	disco   *discovery

	apis         []string // other origins that may receive the access token
	clientSecret string   // the OAuth client secret in use (guarded by mu): the profile's, or the stored session's
}

// failedRefresh remembers a refresh that failed, so that callers who
// needed it before it started share its error instead of trying again.
type failedRefresh struct {
	attempt uint64
	gen     uint64
	err     error
}

// Option configures a Client.
type Option func(*Client)

// noRedirects keeps the password and the refresh token, which travel in
// request bodies, from being sent on to wherever a redirect points.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithHTTPClient sets the HTTP client used for every exchange; its
// Transport is the base of the refreshing Transport. It should not follow
// redirects: token requests carry secrets in their bodies.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock sets the clock that decides when a token is about to expire.
func WithClock(clock Clock) Option { return func(c *Client) { c.clock = clock } }

// WithLockDir makes refreshes take a lock file in dir, so that several
// processes sharing one store refresh once between them.
func WithLockDir(dir string) Option { return func(c *Client) { c.lockDir = dir } }

// WithEvents reports every exchange to fn. fn must not block.
func WithEvents(fn func(Event)) Option { return func(c *Client) { c.onEvent = fn } }

// New returns a client for username at server (a base URL).
func New(server, username string, p Profile, st Store, opts ...Option) (*Client, error) {
	server = strings.TrimRight(server, "/")
	if !strings.HasPrefix(server, "http://") && !strings.HasPrefix(server, "https://") {
		return nil, fmt.Errorf("the server %q must be a URL starting with http:// or https://", server)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("the server %q is not a valid URL", server)
	}
	c := &Client{server: server, origin: strings.ToLower(u.Scheme + "://" + u.Host), username: username, profile: p, store: st,
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirects}, clock: wallClock{}, skew: DefaultSkew}
	c.clientSecret = p.OAuth.ClientSecret
	for _, api := range p.APIs {
		o, err := Origin(api)
		if err != nil {
			return nil, fmt.Errorf("profile %s: apis: %w", p.Name, err)
		}
		c.apis = append(c.apis, o)
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Key is the store key of this client's session.
func (c *Client) Key() string { return Key(c.profile.Name, c.server, c.Username()) }

// Username is the session's user: as given to New, or, after a PKCE,
// device or client-credentials login without one, as the tokens name it.
func (c *Client) Username() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.username
}

func (c *Client) setUsername(u string) {
	c.mu.Lock()
	c.username = u
	c.mu.Unlock()
}

// oauthClient returns the OAuth client id and secret in use.
func (c *Client) oauthClient() (id, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.profile.OAuth.ClientID, c.clientSecret
}

// Server returns the server's base URL.
func (c *Client) Server() string { return c.server }

// Profile returns the client's profile.
func (c *Client) Profile() Profile { return c.profile }

func (c *Client) emit(e Event) {
	if c.onEvent == nil {
		return
	}
	if e.At.IsZero() {
		e.At = c.clock.Now()
	}
	c.onEvent(e)
}

// Login logs in with a password, stores the session and makes it current.
func (c *Client) Login(ctx context.Context, password string) (Session, error) {
	if c.Username() == "" {
		return Session{}, errors.New("a password login needs a username")
	}
	if err := c.CheckFlow(ctx, FlowPassword); err != nil {
		return Session{}, err
	}
	ans, err := c.loginExchange(ctx, password)
	if err != nil {
		return Session{}, err
	}
	if ans.refresh == "" {
		return Session{}, fmt.Errorf("the login answer holds no refresh token; check the profile's field or cookie names")
	}
	return c.start(ctx, ans, "", "logged in with a password")
}

// start keeps a new session from a grant's answer and makes it the
// client's: the user is the one given to New, else the one the tokens
// name.
func (c *Client) start(ctx context.Context, ans tokenAnswer, grant, how string) (Session, error) {
	idClaims, err := c.verifyIDToken(ctx, ans)
	if err != nil {
		return Session{}, err
	}
	if c.Username() == "" {
		user := c.sessionUser(ctx, ans, idClaims)
		if user == "" {
			return Session{}, errors.New("neither the tokens nor the server's userinfo name a user (no preferred_username, username or sub free of control characters); give the session a name with a username")
		}
		c.setUsername(user)
	}
	id, secret := c.oauthClient()
	now := c.now()
	s := Session{Server: c.server, Profile: c.profile.Name, Username: c.Username(),
		AccessToken: ans.access, AccessExpiry: c.expiry(ans), AccessIssued: now,
		RefreshToken: ans.refresh, RefreshExpiry: jwtExpiry(ans.refresh), Grant: grant, ClientID: id, ClientSecret: secret,
		ServerClockOffset: c.ServerClockOffset()}
	c.fitIDToken(&s, ans.idToken, idClaims)
	if err := c.save(ctx, s, "login: the new session is kept before it is used"); err != nil {
		return Session{}, err
	}
	c.set(s)
	c.emit(Event{Kind: EventLogin, Detail: how + " as " + s.Username})
	return s, nil
}

// tokenUser names who tokens belong to: the first JWT among them whose
// claims name someone (see userName).
func tokenUser(tokens ...string) string {
	for _, tok := range tokens {
		if d, err := Decode(tok); err == nil {
			if u := userName(d.Claims); u != "" {
				return u
			}
		}
	}
	return ""
}

// Session returns the current session, loading it from the store the first
// time; ErrLoginRequired when there is none.
func (c *Client) Session(ctx context.Context) (Session, error) {
	s, _, err := c.current(ctx)
	return s, err
}

// Token returns a valid access token, refreshing first when it expires
// within the skew.
func (c *Client) Token(ctx context.Context) (string, error) {
	s, _, err := c.validSession(ctx)
	return s.AccessToken, err
}

// Refresh refreshes now, whatever the access token's expiry.
func (c *Client) Refresh(ctx context.Context) (Session, error) {
	_, gen, err := c.current(ctx)
	if err != nil {
		return Session{}, err
	}
	s, _, err := c.refresh(ctx, gen, c.attempts.Load(), "a refresh was asked for")
	return s, err
}

// Logout revokes the session on the server and removes it from the store;
// LogoutReport says what happened.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.LogoutReport(ctx)
	return err
}

func storeName(st Store) string {
	switch st.(type) {
	case *KeyringStore:
		return "OS keyring"
	case *FileStore:
		return "plaintext file"
	case *MemoryStore:
		return "memory"
	}
	return fmt.Sprintf("%T", st)
}

// StoreName says in words where a store keeps sessions.
func StoreName(st Store) string { return storeName(st) }

// expiry is when an answer's access token expires by the server's clock
// (as far as its Date headers told it, see serverclock.go): expires_in
// when given, else the token's exp claim.
func (c *Client) expiry(a tokenAnswer) time.Time {
	if a.expiresIn > 0 {
		return c.now().Add(time.Duration(a.expiresIn) * time.Second)
	}
	return jwtExpiry(a.access)
}
